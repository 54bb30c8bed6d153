"""The socket.io server DCS runs: every inbound event reaches the gateway, and only as an event.

python-socketio dispatches an inbound EVENT packet by its name, so a client that names
``connect`` or ``disconnect`` would re-run the server's lifecycle handlers (a fresh rate
budget, no origin check, another identity), and one that names ``*`` would call the
catch-all with its arguments shifted. ``DcsServer`` hands such events to the catch-all
instead, under a name that matches no handler (``RefusedName``): the gateway answers them
``unknown_event``. Packets whose JSON does not parse (malformed, or nested beyond what the
parser can follow) keep their ack id and reach the gateway as ``Undecodable``, so they are
answered ``bad_payload`` rather than dropped with a traceback. Packets that are not even
socket.io packets are dropped, with one log line per connection per minute.

The Engine.IO side: a long-polling request may carry MAX_PACKETS_PER_REQUEST packets (the
library's default of 16 dropped batched events unanswered), and Engine.IO's and socket.io's
own error logs are throttled, so a hostile client cannot flood the log through them either.
A long-polling POST body is read whole, however the network splits it. A closed WebSocket
leaves no reference cycle behind (``_AcyclicWebSocket``), so its connection is freed as it
closes rather than by a full garbage collection walking every live connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import engineio.json
import engineio.payload
import socketio
import socketio.packet
from engineio.async_drivers import aiohttp as eio_aiohttp

from dcs_sdk.protocol import MAX_PACKETS_PER_REQUEST, RESERVED_EVENTS

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0

# Events handled in their connection's reader rather than in a task of their own: the hot,
# short ones (a chat message is one commit, then relayed), which gain a loop turn of
# latency and lose nothing by waiting for the same connection's previous event.
INLINE_EVENTS = frozenset({"chat.send", "chat.typing"})

# The JSON socket.io writes (compact), from one encoder: json.dumps with separators builds a
# new encoder on every call, and every message is encoded at least twice (relay and ack).
compact_json = json.JSONEncoder(separators=(",", ":")).encode


class Undecodable:
    """The payload of an event packet whose JSON did not parse; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Undecodable({self.reason!r})"


class RefusedName:
    """The name of an inbound event that is never dispatched by name (reserved, not a
    string, or missing). Not a str, so it matches no handler."""

    def __init__(self, name: object) -> None:
        self.name = name

    def __str__(self) -> str:
        return "" if self.name is None else str(self.name)

    def __repr__(self) -> str:
        return f"RefusedName({self.name!r})"


def _bounded_int(digits: str) -> int:
    if len(digits) > 100:  # as Engine.IO's own JSON: int() of a huge literal is quadratic
        raise ValueError("Integer is too large")
    return int(digits)


class _LenientJson:
    """Engine.IO's JSON (integers of at most 100 digits), except that text which does not
    parse becomes ``Undecodable`` instead of an exception that loses the packet's ack id."""

    dumps = staticmethod(engineio.json.dumps)
    # One decoder for every packet: json.loads with a parse_int builds a new one per call.
    _decoder = json.JSONDecoder(parse_int=_bounded_int)

    @staticmethod
    def loads(text: str, *args: Any, **kwargs: Any) -> Any:
        try:
            if isinstance(text, str) and not args and not kwargs:
                return _LenientJson._decoder.decode(text)
            return engineio.json.loads(text, *args, **kwargs)
        except RecursionError:
            return Undecodable("The payload is nested too deeply.")
        except ValueError:
            return Undecodable("The payload is not valid JSON.")


class DcsPacket(socketio.packet.Packet):  # type: ignore[misc]
    json = _LenientJson


class OncePerMinute(logging.Filter):
    """Lets each message (by its format string) through at most once a minute."""

    def __init__(self, period_s: float = LOG_EVERY_S) -> None:
        super().__init__()
        self.period_s = period_s
        self.last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = str(record.msg)
        now = time.monotonic()
        if now - self.last.get(key, -self.period_s) < self.period_s:
            return False
        if len(self.last) > 1000:
            self.last.clear()
        self.last[key] = now
        return True


def _quiet_logger(name: str) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.setLevel(logging.ERROR)  # what python-socketio and python-engineio log by default
    if not any(isinstance(f, OncePerMinute) for f in logger.filters):
        logger.addFilter(OncePerMinute())
    return logger


class _WholeBody:
    """A long-polling POST's body, read whole. python-engineio reads ``read(length)`` once,
    which on aiohttp returns only what has arrived: a body split across TCP segments (any
    large POST: co-browse frames before the upgrade) would be decoded in part."""

    def __init__(self, content: Any) -> None:
        self._content = content

    async def read(self, length: int = -1) -> bytes:
        if length is None or length < 0:
            return bytes(await self._content.read())
        try:
            return bytes(await self._content.readexactly(length))
        except asyncio.IncompleteReadError as exc:  # the client went away mid-body
            return bytes(exc.partial)


def _reading_whole_bodies(translate: Callable[..., Any]) -> Callable[..., Any]:
    def translate_request(*args: Any, **kwargs: Any) -> Any:
        environ = translate(*args, **kwargs)
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):  # only a body is read
            environ["wsgi.input"] = _WholeBody(environ["wsgi.input"])
        return environ

    return translate_request


