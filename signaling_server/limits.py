"""Bounded resources per connection: what a client that misbehaves, stalls or never talks
can make the server hold.

- **A client that stops reading** keeps its WebSocket open while everything the server
  sends it waits in Engine.IO's per-socket queue, which has no limit. A sweep (every
  ``SWEEP_S``) sums each queue that is not empty; past ``send_queue_max_bytes`` the TCP
  connection is cut. The slower checks below run every ``SLOW_SWEEPS``-th sweep, and only
  over what they concern (connections not yet authenticated, WebSockets whose Engine.IO
  socket may have ended), so 10,000 quiet connections cost the loop little.
  The client reconnects when it reads again and resumes by seq. A connection whose
  Engine.IO socket has ended (a ping timeout) but whose writer is still blocked on the
  client is cut ``CLOSE_GRACE_S`` later.
- **An Engine.IO connection that never authenticates** (no socket.io CONNECT, or one still
  refused) is closed ``connect_timeout_s`` after it opened.
- **Silent and half-sent HTTP requests.** aiohttp's keep-alive timer (``keepalive_timeout``,
  here ``http_idle_timeout_s``) starts when a connection opens and again after each
  response, and closes the connection if no complete request head has arrived by then: a
  TCP connection that never sends, a request head sent in pieces, an idle keep-alive. A
  request body must arrive in full within ``http_body_timeout_s`` of its head; the rest
  of one its handler answered without reading is drained for at most that long.

Cutting means aborting the TCP connection, never a socket.io DISCONNECT or an Engine.IO
CLOSE packet: python-socketio's client does not reconnect after those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import socketio
from aiohttp import web
from aiohttp.typedefs import Handler

from .config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")

SWEEP_S = 0.25
# the connect timeout and the ended-WebSocket check run every this many sweeps (0.5 s)
SLOW_SWEEPS = 2
# What a queued packet costs besides its text (the packet object and the queue's slot).
PACKET_OVERHEAD = 200
# An ended Engine.IO socket whose WebSocket is still open this long after: its writer is
# blocked on a client that does not read.
CLOSE_GRACE_S = 2.0
SIO_PATH = "/socket.io/"
# Connections a sweep looks at per turn of the event loop: a sweep over 10,000 of them in
# one go held the loop for tens of milliseconds on a slow machine, every quarter second,
# which every message in flight then waited out (the RTT tail at 10,000 connected).
SWEEP_CHUNK = 256


def handler_args(config: Config) -> dict[str, Any]:
    """aiohttp request-handler settings (``web.Application(handler_args=...)``): the idle
    timeout, and how long aiohttp goes on reading (and dropping) the rest of a body its
    handler did not read before it closes the connection (its default is 10 s)."""
    return {"keepalive_timeout": config.http_idle_timeout_s, "lingering_time": config.http_body_timeout_s}


class ConnectionGuard:
    def __init__(self, sio: socketio.AsyncServer, config: Config) -> None:
        self.sio = sio
        self.max_queue_bytes = config.send_queue_max_bytes
        self.connect_timeout_s = config.connect_timeout_s
        self.body_timeout_s = config.http_body_timeout_s
        # Engine.IO sid -> when its socket was first seen gone while its WebSocket stayed
        self._ended: dict[str, float] = {}
        # Engine.IO sid -> when it opened, while it has not signed in (kept by the server:
        # transport.py), so the sweep need not compare every sid it saw with every one now
        self._unauthenticated: dict[str, float] = getattr(sio, "unauthenticated", {})
        self._sweeps = 0
        self.cut_count = 0

    def install(self, app: web.Application) -> None:
        """The socket.io endpoint (in place of python-socketio's attach, its POST bodies
        bounded in time) and the sweep."""
        handle = self.sio.eio.handle_request
        app.router.add_get(SIO_PATH, handle)
        app.router.add_post(SIO_PATH, self.in_time(handle))
        app.router.add_route("OPTIONS", SIO_PATH, handle)
        app.cleanup_ctx.append(self._sweeping)

    # requests

    def in_time(self, handler: Handler) -> Handler:
        """``handler``, its request's body bounded by ``http_body_timeout_s``; for the
        routes that read a body (socket.io's POST, the API, uploads). Not a middleware: with
        any middleware at all, aiohttp keeps a frame of its own for as long as each request
        lasts, every WebSocket's included."""

        async def timed(request: web.Request) -> web.StreamResponse:
            if not request.body_exists or request.content.is_eof():
                return await handler(request)
            return await self._serve_body(request, handler)

        return timed

    async def _serve_body(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        overdue = False

        def check() -> None:
            nonlocal overdue
            transport = request.transport
            if not request.content.is_eof() and transport is not None:
                overdue = True
                log.info(
                    "%s %s: the body did not arrive within %.1f s",
                    request.method,
                    request.path,
                    self.body_timeout_s,
                )
                transport.abort()

        timer = asyncio.get_running_loop().call_later(self.body_timeout_s, check)
        try:
            return await handler(request)
        except Exception:
            if overdue:
                raise web.HTTPRequestTimeout() from None
            raise
        finally:
            timer.cancel()

    # the sweep

    async def _sweeping(self, app: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(self._run(), name="dcs-connection-guard")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                await self.sweep()
            except Exception:  # never let the guard die
                log.exception("the connection sweep failed")

    async def sweep(self) -> None:
        now = time.monotonic()
        eio = self.sio.eio
        sockets: dict[str, Any] = eio.sockets
        self._sweeps += 1
        slow = self._sweeps % SLOW_SWEEPS == 0
        streams = self._streams()
        # most queues are empty: only the others are summed
        async for chunk in in_turns(list(sockets.items())):
            for sid, s in [(sid, s) for sid, s in chunk if not s.queue.empty()]:
                if s.closed or s.closing:
                    continue
                queued = _queued_bytes(s)
                if queued > self.max_queue_bytes:
                    why = f"{queued} bytes wait to be sent to it"
                    await self._cut(sid, s, _request_of(streams.get(sid)), why)
        if not slow:
            return
        for sid, opened in list(self._unauthenticated.items()):
            s = sockets.get(sid)
            if s is None or self._authenticated(sid):
                self._unauthenticated.pop(sid, None)
            elif not (s.closed or s.closing) and now - opened > self.connect_timeout_s:
                self._unauthenticated.pop(sid, None)
                await self._cut(
                    sid,
                    s,
                    _request_of(streams.get(sid)),
                    f"no socket.io connect within {self.connect_timeout_s:g} s",
                )
        async for chunk in in_turns(list(streams.items())):
            for sid, ws in chunk:
                request = ws.request
                # served: let it go (aiohttp 3.14 drops the request's task once it is served)
                if request.task is None or request.task.done():
                    streams.pop(sid, None)
                    self._ended.pop(sid, None)
                    ws.ended()
                    continue
                s = sockets.get(sid)
                if s is not None and not s.closed:
                    self._ended.pop(sid, None)
                    continue
                ended_at = self._ended.setdefault(sid, now)
                if now - ended_at >= CLOSE_GRACE_S and request.transport is not None:
                    # its Engine.IO socket ended (say, a ping timeout) but the WebSocket did not
                    ago = now - ended_at
                    log.info("cutting a WebSocket whose Engine.IO session ended %.1f s ago", ago)
                    self._abort(request)
        for sid in [sid for sid in self._ended if sid not in streams]:
            del self._ended[sid]

    def websockets(self) -> dict[str, asyncio.Transport]:
        """The TCP connections of the WebSockets being served, by Engine.IO sid."""
        found: dict[str, asyncio.Transport] = {}
        for sid, ws in self._streams().items():
            transport = ws.request.transport
            if transport is not None:
                found[sid] = transport
        return found

    def _streams(self) -> dict[str, Any]:
        """The WebSocket serving each Engine.IO socket, by sid (registered by the WebSocket
        driver, transport.py; its ``request`` is the aiohttp request): until the sweep
        finds that request done."""
        streams: dict[str, Any] = getattr(self.sio.eio, "websocket_requests", {})
        return streams

    def _authenticated(self, eio_sid: str) -> bool:
        manager = self.sio.manager
        sid = manager.sid_from_eio_sid(eio_sid, "/")
        return sid is not None and bool(manager.is_connected(sid, "/"))

    async def _cut(self, eio_sid: str, s: Any, request: web.BaseRequest | None, why: str) -> None:
        log.warning("closing connection %s: %s", eio_sid, why)
        self.cut_count += 1
        if request is not None and self._abort(request):
            return  # the WebSocket's reader ends, and Engine.IO closes the socket
        # long-polling (or a WebSocket already gone): end the Engine.IO session itself,
        # without a CLOSE packet and without waiting for its queue to drain
        await s.close(wait=False, abort=True)
        sockets: dict[str, Any] = self.sio.eio.sockets
        sockets.pop(eio_sid, None)

    def _abort(self, request: web.BaseRequest) -> bool:
        transport = request.transport
        if transport is None:
            return False
        reset(transport)
        return True


async def in_turns(items: list[T]) -> AsyncIterator[list[T]]:
    """``items`` in chunks of ``SWEEP_CHUNK``, the loop given a turn between two (each item
    is checked when its turn comes, so what changed meanwhile is seen as it is now)."""
    for start in range(0, len(items), SWEEP_CHUNK):
        if start:
            await asyncio.sleep(0)
        yield items[start : start + SWEEP_CHUNK]


def _request_of(ws: Any) -> web.BaseRequest | None:
    return ws.request if ws is not None else None


def reset(transport: asyncio.Transport) -> None:
    """Close with a TCP reset: a plain close would leave the kernel holding what it could
    not send (the client's window is shut) and trying to send it for minutes."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()  # also when closing: a blocked transport never finishes closing


def _queued_bytes(s: Any) -> int:
    queue: asyncio.Queue[Any] = s.queue
    if queue.empty():
        return 0
    total = 0
    for pkt in getattr(queue, "_queue", ()):
        data = getattr(pkt, "data", None)
        total += PACKET_OVERHEAD + (len(data) if isinstance(data, str | bytes) else 0)
    return total
