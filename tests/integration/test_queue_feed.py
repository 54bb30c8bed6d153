"""Incremental queue updates and the cheap edges of one process, through a real server and
real socket.io clients, on SQLite and PostgreSQL: an agent gets a bounded first page, then
only changes; a waiting customer hears only when their own position changes; a session's
first message and first reply are stored by the messages' own commit; a new session comes
with its greeting; a hot resume that missed nothing is answered from memory."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dcs_sdk import DcsClient, Event
from signaling_server import Config
from signaling_server.queue_feed import QUEUE_PAGE
from signaling_server.store import Store
from tests.conftest import serve

WAITING = QUEUE_PAGE + 3


@pytest.fixture
def server_config(server_config: Config, database_url: str) -> Config:
    return replace(server_config, database_url=database_url)


async def test_agents_get_a_first_page_then_changes_and_customers_only_their_own_moves(
    server_config: Config, mint: Callable[..., str]
) -> None:
    async with serve(server_config) as url:
        clients: list[DcsClient] = []
        try:
            agent = DcsClient(url, mint("agent", "alice", name="Alice", max_sessions=5))
            await agent.connect()
            clients.append(agent)
            assert await agent.wait_queue() == [] and agent.queue.total == 0

            customers: list[tuple[DcsClient, str]] = []
            for i in range(WAITING):  # one at a time: queue order is escalation order
                customer = DcsClient(url, mint("customer", f"v{i:02d}", name=f"V{i:02d}"))
                await customer.connect()
                clients.append(customer)
                sid = (await customer.start_session()).session_id
                escalated = await customer.escalate(sid)
                assert escalated["position"] == i + 1
                customers.append((customer, sid))
            ids = [sid for _, sid in customers]

            # the page is bounded, the total is not; one snapshot, the rest came as changes
            page = await agent.wait_queue(lambda q: agent.queue.total == WAITING)
            assert [i["session_id"] for i in page] == ids[:QUEUE_PAGE]
            assert len(agent.drain(Event.QUEUE_SNAPSHOT)) == 1
            changes = agent.drain(Event.QUEUE_CHANGES)
            # joins past the page change only the total: no session is sent for them
            beyond = [c for c in changes if c["total"] > QUEUE_PAGE]
            assert beyond and all(c["changes"] == [] for c in beyond)
            assert all(len(c["changes"]) == 1 for c in changes if c["total"] <= QUEUE_PAGE)

            # joining at the back moved nobody: each customer heard only of their own place
            for n, (customer, _) in enumerate(customers, 1):
                states = customer.drain(Event.SESSION_STATE)
                assert [s["position"] for s in states if s["state"] == "queued"] == [n]

            # the first is taken: it leaves the page and the first one past it comes in
            await agent.accept(ids[0])
            page = await agent.wait_queue(lambda q: q and q[0]["session_id"] == ids[1])
            assert [i["session_id"] for i in page] == ids[1 : QUEUE_PAGE + 1]
            assert agent.queue.total == WAITING - 1
            (change,) = agent.drain(Event.QUEUE_CHANGES)
            assert [c["op"] for c in change["changes"]] == ["remove", "add"]
            assert change["changes"][1]["session"]["session_id"] == ids[QUEUE_PAGE]
            assert len(json.dumps(change)) < 2_000  # two items, not the queue

            # everyone behind moved up by one, and was told so once
            for n, (customer, _) in enumerate(customers[1:], 1):
                state = await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued")
                assert state["position"] == n
            # one leaving from the middle moves only those behind it
            middle = customers[10]
            await middle[0].close_session(middle[1])
            await agent.wait_queue(lambda q: middle[1] not in [i["session_id"] for i in q])
            for customer, _ in customers[13:]:
                await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued")
            await asyncio.sleep(0.2)
            for customer, _ in customers[1:10]:
                assert customer.drain(Event.SESSION_STATE) == []
        finally:
            await asyncio.gather(*(c.close() for c in clients))


@contextlib.contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements every engine of this process runs meanwhile (the server runs in
    the test's process; the chat sink's own connection only ever writes)."""
    run: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        run.append(" ".join(statement.split()[:6]))

    event.listen(Engine, "before_cursor_execute", seen)
    try:
        yield run
    finally:
        event.remove(Engine, "before_cursor_execute", seen)


async def test_firsts_are_stored_by_the_messages_commit_and_resumes_come_from_memory(
    server_config: Config, mint: Callable[..., str]
) -> None:
    async with (
        serve(server_config) as url,
        DcsClient(url, mint("customer", "v1", name="V1")) as customer,
        DcsClient(url, mint("agent", "alice", name="Alice")) as agent,
    ):
        with statements_run() as run:
            started = await customer.start_session()
        sid = started.session_id
        if server_config.database_url.startswith("sqlite"):  # one inline transaction
            assert run == [], f"a new session went through the engine: {run}"
        # the greeting was stored with the session: seqs from 1, in the ack only (a push to
        # the room would come before the ack: no one else is in it)
        assert [m["seq"] for m in started.messages] == list(range(1, len(started.messages) + 1))
        assert started.messages and started.messages[0]["sender"]["role"] == "assistant"
        assert customer.drain(Event.CHAT_MESSAGE) == []
        await customer.send(sid, "My parcel is late")
        await customer.send(sid, "and wet")
        await customer.escalate(sid)
        item = (await agent.wait_queue(bool))[0]
        assert item["first_message"] == "My parcel is late"
        await agent.accept(sid)
        reply_seq = await agent.send(sid, "Let me look.")
        await agent.send(sid, "Found it.")

        # a resume that missed nothing, then one that missed the agent's two messages
        history = await customer.history(sid)
        last = history[-1]["seq"]
        with statements_run() as run:
            again = await customer.start_session(sid, after_seq=last)
        assert again.messages == [] and again.session["state"] == "live"
        assert run == [], f"a hot resume read the database: {run}"
        missed = await customer.start_session(sid, after_seq=reply_seq - 1)
        assert [m["text"] for m in missed.messages] == ["Let me look.", "Found it."]

    store = await Store.open(server_config.database_url)
    try:
        row = await store.get_session(sid)
        assert row is not None
        assert row.first_message == "My parcel is late"
        reply = next(m for m in await store.messages_after(sid) if m.seq == reply_seq)
        assert row.first_agent_reply_at == pytest.approx(reply.ts)
        assert row.last_seq == last
    finally:
        await store.close()
