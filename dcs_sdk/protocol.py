"""The DCS wire protocol: event names and payload models.

This module is the single source of truth for what travels over socket.io between the
widget, the agent console, SDK clients and the signaling server. The browser code keeps a
copy of the event names (``widget/src/protocol.js``); a test keeps the two equal.

Every client -> server event is acknowledged: the ack is ``{"ok": true, ...}`` on success or
``{"ok": false, "error": {"code": ..., "message": ...}}`` on failure. Server -> client
events are pushed without acks. docs/protocol.md describes the flow for third-party clients.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

PROTOCOL_VERSION: Final = 1

# Limits shared by the server (which enforces them) and the clients (which respect them);
# docs/protocol.md ("Limits") names what a client gets above each.
MAX_TEXT_CHARS: Final = 4000
MAX_EVENT_BYTES: Final = 16_384  # one event's payload, as compact JSON: else payload_too_large
# Messages in one history.fetch / session.start ack; "more": true says a page was full
HISTORY_PAGE: Final = 1000
MAX_COMMENT_CHARS: Final = 2000
MAX_SHORT_CHARS: Final = 300  # page titles, reasons, transfer notes
MAX_NAME_CHARS: Final = 200  # a display name (token claim)
MAX_URL_CHARS: Final = 2048
MAX_FRAME_CHARS: Final = 12_000  # one co-browse frame (or piece of one) through the server
MAX_DEPTH: Final = 16  # objects and arrays nested in one payload (or in a token's attrs)
MAX_SEQ: Final = 2**31 - 1  # the largest sequence number (after_seq) the server takes
MAX_TOKEN_CHARS: Final = 8192  # the access token in the auth payload: else token_invalid
# One WebSocket message or long-polling request (Engine.IO's maxPayload), well above the
# event limit so that an oversized event is still read and answered with payload_too_large.
# Above it the server closes the connection: the client reconnects and resends.
MAX_TRANSPORT_BYTES: Final = 1_048_576
# Packets one long-polling request may carry (Engine.IO's default is 16, which made batched
# events go unanswered); a request with more is dropped whole.
MAX_PACKETS_PER_REQUEST: Final = 1000

# Names socket.io keeps for itself (and "*", the server's catch-all): a client that sends an
# event by one of these names gets unknown_event; it never reaches the server's lifecycle.
RESERVED_EVENTS: Final = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener", "*"}
)


class Event(StrEnum):
    """Every event name on the wire."""

    # customer -> server
    SESSION_START = "session.start"  # open or resume this customer's session
    CHAT_SEND = "chat.send"  # a chat message (any role)
    CHAT_TYPING = "chat.typing"  # typing indicator (any role, both directions)
    SESSION_ESCALATE = "session.escalate"  # "Talk to a person"
    SESSION_LEAVE_MESSAGE = "session.leave_message"  # no one is available: a message for follow-up
    PAGE_VIEW = "page.view"  # the customer is on a new page
    CSAT_SUBMIT = "csat.submit"  # rating after the session ended
    HISTORY_FETCH = "history.fetch"  # everything after a sequence number
    CHAT_READ = "chat.read"  # customer or agent: read up to a seq (pushed to the session too)
    ATTACHMENT_LINK = "attachment.link"  # a signed, expiring URL of a file sent in the session
    # staff -> server: past conversations (agents: queues they serve; supervisors: theirs)
    HISTORY_SEARCH = "history.search"  # sessions by text, customer, agent, date
    HISTORY_CUSTOMER = "history.customer"  # the customer's other conversations
    HISTORY_TRANSCRIPT = "history.transcript"  # one past session's transcript
    # agent -> server
    AGENT_PRESENCE = "agent.presence"  # available / away
    AGENT_SIGNOUT = "agent.signout"  # leaving: held sessions go back to the front of their queue
    SESSION_ACCEPT = "session.accept"  # take a queued session
    SESSION_END = "session.end"  # live -> wrap_up
    SESSION_WRAP_UP = "session.wrap_up"  # wrap_up -> ended, with notes
    SESSION_TRANSFER = "session.transfer"  # to a queue (live -> queued) or, warm, to a named agent
    TRANSFER_ANSWER = "transfer.answer"  # the receiving agent accepts or declines a warm transfer
    TRANSFER_CONSULT = "transfer.consult"  # agent <-> agent note about a pending transfer
    TRANSFER_CANCEL = "transfer.cancel"  # the sending agent takes a pending transfer back
    TRANSFER_TARGETS = "transfer.targets"  # who and where a live session can be transferred to
    SESSION_CLOSE = "session.close"  # customer closes the conversation themselves
    # supervisor -> server (docs/protocol.md, "Supervisors": rights checked per queue)
    SUPERVISOR_WALL = "supervisor.wall"  # the wall as it is now (also pushed on connect)
    SUPERVISOR_OBSERVE = "supervisor.observe"  # read-only: transcript and live messages
    SUPERVISOR_WHISPER = "supervisor.whisper"  # a note only the agent sees
    SUPERVISOR_BARGE = "supervisor.barge"  # join the chat visibly
    SUPERVISOR_LEAVE = "supervisor.leave"  # stop observing / leave the chat
    SUPERVISOR_MOVE = "supervisor.move"  # a queued session to another queue, or to the front
    SUPERVISOR_REASSIGN = "supervisor.reassign"  # a live session to another agent or queue
    SUPERVISOR_AGENT = "supervisor.agent"  # set an agent away, or sign them out
    # calls (either participant of a live session)
    RTC_CONFIG = "rtc.config"  # ICE servers (STUN, TURN with REST credentials) for this session
    CALL_INVITE = "call.invite"  # start ringing the other side
    CALL_ANSWER = "call.answer"  # accept or decline a ringing call
    CALL_MEDIA = "call.media"  # report own media state (connecting/connected/reconnecting, mute)
    CALL_HANGUP = "call.hangup"  # end the call
    RTC_SIGNAL = "rtc.signal"  # SDP description or ICE candidate, relayed to the other side
    # co-browse (the customer's page, seen and guided by the agent holding the session)
    COBROWSE_REQUEST = "cobrowse.request"  # agent: ask to see the page, or for control
    COBROWSE_CONSENT = "cobrowse.consent"  # customer: share (asked or not) / grant control, or not
    COBROWSE_STOP = "cobrowse.stop"  # either: stop at once
    COBROWSE_SIGNAL = "cobrowse.signal"  # the co-browse data channel's SDP/ICE, relayed
    COBROWSE_DATA = "cobrowse.data"  # a co-browse frame through the server, when no peer path exists
    # server -> client
    SESSION_STATE = "session.state"  # the session's state, queue position, agent
    CHAT_MESSAGE = "chat.message"  # a sequenced message
    QUEUE_SNAPSHOT = "queue.snapshot"  # agents: the first page of what they may take, and the total
    QUEUE_CHANGES = "queue.changes"  # agents: what changed in that page since (add/remove/update)
    AGENT_STATE = "agent.state"  # agents: own presence, capacity and sessions
    SESSION_HANDOFF = "session.handoff"  # agents: full context of a session they hold
    SESSION_REVOKED = "session.revoked"  # agents: a session left them (transfer, taken)
    TRANSFER_STATE = "transfer.state"  # agents: a warm transfer offered, accepted, declined...
    STAFF_NOTE = "staff.note"  # staff only: a whisper, a consult line, a transfer note
    AGENT_SIGNED_OUT = "agent.signed_out"  # agents: a supervisor signed this agent out
    WALL_SNAPSHOT = "wall.snapshot"  # supervisors: every row of their wall
    WALL_CHANGES = "wall.changes"  # supervisors: the rows that changed since
    CALL_STATE = "call.state"  # the call's state, pushed to both sides
    COBROWSE_STATE = "cobrowse.state"  # the co-browse's state, pushed to both sides
    ERROR = "error"  # an event without ack failed


class ErrorCode(StrEnum):
    """Machine-readable error codes; each error also carries a human sentence."""

    TOKEN_MISSING = "token_missing"
    TOKEN_INVALID = "token_invalid"
    TOKEN_EXPIRED = "token_expired"
    ORIGIN_DENIED = "origin_denied"
    BAD_PAYLOAD = "bad_payload"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNKNOWN_EVENT = "unknown_event"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    WRONG_STATE = "wrong_state"
    ALREADY_TAKEN = "already_taken"
    AT_CAPACITY = "at_capacity"
    RATE_LIMITED = "rate_limited"
    UNSUPPORTED_TYPE = "unsupported_type"  # an upload whose bytes are not an allowed type
    INTERNAL = "internal"


class Role(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    SERVICE = "service"


class SessionState(StrEnum):
    VIRTUAL = "virtual"
    QUEUED = "queued"
    LIVE = "live"
    WRAP_UP = "wrap_up"
    ENDED = "ended"


class CallState(StrEnum):
    RINGING = "ringing"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    ENDED = "ended"


class CobrowseState(StrEnum):
    REQUESTED = "requested"
    ACTIVE = "active"
    ENDED = "ended"


class ControlState(StrEnum):
    OFF = "off"
    REQUESTED = "requested"
    GRANTED = "granted"


class Presence(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
QueueName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]

# Text that enters the system (chat, comments, notes, names, titles, token claims) is plain
# text: no NUL, no lone surrogate (neither can be stored), no C0/C1 control character; text
# may hold line breaks (\n) and tabs (\t), a line may not.
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def unclean(value: str, *, line: bool = False) -> str | None:
    """What makes ``value`` unfit as text (or as a single line), in words; None if fit."""
    bad = (_NOT_IN_LINE if line else _NOT_IN_TEXT).search(value)
    if bad is None:
        return None
    code = ord(bad.group())
    if code == 0:
        return "a NUL character (U+0000)"
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone surrogate (U+{code:04X})"
    if code in (0x0A, 0x09):
        return "a line break or tab"
    return f"a control character (U+{code:04X})"


def _clean_text(value: str) -> str:
    if (what := unclean(value)) is not None:
        raise PydanticCustomError("clean_text", "must not contain {what}", {"what": what})
    return value


def _clean_line(value: str) -> str:
    if (what := unclean(value, line=True)) is not None:
        raise PydanticCustomError("clean_line", "must not contain {what}", {"what": what})
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank_text", "must contain more than white space")
    return value


# Reusable validated strings; every field where people's text enters uses one of them.
# (Lengths are checked first, then the characters.)
CleanText = Annotated[str, AfterValidator(_clean_text)]
CleanLine = Annotated[str, AfterValidator(_clean_line)]
Url = Annotated[str, StringConstraints(max_length=MAX_URL_CHARS), AfterValidator(_clean_line)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_SHORT_CHARS), AfterValidator(_clean_text)]
LongText = Annotated[str, StringConstraints(max_length=MAX_COMMENT_CHARS), AfterValidator(_clean_text)]
ChatText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_TEXT_CHARS),
    AfterValidator(_clean_text),
    AfterValidator(_not_blank),
]
Seq = Annotated[int, Field(ge=0, le=MAX_SEQ)]


class Payload(BaseModel):
    """Base of every client -> server payload: strict, closed, immutable.

    Strict: "3" is not an int, "yes" or 1 not a bool, 3.0 not an int; unknown fields are
    refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, str_strip_whitespace=False)


