"""What anyone saw is stored: a server killed mid-flood, and PostgreSQL connections killed
mid-write, lose nothing that was acked or shown, and reuse no seq.

Every message either side was shown (pushed ``chat.message``) or acked must be in the
store after the crash, exactly once, with the seq they saw; the sender retries what was not
acked with the same client_id and gets one copy; seqs run 1..n without a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from dcs_sdk import DcsClient, ErrorCode, Event, ProtocolError, SigningKey
from dcs_sdk.exceptions import DcsError
from signaling_server import Config, create_app
from tests.conftest import POSTGRES_ADMIN_URL, postgres_database
from tests.server_process import ServerProcess

SENDERS_PER_SIDE = 4
# The floods measure durability, not the rate limit: a budget they never hit.
UNLIMITED = {"rate_burst": 100_000, "rate_per_s": 100_000.0}


class Ledger:
    """What each side sent, was acked and was shown."""

    def __init__(self) -> None:
        self.sent: dict[str, str] = {}  # client_id -> text
        self.acked: dict[str, int] = {}  # client_id -> seq
        self.shown: dict[str, dict[int, tuple[str, str]]] = {"customer": {}, "agent": {}}

    def watch(self, side: str, client: DcsClient) -> None:
        def seen(m: dict[str, Any]) -> None:
            self.shown[side].setdefault(m["seq"], (m["client_id"], m["text"]))

        client.on(Event.CHAT_MESSAGE, seen)

    def check(self, history: list[dict[str, Any]]) -> None:
        by_seq = {m["seq"]: (m["client_id"], m["text"]) for m in history}
        seqs = [m["seq"] for m in history]
        assert seqs == list(range(1, len(seqs) + 1)), "seqs have a gap or repeat"
        client_ids = [m["client_id"] for m in history]
        assert len(set(client_ids)) == len(client_ids), "a message is stored twice"
        for client_id, text in self.sent.items():
            assert client_ids.count(client_id) == 1, f"{client_id} is lost"
            assert by_seq[self.acked[client_id]] == (client_id, text), f"{client_id}'s acked seq differs"
        for side, shown in self.shown.items():
            for seq, message in shown.items():
                assert by_seq.get(seq) == message, f"the {side} was shown seq {seq} = {message}, not stored"


async def flood(client: DcsClient, sid: str, who: str, ledger: Ledger, stop: asyncio.Event) -> None:
    """Send until ``stop``; what fails stays un-acked in the ledger, for a retry."""
    i = 0
    while not stop.is_set():
        client_id, text = f"{who}-{i}", f"{who} says {i}"
        i += 1
        ledger.sent[client_id] = text
        try:
            ledger.acked[client_id] = await client.send(sid, text, client_id=client_id)
        except (DcsError, Exception):
            await asyncio.sleep(0.05)


def start_flood(
    customer: DcsClient, agent: DcsClient, sid: str, ledger: Ledger
) -> tuple[asyncio.Event, list[asyncio.Task[None]]]:
    """Both sides watched and flooding, SENDERS_PER_SIDE senders each, until the event is set."""
    ledger.watch("customer", customer)
    ledger.watch("agent", agent)
    stop = asyncio.Event()
    senders = [
        asyncio.create_task(flood(client, sid, f"{side}{n}", ledger, stop))
        for side, client in (("customer", customer), ("agent", agent))
        for n in range(SENDERS_PER_SIDE)
    ]
    return stop, senders


async def retry_unacked(client: DcsClient, sid: str, ledger: Ledger, prefix: str) -> None:
    """Send again what was not acked, with its client_id, as the widget does after a reload."""
    for client_id, text in list(ledger.sent.items()):
        while client_id.startswith(prefix) and client_id not in ledger.acked:
            try:
                ledger.acked[client_id] = await client.send(sid, text, client_id=client_id)
            except ProtocolError as exc:
                if exc.code != ErrorCode.RATE_LIMITED:
                    raise
                await asyncio.sleep(0.2)


async def full_history(client: DcsClient, sid: str) -> list[dict[str, Any]]:
    """Every stored message, page by page (history.fetch answers at most 1,000 at a time)."""
    messages: list[dict[str, Any]] = []
    while page := await client.history(sid, after_seq=messages[-1]["seq"] if messages else 0):
        messages.extend(page)
    return messages


async def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 (polls state that several tasks change)
            await asyncio.sleep(0.02)


async def flood_then_kill(
    customer: DcsClient, agent: DcsClient, sid: str, kill: Callable[[], Awaitable[None]]
) -> Ledger:
    """Both sides flood; ``kill`` a server once 60 sends are acked; the flood stopped after."""
    ledger = Ledger()
    stop, senders = start_flood(customer, agent, sid, ledger)
    await wait_until(lambda: len(ledger.acked) >= 60)
    await kill()
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*senders)
    return ledger


async def nothing_lost_and_on(
    customer: DcsClient, agent: DcsClient, sid: str, ledger: Ledger, *, sender: str, text: str
) -> tuple[list[dict[str, Any]], int]:
    """After a crash and the clients' reconnect: the session resumes live with alice; what
    was not acked is sent again (same client_id); both sides' histories are the store's and
    hold everything acked and shown, once; a new message from ``sender`` ("customer" or
    "agent") reaches the other side live. The history and that message's seq."""
    resumed = await customer.start_session(sid, after_seq=0)
    assert resumed.session_id == sid and resumed.session["state"] == "live"
    assert resumed.session["agent"]["id"] == "alice"
    await retry_unacked(customer, sid, ledger, "customer")
    await retry_unacked(agent, sid, ledger, "agent")
    history = await full_history(agent, sid)
    ledger.check(history)
    assert [m["seq"] for m in await full_history(customer, sid)] == [m["seq"] for m in history]
    source, other = (customer, agent) if sender == "customer" else (agent, customer)
    seq = await source.send(sid, text)
    pushed = await other.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq)
    assert pushed["text"] == text
    return history, seq


