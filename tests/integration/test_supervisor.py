"""The supervisor floor and transfers through a real server and real socket.io clients, on
SQLite and PostgreSQL: the wall, observe / whisper / barge, moving work, warm transfers,
the rights behind each event, and the audit row each step leaves."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from dcs_sdk import ErrorCode, Event, ProtocolError
from dcs_sdk.client import DcsClient
from signaling_server import Config
from signaling_server.store import Store
from signaling_server.store.audit import AuditLog
from tests.conftest import Connect, serve
from tests.integration.test_journey import queued_session


@dataclasses.dataclass
class Floor:
    connect: Connect
    database_url: str

    async def audit(self, session_id: str | None = None) -> list[tuple[str, str, str]]:
        """(action, actor, target) of every audit row, oldest first."""
        store = await Store.open(self.database_url)
        try:
            rows = await AuditLog(store.engine).entries(session_id=session_id)
        finally:
            await store.close()
        return [(r.action, r.actor_id, r.target) for r in rows]


@contextlib.asynccontextmanager
async def floor_on(config: Config, mint: Callable[..., str]) -> AsyncIterator[Floor]:
    clients: list[DcsClient] = []
    async with serve(config) as url:

        async def make(role: str, sub: str, **kwargs: Any) -> DcsClient:
            client = DcsClient(url, mint(role, sub, **kwargs))
            await client.connect()
            clients.append(client)
            return client

        try:
            yield Floor(make, config.resolved_database_url)
        finally:
            for client in clients:
                await client.close()


@pytest.fixture
async def floor(server_config: Config, database_url: str, mint: Callable[..., str]) -> AsyncIterator[Floor]:
    config = dataclasses.replace(server_config, database_url=database_url, transfer_timeout_s=1.5)
    async with floor_on(config, mint) as f:
        yield f


@pytest.fixture
async def sqlite_floor(server_config: Config, mint: Callable[..., str]) -> AsyncIterator[Floor]:
    async with floor_on(server_config, mint) as f:
        yield f


async def refused(client: DcsClient, event: str, payload: dict[str, Any]) -> str:
    try:
        await client.request(event, payload)
    except ProtocolError as exc:
        return exc.code
    raise AssertionError(f"{event} was accepted")


class WallView:
    """A supervisor's wall as their console holds it: the snapshot, every change applied."""

    def __init__(self, client: DcsClient) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.changes: list[dict[str, Any]] = []
        self._moved = asyncio.Event()
        client.on(Event.WALL_SNAPSHOT, self._snapshot)
        client.on(Event.WALL_CHANGES, self._change)

    def _snapshot(self, data: dict[str, Any]) -> None:
        self.rows = {r["key"]: r for r in data["rows"]}
        self._moved.set()

    def _change(self, data: dict[str, Any]) -> None:
        self.changes.append(data)
        self.rows.update({r["key"]: r for r in data["rows"]})
        for key in data["removed"]:
            self.rows.pop(key, None)
        self._moved.set()

    async def until(self, key: str, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async def wait() -> dict[str, Any]:
            while True:
                found = self.rows.get(key)
                if found is not None and predicate(found):
                    return found
                self._moved.clear()
                await self._moved.wait()

        return await asyncio.wait_for(wait(), 5)


async def supervisor(floor: Floor, sub: str = "sue", **grants: Any) -> tuple[DcsClient, WallView]:
    client = await floor.connect("supervisor", sub, name=sub.title(), **grants)
    view = WallView(client)
    snapshot = await client.wait_for(Event.WALL_SNAPSHOT)
    view._snapshot(snapshot)
    return client, view


async def test_supervisor_events_are_refused_for_agents_and_customers(sqlite_floor: Floor) -> None:
    customer, sid = await queued_session(sqlite_floor.connect, "v1")
    agent = await sqlite_floor.connect("agent", "alice", name="Alice")
    await agent.accept(sid)
    payloads: dict[str, dict[str, Any]] = {
        Event.SUPERVISOR_WALL: {},
        Event.SUPERVISOR_OBSERVE: {"session_id": sid},
        Event.SUPERVISOR_WHISPER: {"session_id": sid, "text": "psst"},
        Event.SUPERVISOR_BARGE: {"session_id": sid},
        Event.SUPERVISOR_LEAVE: {"session_id": sid},
        Event.SUPERVISOR_MOVE: {"session_id": sid, "front": True},
        Event.SUPERVISOR_REASSIGN: {"session_id": sid, "queue": "billing"},
        Event.SUPERVISOR_AGENT: {"agent_id": "alice", "action": "sign_out"},
    }
    for event, payload in payloads.items():
        assert await refused(agent, event, payload) == ErrorCode.FORBIDDEN
        assert await refused(customer, event, payload) == ErrorCode.FORBIDDEN
    # and the agents' own moves are not a supervisor's (nor a customer's) to make
    sup = await sqlite_floor.connect("supervisor", "sue", name="Sue")
    for event, payload in {
        Event.SESSION_TRANSFER: {"session_id": sid, "queue": "billing"},
        Event.TRANSFER_ANSWER: {"transfer_id": "tr_0123456789ab", "accept": True},
        Event.TRANSFER_CONSULT: {"transfer_id": "tr_0123456789ab", "text": "hi"},
        Event.SESSION_ACCEPT: {"session_id": sid},
        Event.SESSION_END: {"session_id": sid},
    }.items():
        assert await refused(sup, event, payload) == ErrorCode.FORBIDDEN
        assert await refused(customer, event, payload) == ErrorCode.FORBIDDEN
    # a supervisor writes in a chat only after joining it
    assert await refused(sup, Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "hi"}) == (
        ErrorCode.FORBIDDEN
    )
    # bad input: a clear code, and nothing else breaks
    assert await refused(sup, Event.SUPERVISOR_MOVE, {"session_id": sid}) == ErrorCode.BAD_PAYLOAD
    assert await refused(sup, Event.SUPERVISOR_REASSIGN, {"session_id": sid}) == ErrorCode.BAD_PAYLOAD
    assert (
        await refused(sup, Event.SUPERVISOR_MOVE, {"session_id": sid, "front": True}) == ErrorCode.WRONG_STATE
    )
    assert await refused(sup, Event.SUPERVISOR_AGENT, {"agent_id": "nobody", "action": "away"}) == (
        ErrorCode.NOT_FOUND
    )
    await agent.send(sid, "still here")
    assert await sqlite_floor.audit(sid) == [("accept", "alice", "")]