class PageInfo(Payload):
    url: Url = ""
    title: ShortText = ""


class SessionStart(Payload):
    """Open this customer's session, or resume ``session_id`` after a reload/navigation."""

    session_id: SessionId | None = None
    page: PageInfo = PageInfo()
    after_seq: Seq = 0


AttachmentId = Annotated[str, StringConstraints(pattern=r"^att_[A-Za-z0-9_-]{8,40}$")]


class ChatSend(Payload):
    session_id: SessionId
    client_id: ClientId
    text: ChatText
    # a file uploaded to this session (POST /attachments) that this message carries
    attachment_id: AttachmentId | None = None


class ChatRead(Payload):
    session_id: SessionId
    seq: Seq


class AttachmentLink(Payload):
    session_id: SessionId
    attachment_id: AttachmentId


class HistorySearch(Payload):
    """Past sessions matching every filter given (all optional); newest first, paged by
    ``before`` (the ``created_at`` of the last row of the previous page, ms)."""

    text: ShortText = ""
    customer: ShortText = ""
    agent: ShortText = ""
    since: Annotated[int, Field(ge=0)] | None = None  # created at or after (epoch ms)
    until: Annotated[int, Field(ge=0)] | None = None  # created before (epoch ms)
    before: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=50)] = 20


class ChatTyping(Payload):
    session_id: SessionId
    typing: bool