class _AcyclicWebSocket(eio_aiohttp.WebSocket):  # type: ignore[misc]
    """Engine.IO's aiohttp WebSocket, minus the reference cycle a closed one leaves.

    When the client closes, Engine.IO's ``wait`` raises OSError inside a task; Engine.IO's
    handler re-raises it in its own frame, so the exception's traceback holds that frame,
    whose ``wait_task`` holds the exception: ~70 objects (the request, the response, the
    transport, the socket) per connection that only a full collection frees. Its receive
    loop ends on None ("closed by client") exactly as on that OSError, so once the socket
    is past its upgrade probe (where Engine.IO expects the OSError) this returns None.
    (aiohttp's response keeps the exception a dropped connection ended it with, a cycle
    too: its traceback is cut once the request is done, by the connection guard's sweep.)
    """

    def __call__(self, environ: dict[str, Any]) -> Any:
        # Registered for the connection guard (limits.py), which lets it go (ended) once its
        # request is done: no coroutine frame or callback here for as long as it lasts.
        self.request = environ["aiohttp.request"]
        self.server.websocket_requests[self.handler.__self__.sid] = self
        return super().__call__(environ)

    def ended(self) -> None:
        """Its request is done: aiohttp keeps the exception a dropped connection or a ping
        timeout ended the WebSocket with, and its traceback holds the response (a cycle)."""
        exc = self._sock.exception() if self._sock is not None else None
        seen: set[int] = set()
        while exc is not None and id(exc) not in seen:
            seen.add(id(exc))
            exc.__traceback__ = None
            if exc.__cause__ is not None:
                exc.__cause__.__traceback__ = None
            exc = exc.__context__

    async def wait(self) -> Any:
        msg = await self._sock.receive()
        if isinstance(msg.data, bytes | str):
            return msg.data
        if getattr(getattr(self.handler, "__self__", None), "upgraded", False):
            return None
        raise OSError()


class DcsServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("serializer", DcsPacket)
        kwargs.setdefault("logger", _quiet_logger("signaling_server.socketio"))
        kwargs.setdefault("engineio_logger", _quiet_logger("signaling_server.engineio"))
        # A class attribute of python-engineio (its documented knob); it bounds the work one
        # request can cause, and the rate budget keeps well-behaved clients far below it.
        payload = engineio.payload.Payload
        payload.max_decode_packets = max(payload.max_decode_packets, MAX_PACKETS_PER_REQUEST)
        super().__init__(**kwargs)
        self._malformed_logged: dict[str, float] = {}
        drivers = dict(self.eio._async)
        drivers["translate_request"] = _reading_whole_bodies(drivers["translate_request"])
        drivers["websocket"] = _AcyclicWebSocket
        # the WebSocket (_AcyclicWebSocket) serving each Engine.IO socket, by its sid
        self.eio.websocket_requests = {}
        # Engine.IO sid -> when it opened; the connection guard (limits.py) drops each once
        # it has signed in, and closes those that take too long
        self.unauthenticated: dict[str, float] = {}
        self.eio._async = drivers

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: Any) -> None:
        if isinstance(data, list) and data and isinstance(data[0], str) and data[0] not in RESERVED_EVENTS:
            if data[0] in INLINE_EVENTS and (namespace or "/") == "/":
                await self._handle_inline(eio_sid, id, data)
                return
            await super()._handle_event(eio_sid, namespace, id, data)
            return
        # Reserved, nameless or undecodable: to the catch-all, under a name no handler has.
        if isinstance(data, Undecodable):
            refused = [RefusedName(None), data]
        elif not isinstance(data, list) or not data:
            refused = [
                RefusedName(None),
                Undecodable("An event is a JSON array: its name, then its payload."),
            ]
        else:
            refused = [RefusedName(data[0]), *data[1:]]
        await super()._handle_event(eio_sid, namespace, id, refused)

    async def _handle_inline(self, eio_sid: str, id: int | None, data: list[Any]) -> None:
        """Handle a chat event in the connection's reader, as socket.io's async_handlers=False
        would: no task, so no loop turn spent queued behind others before the handler
        runs. Its next events wait for it, which keeps one sender's messages in order."""
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if not self.manager.is_connected(sid, "/"):
            return
        await self._handle_event_internal(self, sid, eio_sid, data, "/", id)

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: int | None
    ) -> None:
        """socket.io's, but a DCS ack (one JSON object) is encoded in one step rather than
        through socket.io's Packet, which first walks the whole reply looking for bytes."""
        r = await server._trigger_event(data[0], namespace, sid, *data[1:])
        if r is self.not_handled or id is None:
            return
        if isinstance(r, dict) and namespace == "/":
            try:
                encoded = f"{socketio.packet.ACK}{id}{compact_json([r])}"
            except (TypeError, ValueError):  # not JSON (bytes): socket.io's binary ack below
                pass
            else:
                await self.eio.send(eio_sid, encoded)
                return
        args = [] if r is None else list(r) if isinstance(r, tuple) else [r]
        ack = self.packet_class(socketio.packet.ACK, namespace=namespace, id=id, data=args)
        await server._send_packet(eio_sid, ack)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, RecursionError) as exc:  # not a socket.io packet we can read
            self._binary_packet.pop(eio_sid, None)  # nor wait for attachments of one
            now = time.monotonic()
            if now - self._malformed_logged.get(eio_sid, -LOG_EVERY_S) >= LOG_EVERY_S:
                self._malformed_logged[eio_sid] = now
                log.warning("dropped a malformed packet on connection %s: %s", eio_sid, exc)

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        self.unauthenticated[eio_sid] = time.monotonic()
        return await super()._handle_eio_connect(eio_sid, environ)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        self._malformed_logged.pop(eio_sid, None)
        self.unauthenticated.pop(eio_sid, None)
        # A long-polling client that closes (an Engine.IO CLOSE in a POST) would otherwise
        # keep its pending GET open until the ping timeout (20 s): answer it now, empty.
        socket = self.eio.sockets.get(eio_sid)
        if reason == self.reason.CLIENT_DISCONNECT and socket is not None and not socket.upgraded:
            socket.queue.put_nowait(None)
        await super()._handle_eio_disconnect(eio_sid, reason)