async def live_pair(url: str, mint: Callable[..., str]) -> tuple[DcsClient, DcsClient, str]:
    customer = DcsClient(url, lambda: mint("customer", "v1", name="Sam"), request_timeout=3)
    agent = DcsClient(url, lambda: mint("agent", "alice", name="Alice"), request_timeout=3)
    await customer.connect()
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    await agent.connect()
    await agent.accept(sid)
    return customer, agent, sid


async def test_kill_9_mid_flood_then_restart_loses_nothing(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], database_url: str
) -> None:
    env = {f"DCS_{k.upper()}": str(v) for k, v in UNLIMITED.items()}
    server = ServerProcess(tmp_path, signing_key, database_url=database_url, env=env)
    await server.start()
    customer, agent, sid = await live_pair(server.url, mint)
    ledger = Ledger()
    try:
        stop, senders = start_flood(customer, agent, sid, ledger)
        await wait_until(lambda: len(ledger.acked) >= 60)
        await server.kill()  # mid-flood: messages are in flight on both sides
        stop.set()
        await asyncio.gather(*senders)
        assert len(ledger.sent) > len(ledger.acked), "nothing was in flight at the kill"

        await server.start()
        await wait_until(lambda: customer.connected and agent.connected)
        history, seq = await nothing_lost_and_on(
            customer, agent, sid, ledger, sender="customer", text="after the crash"
        )
        assert seq == history[-1]["seq"] + 1
    finally:
        await customer.close()
        await agent.close()
        await server.kill()


async def _terminate_backends(database: str, rounds: int, stop: asyncio.Event) -> int:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    killed = 0
    try:
        for _ in range(rounds):
            killed += len(
                await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = $1 AND pid <> pg_backend_pid()",
                    database,
                )
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.15)
            if stop.is_set():
                break
    finally:
        await admin.close()
    return killed


@pytest.mark.postgres
async def test_postgres_backends_terminated_mid_write_lose_nothing(
    server_config: Config, mint: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    async with postgres_database() as url:
        config = replace(server_config, database_url=url, **UNLIMITED)  # type: ignore[arg-type]
        server = TestServer(create_app(config), host="127.0.0.1")
        await server.start_server()
        base = str(server.make_url("")).rstrip("/")
        customer, agent, sid = await live_pair(base, mint)
        ledger = Ledger()
        try:
            stop, senders = start_flood(customer, agent, sid, ledger)
            with caplog.at_level(logging.WARNING):
                killed = await _terminate_backends(url.rsplit("/", 1)[1], rounds=12, stop=asyncio.Event())
                await wait_until(lambda: len(ledger.acked) >= 100)
                stop.set()
                await asyncio.gather(*senders)
            assert killed >= 3, "no connection was terminated"
            await retry_unacked(customer, sid, ledger, "customer")
            await retry_unacked(agent, sid, ledger, "agent")
            history = await full_history(agent, sid)
            ledger.check(history)
            # the session is not poisoned: a new send works with the next seq
            assert await customer.send(sid, "still here") == history[-1]["seq"] + 1
            assert "another operation is in progress" not in caplog.text
        finally:
            await customer.close()
            await agent.close()
            await server.close()


async def test_a_poison_message_in_a_concurrent_flood_fails_alone(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> None:
    """Five customers flood at once; two of the messages hold what no database can store
    (NUL, a lone surrogate). Those two get bad_payload; every other message is acked,
    stored and gapless, and the poisoned senders carry on."""
    server = TestServer(create_app(replace(server_config, database_url=database_url)), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    customers = [DcsClient(base, mint("customer", f"v{i}")) for i in range(5)]
    try:
        for c in customers:
            await c.connect()
        sids = [(await c.start_session()).session_id for c in customers]
        greeted = [len(await c.history(sid)) for c, sid in zip(customers, sids, strict=True)]
        poison = {(1, 4): "nul \x00 here", (3, 2): "surrogate \ud800 here"}

        async def one(n: int, i: int) -> int | str:
            try:
                return await customers[n].send(sids[n], poison.get((n, i), f"v{n} says {i}"))
            except ProtocolError as exc:
                return exc.code

        results = await asyncio.gather(*(one(n, i) for i in range(8) for n in range(5)))
        outcome = dict(zip([(n, i) for i in range(8) for n in range(5)], results, strict=True))
        assert {k: outcome.pop(k) for k in poison} == dict.fromkeys(poison, ErrorCode.BAD_PAYLOAD)
        assert all(isinstance(seq, int) for seq in outcome.values()), outcome
        for n, (c, sid) in enumerate(zip(customers, sids, strict=True)):
            texts = [m["text"] for m in await c.history(sid) if m["sender"]["role"] == "customer"]
            # sent concurrently: stored in whatever order they arrived, each once
            assert sorted(texts) == sorted(f"v{n} says {i}" for i in range(8) if (n, i) not in poison)
            seqs = [m["seq"] for m in await c.history(sid)]
            assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= greeted[n] + len(texts)
        assert isinstance(await customers[1].send(sids[1], "still fine"), int)
    finally:
        for c in customers:
            await c.close()
        await server.close()