class SessionEscalate(Payload):
    session_id: SessionId
    reason: ShortText = "customer_request"


class LeaveMessage(Payload):
    """A message left for follow-up while no one can serve the queue: stored in the
    session like any chat message, and the session is marked for the agents."""

    session_id: SessionId
    client_id: ClientId
    text: ChatText


class PageView(Payload):
    session_id: SessionId
    page: PageInfo


class CsatSubmit(Payload):
    session_id: SessionId
    score: int = Field(ge=1, le=5)
    comment: LongText = ""


class HistoryFetch(Payload):
    session_id: SessionId
    after_seq: Seq = 0


class AgentPresence(Payload):
    status: Literal[Presence.AVAILABLE, Presence.AWAY]


class AgentSignout(Payload):
    """Sent by the console before it disconnects on sign-out; carries nothing."""


class SessionRef(Payload):
    """Payload of events that only name a session (accept, end, close)."""

    session_id: SessionId


class SessionWrapUp(Payload):
    session_id: SessionId
    notes: LongText = ""
    # one of the server's configured disposition codes (required when any are configured)
    disposition: Annotated[str, StringConstraints(max_length=40)] = ""


AgentId = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_clean_line)]
TransferId = Annotated[str, StringConstraints(pattern=r"^tr_[A-Za-z0-9_-]{8,40}$")]


