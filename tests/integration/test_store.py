"""The store against real SQLite and real PostgreSQL: same behaviour on both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.protocol import Role, SessionState
from signaling_server.store import MessageRecord, SessionRecord, Store, schema
from signaling_server.store.errors import AtCapacity


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


def session(sid: str = "s_test_0001", customer: str = "v1") -> SessionRecord:
    return SessionRecord(
        id=sid,
        customer_id=customer,
        state=SessionState.VIRTUAL,
        created_at=time.time(),
        customer_attrs={"plan": "gold"},
        page_url="https://shop.test/",
        page_title="Home",
    )


def message(seq: int, client_id: str, text: str = "hi", sid: str = "s_test_0001") -> MessageRecord:
    return MessageRecord(
        session_id=sid,
        seq=seq,
        client_id=client_id,
        role=Role.CUSTOMER,
        sender_id="v1",
        sender_name="",
        text=text,
        ts=time.time(),
    )


async def test_session_round_trip_and_transitions(store: Store) -> None:
    await store.create_session(session(), actor="v1")
    got = await store.get_session("s_test_0001")
    assert got is not None and got.customer_attrs == {"plan": "gold"} and got.state is SessionState.VIRTUAL
    now = time.time()
    queued = await store.transition(
        "s_test_0001",
        allowed_from=[SessionState.VIRTUAL],
        to=SessionState.QUEUED,
        at=now,
        actor="v1",
        detail="customer_request",
        queued_at=now,
        reason="customer_request",
    )
    assert (
        queued is not None and queued.state is SessionState.QUEUED and queued.queued_at == pytest.approx(now)
    )
    # a transition from the wrong state is refused and changes nothing
    assert (
        await store.transition(
            "s_test_0001", allowed_from=[SessionState.LIVE], to=SessionState.WRAP_UP, at=now, actor="x"
        )
        is None
    )
    history = await store.transitions_of("s_test_0001")
    assert [(t["from_state"], t["to_state"]) for t in history] == [(None, "virtual"), ("virtual", "queued")]
    assert [s.id for s in await store.sessions_in([SessionState.QUEUED])] == ["s_test_0001"]


async def test_concurrent_accepts_let_exactly_one_win(store: Store) -> None:
    await store.create_session(session(), actor="v1")
    now = time.time()
    await store.transition(
        "s_test_0001",
        allowed_from=[SessionState.VIRTUAL],
        to=SessionState.QUEUED,
        at=now,
        actor="v1",
        queued_at=now,
    )
    results = await asyncio.gather(
        *[
            store.transition(
                "s_test_0001",
                allowed_from=[SessionState.QUEUED],
                to=SessionState.LIVE,
                at=now,
                actor=agent,
                agent_id=agent,
                accepted_at=now,
            )
            for agent in ("a1", "a2", "a3", "a4")
        ]
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    final = await store.get_session("s_test_0001")
    assert final is not None and final.agent_id == winners[0].agent_id
    assert await store.recent_waits() == [pytest.approx(0.0, abs=0.01)]


async def test_messages_are_ordered_and_a_retried_client_id_is_stored_once(store: Store) -> None:
    await store.create_session(session(), actor="v1")
    for seq in range(1, 6):
        stored, created = await store.append_message(message(seq, f"c{seq}", f"m{seq}"))
        assert created and stored.seq == seq
    retry, created = await store.append_message(message(6, "c3", "m3 again"))
    assert not created and retry.seq == 3 and retry.text == "m3"
    assert [m.seq for m in await store.messages_after("s_test_0001", 2)] == [3, 4, 5]
    got = await store.get_session("s_test_0001")
    assert got is not None and got.last_seq == 5


async def test_a_system_line_keeps_its_code_and_arguments(store: Store) -> None:
    await store.create_session(session(), actor="v1")
    line = {"code": "agent_left", "args": {"name": "Alice", "ended": ["call"]}}
    draft = replace(message(0, "sys1", "Alice had to leave, so the call ended."), role=Role.SYSTEM, line=line)
    await store.append_message(draft)
    await store.append_message(message(0, "c2", "plain"))
    stored = await store.messages_after("s_test_0001", 0)
    assert [(m.line, m.to_wire().get("line")) for m in stored] == [(line, line), (None, None)]


async def test_page_views_and_customer_lookup(store: Store) -> None:
    await store.create_session(session(), actor="v1")
    await store.add_page_view("s_test_0001", "https://shop.test/cart", "Cart", time.time())
    await store.add_page_view("s_test_0001", "https://shop.test/pay", "Pay", time.time())
    assert [p["title"] for p in await store.page_views("s_test_0001")] == ["Cart", "Pay"]
    latest = await store.latest_open_session("v1")
    assert latest is not None and latest.page_title == "Pay"
    assert await store.latest_open_session("nobody") is None


async def test_unsupported_database_url_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="Unsupported database URL"):
        await Store.open("mysql://root@localhost/db")


async def test_one_message_the_database_cannot_hold_fails_alone(store: Store) -> None:
    """A lone surrogate (no UTF-8 for it) and, on PostgreSQL, a NUL inside a concurrent group
    commit: those fail, every other message is stored, seqs gapless."""
    from signaling_server.store.errors import UnstorableMessage
    from signaling_server.store.writer import MessageWriter

    sids = [f"s_poison_{i:04d}" for i in range(5)]
    for sid in sids:
        await store.create_session(session(sid, customer=sid), actor="test")
    writer = MessageWriter(store)
    poison = {("s_poison_0003", 3): "bad \ud800 text"}
    if store.engine.dialect.name == "postgresql":  # SQLite holds NUL; the edge refuses it anyway
        poison[("s_poison_0002", 7)] = "bad \x00 text"
    futures = {
        (sid, i): writer.submit(message(0, f"c{i}", poison.get((sid, i), f"{sid} m{i}"), sid=sid))
        for i in range(12)
        for sid in sids
    }
    results = await asyncio.gather(*futures.values(), return_exceptions=True)
    await writer.close()
    outcome = dict(zip(futures, results, strict=True))
    for key in poison:
        assert isinstance(outcome.pop(key), UnstorableMessage)
    assert all(isinstance(r, tuple) and r[1] for r in outcome.values()), outcome
    for sid in sids:
        stored = await store.messages_after(sid)
        expected = [f"{sid} m{i}" for i in range(12) if (sid, i) not in poison]
        assert sorted(m.text for m in stored) == sorted(expected)
        assert [m.seq for m in stored] == list(range(1, len(expected) + 1))  # no gap where poison was
        for m in stored:  # each ack named the seq that was stored
            acked = outcome[(sid, int(m.client_id[1:]))]
            assert isinstance(acked, tuple) and acked[0].seq == m.seq
        got = await store.get_session(sid)
        assert got is not None and got.last_seq == len(expected)


async def test_seqs_come_from_the_database_so_a_second_writer_continues_them(store: Store) -> None:
    """Two writers on one database (two processes, or before and after a restart) allocate
    from the session row: no seq is reused, none skipped, a retried client_id is found."""
    from signaling_server.store.writer import MessageWriter

    await store.create_session(session(), actor="v1")
    first, second = MessageWriter(store), MessageWriter(store)
    made = [first.submit(message(0, f"a{i}")) for i in range(20)] + [
        second.submit(message(0, f"b{i}")) for i in range(20)
    ]
    results = await asyncio.gather(*made)
    retry = await second.submit(message(0, "a5", "again"))
    await first.close()
    await second.close()
    assert sorted(r.seq for r, _ in results) == list(range(1, 41))
    assert not retry[1] and retry[0].text == "hi" and retry[0].seq == results[5][0].seq
    assert [m.seq for m in await store.messages_after("s_test_0001")] == list(range(1, 41))


class _WantsCreations:
    """A listener that writes in creations' transactions: the store must use its engine."""

    within_kinds = frozenset({"created"})

    async def within(self, conn: Any, change: Any) -> None:
        return None

    def committed(self, change: Any) -> None:
        return None


