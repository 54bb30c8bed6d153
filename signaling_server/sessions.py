"""The session state machine and everything that moves a session along it.

    virtual --escalate--> queued --accept--> live --end--> wrap_up --wrap_up--> ended
                            ^                  |
                            +----transfer------+

Each use case checks who is asking, changes the store (one transaction, with a transition
row), tells the router, then tells the participants. Messages get their per-session
sequence number from the store's commit and are relayed only after it, so seq has no gaps,
is never reused, and a retried client_id is stored once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Protocol

from dcs_sdk.assistant import Assistant, AssistantContext, AssistantReply, TranscriptLine
from dcs_sdk.exceptions import ProtocolError
from dcs_sdk.protocol import (
    HISTORY_PAGE,
    AgentPresence,
    ChatSend,
    ChatTyping,
    CsatSubmit,
    ErrorCode,
    Event,
    HistoryFetch,
    PageView,
    Presence,
    Role,
    SessionEscalate,
    SessionRef,
    SessionStart,
    SessionState,
    SessionWrapUp,
    ok,
)
from dcs_sdk.tokens import Claims

from .auth import may_act_on
from .availability import Availability
from .keyed_locks import KeyedLocks
from .reasons import reason_in_words
from .routing import AgentSeat, Router, Waiting
from .store import MessageRecord, SessionRecord
from .store.audit import AuditLog
from .store.cached import CachedStore
from .store.errors import AtCapacity, OpenSessionExists, SessionGone, UnstorableMessage
from .store.schema import OPEN_STATES
from .workspace import Workspace

log = logging.getLogger(__name__)

S = SessionState
CHATTING = (S.VIRTUAL, S.QUEUED, S.LIVE)


def session_room(session_id: str) -> str:
    return f"session:{session_id}"


def agent_room(agent_id: str) -> str:
    return f"agent:{agent_id}"


class Notifier(Protocol):
    """What the service needs from the transport (socket.io's AsyncServer, adapted). An
    emit to a list of rooms reaches each socket in any of them once."""

    async def emit(
        self, event: str, data: Any, *, room: str | list[str], skip_sid: str | None = None
    ) -> None: ...

    async def enter_room(self, sid: str, room: str) -> None: ...

    async def leave_room(self, sid: str, room: str) -> None: ...


class LiveCompanion(Protocol):
    """A feature that lives beside a live session (calls, co-browse): what is under way
    shows in session.start's ack and the agent's handoff, and it ends with the session."""

    def current(self, session_id: str) -> dict[str, Any] | None: ...

    async def session_left_live(self, session_id: str, reason: str = "session ended") -> None: ...


class FloorWatcher(Protocol):
    """Told (synchronously, without I/O) whenever something on the floor may have changed:
    a session's state (``session_id``), a stored message, an agent or the queue. The
    supervisor wall (supervisor/wall.py) is one."""

    def floor_changed(self, session_id: str | None = None, message: MessageRecord | None = None) -> None: ...


def system_line(code: str, **args: Any) -> dict[str, Any]:
    """A system line's code and arguments, for the widget's locale files (``line_<code>``;
    docs/protocol.md, "System lines")."""
    return {"code": code, "args": args}


def fail(code: ErrorCode, message: str) -> ProtocolError:
    return ProtocolError(code.value, message)


def _at_capacity(seat: AgentSeat) -> ProtocolError:
    return fail(
        ErrorCode.AT_CAPACITY, f"You already have {seat.capacity} sessions; end one before taking another."
    )


class SessionService:
    def __init__(
        self,
        store: CachedStore,
        router: Router,
        assistant: Assistant,
        notifier: Notifier,
        *,
        default_queue: str = "general",
        availability: Availability | None = None,
    ) -> None:
        self.store = store
        self.router = router
        # who can serve a queue now (agents, opening hours), and the wait estimate
        self.availability = availability or Availability(router)
        self.assistant = assistant
        self.notifier = notifier
        self.default_queue = default_queue
        self._assistant_locks: dict[str, asyncio.Lock] = {}
        self._start_locks = KeyedLocks()
        self._agent_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # by the key they show under in acks and handoffs: "call", "cobrowse"
        self.companions: dict[str, LiveCompanion] = {}
        # the supervisor package's hooks: who watches the floor, what else a handoff carries
        # (staff notes), whether a supervisor has joined a session's chat, the audit log
        self.watchers: list[FloorWatcher] = []
        self.handoff_extras: dict[str, Callable[[SessionRecord], Awaitable[Any]]] = {}
        # called with (sid, claims) once an agent's connection has its sessions (transfers.py:
        # the offers still waiting for them, after a reload)
        self.agent_connect_hooks: list[Callable[[str, Claims], Awaitable[None]]] = []
        # what else session.start's ack carries (read receipts: receipts.py)
        self.start_extras: dict[str, Callable[[SessionRecord], Awaitable[Any]]] = {}
        # the file a chat.send names, checked and claimed for that message (attachments/)
        self.attachment_for: (
            Callable[[Claims, SessionRecord, ChatSend], Awaitable[dict[str, Any] | None]] | None
        ) = None
        self.barged: Callable[[str, str], bool] = lambda _session_id, _supervisor_id: False
        # rooms that also get a session's chat messages and states (the supervisors' observe
        # rooms): one emit to the union, so across processes (socket.io's Redis manager)
        # an observer anywhere gets what any process relays, and it costs no extra publish
        self.also_to: list[Callable[[str], str]] = []
        self.audit: AuditLog | None = None
        # disposition codes and canned responses from the configuration (set by app.py)
        self.workspace = Workspace.from_config({}, {})
        from .queue_feed import QueueFeed  # here: queue_feed imports this module

        # agents' first pages and queue diffs, customers' positions when theirs change
        self.queue_feed = QueueFeed(router, self.availability, notifier)

    def _noticed(self, session_id: str | None = None, message: MessageRecord | None = None) -> None:
        for watcher in self.watchers:
            watcher.floor_changed(session_id, message)

    async def audited(self, claims: Claims, action: str, session_id: str | None, **detail: Any) -> None:
        """One audit row for a staff action (store/audit.py); ``target`` goes in its column."""
        if self.audit is not None:
            target = str(detail.pop("target", "") or "")
            await self.audit.record(
                actor_id=claims.sub,
                actor_role=claims.role.value,
                action=action,
                session_id=session_id,
                target=target,
                detail=detail,
            )

    def _companions_of(self, session_id: str) -> dict[str, dict[str, Any] | None]:
        return {key: companion.current(session_id) for key, companion in self.companions.items()}

    async def _left_live(self, session_id: str, reason: str = "session ended") -> None:
        for companion in self.companions.values():
            await companion.session_left_live(session_id, reason)

    # lifecycle

    async def restore(self) -> None:
        """Rebuild the router from the store after a restart."""
        for record in await self.store.sessions_in([S.QUEUED, S.LIVE, S.WRAP_UP]):
            if record.state is S.QUEUED:
                self.router.enqueue(self._waiting(record))
            elif record.agent_id:
                self.router.restore_assignment(record.agent_id, record.agent_name or "", record.id)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.close()

    def _spawn(self, make: Callable[[], Awaitable[None]], what: str) -> None:
        async def run() -> None:
            try:
                await make()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background task failed: %s", what)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # helpers

    async def _session_for(self, claims: Claims, session_id: str) -> SessionRecord:
        record = await self.store.get_session(session_id)
        if record is None:
            raise fail(ErrorCode.NOT_FOUND, "There is no such session.")
        if not may_act_on(claims, record):
            raise fail(ErrorCode.FORBIDDEN, "You are not a participant of this session.")
        return record

    def _wire(self, record: SessionRecord) -> dict[str, Any]:
        if record.state is not S.QUEUED:
            return record.to_wire()
        return record.to_wire(
            position=self.router.position(record.id),
            estimated_wait_s=self.availability.estimated_wait_s(record.id, record.queue),
            availability=self.availability.status(record.queue).to_wire(),
        )

    def _rooms(self, session_id: str) -> str | list[str]:
        """Where a session's messages and states go: its room, and any watching it."""
        room = session_room(session_id)
        return [room, *(also(session_id) for also in self.also_to)] if self.also_to else room

    async def _push_state(self, record: SessionRecord) -> None:
        await self.notifier.emit(Event.SESSION_STATE, self._wire(record), room=self._rooms(record.id))
        self._noticed(record.id)

    def _lock(self, locks: dict[str, asyncio.Lock], key: str) -> asyncio.Lock:
        lock = locks.get(key)
        if lock is None:
            lock = locks[key] = asyncio.Lock()
        return lock

    def _forget(self, session_id: str) -> None:
        self._assistant_locks.pop(session_id, None)

    async def _append(
        self,
        session: SessionRecord,
        role: Role,
        sender_id: str,
        sender_name: str,
        text: str,
        *,
        client_id: str | None = None,
        suggestions: Iterable[str] = (),
        sender_sid: str | None = None,
        attachment: dict[str, Any] | None = None,
        line: dict[str, Any] | None = None,
    ) -> tuple[MessageRecord, bool]:
        """Store one message, then relay it: (stored, created).

        The store allocates the seq in the commit (group-committed with whatever else is
        being sent), and only then does the message go to everyone in the session but the
        sending socket (which gets it in its ack): nobody is shown what is not stored. A
        retried client_id returns the original message and is not relayed again.
        """
        draft = self._draft(
            session,
            role,
            sender_id,
            sender_name,
            text,
            client_id=client_id,
            suggestions=suggestions,
            attachment=attachment,
            line=line,
        )
        try:
            stored, created = await self.store.append_message(draft)
        except UnstorableMessage as exc:
            log.warning("message %s/%s cannot be stored: %s", session.id, draft.client_id, exc)
            raise fail(
                ErrorCode.BAD_PAYLOAD, "This message contains characters that cannot be stored."
            ) from exc
        except SessionGone as exc:
            raise fail(ErrorCode.NOT_FOUND, "There is no such session.") from exc
        except Exception as exc:
            log.error("message %s/%s could not be stored: %r", session.id, draft.client_id, exc)
            raise fail(
                ErrorCode.INTERNAL, "The message could not be stored just now; send it again."
            ) from exc
        if created:
            await self._relay(stored, skip_sid=sender_sid)
        return stored, created

    async def _relay(self, stored: MessageRecord, *, skip_sid: str | None = None) -> None:
        await self.notifier.emit(
            Event.CHAT_MESSAGE, stored.to_wire(), room=self._rooms(stored.session_id), skip_sid=skip_sid
        )
        self._noticed(stored.session_id, stored)

    @staticmethod
    def _draft(
        session: SessionRecord,
        role: Role,
        sender_id: str,
        sender_name: str,
        text: str,
        *,
        client_id: str | None = None,
        suggestions: Iterable[str] = (),
        attachment: dict[str, Any] | None = None,
        line: dict[str, Any] | None = None,
    ) -> MessageRecord:
        """A message not yet stored: its seq (0) is allocated by the commit that stores it."""
        return MessageRecord(
            session_id=session.id,
            seq=0,
            client_id=client_id or f"srv_{secrets.token_hex(8)}",
            role=role,
            sender_id=sender_id,
            sender_name=sender_name,
            text=text,
            ts=time.time(),
            suggestions=tuple(suggestions),
            attachment=attachment,
            line=line,
        )

    async def _system(self, session: SessionRecord, text: str, line: dict[str, Any] | None = None) -> None:
        """A line from the system: ``text`` in English, ``line`` (system_line()) for clients
        that show it in another language."""
        await self._append(session, Role.SYSTEM, "system", "", text, line=line)

    # customers

    async def start(self, sid: str, claims: Claims, p: SessionStart) -> dict[str, Any]:
        # One customer's tabs start at once: one of them finds or makes the session, the
        # others then find it (across processes the store's unique index decides).
        async with self._start_locks.hold(claims.sub):
            record, greeting = await self._find_or_open(claims, p)
        created = greeting is not None
        await self.notifier.enter_room(sid, session_room(record.id))
        if p.page.url and not created and p.page.url != record.page_url:
            await self.store.add_page_view(record.id, p.page.url, p.page.title, time.time())
            await self._page_changed(record.id)
        if greeting is not None:  # stored with the session, and sent in the ack alone:
            # the session is this connection's since a moment ago, so no one else is in its
            # room yet (another tab finds it afterwards and reads the greeting from the store)
            reply, messages = greeting
            for message in messages:
                self._noticed(record.id, message)
            if reply.escalation is not None:
                moved = await self._escalate(
                    record, reply.escalation.reason, reply.escalation.queue, actor="assistant"
                )
                await self._push_state(moved)
        else:
            # after_seq counts in the session the client asked for; a different one starts at 0.
            after = p.after_seq if record.id == p.session_id else 0
            messages = await self.store.messages_after(record.id, after)  # none read when hot
        fresh = await self.store.get_session(record.id) or record
        return ok(
            session=self._wire(fresh),
            messages=[m.to_wire() for m in messages],
            more=len(messages) >= HISTORY_PAGE,  # then history.fetch after the last one
            **self._companions_of(record.id),
            **{key: await extra(fresh) for key, extra in self.start_extras.items()},
        )

    async def _find_or_open(
        self, claims: Claims, p: SessionStart
    ) -> tuple[SessionRecord, tuple[AssistantReply, list[MessageRecord]] | None]:
        """The session this start resumes, or a new one: (record, None when resumed, else
        the greeting stored with it).

        The session asked for, if it is still open; otherwise the customer's open session
        (an unknown or stale id resumes it); otherwise the closed session asked for, as it
        is (so it can be rated); otherwise a new one. A new one costs one transaction: the
        session, its first transition, page and greeting; no look for an open session first
        where the database's unique index refuses a second one anyway.
        """
        asked = await self.store.get_session(p.session_id) if p.session_id else None
        if asked is not None and asked.customer_id != claims.sub:
            raise fail(ErrorCode.FORBIDDEN, "This session belongs to someone else.")
        if asked is not None and asked.state.value in OPEN_STATES:
            return asked, None
        if asked is not None or not self.store.store.one_open_per_customer:
            current = await self.store.latest_open_session(claims.sub)
            if current is not None:
                return current, None
            if asked is not None:
                return asked, None
        record = SessionRecord(
            id=f"s_{secrets.token_urlsafe(16)}",
            customer_id=claims.sub,
            customer_name=claims.name,
            customer_attrs=dict(claims.attributes),
            state=S.VIRTUAL,
            created_at=time.time(),
            queue=self.default_queue,
            page_url=p.page.url,
            page_title=p.page.title,
        )
        record, reply, greeting = await self._greeting(record)
        try:  # one transaction: the session, its first transition, page and greeting
            await self.store.create_session(
                record, actor=claims.sub, first_page=bool(p.page.url), messages=greeting
            )
        except OpenSessionExists:  # one is open (another tab, device or process made it)
            current = await self.store.latest_open_session(claims.sub)
            if current is None:
                raise fail(ErrorCode.INTERNAL, "Your conversation changed meanwhile; try again.") from None
            return current, None
        return record, (reply, greeting)

    async def _greeting(
        self, record: SessionRecord
    ) -> tuple[SessionRecord, AssistantReply, list[MessageRecord]]:
        """The assistant's greeting for a session not stored yet: the record with the
        assistant's state (and last_seq) it leaves, its reply, and its messages (seqs 1..)."""
        state = dict(record.assistant_state)
        reply = await self._ask(self._context(record, [], state), None)
        name = getattr(self.assistant, "name", "Assistant")
        now = time.time()
        messages = [
            MessageRecord(
                session_id=record.id,
                seq=i + 1,
                client_id=f"srv_{secrets.token_hex(8)}",
                role=Role.ASSISTANT,
                sender_id="assistant",
                sender_name=name,
                text=text,
                ts=now,
                suggestions=tuple(reply.suggestions) if i == len(reply.messages) - 1 else (),
            )
            for i, text in enumerate(reply.messages)
        ]
        understanding = self._understood(record, reply, state)
        greeted = replace(record, last_seq=len(messages), assistant_state=state, understanding=understanding)
        return greeted, reply, messages

    async def send(self, sid: str, claims: Claims, p: ChatSend) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        if session.state not in CHATTING:
            raise fail(ErrorCode.WRONG_STATE, "This conversation has ended; start a new one to chat.")
        if claims.role is not Role.CUSTOMER and session.state is not S.LIVE:
            raise fail(ErrorCode.WRONG_STATE, "You can only chat in a live session.")
        self._joined_if_supervisor(claims, session)
        role = Role.CUSTOMER if claims.role is Role.CUSTOMER else claims.role
        attachment = None
        if p.attachment_id is not None:
            if self.attachment_for is None:
                raise fail(ErrorCode.NOT_FOUND, "This server takes no attachments.")
            attachment = await self.attachment_for(claims, session, p)
        stored, created = await self._append(
            session,
            role,
            claims.sub,
            claims.name,
            p.text,
            client_id=p.client_id,
            sender_sid=sid,
            attachment=attachment,
        )
        if created:
            await self._after_message(session, stored)
        return ok(seq=stored.seq, message=stored.to_wire())

    async def _after_message(self, session: SessionRecord, message: MessageRecord) -> None:
        # first_message / first_agent_reply_at were set by the message's own commit
        if message.role is Role.CUSTOMER and session.state is S.VIRTUAL:
            self._spawn(lambda: self._run_assistant(session.id, after=message), "assistant")

    async def typing(self, sid: str, claims: Claims, p: ChatTyping) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        self._joined_if_supervisor(claims, session)
        sender = {"role": claims.role.value, "id": claims.sub, "name": claims.name}
        payload = {"session_id": session.id, "sender": sender, "typing": p.typing}
        await self.notifier.emit(Event.CHAT_TYPING, payload, room=session_room(session.id), skip_sid=sid)
        return ok()

    def _joined_if_supervisor(self, claims: Claims, session: SessionRecord) -> None:
        if claims.role is Role.SUPERVISOR and not self.barged(session.id, claims.sub):
            raise fail(ErrorCode.FORBIDDEN, "Join the chat (supervisor.barge) before writing in it.")

    async def escalate(self, sid: str, claims: Claims, p: SessionEscalate) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        if session.state is S.VIRTUAL:
            queue = str(session.assistant_state.get("queue") or self.default_queue)
            session = await self._escalate(session, p.reason, queue, actor=claims.sub)
        elif session.state is not S.QUEUED and session.state is not S.LIVE:
            raise fail(ErrorCode.WRONG_STATE, "This conversation has ended; start a new one.")
        return ok(session=self._wire(session))

    async def _escalate(
        self, session: SessionRecord, reason: str, queue: str, *, actor: str
    ) -> SessionRecord:
        now = time.time()
        moved = await self.store.transition(
            session.id,
            allowed_from=[S.VIRTUAL],
            to=S.QUEUED,
            at=now,
            actor=actor,
            detail=reason,
            queued_at=now,
            reason=reason_in_words(reason, session.understanding),
            queue=queue,
        )
        if moved is None:  # someone else moved it first; report what it is now
            return await self.store.get_session(session.id) or session
        self.router.enqueue(self._waiting(moved))
        await self._system(moved, *self.availability.queued_line(moved.queue))
        await self._queue_changed()
        return moved

    def _waiting(self, record: SessionRecord) -> Waiting:
        return Waiting(
            session_id=record.id,
            queue=record.queue,
            queued_at=record.queued_at or record.created_at,
            reason=record.reason,
            first_message=record.first_message,
            page_url=record.page_url,
            page_title=record.page_title,
            customer_id=record.customer_id,
            customer_name=record.customer_name,
            left_message=record.left_message,
            left_message_at=record.left_message_at,
        )

    async def page_view(self, sid: str, claims: Claims, p: PageView) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        if p.page.url != session.page_url or p.page.title != session.page_title:
            await self.store.add_page_view(session.id, p.page.url, p.page.title, time.time())
            await self._page_changed(session.id)
        return ok()

    async def _page_changed(self, session_id: str) -> None:
        record = await self.store.get_session(session_id)
        if record and record.agent_id and record.state in (S.LIVE, S.WRAP_UP):
            await self.notifier.emit(
                Event.SESSION_HANDOFF, await self.handoff(record), room=agent_room(record.agent_id)
            )

    async def history(self, sid: str, claims: Claims, p: HistoryFetch) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        messages = await self.store.messages_after(session.id, p.after_seq)
        if claims.role is Role.SUPERVISOR:  # staff reading a conversation they do not hold
            await self.audited(claims, "history.view", session.id, after_seq=p.after_seq)
        # a full page: there may be more after its last seq, which the client asks for next
        return ok(messages=[m.to_wire() for m in messages], more=len(messages) >= HISTORY_PAGE)

    async def close_by_customer(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        now = time.time()
        name = claims.name or "The customer"
        said = (
            system_line("customer_ended", name=claims.name)
            if claims.name
            else system_line("customer_ended_anon")
        )
        if session.state in (S.VIRTUAL, S.QUEUED):
            # the line is stored with the end itself: it is the last line of the transcript
            # that the session.ended webhook carries
            line = self._draft(session, Role.SYSTEM, "system", "", f"{name} ended the chat.", line=said)
            moved = await self.store.transition(
                session.id,
                allowed_from=[S.VIRTUAL, S.QUEUED],
                to=S.ENDED,
                at=now,
                actor=claims.sub,
                detail="customer_closed",
                ended_at=now,
                lines=[line],
            )
            if moved is None:
                raise fail(ErrorCode.WRONG_STATE, "The conversation changed meanwhile; try again.")
            if self.router.dequeue(session.id):
                await self._queue_changed()
            await self._relay(replace(line, seq=moved.last_seq))
            await self._push_state(moved)
            return ok(session=self._wire(moved))
        if session.state is S.LIVE:
            moved = await self.store.transition(
                session.id,
                allowed_from=[S.LIVE],
                to=S.WRAP_UP,
                at=now,
                actor=claims.sub,
                detail="customer_left",
                wrap_up_at=now,
            )
            await self._left_live(session.id)
        else:
            return ok(session=self._wire(session))
        if moved is None:
            raise fail(ErrorCode.WRONG_STATE, "The conversation changed meanwhile; try again.")
        await self._system(moved, f"{name} ended the chat.", said)
        await self._push_state(moved)
        return ok(session=self._wire(moved))

    async def csat(self, sid: str, claims: Claims, p: CsatSubmit) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        if session.state not in (S.WRAP_UP, S.ENDED):
            raise fail(ErrorCode.WRONG_STATE, "You can rate the conversation once it has ended.")
        if session.csat_score is not None:
            raise fail(ErrorCode.WRONG_STATE, "You have already rated this conversation. Thank you!")
        await self.store.update_session(session.id, csat_score=p.score, csat_comment=p.comment)
        rated = await self.store.get_session(session.id) or session
        await self._push_state(rated)
        return ok()

    # the assistant

    async def _run_assistant(
        self, session_id: str, *, greet: bool = False, after: MessageRecord | None = None
    ) -> None:
        async with self._lock(self._assistant_locks, session_id):
            session = await self.store.get_session(session_id)
            if session is None or session.state is not S.VIRTUAL:
                return  # escalated or closed meanwhile: a person answers now
            history = await self.store.transcript(session_id)
            before = [m for m in history if after is None or m.seq < after.seq]
            state = dict(session.assistant_state)
            context = self._context(session, before, state)
            reply = await self._ask(context, None if greet or after is None else after.text)
            await self._apply_reply(session, reply, state)

    def _context(
        self, session: SessionRecord, transcript: list[MessageRecord], state: dict[str, Any]
    ) -> AssistantContext:
        return AssistantContext(
            session_id=session.id,
            customer_id=session.customer_id,
            attributes=session.customer_attrs,
            page_url=session.page_url,
            page_title=session.page_title,
            transcript=[TranscriptLine(m.role.value, m.text) for m in transcript],
            state=state,
        )

    async def _ask(self, context: AssistantContext, text: str | None) -> AssistantReply:
        """The assistant's greeting (``text`` None) or answer; a failure is said politely."""
        try:
            return await (
                self.assistant.greet(context) if text is None else self.assistant.respond(text, context)
            )
        except Exception:
            log.exception("the assistant failed on session %s", context.session_id)
            return AssistantReply(
                messages=["Sorry, I ran into a problem. You can ask for a person at any time."],
                suggestions=["Talk to a person"],
            )

    async def _apply_reply(
        self, session: SessionRecord, reply: AssistantReply, state: dict[str, Any]
    ) -> None:
        name = getattr(self.assistant, "name", "Assistant")
        for i, text in enumerate(reply.messages):
            last = i == len(reply.messages) - 1
            await self._append(
                session,
                Role.ASSISTANT,
                "assistant",
                name,
                text,
                suggestions=reply.suggestions if last else (),
            )
        understanding = self._understood(session, reply, state)
        await self.store.update_session(session.id, assistant_state=state, understanding=understanding)
        if reply.escalation is not None:
            fresh = await self.store.get_session(session.id) or session
            moved = await self._escalate(
                fresh, reply.escalation.reason, reply.escalation.queue, actor="assistant"
            )
            await self._push_state(moved)

    def _understood(
        self, session: SessionRecord, reply: AssistantReply, state: dict[str, Any]
    ) -> dict[str, Any]:
        """The session's understanding after ``reply`` (and its escalation's queue put in
        the assistant's ``state``)."""
        understanding = dict(session.understanding)
        if reply.understanding is not None:
            understanding.update(
                intent=reply.understanding.intent or understanding.get("intent"),
                confidence=reply.understanding.confidence,
                slots={**understanding.get("slots", {}), **reply.understanding.slots},
            )
        understanding["unmatched"] = int(state.get("unmatched", 0))
        # the customer's questions the assistant could not answer (FAQ assistant's memory)
        unanswered = state.get("unanswered")
        understanding["unanswered"] = [str(q) for q in unanswered] if isinstance(unanswered, list) else []
        if reply.escalation is not None:
            state["queue"] = reply.escalation.queue
        return understanding

    # agents

    async def agent_connected(self, sid: str, claims: Claims) -> None:
        seat = self.router.agent_connected(claims, sid)
        await self.notifier.enter_room(sid, agent_room(seat.id))
        held = await self.store.sessions_of_agent(seat.id)
        for record in held:
            self.router.assign(seat.id, record.id)
            await self.notifier.enter_room(sid, session_room(record.id))
        await self._push_agent(seat)
        await self.notifier.emit(
            Event.QUEUE_SNAPSHOT, self.queue_feed.snapshot(seat), room=agent_room(seat.id)
        )
        for record in held:
            await self.notifier.emit(
                Event.SESSION_HANDOFF, await self.handoff(record), room=agent_room(seat.id)
            )
        for hook in self.agent_connect_hooks:
            await hook(sid, claims)
        await self._queue_changed(agents=False)  # estimates depend on who is available

    async def agent_disconnected(self, sid: str, claims: Claims) -> None:
        seat = self.router.agent_disconnected(claims.sub, sid)
        if seat is not None and not seat.sids:
            self.queue_feed.agent_gone(seat.id)
            await self._queue_changed(agents=False)
        self._noticed()

    async def set_presence(self, sid: str, claims: Claims, p: AgentPresence) -> dict[str, Any]:
        seat = self._seat(claims)
        self.router.set_presence(seat.id, Presence(p.status))
        await self._push_agent(seat)
        await self._queue_changed(agents=False)
        return ok(agent=seat.to_wire())

    def _seat(self, claims: Claims) -> AgentSeat:
        seat = self.router.agents.get(claims.sub)
        if seat is None:
            raise fail(ErrorCode.WRONG_STATE, "Reconnect: this agent has no live connection.")
        return seat

    async def accept(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        seat = self._seat(claims)
        async with self._lock(self._agent_locks, seat.id):
            if seat.free_slots == 0:
                raise _at_capacity(seat)
            session = await self.store.get_session(p.session_id)
            if session is None:
                raise fail(ErrorCode.NOT_FOUND, "There is no such session.")
            if session.state is not S.QUEUED:
                if session.state is S.LIVE:
                    raise fail(ErrorCode.ALREADY_TAKEN, "Another agent already took this session.")
                raise fail(ErrorCode.WRONG_STATE, "This session is no longer waiting.")
            if not seat.serves(session.queue):
                raise fail(
                    ErrorCode.FORBIDDEN,
                    f"This session waits in the {session.queue!r} queue, which you do not serve.",
                )
            now = time.time()
            try:  # the seat's count is this process's view; the database's is the truth
                live = await self.store.transition(
                    session.id,
                    allowed_from=[S.QUEUED],
                    to=S.LIVE,
                    at=now,
                    actor=seat.id,
                    agent_holds_below=seat.capacity,
                    agent_id=seat.id,
                    agent_name=seat.name,
                    accepted_at=now,
                )
            except AtCapacity:  # taken meanwhile in another tab, on another process
                raise _at_capacity(seat) from None
            if live is None:
                raise fail(ErrorCode.ALREADY_TAKEN, "Another agent already took this session.")
            self.router.dequeue(live.id)
            if self.availability.counts_as_wait(live.queue, live.queued_at, live.left_message_at):
                self.router.record_wait(live.queue, now - (live.queued_at or now))
            self.router.assign(seat.id, live.id)
        for agent_sid in list(seat.sids):
            await self.notifier.enter_room(agent_sid, session_room(live.id))
        await self._system(live, f"{seat.name} joined the chat.", system_line("agent_joined", name=seat.name))
        await self._push_state(live)
        handoff = await self.handoff(live)
        await self.notifier.emit(Event.SESSION_HANDOFF, handoff, room=agent_room(seat.id), skip_sid=sid)
        await self._push_agent(seat)
        await self._queue_changed()
        await self.audited(claims, "accept", live.id, queue=live.queue)
        return ok(handoff=handoff)

    async def end(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        now = time.time()
        moved = await self.store.transition(
            session.id,
            allowed_from=[S.LIVE],
            to=S.WRAP_UP,
            at=now,
            actor=claims.sub,
            wrap_up_at=now,
        )
        if moved is None:
            raise fail(ErrorCode.WRONG_STATE, "Only a live session can be ended.")
        await self._left_live(moved.id)
        said = (
            system_line("agent_ended", name=claims.name) if claims.name else system_line("agent_ended_anon")
        )
        await self._system(moved, f"{claims.name or 'The agent'} ended the chat.", said)
        await self._push_state(moved)
        return ok(session=self._wire(moved))

    async def wrap_up(self, sid: str, claims: Claims, p: SessionWrapUp) -> dict[str, Any]:
        session = await self._session_for(claims, p.session_id)
        wrong = self.workspace.disposition_error(p.disposition)
        if wrong:
            raise fail(ErrorCode.BAD_PAYLOAD, wrong)
        now = time.time()
        moved = await self.store.transition(
            session.id,
            allowed_from=[S.WRAP_UP],
            to=S.ENDED,
            at=now,
            actor=claims.sub,
            ended_at=now,
            wrap_up_notes=p.notes,
            wrap_up_disposition=p.disposition,
        )
        if moved is None:
            raise fail(ErrorCode.WRONG_STATE, "Only a session in wrap-up can be closed with notes.")
        await self._push_state(moved)
        await self._release(moved, reason="ended")
        self._forget(moved.id)
        return ok()

    async def _release(self, session: SessionRecord, *, reason: str) -> None:
        """The agent holding ``session`` lets go of it."""
        seat = self.router.release(session.id)
        if seat is None:
            return
        for agent_sid in list(seat.sids):
            await self.notifier.leave_room(agent_sid, session_room(session.id))
        await self.notifier.emit(
            Event.SESSION_REVOKED, {"session_id": session.id, "reason": reason}, room=agent_room(seat.id)
        )
        await self._push_agent(seat)

    async def _push_agent(self, seat: AgentSeat) -> None:
        await self.notifier.emit(Event.AGENT_STATE, seat.to_wire(), room=agent_room(seat.id))
        self._noticed()

    async def _queue_changed(self, *, agents: bool = True) -> None:
        """Tell agents what changed in their queue page, and each waiting customer whose
        position, estimate or availability changed (queue_feed.py). ``agents=False``: who
        is available changed, so every waiting customer is checked."""
        self._noticed()
        await self.queue_feed.flush(everyone=not agents)

    async def handoff(self, record: SessionRecord) -> dict[str, Any]:
        """Everything an agent needs so the customer never repeats themselves."""
        transcript = await self.store.transcript(record.id)
        pages = await self.store.page_views(record.id)
        return {
            "session": self._wire(record),
            "customer": {
                "id": record.customer_id,
                "name": record.customer_name,
                "attributes": dict(record.customer_attrs),
            },
            "reason": record.reason,
            "page": record.page,
            "pages": [{"url": p["url"], "title": p["title"], "ts": int(p["ts"] * 1000)} for p in pages],
            "understanding": {
                "intent": record.understanding.get("intent"),
                "slots": record.understanding.get("slots", {}),
                "confidence": record.understanding.get("confidence", 0.0),
                "unmatched": record.understanding.get("unmatched", 0),
                "unanswered": record.understanding.get("unanswered", []),
            },
            "transcript": [m.to_wire() for m in transcript],
            **self._companions_of(record.id),
            "queued_at": int(record.queued_at * 1000) if record.queued_at else None,
            "accepted_at": int(record.accepted_at * 1000) if record.accepted_at else None,
            **{key: await extra(record) for key, extra in self.handoff_extras.items()},
        }