class SessionTransfer(Payload):
    """To a queue (``queue``), or warm to a named agent (``agent_id``): exactly one."""

    session_id: SessionId
    queue: QueueName | None = None
    agent_id: AgentId | None = None
    note: ShortText = ""


class TransferAnswer(Payload):
    transfer_id: TransferId
    accept: bool
    message: ShortText = ""


class TransferConsult(Payload):
    transfer_id: TransferId
    text: ChatText


class TransferRef(Payload):
    transfer_id: TransferId


class SupervisorWall(Payload):
    """Asks for the whole wall again (a console that lost track); carries nothing."""


class StaffNoteSend(Payload):
    session_id: SessionId
    text: ChatText


class SupervisorMove(Payload):
    """A queued session: to ``queue``, and/or to the front of its queue (``front``)."""

    session_id: SessionId
    queue: QueueName | None = None
    front: bool = False


class SupervisorReassign(Payload):
    """A live session: to ``agent_id`` (who serves its queue and has room) or ``queue``."""

    session_id: SessionId
    agent_id: AgentId | None = None
    queue: QueueName | None = None
    note: ShortText = ""


class SupervisorAgent(Payload):
    agent_id: AgentId
    action: Literal["away", "sign_out"]


CallId = Annotated[str, StringConstraints(pattern=r"^call_[A-Za-z0-9_-]{8,40}$")]


class CallInvite(Payload):
    session_id: SessionId
    video: bool = False


class CallAnswer(Payload):
    session_id: SessionId
    call_id: CallId
    accept: bool


class CallMedia(Payload):
    session_id: SessionId
    call_id: CallId
    state: Literal[CallState.CONNECTING, CallState.CONNECTED, CallState.RECONNECTING]
    audio: bool = True
    video: bool = False


class CallRef(Payload):
    session_id: SessionId
    call_id: CallId


class SdpDescription(Payload):
    type: Literal["offer", "answer", "pranswer", "rollback"]
    sdp: Annotated[str, StringConstraints(max_length=MAX_EVENT_BYTES)] = ""