async def test_a_supervisor_sees_and_touches_only_the_queues_they_oversee(sqlite_floor: Floor) -> None:
    _, general = await queued_session(sqlite_floor.connect, "v1")
    bob = await sqlite_floor.connect("agent", "bob", name="Bob", skills=["general"])
    sup, billing_wall = await supervisor(sqlite_floor, queues=["billing"])
    keys = set(billing_wall.rows)
    assert "q:billing" in keys
    assert f"s:{general}" not in keys and "q:general" not in keys and "a:bob" not in keys
    for event, payload in {
        Event.SUPERVISOR_OBSERVE: {"session_id": general},
        Event.SUPERVISOR_BARGE: {"session_id": general},
        Event.SUPERVISOR_MOVE: {"session_id": general, "queue": "billing"},
        Event.SUPERVISOR_AGENT: {"agent_id": "bob", "action": "away"},
    }.items():
        assert await refused(sup, event, payload) == ErrorCode.FORBIDDEN
    _, everything = await supervisor(sqlite_floor, "max")
    await bob.accept(general)  # and a change in general never reaches the billing supervisor
    await everything.until(f"s:{general}", lambda r: r["state"] == "live")
    await asyncio.sleep(0.1)
    assert all(
        r["queue"] == "billing" for c in billing_wall.changes for r in c["rows"] if r["kind"] != "agent"
    )
    assert "a:bob" not in billing_wall.rows
    assert await sqlite_floor.audit(general) == [("accept", "bob", "")]


