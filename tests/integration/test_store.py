"""The store against real SQLite and real PostgreSQL: same behaviour on both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.protocol import Role, SessionState
from signaling_server.store import MessageRecord, SessionRecord, Store
from tests.conftest import postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        async with postgres_database() as url:
            yield url


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
