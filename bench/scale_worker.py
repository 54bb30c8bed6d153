"""A client process of bench/scale.py: many python-socketio clients on one asyncio loop.

The bench starts several of these (``python bench/scale_worker.py``) and drives them over
their stdin/stdout, one JSON object a line each way: ``{"id", "op", ...}`` in, ``{"id",
"ok", ...}`` out (stderr passes through). Every client speaks WebSocket only, from the
worker's own loopback address (127.0.0.N), through one aiohttp session per worker.

``kind`` is ``dcs`` (tokens, ``session.start``/``escalate``/``accept``, ``chat.send``) or
``bare`` (the reference: ``join`` a room, ``msg`` relayed to it). Times are
``time.monotonic()``, which every process on the machine shares, so the bench can compare
them across workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import resource
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import socketio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dcs_sdk import AccessToken, SigningKey  # noqa: E402

CALL_TIMEOUT_S = 20.0
CONNECT_TIMEOUT_S = 20.0
# python-engineio's client gives a connection up when it has sent nothing for ping interval
# + 5 s (its pongs), i.e. when a ping comes more than 5 s late, which this bench's own load
# on a small machine can cause; browsers' socket.io allows ping interval + ping timeout
# (20 s here). The clients allow this much more; the server's own ping check is unchanged.
CLIENT_PING_GRACE_S = 15.0
PAGE = {"url": "", "title": ""}


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0][:80] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def own_rss_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))


class Refused(Exception):
    """The server answered an event with ok: false."""


class Customer:
    __slots__ = ("last_seq", "room", "session_id", "sio", "sub")

    def __init__(self, sub: str, sio: socketio.AsyncClient) -> None:
        self.sub = sub
        self.sio = sio
        self.session_id = ""
        self.room = ""
        self.last_seq = 0


class Worker:
    def __init__(self) -> None:
        self.kind = "dcs"
        self.url = ""
        self.key: SigningKey | None = None
        self.issuer = self.audience = ""
        self.local_addr = "127.0.0.1"
        self.http: aiohttp.ClientSession | None = None
        self.customers: list[Customer] = []  # the idle crowd, in connect order
        self.pairs: list[Customer] = []  # customers of the live pairs (the RTT probes)
        self.agents: list[socketio.AsyncClient] = []
        self.sent: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self.pushes = 0  # events pushed to the idle crowd (session.state and the like)
        self.all_in = asyncio.Event()  # every probe of the current RTT round has come back
        self.refused: Counter[str] = Counter()  # sends answered ok: false, by code

    # plumbing

    def init(
        self, url: str, kind: str, key_pem: str, kid: str, issuer: str, audience: str, addr: str
    ) -> None:
        self.url, self.kind, self.local_addr = url, kind, addr
        self.key = SigningKey.from_pem(key_pem.encode(), kid) if key_pem else None
        self.issuer, self.audience = issuer, audience

    def session(self) -> aiohttp.ClientSession:
        if self.http is None:
            connector = aiohttp.TCPConnector(limit=0, local_addr=(self.local_addr, 0))
            self.http = aiohttp.ClientSession(connector=connector)
        return self.http

    def token(self, sub: str, *, agent_capacity: int = 0) -> str:
        assert self.key is not None
        t = AccessToken(self.key, issuer=self.issuer, audience=self.audience).with_identity(sub, name=sub)
        return (t.as_agent(max_sessions=agent_capacity) if agent_capacity else t.as_customer()).to_jwt()

    def client(self) -> socketio.AsyncClient:
        return socketio.AsyncClient(
            reconnection=False,
            logger=False,
            engineio_logger=False,
            http_session=self.session(),
            handle_sigint=False,
        )

    async def connect(self, sio: socketio.AsyncClient, sub: str, *, agent_capacity: int = 0) -> None:
        auth = {"token": self.token(sub, agent_capacity=agent_capacity)} if self.kind == "dcs" else None
        await sio.connect(self.url, auth=auth, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_S)
        sio.eio.ping_timeout += CLIENT_PING_GRACE_S

    @staticmethod
    async def call(
        sio: socketio.AsyncClient, event: str, data: Any, timeout_s: float = CALL_TIMEOUT_S
    ) -> dict[str, Any]:
        ack = await sio.call(event, data, timeout=timeout_s)
        if not isinstance(ack, dict) or not ack.get("ok"):
            err = ack.get("error", {}) if isinstance(ack, dict) else {}
            raise Refused(f"{event}: {err.get('code', ack)}")
        return ack

    async def open_customer(
        self,
        sub: str,
        *,
        session_id: str = "",
        after_seq: int = 0,
        room: str = "",
        timeout_s: float = CALL_TIMEOUT_S,
    ) -> Customer:
        """Connect and start (DCS: session.start; bare: join the customer's room)."""
        sio = self.client()
        c = Customer(sub, sio)
        try:
            await self.connect(sio, sub)
            if self.kind == "dcs":
                payload: dict[str, Any] = {"page": PAGE}
                if session_id:
                    payload.update(session_id=session_id, after_seq=after_seq)
                ack = await self.call(sio, "session.start", payload, timeout_s)
                c.session_id = ack["session"]["session_id"]
                c.last_seq = max([after_seq, *(m["seq"] for m in ack["messages"])])
            else:
                c.room = room or f"c:{sub}"
                await self.call(sio, "join", c.room, timeout_s)
        except BaseException:
            with contextlib.suppress(Exception):
                await sio.disconnect()
            raise
        return c

    # ops

    async def op_connect(
        self, first: int, count: int, concurrency: int, timeout_s: float, prefix: str = "idle"
    ) -> dict[str, Any]:
        """Connect and start customers {prefix}{first}.. (count of them), `concurrency` at a time."""
        gate = asyncio.Semaphore(concurrency)
        deadline = time.monotonic() + timeout_s
        errors: Counter[str] = Counter()
        lat: list[float] = []
        ends: list[float] = []
        skipped = 0

        async def one(i: int) -> None:
            nonlocal skipped
            async with gate:
                if time.monotonic() > deadline:
                    skipped += 1
                    return
                t = time.monotonic()
                try:
                    c = await self.open_customer(f"{prefix}{i}")
                except Exception as exc:
                    errors[why(exc)] += 1
                    return
                if self.kind == "dcs":
                    c.sio.on("*", self._count_push)
                self.customers.append(c)
                end = time.monotonic()
                ends.append(end)
                lat.append((end - t) * 1000)

        t0 = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(first, first + count)))
        return {
            "ok_count": len(lat),
            "failed": sum(errors.values()),
            "skipped": skipped,
            "errors": dict(errors),
            "t0": t0,
            "t1": max(ends, default=t0),
            "lat_ms": lat,
            "connected": len(self.customers),
        }

    async def _acked(self, ack: Any = None, *_rest: Any) -> None:
        if not (isinstance(ack, dict) and ack.get("ok")):
            err = ack.get("error", {}).get("code", ack) if isinstance(ack, dict) else ack
            self.refused[str(err)] += 1

    async def _count_push(self, event: str, *args: Any) -> None:
        self.pushes += 1

    async def op_solo(self, reps: int, prefix: str) -> dict[str, Any]:
        """One customer at a time: connect + start, then disconnect; `reps` times."""
        lat: list[float] = []
        errors: Counter[str] = Counter()
        for i in range(reps):
            t = time.perf_counter()
            try:
                c = await self.open_customer(f"{prefix}{i}")
            except Exception as exc:
                errors[why(exc)] += 1
                continue
            lat.append((time.perf_counter() - t) * 1000)
            await c.sio.disconnect()
            await asyncio.sleep(0.005)
        return {"lat_ms": lat, "errors": dict(errors)}

    async def op_agents(self, count: int, capacity: int) -> dict[str, Any]:
        """Agents that echo every probe message back into its session (or room)."""
        for i in range(count):
            sio = self.client()
            if self.kind == "dcs":
                sio.on("chat.message", self._echo_handler(sio))
            else:
                sio.on("msg", self._echo_handler(sio))
            await self.connect(sio, f"agent{i}", agent_capacity=capacity)
            self.agents.append(sio)
        return {"agents": len(self.agents)}

    def _echo_handler(self, sio: socketio.AsyncClient) -> Any:
        async def on_message(msg: dict[str, Any]) -> None:
            text = msg.get("text", "")
            if not text.startswith("q:"):
                return
            if self.kind == "dcs":
                payload = {
                    "session_id": msg["session_id"],
                    "client_id": "e" + text[2:],
                    "text": "e:" + text[2:],
                }
                await sio.emit("chat.send", payload, callback=self._acked)
            else:
                await sio.emit("msg", {"room": msg["room"], "text": "e:" + text[2:]}, callback=self._acked)

        return on_message

    async def op_accept(self, session_ids: list[str]) -> dict[str, Any]:
        """DCS: agent k accepts every len(agents)-th session (its share of the pairs)."""
        for i, sid in enumerate(session_ids):
            await self.call(self.agents[i % len(self.agents)], "session.accept", {"session_id": sid})
        return {"accepted": len(session_ids)}

    async def op_join_rooms(self, rooms: list[str]) -> dict[str, Any]:
        """Bare: agent k joins every len(agents)-th pair room."""
        for i, room in enumerate(rooms):
            await self.call(self.agents[i % len(self.agents)], "join", room)
        return {"joined": len(rooms)}

    async def op_pairs(self, count: int) -> dict[str, Any]:
        """The customers of the live pairs: DCS connect + start + escalate; bare join pair:i."""
        out: list[str] = []
        for i in range(count):
            c = await self.open_customer(f"pair{i}", room=f"pair:{i}")
            if self.kind == "dcs":
                await self.call(c.sio, "session.escalate", {"session_id": c.session_id})
                c.sio.on("chat.message", self._arrival)
            else:
                c.sio.on("msg", self._arrival)
            self.pairs.append(c)
            out.append(c.session_id or c.room)
        return {"sessions": out}

    async def _arrival(self, msg: dict[str, Any]) -> None:
        text = msg.get("text", "")
        if text.startswith("e:"):
            self.arrived.setdefault(text[2:], time.monotonic())
            if len(self.arrived) >= len(self.sent):
                self.all_in.set()

    async def op_rtt(
        self, duration_s: float, interval_s: float, tag: str, wait_s: float = 5.0
    ) -> dict[str, Any]:
        """Every pair's customer sends a probe every interval_s (random phase) for duration_s;
        the agent echoes it; RTT = echo arrival - send, on this process's clock."""
        self.sent.clear()
        self.arrived.clear()
        errors: Counter[str] = Counter()
        end = time.monotonic() + duration_s

        async def pair_loop(p: int, c: Customer) -> None:
            await asyncio.sleep(random.uniform(0, interval_s))
            n = 0
            while time.monotonic() < end:
                key = f"{tag}_{p}_{n}"
                n += 1
                self.sent[key] = time.monotonic()
                try:
                    if self.kind == "dcs":
                        payload = {"session_id": c.session_id, "client_id": "q" + key, "text": "q:" + key}
                        await c.sio.emit("chat.send", payload, callback=self._acked)
                    else:
                        await c.sio.emit("msg", {"room": c.room, "text": "q:" + key}, callback=self._acked)
                except Exception as exc:
                    errors[why(exc)] += 1
                await asyncio.sleep(interval_s)

        await asyncio.gather(*(pair_loop(p, c) for p, c in enumerate(self.pairs)))
        self.all_in = asyncio.Event()
        if len(self.arrived) < len(self.sent):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.all_in.wait(), wait_s)
        rtt = [(self.arrived[k] - t) * 1000 for k, t in self.sent.items() if k in self.arrived]
        return {
            "rtt_ms": rtt,
            "sent": len(self.sent),
            "lost": len(self.sent) - len(rtt),
            "errors": dict(errors),
            "refused": dict(self.refused),
        }

    async def op_burst(self, count: int, at: float, timeout_s: float) -> dict[str, Any]:
        """The first `count` idle customers lose their connections at `at` (monotonic: their
        sockets are shut down, as when a network drops) and come back at once: a fresh
        connection + session.start with their session_id and after_seq (bare: join)."""
        chosen = self.customers[:count]
        errors: Counter[str] = Counter()
        back: list[float] = []
        other_session = 0

        async def one(k: int, c: Customer) -> None:
            nonlocal other_session
            try:
                fresh = await self.open_customer(
                    c.sub, session_id=c.session_id, after_seq=c.last_seq, room=c.room, timeout_s=timeout_s
                )
            except Exception as exc:
                errors[why(exc)] += 1
                return
            back.append((time.monotonic() - at) * 1000)
            if fresh.session_id != c.session_id:
                other_session += 1
            if self.kind == "dcs":
                fresh.sio.on("*", self._count_push)
            self.customers[k] = fresh

        await asyncio.sleep(max(0.0, at - time.monotonic()))
        late_ms = (time.monotonic() - at) * 1000
        for c in chosen:
            drop(c.sio)
        tasks = [asyncio.ensure_future(one(k, c)) for k, c in enumerate(chosen)]
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return {
            "back_ms": back,
            "failed": sum(errors.values()),
            "timed_out": len(pending),
            "errors": dict(errors),
            "other_session": other_session,
            "started_late_ms": round(late_ms, 1),
        }

    async def op_escalate_probe(self, reps: int, prefix: str, timeout_s: float) -> dict[str, Any]:
        """DCS: one further customer at a time connects and starts (untimed), then the
        escalate alone is timed; the customer stays (queued)."""
        lat: list[float] = []
        errors: Counter[str] = Counter()
        deadline = time.monotonic() + timeout_s
        for i in range(reps):
            if time.monotonic() > deadline:
                break
            try:
                c = await self.open_customer(f"{prefix}{i}")
                c.sio.on("*", self._count_push)
                self.customers.append(c)
                await asyncio.sleep(0.02)
                t = time.perf_counter()
                await self.call(c.sio, "session.escalate", {"session_id": c.session_id})
                lat.append((time.perf_counter() - t) * 1000)
            except Exception as exc:
                errors[why(exc)] += 1
        return {"lat_ms": lat, "errors": dict(errors)}

    async def op_stats(self) -> dict[str, Any]:
        rss_kb = own_rss_kb()
        connected = sum(1 for c in self.customers if c.sio.connected)
        return {
            "customers": len(self.customers),
            "connected": connected,
            "pushes": self.pushes,
            "refused": dict(self.refused),
            "rss_kb": rss_kb,
        }

    async def op_close(self) -> dict[str, Any]:
        everyone = [c.sio for c in self.customers + self.pairs] + self.agents
        for i in range(0, len(everyone), 500):
            await asyncio.gather(*(s.disconnect() for s in everyone[i : i + 500]), return_exceptions=True)
        if self.http is not None:
            await self.http.close()
        return {}


def drop(sio: socketio.AsyncClient) -> None:
    """Shut the client's TCP connection down under it (its reader sees the end and the
    client gives up: reconnection is off)."""
    ws = getattr(sio.eio, "ws", None)
    sock = ws.get_extra_info("socket") if ws is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


async def main() -> None:
    raise_nofile()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    worker = Worker()
    out = sys.stdout

    def reply(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    while True:
        line = await reader.readline()
        if not line:
            break
        cmd = json.loads(line)
        rid, op = cmd.pop("id"), cmd.pop("op")
        try:
            if op == "init":
                worker.init(**cmd)
                result: dict[str, Any] = {}
            else:
                result = await getattr(worker, f"op_{op}")(**cmd)
            reply({"id": rid, "ok": True, **result})
        except Exception as exc:
            reply({"id": rid, "ok": False, "error": why(exc)})
        if op == "close":
            break


if __name__ == "__main__":
    asyncio.run(main())