class IceCandidate(Payload):
    candidate: Annotated[str, StringConstraints(max_length=1024)]
    sdpMid: Annotated[str, StringConstraints(max_length=64)] | None = None  # noqa: N815 (WebRTC's name)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)  # noqa: N815
    usernameFragment: Annotated[str, StringConstraints(max_length=256)] | None = None  # noqa: N815


PcId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]


class SignalBody(Payload):
    """An SDP description or an ICE candidate for the other side's RTCPeerConnection."""

    # Identifies the sender's RTCPeerConnection: a new pc_id (a reloaded page) tells the
    # other side to start a fresh connection instead of renegotiating the old one.
    pc_id: PcId | None = None
    description: SdpDescription | None = None
    candidate: IceCandidate | None = None


class RtcSignal(SignalBody):
    session_id: SessionId
    call_id: CallId


class RtcConfig(Payload):
    session_id: SessionId


CobrowseId = Annotated[str, StringConstraints(pattern=r"^cob_[A-Za-z0-9_-]{8,40}$")]


class CobrowseRequest(Payload):
    session_id: SessionId
    control: bool = False  # False: to see the page; True: to control a page already shared


class CobrowseConsent(Payload):
    session_id: SessionId
    scope: Literal["view", "control"]
    accept: bool


class CobrowseRef(Payload):
    session_id: SessionId
    cobrowse_id: CobrowseId


class CobrowseSignal(SignalBody):
    session_id: SessionId
    cobrowse_id: CobrowseId


class CobrowseData(Payload):
    session_id: SessionId
    cobrowse_id: CobrowseId
    frame: Annotated[str, StringConstraints(min_length=1, max_length=MAX_FRAME_CHARS)]


# Which model validates which client -> server event.
INBOUND: Final[dict[Event, type[Payload]]] = {
    Event.SESSION_START: SessionStart,
    Event.CHAT_SEND: ChatSend,
    Event.CHAT_TYPING: ChatTyping,
    Event.SESSION_ESCALATE: SessionEscalate,
    Event.SESSION_LEAVE_MESSAGE: LeaveMessage,
    Event.PAGE_VIEW: PageView,
    Event.CSAT_SUBMIT: CsatSubmit,
    Event.HISTORY_FETCH: HistoryFetch,
    Event.CHAT_READ: ChatRead,
    Event.ATTACHMENT_LINK: AttachmentLink,
    Event.HISTORY_SEARCH: HistorySearch,
    Event.HISTORY_CUSTOMER: SessionRef,
    Event.HISTORY_TRANSCRIPT: SessionRef,
    Event.AGENT_PRESENCE: AgentPresence,
    Event.AGENT_SIGNOUT: AgentSignout,
    Event.SESSION_ACCEPT: SessionRef,
    Event.SESSION_END: SessionRef,
    Event.SESSION_WRAP_UP: SessionWrapUp,
    Event.SESSION_TRANSFER: SessionTransfer,
    Event.TRANSFER_ANSWER: TransferAnswer,
    Event.TRANSFER_CONSULT: TransferConsult,
    Event.TRANSFER_CANCEL: TransferRef,
    Event.TRANSFER_TARGETS: SessionRef,
    Event.SESSION_CLOSE: SessionRef,
    Event.SUPERVISOR_WALL: SupervisorWall,
    Event.SUPERVISOR_OBSERVE: SessionRef,
    Event.SUPERVISOR_WHISPER: StaffNoteSend,
    Event.SUPERVISOR_BARGE: SessionRef,
    Event.SUPERVISOR_LEAVE: SessionRef,
    Event.SUPERVISOR_MOVE: SupervisorMove,
    Event.SUPERVISOR_REASSIGN: SupervisorReassign,
    Event.SUPERVISOR_AGENT: SupervisorAgent,
    Event.RTC_CONFIG: RtcConfig,
    Event.CALL_INVITE: CallInvite,
    Event.CALL_ANSWER: CallAnswer,
    Event.CALL_MEDIA: CallMedia,
    Event.CALL_HANGUP: CallRef,
    Event.RTC_SIGNAL: RtcSignal,
    Event.COBROWSE_REQUEST: CobrowseRequest,
    Event.COBROWSE_CONSENT: CobrowseConsent,
    Event.COBROWSE_STOP: CobrowseRef,
    Event.COBROWSE_SIGNAL: CobrowseSignal,
    Event.COBROWSE_DATA: CobrowseData,
}

