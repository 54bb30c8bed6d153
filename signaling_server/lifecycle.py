"""Graceful shutdown: on SIGTERM, finish what is in flight, close every connection so that
clients reconnect at once, and let the process exit within about ``shutdown_grace_s``.

aiohttp's runner, on SIGTERM, stops listening and stops reading the open connections, then
calls ``on_shutdown`` (here), then waits ``shutdown_timeout`` for request handlers, then
runs the cleanup contexts (the store closes last; its writer writes what is queued).

Without this hook nothing ended the socket.io connections: aiohttp no longer read them, so
the clients' pongs went unread and each connection ended only when Engine.IO's read timed
out (ping interval + ping timeout, 20 s); only then did the clients notice and reconnect.

Here: events that have not started yet are refused ("send it again"), the ones being
handled finish (their writes commit, their acks and relays are queued), then each
WebSocket's TCP connection is half-closed once its queue is sent (``_half_close`` says
why not a full close), and a pending long-poll returns what is queued. No Engine.IO or
socket.io close packet is sent: python-socketio's client does not reconnect after either,
while both it and the browser's socket.io-client reconnect by themselves after a dropped
transport ("transport close").
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from aiohttp import web

from dcs_sdk.protocol import ErrorCode, error

from .limits import ConnectionGuard, reset

log = logging.getLogger(__name__)

# socket.io's own events, not DCS events: nothing to wait for at shutdown.
_NOT_EVENTS = frozenset({"connect", "disconnect"})
RESTARTING = error(ErrorCode.INTERNAL, "The server is restarting; send it again in a moment.")


class GracefulShutdown:
    def __init__(self, sio: socketio.AsyncServer, guard: ConnectionGuard, *, grace_s: float) -> None:
        self.sio = sio
        self.guard = guard
        self.grace_s = grace_s
        self._in_flight: set[asyncio.Future[None]] = set()
        self._closing = False

    def install(self, app: web.Application) -> None:
        # on_startup runs after the cleanup contexts have started, so the event handlers
        # are registered by then.
        app.on_startup.append(self._track_events)
        app.on_shutdown.append(self._on_shutdown)
        # Before the cleanup contexts close the services and the store: what is still being
        # handled (the disconnects of the connections just closed) finishes its database
        # calls first. A call cut off inside aiosqlite still completes in its thread, which
        # then finds the event loop closed.
        app.on_cleanup.insert(0, self._settle)

    async def _track_events(self, app: web.Application) -> None:
        """Wrap every event handler so that shutdown knows which events are being handled
        (and every disconnect handler, which always runs, so the cleanup can wait for it)."""
        handlers = self.sio.handlers.get("/", {})
        for event, handler in list(handlers.items()):
            if event not in _NOT_EVENTS and inspect.iscoroutinefunction(handler):
                handlers[event] = self._tracked(handler)
            elif event == "disconnect" and inspect.iscoroutinefunction(handler):
                handlers[event] = self._counted(handler)

    def _counted(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """A handler that always runs (a disconnect), counted while it does."""

        async def counted(*args: Any) -> Any:
            handled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._in_flight.add(handled)
            try:
                return await handler(*args)
            finally:
                self._in_flight.discard(handled)
                handled.set_result(None)

        return counted

    async def _settle(self, app: web.Application) -> None:
        pending = {f for f in self._in_flight if not f.done()}
        if pending:
            await asyncio.wait(pending, timeout=self.grace_s)

    def _tracked(self, handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        # Each call is counted (_counted), not its task: chat events run inline in their
        # connection's reader (transport.py), a task that lives as long as the connection.
        # The count's future is resolved as the handler returns; its waiters run only after
        # the caller has queued the ack, which it does without yielding.
        counted = self._counted(handler)

        async def tracked(*args: Any) -> Any:
            if self._closing:
                # Read before the shutdown began but not started yet: not handled, so
                # nothing is stored; the ack says so, if it still goes out.
                return RESTARTING
            return await counted(*args)

        return tracked

    async def _on_shutdown(self, app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.grace_s
        self._closing = True  # from here on, only what already started is awaited
        in_flight = set(self._in_flight)
        if in_flight:
            _, pending = await asyncio.wait(in_flight, timeout=self.grace_s)
            if pending:
                log.warning(
                    "shutdown: %d events were still being handled after %.1f s", len(pending), self.grace_s
                )
        eio = self.sio.eio
        websockets = self.guard.websockets()
        for sid, s in list(eio.sockets.items()):
            if sid not in websockets:
                # long-polling: Engine.IO's end marker makes a pending poll return what is queued
                s.queue.put_nowait(None)
        left = await self._half_close(websockets, deadline)
        if left:
            log.warning("shutdown: %d connections did not close within the grace; cutting them", len(left))
            for transport in left:
                reset(transport)
        await self.sio.shutdown()
        log.info(
            "shutdown: %d events finished, %d connections closed in %.2f s",
            len(in_flight),
            len(websockets) - len(left),
            loop.time() - started,
        )

    async def _half_close(
        self, websockets: dict[str, asyncio.Transport], deadline: float
    ) -> list[asyncio.Transport]:
        """Once a WebSocket's queue is sent, end our side of its TCP connection (FIN after
        the data), then wait for the client to close its side; the transports still open
        at the deadline.

        Not a full close: a client still sending (a flood does, until it notices) into a
        closed socket gets a TCP reset, and a reset makes the client's kernel drop what it
        received but had not read yet, acks included. The WebSocket ends without a close
        frame, as a dropped connection does, which both socket.io clients reconnect after.
        """
        loop = asyncio.get_running_loop()
        sockets: dict[str, Any] = self.sio.eio.sockets
        open_ = dict(websockets)
        quiet: set[str] = set()  # flushed at the previous look
        ended: set[str] = set()
        while open_ and loop.time() < deadline:
            for sid, transport in list(open_.items()):
                if transport.is_closing():  # the client closed its side: done
                    del open_[sid]
                    continue
                if sid in ended:
                    continue
                s = sockets.get(sid)
                flushed = (s is None or s.queue.empty()) and transport.get_write_buffer_size() == 0
                if not flushed:
                    quiet.discard(sid)
                elif sid not in quiet:
                    quiet.add(sid)  # flushed twice in a row: the writer is not between two sends
                else:
                    ended.add(sid)
                    if transport.can_write_eof():
                        transport.write_eof()
                    else:  # TLS
                        transport.close()
            await asyncio.sleep(0.005)
        return list(open_.values())