async def test_wall_observe_whisper_and_barge(floor: Floor) -> None:
    sup, wall = await supervisor(floor)
    customer, sid = await queued_session(floor.connect, "v1")
    waiting = await wall.until(f"s:{sid}", lambda r: r["state"] == "queued")
    assert waiting["customer"] == "V1" and waiting["reason"] == "asked for a person"
    assert (await wall.until("q:general", lambda r: r["waiting"] == 1))["oldest_queued_at"]
    alice = await floor.connect("agent", "alice", name="Alice")
    await wall.until("a:alice", lambda r: r["presence"] == "available" and r["held"] == 0)
    await alice.accept(sid)
    live = await wall.until(f"s:{sid}", lambda r: r["state"] == "live")
    assert live["agent"] == {"id": "alice", "name": "Alice"} and live["accepted_at"]
    queue = await wall.until("q:general", lambda r: r["waiting"] == 0 and r["answered_today"] == 1)
    assert queue["service_level"] == 1.0
    wall.changes.clear()

    # observe: the transcript now, live messages after; the customer sees nothing of it
    observed = await sup.request(Event.SUPERVISOR_OBSERVE, {"session_id": sid})
    assert "Where is my order 88123?" in [m["text"] for m in observed["handoff"]["transcript"]]
    await customer.send(sid, "Are you still there?")
    relayed = await sup.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Are you still there?")
    assert relayed["session_id"] == sid
    await alice.send(sid, "Yes, looking now.")
    await sup.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Yes, looking now.")
    await wall.until(f"s:{sid}", lambda r: r["last_reply_at"] is not None)
    # a change to the wall is a row or two, never the whole wall
    assert wall.changes and all(len(c["rows"]) <= 3 for c in wall.changes)

    # whisper: a staff note to the agent only, stored, never in the customer's history
    ack = await sup.request(Event.SUPERVISOR_WHISPER, {"session_id": sid, "text": "Offer the refund"})
    note = await alice.wait_for(Event.STAFF_NOTE, lambda n: n["kind"] == "whisper")
    assert note["text"] == "Offer the refund" and note["author"]["role"] == "supervisor"
    assert ack["note"]["id"] == note["id"]
    again = await floor.connect("agent", "alice", name="Alice")  # a reload: still there
    handoff = await again.wait_for(Event.SESSION_HANDOFF)
    assert [n["text"] for n in handoff["notes"]] == ["Offer the refund"]

    # barge: the customer sees the supervisor join, and they may write now
    await sup.request(Event.SUPERVISOR_BARGE, {"session_id": sid})
    joined = await customer.wait_for(
        Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "system" and "Sue" in m["text"]
    )
    assert joined["text"] == "Sue (supervisor) joined the chat."
    await sup.send(sid, "Hello, I'm Alice's supervisor.")
    said = await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "supervisor")
    assert said["sender"]["name"] == "Sue"
    await sup.request(Event.SUPERVISOR_LEAVE, {"session_id": sid})
    await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Sue (supervisor) left the chat.")

    history = [m["text"] for m in await customer.history(sid)]
    assert "Offer the refund" not in history
    assert not [t for t in history if "observ" in t.lower()]
    assert customer.drain(Event.STAFF_NOTE) == []
    assert [a for a, _, _ in await floor.audit(sid)] == ["accept", "observe", "whisper", "barge", "leave"]


