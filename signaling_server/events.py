"""socket.io glue: authenticate connects, then check, validate and dispatch every event.

One path for every inbound event: rate limit -> decodable -> size -> depth -> known name ->
role -> payload model -> use case. A failure at any step becomes an ack
``{"ok": false, "error": {code, message}}`` and a log line (at most one a minute per
connection and code); the connection and the session carry on. Reserved and nameless events
come here too, as ``RefusedName`` (transport.py), and are answered ``unknown_event``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import socketio
from engineio import packet as eio_packet
from pydantic import ValidationError
from socketio import packet as sio_packet
from socketio.async_pubsub_manager import AsyncPubSubManager

from dcs_sdk.exceptions import ProtocolError, TokenError
from dcs_sdk.protocol import (
    ALLOWED_ROLES,
    BULK_EVENTS,
    INBOUND,
    MAX_DEPTH,
    MAX_EVENT_BYTES,
    ErrorCode,
    Event,
    Payload,
    Role,
    error,
)
from dcs_sdk.tokens import Claims

from .auth import Authenticator
from .cobrowse import CobrowseService
from .departures import Departures
from .followups import Followups
from .logs import bind_session
from .sessions import SessionService
from .signaling import SignalingService
from .transport import LOG_EVERY_S, RefusedName, Undecodable, compact_json

if TYPE_CHECKING:
    from .supervisor import SupervisorDesk

log = logging.getLogger(__name__)

Handler = Callable[[str, Claims, Any], Awaitable[dict[str, Any]]]


@dataclass(slots=True)
class TokenBucket:
    burst: float
    rate: float
    tokens: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# Co-browse frames and their signaling come in bursts (a snapshot through the relay is
# many frames): they draw on a budget of their own, this many times the chat budget.
BULK_FACTOR = 8


@dataclass(slots=True)
class Connection:
    """One connection's identity and budgets (held for as long as it stays: kept small)."""

    claims: Claims
    bucket: TokenBucket
    # the co-browse budget, made on the connection's first bulk event (most never send one)
    bulk: TokenBucket | None = None
    # Log throttle: when each error code was last logged, and how many went unlogged since
    # (made on the first error).
    logged_at: dict[str, float] | None = None
    unlogged: dict[str, int] | None = None

    def budget_for(self, event: str | RefusedName) -> TokenBucket:
        if event not in BULK_EVENTS:
            return self.bucket
        if self.bulk is None:
            self.bulk = TokenBucket(self.bucket.burst * BULK_FACTOR, self.bucket.rate * BULK_FACTOR)
        return self.bulk

    def should_log(self, code: str) -> tuple[bool, int]:
        """Whether to log this code now (at most once a minute), and how many were skipped."""
        now = time.monotonic()
        if self.logged_at is None or self.unlogged is None:
            self.logged_at, self.unlogged = {}, {}
        if now - self.logged_at.get(code, -LOG_EVERY_S) < LOG_EVERY_S:
            self.unlogged[code] = self.unlogged.get(code, 0) + 1
            return False, 0
        self.logged_at[code] = now
        return True, self.unlogged.pop(code, 0)