# Which roles may send which client -> server event (checked before anything else).
ALLOWED_ROLES: Final[dict[Event, frozenset[Role]]] = {
    Event.SESSION_START: frozenset({Role.CUSTOMER}),
    Event.CHAT_SEND: frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR}),
    Event.CHAT_TYPING: frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR}),
    Event.SESSION_ESCALATE: frozenset({Role.CUSTOMER}),
    Event.SESSION_LEAVE_MESSAGE: frozenset({Role.CUSTOMER}),
    Event.PAGE_VIEW: frozenset({Role.CUSTOMER}),
    Event.CSAT_SUBMIT: frozenset({Role.CUSTOMER}),
    Event.HISTORY_FETCH: frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR}),
    Event.CHAT_READ: frozenset({Role.CUSTOMER, Role.AGENT}),
    Event.ATTACHMENT_LINK: frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR}),
    Event.HISTORY_SEARCH: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Event.HISTORY_CUSTOMER: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Event.HISTORY_TRANSCRIPT: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Event.AGENT_PRESENCE: frozenset({Role.AGENT}),
    # a supervisor's console sends it on sign-out too (a supervisor holds no sessions)
    Event.AGENT_SIGNOUT: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Event.SESSION_ACCEPT: frozenset({Role.AGENT}),
    Event.SESSION_END: frozenset({Role.AGENT}),
    Event.SESSION_WRAP_UP: frozenset({Role.AGENT}),
    Event.SESSION_TRANSFER: frozenset({Role.AGENT}),
    Event.TRANSFER_ANSWER: frozenset({Role.AGENT}),
    Event.TRANSFER_CONSULT: frozenset({Role.AGENT}),
    Event.TRANSFER_CANCEL: frozenset({Role.AGENT}),
    Event.TRANSFER_TARGETS: frozenset({Role.AGENT}),
    Event.SESSION_CLOSE: frozenset({Role.CUSTOMER}),
    **{
        e: frozenset({Role.SUPERVISOR})
        for e in (
            Event.SUPERVISOR_WALL,
            Event.SUPERVISOR_OBSERVE,
            Event.SUPERVISOR_WHISPER,
            Event.SUPERVISOR_BARGE,
            Event.SUPERVISOR_LEAVE,
            Event.SUPERVISOR_MOVE,
            Event.SUPERVISOR_REASSIGN,
            Event.SUPERVISOR_AGENT,
        )
    },
    **{
        e: frozenset({Role.CUSTOMER, Role.AGENT})
        for e in (
            Event.RTC_CONFIG,
            Event.CALL_INVITE,
            Event.CALL_ANSWER,
            Event.CALL_MEDIA,
            Event.CALL_HANGUP,
            Event.RTC_SIGNAL,
            Event.COBROWSE_STOP,
            Event.COBROWSE_SIGNAL,
            Event.COBROWSE_DATA,
        )
    },
    Event.COBROWSE_REQUEST: frozenset({Role.AGENT}),
    Event.COBROWSE_CONSENT: frozenset({Role.CUSTOMER}),
}

# Events with their own, larger rate budget: co-browse frames and signaling come in bursts
# (a snapshot through the relay is many frames) and must not starve chat.
BULK_EVENTS: Final = frozenset({Event.COBROWSE_DATA, Event.COBROWSE_SIGNAL})


def ok(**data: Any) -> dict[str, Any]:
    """A successful ack."""
    return {"ok": True, **data}


def error(code: ErrorCode, message: str) -> dict[str, Any]:
    """A failed ack (or the payload of an ``error`` event): a code and a human sentence."""
    return {"ok": False, "error": {"code": code.value, "message": message}}