async def test_move_reassign_set_away_and_sign_out(floor: Floor) -> None:
    sup, wall = await supervisor(floor)
    _, first = await queued_session(floor.connect, "v1")
    second_customer, second = await queued_session(floor.connect, "v2")
    await sup.request(Event.SUPERVISOR_MOVE, {"session_id": second, "front": True})
    state = await second_customer.wait_for(Event.SESSION_STATE, lambda s: s.get("position") == 1)
    assert state["queue"] == "general"
    moved = await sup.request(Event.SUPERVISOR_MOVE, {"session_id": first, "queue": "billing"})
    assert moved["session"]["queue"] == "billing"

    alice = await floor.connect("agent", "alice", name="Alice")
    bob = await floor.connect("agent", "bob", name="Bob", skills=["general"])
    await alice.accept(second)
    await sup.request(
        Event.SUPERVISOR_REASSIGN, {"session_id": second, "agent_id": "bob", "note": "Alice is on a break"}
    )
    handoff = await bob.wait_for(Event.SESSION_HANDOFF, lambda h: h["session"]["session_id"] == second)
    assert handoff["reason"] == "reassigned by Sue (supervisor): Alice is on a break"
    assert [n["text"] for n in handoff["notes"]] == ["Alice is on a break"]
    await alice.wait_for(Event.SESSION_REVOKED, lambda r: r["session_id"] == second)
    told = await second_customer.wait_for(Event.CHAT_MESSAGE, lambda m: "passed you to Bob" in m["text"])
    assert told["sender"]["role"] == "system"

    await sup.request(Event.SUPERVISOR_AGENT, {"agent_id": "alice", "action": "away"})
    await alice.wait_for(Event.AGENT_STATE, lambda a: a["presence"] == "away")
    signed = await sup.request(Event.SUPERVISOR_AGENT, {"agent_id": "bob", "action": "sign_out"})
    assert signed["handed_on"] == [second]
    out = await bob.wait_for(Event.AGENT_SIGNED_OUT)
    assert out["by"]["name"] == "Sue"
    await wall.until(f"s:{second}", lambda r: r["state"] == "queued" and r["priority"])

    audit = await floor.audit()
    assert [(a, t) for a, _, t in audit if a != "accept"] == [
        ("move", "general"),
        ("move", "billing"),
        ("reassign", "bob"),
        ("set_away", "alice"),
        ("sign_out", "bob"),
    ]


