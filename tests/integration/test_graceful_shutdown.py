"""SIGTERM mid-flood: the server finishes what is in flight, closes every connection so the
clients notice at once, and exits 0 within 2 s; nothing it stored goes unacked or unshown,
and the clients reconnect to the restarted server by themselves and resume by seq.

A real server process (`python -m signaling_server`) on SQLite and on PostgreSQL, real
clients (DcsClient over python-socketio), the journey up to a live chat, then both sides
sending as fast as they can.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

from dcs_sdk import DcsClient, Event, PageInfo, SigningKey
from tests.integration.test_connection_limits import RawWebSocket, live_chat, send_many
from tests.integration.test_durability import Ledger, full_history, retry_unacked, start_flood, wait_until
from tests.server_process import ServerProcess


async def watch_connection(client: DcsClient, since: float, marks: dict[str, float], name: str) -> None:
    """Record when ``client`` dropped ("<name> down") and came back ("<name> up")."""
    while client.connected:  # noqa: ASYNC110 (python-socketio's state, no event to await)
        await asyncio.sleep(0.005)
    marks[f"{name} down"] = time.monotonic() - since
    while not client.connected:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    marks[f"{name} up"] = time.monotonic() - since


async def test_sigterm_mid_flood_exits_at_once_and_loses_nothing(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], database_url: str
) -> None:
    # no rate limit: a real flood, so that writes are in flight (queued, committing) at the signal
    unlimited = {"DCS_RATE_BURST": "1000000", "DCS_RATE_PER_S": "1000000"}
    server = ServerProcess(tmp_path, signing_key, database_url=database_url, env=unlimited)
    await server.start()
    # A long request timeout: a request the server never answers must fail when the
    # connection drops, not when it times out.
    customer = DcsClient(server.url, lambda: mint("customer", "v1", name="Sam"), request_timeout=30)
    agent = DcsClient(server.url, lambda: mint("agent", "alice", name="Alice"), request_timeout=30)
    try:
        await customer.connect()
        sid = (await customer.start_session()).session_id
        await customer.escalate(sid)
        await agent.connect()
        await agent.accept(sid)
        ledger = Ledger()
        stop, senders = start_flood(customer, agent, sid, ledger)
        await wait_until(lambda: len(ledger.acked) >= 80)

        marks: dict[str, float] = {}
        signalled = time.monotonic()
        watchers = [
            asyncio.create_task(watch_connection(c, signalled, marks, n))
            for n, c in (("customer", customer), ("agent", agent))
        ]
        acked_before = len(ledger.acked)
        exit_code = await server.stop()  # SIGTERM mid-flood
        marks["exit"] = time.monotonic() - signalled
        acked_at_exit = dict(ledger.acked)
        stop.set()
        async with asyncio.timeout(2):  # nothing waits for an answer that will never come
            await asyncio.gather(*senders)
        assert exit_code == 0, server.log()[-2000:]
        assert marks["exit"] <= 2.0, marks
        # the connections closed at once: not at a ping timeout (20 s), nor when aiohttp gives
        # up on the open handlers (2 x its shutdown timeout)
        assert marks["customer down"] < 0.4 and marks["agent down"] < 0.4, marks
        assert len(acked_at_exit) > acked_before, "no write in flight at the signal was acked"
        assert len(ledger.sent) > len(acked_at_exit), "nothing was in flight at the signal"

        await server.start()  # the same port and database
        await asyncio.wait_for(asyncio.gather(*watchers), 15)  # python-socketio reconnects by itself
        # what the server stored before it stopped: acked to its sender and shown to the
        # other side (the in-flight writes finished, and their acks and relays went out)
        stored = {m["client_id"]: m for m in await full_history(agent, sid) if m["client_id"] in ledger.sent}
        for client_id, message in stored.items():
            assert acked_at_exit.get(client_id) == message["seq"], f"{client_id} was stored but not acked"
            other = "agent" if client_id.startswith("customer") else "customer"
            assert ledger.shown[other].get(message["seq"]) == (client_id, message["text"]), (
                f"{client_id} was stored but the {other} was not shown it"
            )
        assert set(acked_at_exit) <= set(stored), "an acked message is not stored"

        # the customer resumes by seq: exactly what came after the seq it names
        seqs = sorted(m["seq"] for m in stored.values())
        after = seqs[-10]
        resumed = await customer.start_session(sid, after_seq=after)
        assert resumed.session_id == sid and resumed.session["state"] == "live"
        assert [m["seq"] for m in resumed.messages] == [s for s in seqs if s > after]
        # the senders send again what was not acked (same client_id), and the chat goes on
        await retry_unacked(customer, sid, ledger, "customer")
        await retry_unacked(agent, sid, ledger, "agent")
        history = await full_history(agent, sid)
        ledger.check(history)
        seq = await customer.send(sid, "after the restart")
        pushed = await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq)
        assert pushed["text"] == "after the restart" and seq == history[-1]["seq"] + 1
        print(f"shutdown figures (s after SIGTERM): {marks}")
    finally:
        await customer.close()
        await agent.close()
        await server.kill()


async def test_sigterm_with_a_client_that_does_not_read_still_exits_within_2_s(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str]
) -> None:
    # a queue bound the stalled tab never reaches, so it is still connected at the signal
    env = {"DCS_SEND_QUEUE_MAX_BYTES": str(1 << 40), "DCS_RATE_BURST": "100000", "DCS_RATE_PER_S": "100000"}
    server = ServerProcess(tmp_path, signing_key, env=env)
    await server.start()
    customer, agent, sid = await live_chat(server.url, mint)
    stalled = await RawWebSocket.open(server.port, rcvbuf=4096)
    try:
        assert (await stalled.recv_text()).startswith("0")
        await stalled.send_text("40" + json.dumps({"token": mint("customer", "v1", name="Sam")}))
        await stalled.recv_until("40")
        start = {"session_id": sid, "after_seq": 0, "page": PageInfo().model_dump()}
        await stalled.send_text("421" + json.dumps([Event.SESSION_START.value, start]))
        await stalled.recv_until("431")
        sent: list[int] = []
        # ~6 MB for the tab that does not read: more than the kernel's buffers take
        await asyncio.gather(
            *(send_many(c, sid, f"s{n}", 750, sent) for n, c in enumerate((customer, agent)))
        )
        assert stalled.tcp_state() == 1  # still connected, with its queue full
        signalled = time.monotonic()
        assert await server.stop() == 0
        took = time.monotonic() - signalled
        print(f"exit after {took:.2f} s")
        assert took <= 2.0
        assert "did not close within the grace" in server.log()
    finally:
        stalled.close()
        await customer.close()
        await agent.close()
        await server.kill()
