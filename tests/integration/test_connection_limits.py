"""What a client can make the server hold is bounded: a reader that stalls is cut once its
outgoing queue passes the bound (and the chat goes on for everyone else), an Engine.IO
connection that never authenticates is closed after the connect timeout, and silent,
half-sent and idle HTTP connections are closed after the idle and body timeouts.

Real server processes with small bounds (set through DCS_* variables), raw TCP sockets
for the clients that misbehave, DcsClient for the ones that do not.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import os
import socket
import struct
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dcs_sdk import DcsClient, Event, PageInfo, SigningKey
from dcs_sdk.protocol import HISTORY_PAGE
from signaling_server import Config, create_app, limits
from signaling_server.app import SIO
from tests.server_process import ServerProcess

TCP_STATE_CLOSE, TCP_STATE_CLOSE_WAIT = 7, 8


class Closed(Exception):
    """The server closed the connection (EOF, reset or a WebSocket close frame)."""


class RawWebSocket:
    """A WebSocket client on a bare TCP socket: it reads only when told to."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    @classmethod
    async def open(cls, port: int, *, rcvbuf: int | None = None) -> RawWebSocket:
        sock = socket.socket()
        if rcvbuf is not None:  # before connect, so the window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        ws = cls(sock)
        key = base64.b64encode(os.urandom(16)).decode()
        await ws._send(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        while b"\r\n\r\n" not in ws.buf:
            await ws._fill()
        head, ws.buf = ws.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        return ws

    async def _send(self, data: bytes) -> None:
        await asyncio.get_running_loop().sock_sendall(self.sock, data)

    async def _fill(self) -> None:
        try:
            chunk = await asyncio.get_running_loop().sock_recv(self.sock, 65536)
        except OSError as exc:  # a reset
            raise Closed(repr(exc)) from exc
        if not chunk:
            raise Closed("EOF")
        self.buf += chunk

    async def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            await self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    async def recv_text(self) -> str:
        while True:
            b0, b1 = await self._take(2)
            length = b1 & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self._take(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self._take(8))
            payload = await self._take(length)
            opcode = b0 & 0x0F
            if opcode == 8:
                raise Closed("close frame")
            if opcode == 1:
                return payload.decode()

    async def send_text(self, text: str) -> None:
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81]) + (
            bytes([0x80 | n])
            if n < 126
            else bytes([0x80 | 126]) + struct.pack("!H", n)
            if n < 65536
            else bytes([0x80 | 127]) + struct.pack("!Q", n)
        )
        await self._send(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    async def recv_until(self, prefix: str) -> str:
        while not (text := await self.recv_text()).startswith(prefix):
            pass
        return text

    def tcp_state(self) -> int:
        """The kernel's TCP state of this socket, without reading from it."""
        return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]

    def close(self) -> None:
        self.sock.close()


async def closed_after(reader: asyncio.StreamReader, limit: float) -> float:
    """Seconds until the server ends the connection (reading and dropping what comes);
    ``limit`` if it does not."""
    started = time.monotonic()
    with contextlib.suppress(ConnectionError, TimeoutError):
        async with asyncio.timeout(limit):
            while await reader.read(65536):
                pass
    return time.monotonic() - started


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def live_chat(url: str, mint: Callable[..., str]) -> tuple[DcsClient, DcsClient, str]:
    customer = DcsClient(url, lambda: mint("customer", "v1", name="Sam"))
    agent = DcsClient(url, lambda: mint("agent", "alice", name="Alice"))
    await customer.connect()
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    await agent.connect()
    await agent.accept(sid)
    return customer, agent, sid


TEXT = "x" * 3900  # near the 4000-character limit: the queue fills fast


async def send_many(client: DcsClient, sid: str, who: str, count: int, sent: list[int]) -> None:
    for i in range(count):
        sent.append(await client.send(sid, f"{who} {i} {TEXT}"))


