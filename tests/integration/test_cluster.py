"""Three server processes on one PostgreSQL database and one Redis behind HAProxy
(tests/cluster_harness.py): a customer and their agent on different processes through the
whole journey (a call's signaling and the co-browse relay included), queue positions with
customers on all three, an accept race across processes with one winner, one agent's
capacity across two processes, and kill -9 of one process mid-flood (the customers', then
the agent's): nothing lost, its clients back through the balancer and resumed by seq. The
supervisor floor across processes: the wall and observe of a supervisor on one
process follow a session served by two others, a warm transfer offered on one process is
accepted on another, and pending transfers outlive a kill -9 of the process that offered
them (accepted, or timed out back to the sender, exactly once)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from dcs_sdk import DcsClient, ErrorCode, Event, ProtocolError, SigningKey
from signaling_server.store import Store
from signaling_server.store.audit import AuditEntry, AuditLog
from tests.cluster_harness import Cluster, cluster
from tests.conftest import postgres_database
from tests.integration.test_call_signaling import CANDIDATE, OFFER
from tests.integration.test_durability import (
    UNLIMITED,
    flood_then_kill,
    nothing_lost_and_on,
    wait_until,
)
from tests.integration.test_supervisor import WallView

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
            ledger = await flood_then_kill(customer, agent, sid, lb.nodes[2].kill)  # the customers'

            # back through the balancer on another process, resumed by seq
            await wait_until(lambda: customer.connected and waiting.connected, timeout=20)
            await nothing_lost_and_on(customer, agent, sid, ledger, sender="customer", text="after the crash")
            # the one still waiting keeps their place
            again = await waiting.start_session(later)
            assert again.session["state"] == "queued" and again.session["position"] == 1
        finally:
            await asyncio.gather(customer.close(), agent.close(), waiting.close())


async def test_kill_9_of_the_agents_process_mid_flood_loses_nothing(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    """The other side of the test above: the process that dies holds the agent. The agent is
    back through the balancer on another process, still holding the session (within the
    departure grace), and the chat goes on from where the store is."""
    env = {f"DCS_{k.upper()}": str(v) for k, v in UNLIMITED.items()}
    async with cluster(tmp_path, signing_key, pg, env=env) as lb:
        customer = DcsClient(lb.node_url(0), mint("customer", "sue", name="Sue"))
        agent = DcsClient(lb.node_url(1), mint("agent", "alice", name="Alice"))
        try:
            for client in (customer, agent):
                await client.connect()
            sid = (await customer.start_session()).session_id
            await customer.escalate(sid)
            await agent.accept(sid)
            ledger = await flood_then_kill(customer, agent, sid, lb.nodes[1].kill)  # the agent's

            await wait_until(lambda: agent.connected, timeout=20)
            await nothing_lost_and_on(customer, agent, sid, ledger, sender="agent", text="still here")
        finally:
            await asyncio.gather(customer.close(), agent.close())


class Clients:
    """Clients of a cluster, each through the balancer to the process it names."""

    def __init__(self, lb: Cluster, mint: Callable[..., str]) -> None:
        self.lb, self.mint, self.all = lb, mint, list[DcsClient]()

    async def __call__(self, node: int, role: str, sub: str, **grants: object) -> DcsClient:
        client = DcsClient(self.lb.node_url(node), self.mint(role, sub, name=sub.title(), **grants))
        await client.connect()
        self.all.append(client)
        return client

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.all))


async def audit_of(database_url: str, session_id: str) -> list[AuditEntry]:
    store = await Store.open(database_url)
    try:
        return list(await AuditLog(store.engine).entries(session_id=session_id))
    finally:
        await store.close()


async def queued(connect: Clients, node: int, sub: str, text: str) -> tuple[DcsClient, str]:
    customer = await connect(node, "customer", sub)
    sid = (await customer.start_session()).session_id
    await customer.send(sid, text)
    await customer.escalate(sid)
    return customer, sid


async def test_the_supervisor_wall_and_observe_follow_a_session_served_by_other_processes(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    async with cluster(tmp_path, signing_key, pg) as lb:
        connect = Clients(lb, mint)
        try:
            # the supervisor on process 0, the agent on 1, the customer on 2
            sup = await connect(0, "supervisor", "sue")
            wall = WallView(sup)
            wall._snapshot(await sup.wait_for(Event.WALL_SNAPSHOT))
            alice = await connect(1, "agent", "alice")
            await wall.until("a:alice", lambda r: r["presence"] == "available" and r["held"] == 0)
            customer, sid = await queued(connect, 2, "cy", "Where is my parcel 4711?")
            waiting = await wall.until(f"s:{sid}", lambda r: r["state"] == "queued")
            assert waiting["customer"] == "Cy" and waiting["queue"] == "general"
            await wall.until("q:general", lambda r: r["waiting"] == 1)

            await alice.accept(sid)
            live = await wall.until(f"s:{sid}", lambda r: r["state"] == "live")
            assert live["agent"] == {"id": "alice", "name": "Alice"} and live["accepted_at"]
            await wall.until("a:alice", lambda r: r["held"] == 1 and r["sessions"] == [sid])
            queue = await wall.until("q:general", lambda r: r["waiting"] == 0 and r["answered_today"] == 1)
            assert queue["service_level"] == 1.0

            # observe on 0: the transcript now, then what is sent through 2 and through 1
            observed = await sup.request(Event.SUPERVISOR_OBSERVE, {"session_id": sid})
            assert "Where is my parcel 4711?" in [m["text"] for m in observed["handoff"]["transcript"]]
            await customer.send(sid, "Are you still there?")
            relayed = await sup.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Are you still there?")
            assert relayed["session_id"] == sid and relayed["sender"]["role"] == "customer"
            for text in ("Yes, looking now.", "Found it: it is on its way."):
                seq = await alice.send(sid, text)
                said = await sup.wait_for(Event.CHAT_MESSAGE, lambda m, seq=seq: m["seq"] == seq)
                assert said["text"] == text
                # the time of the agent's latest reply, from the process that stored it
                await wall.until(f"s:{sid}", lambda r, ts=said["ts"]: r["last_reply_at"] == ts)
            assert customer.drain(Event.STAFF_NOTE) == []

            # barge on 0; the supervisor's other console, on 1, may then write in the chat too
            other = await connect(1, "supervisor", "sue")
            await sup.request(Event.SUPERVISOR_BARGE, {"session_id": sid})
            joined = "Sue (supervisor) joined the chat."
            await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == joined)
            seq = await other.send(sid, "Sue here, from my other screen.")
            said = await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq)
            assert (said["sender"]["role"], said["sender"]["id"]) == ("supervisor", "sue")
            await sup.request(Event.SUPERVISOR_LEAVE, {"session_id": sid})
            left_chat = "Sue (supervisor) left the chat."
            await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == left_chat)
            with pytest.raises(ProtocolError) as left:
                await other.send(sid, "Still here?")
            assert left.value.code == ErrorCode.FORBIDDEN
            await sup.request(Event.SUPERVISOR_OBSERVE, {"session_id": sid})  # watching again

            # ended and wrapped up through 1: the observer told, the row gone from the wall
            await alice.end(sid)
            ended = await sup.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "wrap_up")
            assert ended["session_id"] == sid
            await wall.until(f"s:{sid}", lambda r: r["state"] == "wrap_up")
            await alice.wrap_up(sid, "resolved")
            await wall.until("a:alice", lambda r: r["held"] == 0)
            assert f"s:{sid}" not in wall.rows
            history = [m["text"] for m in await customer.history(sid)]
            assert "Found it: it is on its way." in history and not [t for t in history if "observ" in t]
            assert [(e.action, e.actor_id) for e in await audit_of(pg, sid)] == [
                ("accept", "alice"),
                ("observe", "sue"),
                ("barge", "sue"),
                ("leave", "sue"),
                ("observe", "sue"),
            ]
        finally:
            await connect.close()


async def test_a_warm_transfer_between_agents_on_different_processes(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    async with cluster(tmp_path, signing_key, pg) as lb:
        connect = Clients(lb, mint)
        try:
            alice = await connect(0, "agent", "alice")
            bob = await connect(1, "agent", "bob")
            customer, sid = await queued(connect, 2, "cy", "I want a refund on 88123")
            await alice.accept(sid)

            offered = await alice.transfer(sid, agent_id="bob", note="Wants a refund")
            transfer_id = offered["transfer"]["transfer_id"]
            offer = await bob.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "offered")
            assert offer["transfer_id"] == transfer_id and offer["note"] == "Wants a refund"
            assert "I want a refund on 88123" in [m["text"] for m in offer["handoff"]["transcript"]]
            # consult from either side, through either process
            await bob.request(Event.TRANSFER_CONSULT, {"transfer_id": transfer_id, "text": "Which order?"})
            assert (await alice.wait_for(Event.STAFF_NOTE, lambda n: n["kind"] == "consult"))[
                "text"
            ] == "Which order?"

            accepted = await bob.request(Event.TRANSFER_ANSWER, {"transfer_id": transfer_id, "accept": True})
            assert accepted["handoff"]["session"]["agent"]["id"] == "bob"
            await alice.wait_for(Event.SESSION_REVOKED, lambda r: r["session_id"] == sid)
            await alice.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "accepted")
            told = await customer.wait_for(Event.CHAT_MESSAGE, lambda m: "passed you to Bob" in m["text"])
            assert told["text"] == "Alice has passed you to Bob, who can see this whole conversation."
            seq = await bob.send(sid, "Hello, Bob here.")
            assert (await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq))["sender"][
                "id"
            ] == "bob"
            # answered once: a second answer, through any process, finds nothing waiting
            with pytest.raises(ProtocolError) as again:
                await bob.request(Event.TRANSFER_ANSWER, {"transfer_id": transfer_id, "accept": True})
            assert again.value.code == ErrorCode.NOT_FOUND
            assert [(e.action, e.actor_id) for e in await audit_of(pg, sid)] == [
                ("accept", "alice"),
                ("transfer", "alice"),
                ("transfer.accept", "bob"),
            ]
        finally:
            await connect.close()


async def test_pending_transfers_outlive_a_kill_9_of_the_process_that_offered_them(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    async with cluster(tmp_path, signing_key, pg, env={"DCS_TRANSFER_TIMEOUT_S": "8"}) as lb:
        connect = Clients(lb, mint)
        try:
            alice = await connect(0, "agent", "alice")
            bob = await connect(1, "agent", "bob")
            seen: list[dict[str, object]] = []  # every transfer.state bob is told
            bob.on(Event.TRANSFER_STATE, seen.append)
            waits = await queued(connect, 2, "cw", "Where is 1?")
            takes = await queued(connect, 2, "ct", "And 2?")
            transfers = {}
            for sid in (waits[1], takes[1]):
                await alice.accept(sid)
                offered = await alice.transfer(sid, agent_id="bob", note=f"about {sid}")
                transfers[sid] = offered["transfer"]["transfer_id"]
                await bob.wait_for(Event.TRANSFER_STATE, lambda t, sid=sid: t["session_id"] == sid)
            await lb.nodes[0].kill()  # the process that offered both, and its timers

            # accepted through process 1 after its process died
            taken = transfers[takes[1]]
            accepted = await bob.request(Event.TRANSFER_ANSWER, {"transfer_id": taken, "accept": True})
            assert accepted["handoff"]["session"]["agent"]["id"] == "bob"
            await takes[0].wait_for(Event.CHAT_MESSAGE, lambda m: "passed you to Bob" in m["text"])

            # the other times out back to alice, who came back through the balancer
            await wait_until(lambda: alice.connected, timeout=20)
            timed_out = transfers[waits[1]]

            def expiry(t: dict[str, object]) -> bool:
                return t["transfer_id"] == timed_out and t["state"] == "timed_out"

            expired = await alice.wait_for(Event.TRANSFER_STATE, expiry, timeout=20)
            assert expired["message"] == "Bob did not answer the transfer in time."
            await asyncio.sleep(2.5)  # every process's sweep passed its deadline since: still once
            states = {t: [s["state"] for s in seen if s["transfer_id"] == t] for t in (taken, timed_out)}
            assert states == {taken: ["offered", "accepted"], timed_out: ["offered", "timed_out"]}
            assert [t for t in alice.drain(Event.TRANSFER_STATE) if expiry(t)] == []
            declines = [e for e in await audit_of(pg, waits[1]) if e.action == "transfer.decline"]
            assert [(e.actor_id, dict(e.detail)) for e in declines] == [("bob", {"timeout": True})]
            accepts = [e for e in await audit_of(pg, takes[1]) if e.action == "transfer.accept"]
            assert [e.actor_id for e in accepts] == ["bob"]
            # and the one that timed out is still alice's
            seq = await alice.send(waits[1], "Still with you.")
            assert (await waits[0].wait_for(Event.CHAT_MESSAGE, lambda m: m["seq"] == seq))["sender"][
                "id"
            ] == "alice"
        finally:
            await connect.close()


async def test_an_agent_in_tabs_on_two_processes_takes_no_more_than_their_capacity(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str], pg: str
) -> None:
    """Each process counts the agent's sessions in its own view, which the other's accept
    reaches only after its commit: the database's count, under a lock per agent, decides."""
    async with cluster(tmp_path, signing_key, pg) as lb:
        connect = Clients(lb, mint)
        try:
            tabs = [await connect(node, "agent", "ann", max_sessions=1) for node in (0, 1)]
            waiting = [(await queued(connect, 2, sub, "Where is my order?"))[1] for sub in ("c1", "c2")]
            for _ in range(3):  # both sessions at once, from the two tabs, a few times over
                results = await asyncio.gather(
                    *(tab.accept(sid) for tab, sid in zip(tabs, waiting, strict=True)), return_exceptions=True
                )
                taken = [r for r in results if isinstance(r, dict)]
                refused = [r for r in results if isinstance(r, ProtocolError)]
                assert len(taken) == 1 and [r.code for r in refused] == [ErrorCode.AT_CAPACITY], results
                sid = taken[0]["session"]["session_id"]
                holder = tabs[results.index(taken[0])]
                await holder.end(sid)
                await holder.wrap_up(sid)
                waiting = [s for s in waiting if s != sid]
                waiting.append((await queued(connect, 2, f"more-{sid[-6:]}", "And mine?"))[1])
                waiting.reverse()  # the other tab gets the other session next time
        finally:
            await connect.close()
