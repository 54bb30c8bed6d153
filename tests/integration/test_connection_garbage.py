"""A closed connection leaves no reference cycle in the server: it is freed as it closes.

Otherwise each one (its request, WebSocket response, Engine.IO socket, transport) waits for
a full garbage collection, which walks every live connection: the pauses that a crowd of
thousands turns into hundreds of milliseconds (gc_tuning.py, transport.py). The server
runs as ``dcs-server`` runs it (tune_for_server); the clients share the test's process, so
only the server's own objects are counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import socketio
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.web_protocol import RequestHandler
from engineio.async_socket import AsyncSocket

from dcs_sdk.client import DcsClient
from signaling_server.app import create_app
from signaling_server.config import Config
from signaling_server.gc_tuning import tune_for_server

ROUNDS = 12


@contextlib.asynccontextmanager
async def tuned_server(config: Config) -> AsyncIterator[str]:
    before = gc.get_threshold()
    app = create_app(config)
    tune_for_server(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        gc.unfreeze()
        gc.set_threshold(*before)


@contextlib.contextmanager
def collector_off() -> Iterator[Callable[[], dict[str, int]]]:
    """The collector off meanwhile; the function collects and counts, by kind, the server's
    connection objects that only a collection could free."""
    gc.collect()
    gc.disable()

    def server_garbage() -> dict[str, int]:
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            found: dict[str, int] = {}
            for obj in gc.garbage:
                kind = _server_kind(obj)
                if kind:
                    found[kind] = found.get(kind, 0) + 1
            return found
        finally:
            gc.set_debug(0)
            gc.garbage.clear()

    try:
        yield server_garbage
    finally:
        gc.enable()


def _server_kind(obj: Any) -> str:
    if isinstance(obj, web.WebSocketResponse):
        return "WebSocketResponse"
    if isinstance(obj, web.BaseRequest):
        return "Request"
    if isinstance(obj, AsyncSocket):
        return "engineio AsyncSocket"
    if isinstance(obj, asyncio.Transport) and isinstance(getattr(obj, "_protocol", None), RequestHandler):
        return "server transport"
    return ""


def drop(client: DcsClient) -> None:
    """Cut the client's TCP connection under it, as a network drop does."""
    ws = getattr(client.sio.eio, "ws", None)
    sock = ws.get_extra_info("socket") if ws is not None else None
    assert sock is not None
    sock.shutdown(socket.SHUT_RDWR)


async def test_closed_and_dropped_connections_leave_no_cycles(
    server_config: Config, mint: Callable[..., str]
) -> None:
    async with tuned_server(server_config) as url:
        with collector_off() as server_garbage:
            for i in range(ROUNDS):  # closed by the client, after a session.start
                client = DcsClient(url, mint("customer", f"closing{i}"))
                await client.connect()
                started = await client.start_session()
                await client.send(started.session_id, "hello")
                await client.close()
            for i in range(ROUNDS):  # dropped by the network, then back (a resume)
                client = DcsClient(url, mint("customer", f"dropping{i}"), reconnection=False)
                await client.connect()
                started = await client.start_session()
                drop(client)
                await asyncio.sleep(0.05)
                await client.close()
                again = DcsClient(url, mint("customer", f"dropping{i}"))
                await again.connect()
                resumed = await again.start_session(started.session_id)
                assert resumed.session_id == started.session_id
                await again.close()
            for i in range(ROUNDS):  # long-polling first, then upgraded: as the widget connects
                upgrading = socketio.AsyncClient(reconnection=False)
                await upgrading.connect(
                    url,
                    auth={"token": mint("customer", f"upgrading{i}")},
                    transports=["polling", "websocket"],
                )
                for _ in range(100):
                    if upgrading.transport() == "websocket":
                        break
                    await asyncio.sleep(0.02)
                assert upgrading.transport() == "websocket"
                ack = await upgrading.call("session.start", {"page": {"url": "", "title": ""}})
                assert ack["ok"]
                await upgrading.disconnect()
            await asyncio.sleep(1.2)  # the server has seen every close, its guard swept them
            assert server_garbage() == {}
