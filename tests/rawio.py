"""A socket.io client written against the wire, for tests that send what no library client
would: raw Engine.IO v4 (long-polling or WebSocket) carrying socket.io v5 packets.

    async with RawSocket(url, "polling") as raw:
        await raw.open({"token": token})
        ack = await raw.event('["chat.typing",{"session_id":"s_...","typing":true}]')
        acks = await raw.events([body] * 30)          # all in one request (one POST on polling)
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from types import TracebackType
from typing import Any

import aiohttp

SEP = "\x1e"


class Refused(Exception):
    """The server answered the socket.io CONNECT with CONNECT_ERROR."""

    def __init__(self, data: Any) -> None:
        super().__init__(data)
        self.data = data


class RawSocket:
    def __init__(self, url: str, transport: str) -> None:
        assert transport in ("polling", "websocket")
        self.url = url
        self.transport = transport
        self.http = aiohttp.ClientSession()
        self.eio_sid = ""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.connects: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.acks: dict[int, asyncio.Future[list[Any]]] = {}
        self.pushed: list[list[Any]] = []
        self._next_id = 0
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> RawSocket:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # connection

    def _endpoint(self, **query: str) -> str:
        q = "&".join(f"{k}={v}" for k, v in {"EIO": "4", "transport": self.transport, **query}.items())
        return f"{self.url}/socket.io/?{q}"

    async def open(self, auth: Any) -> Any:
        """Engine.IO handshake, then socket.io CONNECT with ``auth``; the CONNECT's data, or
        Refused with the CONNECT_ERROR's data."""
        if self.transport == "polling":
            async with self.http.get(self._endpoint()) as resp:
                assert resp.status == 200, await resp.text()
                opened = await resp.text()
            assert opened.startswith("0"), opened
            self.eio_sid = json.loads(opened[1:])["sid"]
            self._reader = asyncio.create_task(self._poll())
        else:
            self.ws = await self.http.ws_connect(self._endpoint(), max_msg_size=0)
            opened = (await self.ws.receive()).data
            assert isinstance(opened, str) and opened.startswith("0"), opened
            self.eio_sid = json.loads(opened[1:])["sid"]
            self._reader = asyncio.create_task(self._read_ws())
        return await self.connect(auth)

    async def connect(self, auth: Any) -> Any:
        """A socket.io CONNECT for the default namespace (also a second one, on purpose)."""
        await self.send("40" + json.dumps(auth))
        kind, data = await asyncio.wait_for(self.connects.get(), 10)
        if kind == "error":
            raise Refused(data)
        return data

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self.ws is not None:
            await self.ws.close()
        await self.http.close()

    # sending

    async def send(self, *packets: str) -> int:
        """Engine.IO packets: on polling one POST (its HTTP status is returned), on WebSocket
        one message each (200)."""
        if self.transport == "polling":
            data = io.BytesIO(SEP.join(packets).encode())  # a sized body: Content-Length is set
            async with self.http.post(self._endpoint(sid=self.eio_sid), data=data) as resp:
                await resp.read()
                if resp.status != 200:
                    self.closed.set()
                return resp.status
        assert self.ws is not None
        for p in packets:
            await self.ws.send_str(p)
        return 200

    def event_packet(self, body: str) -> tuple[int, str]:
        """``42<id><body>``: an EVENT packet asking for an ack (body is the raw JSON array)."""
        self._next_id += 1
        ack_id = self._next_id
        self.acks[ack_id] = asyncio.get_running_loop().create_future()
        return ack_id, f"42{ack_id}{body}"

    async def events(self, bodies: list[str]) -> list[Any]:
        """Send every body in one request; each ack's first argument, in order (10 s)."""
        ids, packets = zip(*(self.event_packet(b) for b in bodies), strict=True)
        await self.send(*packets)
        got = await asyncio.wait_for(asyncio.gather(*(self.acks[i] for i in ids)), 10)
        return [args[0] if args else None for args in got]

    async def event(self, body: str) -> Any:
        return (await self.events([body]))[0]

    # receiving

    async def _poll(self) -> None:
        try:
            while True:
                async with self.http.get(self._endpoint(sid=self.eio_sid)) as resp:
                    text = await resp.text()
                    if resp.status != 200:
                        break
                for p in text.split(SEP):
                    if not await self._engine_packet(p):
                        return
        finally:
            self.closed.set()

    async def _read_ws(self) -> None:
        assert self.ws is not None
        try:
            async for msg in self.ws:
                if msg.type != aiohttp.WSMsgType.TEXT or not await self._engine_packet(msg.data):
                    break
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()

    async def _engine_packet(self, p: str) -> bool:
        """Handle one Engine.IO packet; False once the connection is over."""
        if not p or p[0] == "1":
            return False
        if p[0] == "2":  # ping
            await self.send("3")
        elif p[0] == "4":
            self._socketio_packet(p[1:])
        return True

    def _socketio_packet(self, p: str) -> None:
        kind, rest = p[0], p[1:]
        if kind == "0":
            self.connects.put_nowait(("ok", json.loads(rest)))
        elif kind == "4":
            self.connects.put_nowait(("error", json.loads(rest)))
        elif kind == "3":
            digits = len(rest) - len(rest.lstrip("0123456789"))
            ack_id, args = int(rest[:digits]), json.loads(rest[digits:])
            future = self.acks.get(ack_id)
            if future is not None and not future.done():
                future.set_result(args)
        elif kind == "2":
            self.pushed.append(json.loads(rest))