class SioNotifier:
    """The Notifier the session service needs, over socket.io's AsyncServer."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def emit(
        self, event: str, data: Any, *, room: str | list[str], skip_sid: str | None = None
    ) -> None:
        # socket.io's own room emit makes a task per recipient and waits for them all: a
        # loop turn (and its backlog) before a relayed message is even queued. In one process
        # the packet goes to each recipient's send queue directly; a cross-process manager
        # (Redis) publishes through its broker, so it keeps socket.io's path.
        if isinstance(self.sio.manager, AsyncPubSubManager):
            await self.sio.emit(event, data, room=room, skip_sid=skip_sid)
            return
        recipients = [e for s, e in self.sio.manager.get_participants("/", room) if s != skip_sid]
        if not recipients:
            return
        try:  # socket.io's EVENT packet for the default namespace, encoded in one step
            encoded = f"{sio_packet.EVENT}{compact_json([event, data])}"
        except (TypeError, ValueError):  # bytes in it: socket.io's binary attachments
            await self.sio.emit(event, data, room=room, skip_sid=skip_sid)
            return
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        for eio_sid in recipients:
            await self.sio.eio.send_packet(eio_sid, pkt)

    async def enter_room(self, sid: str, room: str) -> None:
        await self.sio.enter_room(sid, room)

    async def leave_room(self, sid: str, room: str) -> None:
        await self.sio.leave_room(sid, room)


class EventGateway:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        service: SessionService,
        signaling: SignalingService,
        cobrowse: CobrowseService,
        authenticator: Authenticator,
        *,
        departures: Departures,
        followups: Followups,
        rate_burst: int,
        rate_per_s: float,
    ) -> None:
        self.sio = sio
        self.service = service
        self.departures = departures
        self.authenticator = authenticator
        self.rate_burst = rate_burst
        self.rate_per_s = rate_per_s
        self.connections: dict[str, Connection] = {}
        s = service
        self.handlers: dict[Event, Handler] = {
            Event.SESSION_START: s.start,
            Event.CHAT_SEND: s.send,
            Event.CHAT_TYPING: s.typing,
            Event.SESSION_ESCALATE: s.escalate,
            Event.SESSION_LEAVE_MESSAGE: followups.leave_message,
            Event.PAGE_VIEW: s.page_view,
            Event.CSAT_SUBMIT: s.csat,
            Event.HISTORY_FETCH: s.history,
            Event.AGENT_PRESENCE: s.set_presence,
            Event.AGENT_SIGNOUT: departures.signout,
            Event.SESSION_ACCEPT: s.accept,
            Event.SESSION_END: s.end,
            Event.SESSION_WRAP_UP: s.wrap_up,
            Event.SESSION_CLOSE: s.close_by_customer,
            Event.RTC_CONFIG: signaling.config_for,
            Event.CALL_INVITE: signaling.invite,
            Event.CALL_ANSWER: signaling.answer,
            Event.CALL_MEDIA: signaling.media,
            Event.CALL_HANGUP: signaling.hangup,
            Event.RTC_SIGNAL: signaling.relay,
            Event.COBROWSE_REQUEST: cobrowse.request,
            Event.COBROWSE_CONSENT: cobrowse.consent,
            Event.COBROWSE_STOP: cobrowse.stop,
            Event.COBROWSE_SIGNAL: cobrowse.relay_signal,
            Event.COBROWSE_DATA: cobrowse.relay_data,
        }
        # set by the app: the supervisor desk (supervisor/), whose handlers join the ones above
        self.supervisors: SupervisorDesk | None = None
        sio.on("connect", self.on_connect)
        sio.on("disconnect", self.on_disconnect)
        sio.on("*", self.on_event)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            claims = await self.authenticator.authenticate(auth, environ)
        except TokenError as exc:
            log.info("refused connect from %s: %s", environ.get("REMOTE_ADDR", "?"), exc)
            # Browsers see err.message and err.data = {code, message}.
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": exc.code, "message": exc.message}
            ) from exc
        if sid in self.connections:
            # A connection's identity (and its rate budget) never changes once it connected.
            log.warning("refused a second connect for %s (%s)", sid, self.connections[sid].claims.sub)
            message = "This connection is signed in already; open a new connection to sign in again."
            raise socketio.exceptions.ConnectionRefusedError(
                message, {"code": ErrorCode.FORBIDDEN.value, "message": message}
            )
        self.connections[sid] = Connection(claims, TokenBucket(self.rate_burst, self.rate_per_s))
        if claims.role is Role.SUPERVISOR and self.supervisors is not None:
            await self.supervisors.connected(sid, claims)  # a supervisor takes no seat
        elif claims.role is Role.AGENT:
            self.departures.agent_back(claims.sub)
            await self.service.agent_connected(sid, claims)

    async def on_disconnect(self, sid: str, *_reason: Any) -> None:
        conn = self.connections.pop(sid, None)
        if conn is not None and conn.claims.role is Role.SUPERVISOR and self.supervisors is not None:
            await self.supervisors.disconnected(sid)
        elif conn is not None and conn.claims.role is Role.AGENT:
            await self.service.agent_disconnected(sid, conn.claims)
            self.departures.agent_gone(conn.claims.sub)

    async def on_event(self, event: str | RefusedName, sid: str, *args: Any) -> dict[str, Any]:
        conn = self.connections.get(sid)
        if conn is None:  # cannot happen after a refused connect, but never trust it
            return error(ErrorCode.FORBIDDEN, "Connect with a valid token first.")
        try:
            return await self._handle(event, sid, conn, args)
        except ProtocolError as exc:
            self._reject(event, conn, exc.code, exc.message)
            return {"ok": False, "error": {"code": exc.code, "message": exc.message}}
        except Exception:
            if conn.should_log(ErrorCode.INTERNAL)[0]:
                log.exception("event %s from %s failed", str(event)[:60], conn.claims.sub)
            return error(ErrorCode.INTERNAL, "Something went wrong on our side; please try again.")

    async def _handle(
        self, event: str | RefusedName, sid: str, conn: Connection, args: tuple[Any, ...]
    ) -> dict[str, Any]:
        if not conn.budget_for(event).take():
            raise ProtocolError(ErrorCode.RATE_LIMITED, "Too many events; slow down and retry shortly.")
        undecodable = next((a for a in args if isinstance(a, Undecodable)), None)
        if undecodable is not None:
            raise ProtocolError(ErrorCode.BAD_PAYLOAD, undecodable.reason)
        data = args[0] if len(args) == 1 else None
        try:
            encoded = compact_json(data)
        except RecursionError as exc:
            raise ProtocolError(ErrorCode.BAD_PAYLOAD, "The payload is nested too deeply.") from exc
        except (TypeError, ValueError) as exc:  # binary attachments and the like
            raise ProtocolError(ErrorCode.BAD_PAYLOAD, "The payload must be a JSON object.") from exc
        size = len(encoded)
        if size > MAX_EVENT_BYTES:
            raise ProtocolError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"The payload is {size:,} bytes; the limit is {MAX_EVENT_BYTES:,}.",
            )
        # Only a payload with more brackets than the limit can nest deeper (strings count too,
        # so this only ever skips the walk when it would have found nothing).
        if encoded.count("{") + encoded.count("[") > MAX_DEPTH and _deeper_than(data, MAX_DEPTH):
            raise ProtocolError(
                ErrorCode.BAD_PAYLOAD, f"The payload nests more than {MAX_DEPTH} objects or arrays deep."
            )
        try:
            if not isinstance(event, str):  # reserved, not a string, or missing (transport.py)
                raise ValueError(event)
            name = Event(event)
            model = INBOUND[name]
        except (ValueError, KeyError) as exc:
            raise ProtocolError(ErrorCode.UNKNOWN_EVENT, f"{str(event)[:60]!r} is not a DCS event.") from exc
        if len(args) > 1:
            raise ProtocolError(ErrorCode.BAD_PAYLOAD, "An event carries one payload object.")
        if conn.claims.role not in ALLOWED_ROLES[name]:
            raise ProtocolError(ErrorCode.FORBIDDEN, f"A {conn.claims.role.value} cannot send {name.value}.")
        payload = _validate(model, data)
        bind_session(payload)  # every log line from here on names the session (logs.py)
        return await self.handlers[name](sid, conn.claims, payload)

    def _reject(self, event: str | RefusedName, conn: Connection, code: str, message: str) -> None:
        # A hostile client must not be able to flood the log: once a minute per code.
        now, skipped = conn.should_log(code)
        if not now:
            return
        log.warning(
            "rejected %s from %s %s: %s (%s)%s",
            str(event)[:60],
            conn.claims.role.value,
            conn.claims.sub,
            code,
            message,
            f" [and {skipped} more since the last line]" if skipped else "",
        )


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects/arrays nest more than ``limit`` deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _validate(model: type[Payload], data: Any) -> Payload:
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_PAYLOAD, "The payload must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise ProtocolError(ErrorCode.BAD_PAYLOAD, f"Field {where!r}: {first['msg']}.") from exc
