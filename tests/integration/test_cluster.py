"""Three server processes on one PostgreSQL database and one Redis behind HAProxy
(tests/cluster_harness.py): a customer and their agent on different processes through the
whole journey (a call's signaling and the co-browse relay included), queue positions with
customers on all three, an accept race across processes with one winner, and kill -9 of
one process mid-flood: nothing lost, its clients back through the balancer and resumed by
seq."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from dcs_sdk import DcsClient, ErrorCode, Event, ProtocolError, SigningKey
from tests.cluster_harness import cluster
from tests.conftest import postgres_database
from tests.integration.test_call_signaling import CANDIDATE, OFFER
from tests.integration.test_durability import (
    UNLIMITED,
    Ledger,
    full_history,
    retry_unacked,
    start_flood,
    wait_until,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg() -> AsyncIterator[str]:
    async with postgres_database() as url:
        yield url


async def test_the_journey_queue_and_accept_race_across_three_processes(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    async with cluster(tmp_path, signing_key, pg) as lb:
        clients: list[DcsClient] = []

        async def connect(node: int, role: str, sub: str, **grants: object) -> DcsClient:
            client = DcsClient(lb.node_url(node), mint(role, sub, name=sub.title(), **grants))
            await client.connect()
            clients.append(client)
            return client

        try:
            alice = await connect(0, "agent", "alice")
            bob = await connect(1, "agent", "bob")
            # one waiting customer on each process, queued in turn
            customers = [await connect(node, "customer", f"c{node}") for node in (2, 0, 1)]
            sids = []
            for n, customer in enumerate(customers, 1):
                sid = (await customer.start_session()).session_id
                await customer.send(sid, f"question {n}")
                assert (await customer.escalate(sid))["position"] == n
                sids.append(sid)
            for agent in (alice, bob):
                queue = await agent.wait_queue(lambda q: len(q) == 3)
                assert [i["session_id"] for i in queue] == sids
                assert queue[0]["first_message"] == "question 1"

            # both agents, on two processes, take the first at once: one wins
            results = await asyncio.gather(alice.accept(sids[0]), bob.accept(sids[0]), return_exceptions=True)
            winners = [r for r in results if isinstance(r, dict)]
            losers = [r for r in results if isinstance(r, ProtocolError)]
            assert len(winners) == 1 and len(losers) == 1, results
            assert losers[0].code in (ErrorCode.ALREADY_TAKEN, ErrorCode.WRONG_STATE)
            agent = alice if results[0] is winners[0] else bob
            # everyone behind moves up, told by their own process
            for n, customer in enumerate(customers[1:], 1):
                await customer.wait_for(Event.SESSION_STATE, lambda s, n=n: s.get("position") == n)
            for other in (alice, bob):
                await other.wait_queue(lambda q: [i["session_id"] for i in q] == sids[1:])

            # the journey: the customer on process 2, their agent on 0 or 1
            first, sid = customers[0], sids[0]
            await first.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "live")
            hello = await agent.send(sid, "Hello, how can I help?")
            assert (await first.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == hello))["sender"][
                "role"
            ] == "agent"
            question = await first.send(sid, "My parcel is late")
            assert question == hello + 1
            assert (await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == question))[
                "text"
            ] == "My parcel is late"
            await call_and_cobrowse(first, agent, sid)
            await agent.end(sid)
            await first.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "wrap_up")
            await agent.wrap_up(sid, "resolved")
            await first.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "ended")
            await first.rate(sid, 5, "quick")
            history = await first.history(sid)
            assert [m["seq"] for m in history] == list(range(1, len(history) + 1))
        finally:
            await asyncio.gather(*(c.close() for c in clients))


async def call_and_cobrowse(customer: DcsClient, agent: DcsClient, sid: str) -> None:
    """A call and a co-browse between two processes: the other process accepts the
    answer, the signals and the frames, and relays them."""
    call_id = (await agent.request(Event.CALL_INVITE, {"session_id": sid}))["call"]["call_id"]
    await customer.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ringing")
    await customer.request(Event.CALL_ANSWER, {"session_id": sid, "call_id": call_id, "accept": True})
    await agent.wait_for(Event.CALL_STATE, lambda c: c["state"] == "connecting")
    await agent.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id, "description": OFFER})
    assert (await customer.wait_for(Event.RTC_SIGNAL))["description"] == OFFER
    await customer.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id, "candidate": CANDIDATE})
    assert (await agent.wait_for(Event.RTC_SIGNAL))["candidate"]["candidate"] == CANDIDATE["candidate"]
    await customer.request(Event.CALL_HANGUP, {"session_id": sid, "call_id": call_id})
    ended = await agent.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ended")
    assert ended["reason"] == "hung up by customer"

    cid = (await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid}))["cobrowse"]["cobrowse_id"]
    await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "requested")
    await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True})
    await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "active")
    frame = '{"t":"ev","g":"a","s":1,"e":[]}'
    await customer.request(Event.COBROWSE_DATA, {"session_id": sid, "cobrowse_id": cid, "frame": frame})
    assert (await agent.wait_for(Event.COBROWSE_DATA))["frame"] == frame
    signal = {"session_id": sid, "cobrowse_id": cid, "pc_id": "b1", "description": OFFER}
    await agent.request(Event.COBROWSE_SIGNAL, signal)
    assert (await customer.wait_for(Event.COBROWSE_SIGNAL))["description"] == OFFER
    await agent.request(Event.COBROWSE_STOP, {"session_id": sid, "cobrowse_id": cid})
    await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "ended")


async def test_kill_9_of_one_of_three_mid_flood_loses_nothing(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    env = {f"DCS_{k.upper()}": str(v) for k, v in UNLIMITED.items()}
    async with cluster(tmp_path, signing_key, pg, env=env) as lb:
        customer = DcsClient(lb.node_url(2), mint("customer", "sam", name="Sam"))
        agent = DcsClient(lb.node_url(1), mint("agent", "alice", name="Alice"))
        waiting = DcsClient(lb.node_url(2), mint("customer", "wes", name="Wes"))
        try:
            for client in (customer, agent, waiting):
                await client.connect()
            sid = (await customer.start_session()).session_id
            await customer.escalate(sid)
            later = (await waiting.start_session()).session_id
            assert (await waiting.escalate(later))["position"] == 2
            await agent.accept(sid)
            ledger = Ledger()
            stop, senders = start_flood(customer, agent, sid, ledger)
            await wait_until(lambda: len(ledger.acked) >= 60)
            await lb.nodes[2].kill()  # the customers' process, mid-flood
            await asyncio.sleep(0.3)
            stop.set()
            await asyncio.gather(*senders)

            # back through the balancer on another process, resumed by seq
            await wait_until(lambda: customer.connected and waiting.connected, timeout=20)
            resumed = await customer.start_session(sid, after_seq=0)
            assert resumed.session["state"] == "live" and resumed.session["agent"]["id"] == "alice"
            await retry_unacked(customer, sid, ledger, "customer")
            await retry_unacked(agent, sid, ledger, "agent")
            history = await full_history(agent, sid)
            ledger.check(history)
            assert [m["seq"] for m in await full_history(customer, sid)] == [m["seq"] for m in history]
            seq = await customer.send(sid, "after the crash")
            assert (await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq))[
                "text"
            ] == "after the crash"
            # the one still waiting keeps their place
            again = await waiting.start_session(later)
            assert again.session["state"] == "queued" and again.session["position"] == 1
        finally:
            await asyncio.gather(customer.close(), agent.close(), waiting.close())
