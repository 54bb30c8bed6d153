"""History for staff through a real server, on SQLite and PostgreSQL: search by text,
customer, agent and date (wildcards taken literally), a customer's other conversations,
one transcript; each role sees only the queues it serves, and every read is audited."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import pytest

from dcs_sdk import DcsClient, Event, ProtocolError, Role, SessionState
from signaling_server import Config
from signaling_server.store import MessageRecord, SessionRecord, Store
from signaling_server.store.audit import AuditLog
from tests.conftest import serve

DAY = 86400.0
NOW = time.time()


def _session(sid: str, customer: str, queue: str, agent: str, days_ago: float, *texts: str) -> Any:
    created = NOW - days_ago * DAY
    record = SessionRecord(
        id=sid,
        customer_id=customer,
        customer_name=customer.title() + " Smith",
        state=SessionState.ENDED,
        created_at=created,
        queue=queue,
        agent_id=agent,
        agent_name=agent.title(),
        ended_at=created + 600,
        first_message=texts[0],
        last_seq=len(texts),
        wrap_up_disposition="resolved",
    )
    messages = [
        MessageRecord(
            sid, i + 1, f"m{i}", Role.CUSTOMER if i % 2 == 0 else Role.AGENT, "x", "", t, created + i
        )
        for i, t in enumerate(texts)
    ]
    return record, messages


SEED = [
    _session(
        "s_old_general_1",
        "vera",
        "general",
        "alice",
        30,
        "My mug arrived broken",
        "Sorry! A refund is on its way",
    ),
    _session("s_new_general_2", "vera", "general", "carol", 2, "Where is order 88123?", "It ships today"),
    _session("s_billing_vera_3", "vera", "billing", "bob", 5, "I was charged 100%_twice", "Refund issued"),
    _session("s_general_tom_4", "tom", "general", "alice", 1, "Discount of 100% please", "No, sorry"),
]


@pytest.fixture
async def world(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> AsyncIterator[tuple[str, Config]]:
    store = await Store.open(database_url)
    try:
        for record, messages in SEED:
            await store.create_session(record, actor=record.customer_id, messages=messages)
    finally:
        await store.close()
    config = replace(server_config, database_url=database_url)
    async with serve(config) as url:
        yield url, config


async def _client(url: str, token: str) -> DcsClient:
    client = DcsClient(url, token)
    await client.connect()
    return client


def _ids(ack: dict[str, Any]) -> list[str]:
    return [s["session_id"] for s in ack["sessions"]]


async def test_search_by_text_customer_agent_and_date(
    world: tuple[str, Config], mint: Callable[..., str]
) -> None:
    url, config = world
    alice = await _client(url, mint("agent", "alice", name="Alice", skills=["general"]))
    try:
        found = await alice.request(Event.HISTORY_SEARCH, {"text": "REFUND"})
        assert _ids(found) == ["s_old_general_1"]  # case-insensitive; billing is not hers
        row = found["sessions"][0]
        assert row["customer"] == {"id": "vera", "name": "Vera Smith"} and row["agent"]["id"] == "alice"
        assert row["disposition"] == "resolved" and row["state"] == "ended"
        # "%" and "_" are literal: "100%_" matches only a text that has exactly that
        assert _ids(await alice.request(Event.HISTORY_SEARCH, {"text": "100%"})) == ["s_general_tom_4"]
        assert _ids(await alice.request(Event.HISTORY_SEARCH, {"text": "100%_"})) == []
        assert _ids(await alice.request(Event.HISTORY_SEARCH, {"customer": "vera smith"})) == [
            "s_new_general_2",
            "s_old_general_1",
        ]
        assert _ids(await alice.request(Event.HISTORY_SEARCH, {"customer": "tom"})) == ["s_general_tom_4"]
        assert _ids(await alice.request(Event.HISTORY_SEARCH, {"agent": "Carol"})) == ["s_new_general_2"]
        since = int((NOW - 10 * DAY) * 1000)
        until = int((NOW - 1.5 * DAY) * 1000)
        assert _ids(await alice.request(Event.HISTORY_SEARCH, {"since": since, "until": until})) == [
            "s_new_general_2"
        ]
        page = await alice.request(Event.HISTORY_SEARCH, {"limit": 1})
        assert _ids(page) == ["s_general_tom_4"] and page["more"] is True
        rest = await alice.request(
            Event.HISTORY_SEARCH, {"limit": 5, "before": page["sessions"][0]["created_at"]}
        )
        assert _ids(rest) == ["s_new_general_2", "s_old_general_1"] and rest["more"] is False
        with pytest.raises(ProtocolError) as refused:
            await alice.request(Event.HISTORY_SEARCH, {"limit": 500})
        assert refused.value.code == "bad_payload"
    finally:
        await alice.close()


async def test_each_role_sees_only_its_queues(world: tuple[str, Config], mint: Callable[..., str]) -> None:
    url, config = world
    bob = await _client(url, mint("agent", "bob", skills=["billing"]))
    sue = await _client(url, mint("supervisor", "sue", queues=["billing"]))
    boss = await _client(url, mint("supervisor", "zed"))  # every queue
    vera = await _client(url, mint("customer", "vera"))
    try:
        assert _ids(await bob.request(Event.HISTORY_SEARCH, {"text": "refund"})) == ["s_billing_vera_3"]
        assert _ids(await sue.request(Event.HISTORY_SEARCH, {"customer": "vera"})) == ["s_billing_vera_3"]
        assert len(_ids(await boss.request(Event.HISTORY_SEARCH, {}))) == 4
        for client in (bob, sue):
            with pytest.raises(ProtocolError) as refused:
                await client.request(Event.HISTORY_TRANSCRIPT, {"session_id": "s_old_general_1"})
            assert refused.value.code == "forbidden" and "general" in refused.value.message
        transcript = await sue.request(Event.HISTORY_TRANSCRIPT, {"session_id": "s_billing_vera_3"})
        assert [m["text"] for m in transcript["messages"]] == ["I was charged 100%_twice", "Refund issued"]
        # customers have no history search at all
        for event, payload in (
            (Event.HISTORY_SEARCH, {}),
            (Event.HISTORY_TRANSCRIPT, {"session_id": "s_old_general_1"}),
            (Event.HISTORY_CUSTOMER, {"session_id": "s_old_general_1"}),
        ):
            with pytest.raises(ProtocolError) as refused:
                await vera.request(event, payload)
            assert refused.value.code == "forbidden"
        with pytest.raises(ProtocolError) as refused:
            await boss.request(Event.HISTORY_TRANSCRIPT, {"session_id": "s_nosuchsession"})
        assert refused.value.code == "not_found"
    finally:
        for client in (bob, sue, boss, vera):
            await client.close()


async def test_previous_conversations_in_the_context_panel_are_audited(
    world: tuple[str, Config], mint: Callable[..., str]
) -> None:
    url, config = world
    vera = await _client(url, mint("customer", "vera", name="Vera Smith"))
    alice = await _client(url, mint("agent", "alice", name="Alice", skills=["general"]))
    try:
        started = await vera.start_session()
        await vera.escalate(started.session_id)
        await alice.wait_queue(bool)
        await alice.accept(started.session_id)
        previous = await alice.request(Event.HISTORY_CUSTOMER, {"session_id": started.session_id})
        # hers in general, newest first; not the live one, not billing's
        assert _ids(previous) == ["s_new_general_2", "s_old_general_1"]
        transcript = await alice.request(Event.HISTORY_TRANSCRIPT, {"session_id": "s_old_general_1"})
        assert transcript["messages"][0]["text"] == "My mug arrived broken"
        assert transcript["session"]["customer"]["id"] == "vera"
    finally:
        await vera.close()
        await alice.close()
    store = await Store.open(config.resolved_database_url)
    try:
        entries = await AuditLog(store.engine).entries(action="history.view", actor_id="alice")
    finally:
        await store.close()
    assert [(e.session_id, sorted(e.detail)) for e in entries] == [
        (started.session_id, ["previous"]),
        ("s_old_general_1", ["transcript"]),
    ]