async def test_a_reader_that_stalls_is_cut_and_the_chat_goes_on(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str]
) -> None:
    bound = 256 * 1024
    env = {"DCS_SEND_QUEUE_MAX_BYTES": str(bound), "DCS_RATE_BURST": "100000", "DCS_RATE_PER_S": "100000"}
    server = ServerProcess(tmp_path, signing_key, env=env)
    await server.start()
    assert server.proc is not None
    customer, agent, sid = await live_chat(server.url, mint)
    stalled: RawWebSocket | None = None
    try:
        sent: list[int] = []
        # warm up (caches, pools, arenas) before the baseline
        await asyncio.gather(
            *(send_many(c, sid, f"warm{n}", 100, sent) for n, c in enumerate((customer, agent)))
        )
        baseline = rss_kib(server.proc.pid)

        # the customer's second tab: joins the session, then never reads again
        stalled = await RawWebSocket.open(server.port, rcvbuf=4096)
        assert (await stalled.recv_text()).startswith("0")  # Engine.IO OPEN
        await stalled.send_text("40" + json.dumps({"token": mint("customer", "v1", name="Sam")}))
        await stalled.recv_until("40")
        start = {"session_id": sid, "after_seq": 0, "page": PageInfo().model_dump()}
        await stalled.send_text("421" + json.dumps([Event.SESSION_START.value, start]))
        ack = json.loads((await stalled.recv_until("431"))[3:])[0]
        assert ack["ok"] and ack["session"]["session_id"] == sid
        last_read = max([m["seq"] for m in ack["messages"]], default=0)
        assert stalled.tcp_state() == 1  # ESTABLISHED

        # both sides send ~19 MB more, which the stalled tab is sent too
        flood = [
            send_many(c, sid, f"{side}{n}", 1200, sent)
            for side, c in (("c", customer), ("a", agent))
            for n in range(2)
        ]
        await asyncio.gather(*flood)
        # cut: reset by the server (or closed), without the client reading anything; the
        # sweep looks every 0.25 s
        async with asyncio.timeout(3):
            while stalled.tcp_state() not in (TCP_STATE_CLOSE, TCP_STATE_CLOSE_WAIT):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        grown_mib = (rss_kib(server.proc.pid) - baseline) / 1024
        assert "bytes wait to be sent to it" in server.log()
        # unbounded, the stalled tab's queue alone grows by about 30 MiB here
        assert grown_mib < 12, f"the server grew {grown_mib:.1f} MiB"

        # everyone else carried on: every send was acked (send_many raised nothing), and a
        # message still reaches the other side live
        seq = await customer.send(sid, "still here")
        assert (await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq))["text"] == "still here"
        # the stalled tab comes back and resumes by seq: everything after what it had read
        async with DcsClient(server.url, mint("customer", "v1", name="Sam")) as back:
            resumed = await back.start_session(sid, after_seq=last_read)
            stored = await back.history(sid, after_seq=last_read)  # every page ("more")
            # the start's ack is the first page of it, and says whether more follows
            assert [m["seq"] for m in resumed.messages] == [m["seq"] for m in stored[:HISTORY_PAGE]]
            assert resumed.more == (len(stored) >= HISTORY_PAGE)
            assert [m["seq"] for m in stored] == list(range(last_read + 1, seq + 1))
            assert {s for s in sent if s > last_read} <= {m["seq"] for m in stored}
        print(f"stalled reader: server RSS grew {grown_mib:.1f} MiB during the flood")
    finally:
        if stalled is not None:
            stalled.close()
        await customer.close()
        await agent.close()
        await server.kill()


async def test_an_engineio_connection_that_never_authenticates_is_closed(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str]
) -> None:
    server = ServerProcess(tmp_path, signing_key, env={"DCS_CONNECT_TIMEOUT_S": "1"})
    await server.start()
    try:
        async with DcsClient(server.url, mint("customer", "v1")) as client:
            raw = await RawWebSocket.open(server.port)
            opened = time.monotonic()
            assert (await raw.recv_text()).startswith("0")  # OPEN; then no socket.io CONNECT
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{server.url}/socket.io/?EIO=4&transport=polling") as resp:
                    polling_sid = json.loads((await resp.text())[1:])["sid"]
                with pytest.raises(Closed):
                    async with asyncio.timeout(5):
                        while True:
                            await raw.recv_text()
                waited = time.monotonic() - opened
                raw.close()
                assert 1.0 <= waited <= 3.0, waited
                # the long-polling one is gone too
                await asyncio.sleep(max(0.0, 2.5 - waited))
                query = f"EIO=4&transport=polling&sid={polling_sid}"
                async with http.get(
                    f"{server.url}/socket.io/?{query}", timeout=aiohttp.ClientTimeout(3)
                ) as resp:
                    assert resp.status == 400
            # an authenticated connection older than the timeout is left alone
            assert client.connected
            await client.start_session()
    finally:
        await server.kill()