async def test_warm_transfer_with_consult_accept_decline_and_timeout(floor: Floor) -> None:
    customer, sid = await queued_session(floor.connect, "v1")
    alice = await floor.connect("agent", "alice", name="Alice")
    bob = await floor.connect("agent", "bob", name="Bob")
    await alice.accept(sid)
    await alice.send(sid, "Let me get a colleague.")

    offered = await alice.transfer(sid, agent_id="bob", note="Wants a refund on 88123")
    transfer_id = offered["transfer"]["transfer_id"]
    offer = await bob.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "offered")
    assert offer["note"] == "Wants a refund on 88123"
    assert offer["reason"] == "transferred by Alice: Wants a refund on 88123"
    assert "Where is my order 88123?" in [m["text"] for m in offer["handoff"]["transcript"]]

    # consult: agent to agent, never to the customer
    await alice.request(Event.TRANSFER_CONSULT, {"transfer_id": transfer_id, "text": "She was polite"})
    line = await bob.wait_for(Event.STAFF_NOTE, lambda n: n["kind"] == "consult")
    assert line["text"] == "She was polite" and line["transfer_id"] == transfer_id
    await bob.request(Event.TRANSFER_CONSULT, {"transfer_id": transfer_id, "text": "Got it"})
    await alice.wait_for(Event.STAFF_NOTE, lambda n: n["text"] == "Got it")
    assert await refused(customer, Event.TRANSFER_CONSULT, {"transfer_id": transfer_id, "text": "x"}) == (
        ErrorCode.FORBIDDEN
    )
    carol = await floor.connect("agent", "carol", name="Carol")
    assert await refused(carol, Event.TRANSFER_ANSWER, {"transfer_id": transfer_id, "accept": True}) == (
        ErrorCode.FORBIDDEN
    )

    accepted = await bob.request(Event.TRANSFER_ANSWER, {"transfer_id": transfer_id, "accept": True})
    assert accepted["handoff"]["session"]["agent"]["id"] == "bob"
    await alice.wait_for(Event.SESSION_REVOKED, lambda r: r["reason"] == "transferred")
    await alice.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "accepted")
    told = await customer.wait_for(Event.CHAT_MESSAGE, lambda m: "passed you to Bob" in m["text"])
    assert told["text"] == "Alice has passed you to Bob, who can see this whole conversation."
    history = [m["text"] for m in await customer.history(sid)]
    assert "She was polite" not in history and "Got it" not in history
    assert customer.drain(Event.STAFF_NOTE) == [] and customer.drain(Event.TRANSFER_STATE) == []

    # declined: it stays with the sender, who is told why
    await bob.transfer(sid, agent_id="alice", note="Back to you")
    back = await alice.wait_for(
        Event.TRANSFER_STATE, lambda t: t["state"] == "offered" and t["from"]["id"] == "bob"
    )
    await alice.request(
        Event.TRANSFER_ANSWER, {"transfer_id": back["transfer_id"], "accept": False, "message": "On a call"}
    )
    declined = await bob.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "declined")
    assert declined["message"] == "Alice declined the transfer: On a call"

    # timed out (1.5 s here): back to the sender as well
    await bob.transfer(sid, agent_id="alice")
    expired = await bob.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "timed_out", timeout=5)
    assert expired["message"] == "Alice did not answer the transfer in time."
    await bob.send(sid, "I'm still with you.")  # bob still holds it

    # a warm transfer only to an agent who serves the queue and has room
    assert (await refused(bob, Event.SESSION_TRANSFER, {"session_id": sid, "agent_id": "nobody"})) == (
        ErrorCode.NOT_FOUND
    )
    assert (await refused(bob, Event.SESSION_TRANSFER, {"session_id": sid, "agent_id": "bob"})) == (
        ErrorCode.BAD_PAYLOAD
    )
    audit = await floor.audit(sid)
    assert [(a, actor) for a, actor, _ in audit] == [
        ("accept", "alice"),
        ("transfer", "alice"),
        ("transfer.accept", "bob"),
        ("transfer", "bob"),
        ("transfer.decline", "alice"),
        ("transfer", "bob"),
        ("transfer.decline", "alice"),
    ]


async def test_an_offer_waiting_for_an_answer_comes_back_after_a_reload(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> None:
    """The receiver (and the sender) reload their console while a warm transfer waits: each
    new connection is told of it again, and the receiver can still take it."""
    config = dataclasses.replace(server_config, database_url=database_url, transfer_timeout_s=60)
    async with floor_on(config, mint) as floor:
        customer, sid = await queued_session(floor.connect, "v1")
        alice = await floor.connect("agent", "alice", name="Alice")
        bob = await floor.connect("agent", "bob", name="Bob")
        await alice.accept(sid)
        offered = await alice.transfer(sid, agent_id="bob", note="Wants a refund")
        transfer_id = offered["transfer"]["transfer_id"]
        await bob.wait_for(Event.TRANSFER_STATE, lambda t: t["state"] == "offered")
        await bob.close()
        await alice.close()

        bob_again = await floor.connect("agent", "bob", name="Bob")
        offer = await bob_again.wait_for(Event.TRANSFER_STATE, lambda t: t["transfer_id"] == transfer_id)
        assert offer["state"] == "offered" and offer["note"] == "Wants a refund"
        assert offer["handoff"]["session"]["session_id"] == sid
        alice_again = await floor.connect("agent", "alice", name="Alice")
        mine = await alice_again.wait_for(Event.TRANSFER_STATE, lambda t: t["transfer_id"] == transfer_id)
        assert mine["state"] == "offered" and mine["to"]["id"] == "bob"

        accepted = await bob_again.request(
            Event.TRANSFER_ANSWER, {"transfer_id": transfer_id, "accept": True}
        )
        assert accepted["handoff"]["session"]["agent"]["id"] == "bob"
        await customer.wait_for(Event.CHAT_MESSAGE, lambda m: "passed you to Bob" in m["text"])