async def test_a_new_session_is_stored_alike_inline_and_through_the_engine(store: Store) -> None:
    """SQLite writes a new session with the stdlib driver on the loop (sqlite_hot_writes.py) unless
    a listener needs the engine's transaction: both ways must leave the same rows."""
    greeting = [replace(message(1, "g1", "Hi!"), role=Role.ASSISTANT, suggestions=("A", "B"))]

    async def rows_of(sid: str, customer: str) -> dict[str, list[dict[str, Any]]]:
        record = replace(session(sid, customer), last_seq=1, assistant_state={"turn": 1}, created_at=100.0)
        messages = [replace(m, session_id=sid, ts=100.5) for m in greeting]
        await store.create_session(record, actor="tester", first_page=True, messages=messages)
        out: dict[str, list[dict[str, Any]]] = {}
        async with store.engine.connect() as conn:
            for table in (schema.sessions, schema.transitions, schema.page_views, schema.messages):
                key = table.c.id if table is schema.sessions else table.c.session_id
                rows = (await conn.execute(select(table).where(key == sid))).mappings().all()
                out[table.name] = [
                    {k: v for k, v in r.items() if k not in ("id", "session_id", "customer_id")} for r in rows
                ]
        return out

    inline = await rows_of("s_inline", "v_inline")
    store.changes.listeners.append(_WantsCreations())  # type: ignore[arg-type]
    engine = await rows_of("s_engine", "v_engine")
    assert inline == engine
    assert inline["dcs_sessions"][0]["customer_attrs"] == {"plan": "gold"}
    assert inline["dcs_messages"][0]["suggestions"] == ["A", "B"]
    assert inline["dcs_transitions"][0]["detail"] == ""  # the column's default
    assert len(inline["dcs_page_views"]) == 1


async def test_an_agent_takes_no_more_than_their_capacity_even_at_once(store: Store) -> None:
    """The count is the database's, in the assigning transaction, one agent's at a time."""
    now = time.time()
    for i in range(4):
        sid = f"s_cap_{i}"
        await store.create_session(session(sid, f"cap{i}"), actor="test")
        await store.transition(
            sid, allowed_from=[SessionState.VIRTUAL], to=SessionState.QUEUED, at=now, actor="t"
        )

    async def accept(sid: str, capacity: int) -> SessionRecord | None:
        return await store.transition(
            sid,
            allowed_from=[SessionState.QUEUED],
            to=SessionState.LIVE,
            at=now,
            actor="ann",
            agent_holds_below=capacity,
            agent_id="ann",
            agent_name="Ann",
        )

    assert await accept("s_cap_0", 2) is not None
    results = await asyncio.gather(*(accept(f"s_cap_{i}", 2) for i in (1, 2, 3)), return_exceptions=True)
    assert sum(isinstance(r, SessionRecord) for r in results) == 1, results
    assert sum(isinstance(r, AtCapacity) for r in results) == 2, results
    live = [s.id for s in await store.sessions_in([SessionState.LIVE])]
    assert len(live) == 2  # and the refused ones still wait
    assert len(await store.sessions_in([SessionState.QUEUED])) == 2