async def test_silent_half_sent_and_idle_http_connections_are_closed(
    tmp_path: Path, signing_key: SigningKey
) -> None:
    env = {"DCS_HTTP_IDLE_TIMEOUT_S": "1", "DCS_HTTP_BODY_TIMEOUT_S": "1", "DCS_CONNECT_TIMEOUT_S": "30"}
    server = ServerProcess(tmp_path, signing_key, env=env)
    await server.start()
    host = f"Host: 127.0.0.1:{server.port}\r\n"

    async def connection(first: bytes, *, response: bool = False) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(first)
            if response:  # a whole request: read its response, then stay idle
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            return await closed_after(reader, 6)
        finally:
            writer.close()

    async def busy() -> float:
        """Keep-alive with a request every 0.4 s: never idle for the timeout."""
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        try:
            while time.monotonic() - started < 3:
                writer.write(f"GET /healthz HTTP/1.1\r\n{host}\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 200"), head
                await reader.readexactly(int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]))
                await asyncio.sleep(0.4)
            return time.monotonic() - started
        finally:
            writer.close()

    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{server.url}/socket.io/?EIO=4&transport=polling") as resp,
        ):
            eio_sid = json.loads((await resp.text())[1:])["sid"]
        post_head = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={eio_sid} HTTP/1.1\r\n{host}"
            "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: 100\r\n\r\n"
        )
        silent, half_head, idle, no_body, half_body, kept = await asyncio.gather(
            connection(b""),
            connection(f"GET /healthz HTTP/1.1\r\n{host}Accept: */*\r\n".encode()),
            connection(f"GET /healthz HTTP/1.1\r\n{host}\r\n".encode(), response=True),
            # the handler waits for the body: cut by the body timeout
            connection(post_head.encode()),
            # the handler answers what came (Engine.IO reads what has arrived), and the rest
            # is drained for the body timeout at most
            connection((post_head + '40{"token":').encode()),
            busy(),
        )
        times = {
            "silent": silent,
            "half-sent head": half_head,
            "idle keep-alive": idle,
            "body never sent": no_body,
            "half-sent body": half_body,
        }
        for what, seconds in times.items():
            assert 0.9 <= seconds <= 3.0, f"{what}: closed after {seconds:.2f} s"
        assert kept >= 3  # the busy connection was never closed
    finally:
        await server.kill()


async def test_a_served_websocket_is_let_go_by_the_sweep_without_a_garbage_collection(
    server_config: Config, mint: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    """Once a WebSocket's request is done (the client closed it, or its network dropped),
    the connection guard forgets it and cuts the cycle aiohttp's exception leaves, so the
    response is freed with the garbage collector off; the sweep itself never fails."""
    app = create_app(server_config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    registry: dict[str, Any] = app[SIO].eio.websocket_requests
    url = str(server.make_url("")).rstrip("/")
    gc.collect()
    gc.disable()
    try:
        responses: list[weakref.ref[Any]] = []
        for sub, drop in (("closes", False), ("drops", True)):
            client = DcsClient(url, mint("customer", sub))
            await client.connect()
            await client.start_session()
            (ws,) = registry.values()
            responses.append(weakref.ref(ws._sock))
            if drop:  # the network goes: the server's read ends with an error
                ws.request.transport.abort()
            del ws
            await client.close()
            async with asyncio.timeout(5):
                while registry:  # noqa: ASYNC110 (the sweep polls too: no event to await)
                    await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)
        assert [r() for r in responses] == [None, None]
    finally:
        gc.enable()
        await server.close()
    assert not [r for r in caplog.records if "sweep failed" in r.getMessage()]


async def test_a_sweep_over_many_connections_gives_the_loop_turns(
    server_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sweep looks at its connections a chunk per loop turn: a sweep over 10,000 in
    one go held the loop (and every message in flight) for tens of milliseconds."""
    monkeypatch.setattr(limits, "SWEEP_CHUNK", 8)
    app = create_app(server_config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    ws_url = str(server.make_url("/socket.io/?EIO=4&transport=websocket"))
    try:
        async with aiohttp.ClientSession() as http:
            sockets = [await http.ws_connect(ws_url) for _ in range(40)]
            for ws in sockets:  # Engine.IO's OPEN packet: the server holds the socket
                assert (await ws.receive_str()).startswith("0")
            sio = app[SIO]
            assert len(sio.eio.sockets) == 40 and len(sio.eio.websocket_requests) == 40
            guard = limits.ConnectionGuard(sio, server_config)
            turns = 0

            async def count_turns() -> None:
                nonlocal turns
                while True:
                    turns += 1
                    await asyncio.sleep(0)

            counter = asyncio.create_task(count_turns())
            await asyncio.sleep(0)
            before = turns
            await guard.sweep()  # the queue check
            await guard.sweep()  # and the slow checks
            counter.cancel()
            # 40 sockets in chunks of 8, twice, and 40 WebSockets once: 4 + 4 + 4 turns given
            assert turns - before >= 12
            assert len(sio.eio.websocket_requests) == 40  # none let go: all are being served
            for ws in sockets:
                await ws.close()
    finally:
        await server.close()
