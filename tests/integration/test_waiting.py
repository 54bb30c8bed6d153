"""Honest waiting and starting over, through a real server and real socket.io clients, on
SQLite and PostgreSQL: a waiting customer is told at once when no one can serve the queue
(no agent, or outside opening hours) and again whenever that changes; they can leave a
message that agents find when they come back and answer in the same session; estimates
come only from measured waits and the agents available; a customer whose conversation is
in wrap-up starts a new one at once."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dcs_sdk import DcsClient, ErrorCode, Event, Presence, ProtocolError
from signaling_server import Config
from tests.conftest import Connect, serve


@pytest.fixture
def server_config(server_config: Config, database_url: str) -> Config:
    """Every test here on SQLite and on PostgreSQL."""
    return replace(server_config, database_url=database_url)


def queued(s: dict[str, Any]) -> bool:
    return bool(s["state"] == "queued")


def available(s: dict[str, Any]) -> bool:
    return bool(queued(s) and s["availability"]["available"])


def unavailable(s: dict[str, Any]) -> bool:
    return bool(queued(s) and not s["availability"]["available"])


def system(m: dict[str, Any]) -> bool:
    return bool(m["sender"]["role"] == "system")


async def escalated(customer: DcsClient) -> tuple[str, dict[str, Any]]:
    sid = (await customer.start_session()).session_id
    return sid, await customer.escalate(sid)


async def test_no_agent_is_said_at_once_and_every_change_is_pushed(connect: Connect) -> None:
    sam = await connect("customer", "sam", name="Sam")
    sid, state = await escalated(sam)
    # the escalation's own answer already says it: no one, no minutes, just the place
    assert state["state"] == "queued" and state["position"] == 1 and state["estimated_wait_s"] is None
    assert state["availability"] == {
        "available": False,
        "reason": "no_agents",
        "opens_at": None,
        "message": "No one is available right now.",
    }
    told = await sam.wait_for(Event.CHAT_MESSAGE, system)
    assert told["text"] == "No one is available right now. Leave a message and we'll reply in this chat."
    # pushes are consumed in order: each wait below takes the next change, not an old one
    assert (await sam.wait_for(Event.SESSION_STATE, unavailable))["estimated_wait_s"] is None

    alice = await connect("agent", "alice", name="Alice")
    came = await sam.wait_for(Event.SESSION_STATE, available)
    assert came["position"] == 1 and came["estimated_wait_s"] is None  # no wait measured yet
    assert came["availability"]["reason"] is None

    await alice.set_presence(Presence.AWAY)
    away = await sam.wait_for(Event.SESSION_STATE, unavailable)
    assert away["availability"]["reason"] == "no_agents"
    await alice.set_presence(Presence.AVAILABLE)
    await sam.wait_for(Event.SESSION_STATE, available)

    # an agent who does not serve the queue is no one for it
    bob = await connect("agent", "bob", name="Bob", skills=["billing"])
    await alice.close()
    gone = await sam.wait_for(Event.SESSION_STATE, unavailable)
    assert gone["availability"]["reason"] == "no_agents"
    assert bob.connected
    # and a customer resuming the page reads the same
    assert (await sam.start_session(sid)).session["availability"]["available"] is False


def a_day_that_is_not_today() -> tuple[str, datetime]:
    """A weekday two days from now (UTC) and its 09:00: hours on that day alone exclude now."""
    today = datetime.now(UTC).date()
    day = today + timedelta(days=2)
    return day.strftime("%a"), datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


async def test_outside_opening_hours_the_queue_is_closed_with_the_reason(
    server_config: Config, mint: Callable[..., str]
) -> None:
    weekday, opens = a_day_that_is_not_today()
    config = replace(server_config, opening_hours={"general": f"{weekday} 09:00-17:00", "billing": "24/7"})
    async with (
        serve(config) as url,
        DcsClient(url, mint("agent", "alice", name="Alice")) as alice,
        DcsClient(url, mint("customer", "sam", name="Sam")) as sam,
    ):
        await alice.wait_for(Event.AGENT_STATE)  # an agent is there, but the queue is closed
        sid, state = await escalated(sam)
        assert state["estimated_wait_s"] is None and state["position"] == 1
        closed = state["availability"]
        assert closed["available"] is False and closed["reason"] == "closed"
        assert closed["opens_at"] == int(opens.timestamp() * 1000)
        day_name = opens.strftime("%A")
        assert closed["message"] == f"We're closed right now; we open again on {day_name} at 09:00 (UTC)."
        told = await sam.wait_for(Event.CHAT_MESSAGE, system)
        assert told["text"].startswith(closed["message"]) and "Leave a message" in told["text"]
        # another queue with other hours is open: Alice moves the customer there
        await alice.accept(sid)
        await alice.transfer(sid, "billing")
        moved = await sam.wait_for(Event.SESSION_STATE, lambda s: queued(s) and s["queue"] == "billing")
        assert moved["availability"]["available"] is True


async def test_a_left_message_is_found_answered_and_read_on_return(
    server_config: Config, mint: Callable[..., str]
) -> None:
    text = "Please call me back about order 5512, the box was damaged."
    async with serve(server_config) as url, DcsClient(url, mint("customer", "sam", name="Sam")) as sam:
        sid, _ = await escalated(sam)
        await sam.wait_for(Event.CHAT_MESSAGE, system)  # "No one is available right now. ..."
        ack = await sam.leave_message(sid, text, client_id="c_left_1")
        assert ack["message"]["text"] == text and ack["message"]["sender"]["role"] == "customer"
        assert ack["session"]["state"] == "queued" and ack["session"]["left_message_at"] is not None
        saved = await sam.wait_for(Event.CHAT_MESSAGE, lambda m: system(m) and "saved" in m["text"])
        assert saved["seq"] == ack["seq"] + 1
        # a retry is the same message, stored once
        again = await sam.leave_message(sid, text, client_id="c_left_1")
        assert again["seq"] == ack["seq"]
        history = await sam.history(sid)
        assert [m["text"] for m in history].count(text) == 1
        assert [m["seq"] for m in history] == list(range(1, len(history) + 1))

    # the server restarts in the night; the agent comes in the next morning
    async with serve(server_config) as url:
        async with DcsClient(url, mint("agent", "alice", name="Alice")) as alice:
            (item,) = await alice.wait_queue(bool)
            assert item["session_id"] == sid
            assert item["left_message"]["text"] == text
            assert item["left_message"]["at"] == ack["session"]["left_message_at"]
            handoff = await alice.accept(sid)
            assert text in [m["text"] for m in handoff["transcript"]]
            await alice.send(sid, "Sorry about the box, Sam. A new one ships today.")
            await alice.end(sid)
        # the customer opens the widget again: the same session, with the answer
        async with DcsClient(url, mint("customer", "sam", name="Sam")) as sam:
            back = await sam.start_session(sid, after_seq=ack["seq"])
            assert back.session_id == sid and back.session["state"] == "wrap_up"
            agent_lines = [m["text"] for m in back.messages if m["sender"]["role"] == "agent"]
            assert agent_lines == ["Sorry about the box, Sam. A new one ships today."]
            await sam.rate(sid, 5)


async def test_a_message_can_only_be_left_while_the_conversation_is_open(connect: Connect) -> None:
    sam = await connect("customer", "sam", name="Sam")
    sid = (await sam.start_session()).session_id
    # still with the assistant: leaving a message puts it in the queue
    ack = await sam.leave_message(sid, "Are you open on Sunday?")
    assert ack["session"]["state"] == "queued" and ack["session"]["left_message_at"] is not None
    alice = await connect("agent", "alice", name="Alice")
    item = (await alice.wait_queue(bool))[0]
    assert item["left_message"]["text"] == "Are you open on Sunday?"
    assert item["reason"] == "left a message"
    await alice.accept(sid)
    # taken meanwhile: the text goes into the live chat as it is
    live = await sam.leave_message(sid, "Also, do you ship to Norway?")
    assert live["session"]["state"] == "live"
    got = await alice.wait_for(Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "customer")
    assert got["text"] == "Also, do you ship to Norway?"
    await alice.end(sid)
    with pytest.raises(ProtocolError) as refused:
        await sam.leave_message(sid, "Hello?")
    assert refused.value.code == ErrorCode.WRONG_STATE


async def test_estimates_come_from_measured_waits_and_available_agents(connect: Connect) -> None:
    alice = await connect("agent", "alice", name="Alice")
    await alice.wait_for(Event.AGENT_STATE)
    first = await connect("customer", "first", name="First")
    s_first, state = await escalated(first)
    # nothing measured yet: the place only
    assert state["availability"]["available"] is True
    assert state["position"] == 1 and state["estimated_wait_s"] is None
    await asyncio.sleep(1.3)
    handoff = await alice.accept(s_first)
    waited = (handoff["accepted_at"] - handoff["queued_at"]) / 1000  # one agent was available

    second = await connect("customer", "second", name="Second")
    third = await connect("customer", "third", name="Third")
    s_second, state2 = await escalated(second)
    s_third, state3 = await escalated(third)
    assert state2["estimated_wait_s"] == math.ceil(1 * waited)
    pushed = await second.wait_for(Event.SESSION_STATE, lambda s: queued(s) and s["session_id"] == s_second)
    assert pushed["estimated_wait_s"] == math.ceil(waited)
    assert state3["position"] == 2 and state3["estimated_wait_s"] == math.ceil(2 * waited)

    # a second agent for the queue: the same waits shared among two
    bob = await connect("agent", "bob", name="Bob")
    await bob.wait_for(Event.AGENT_STATE)
    shared = await third.wait_for(
        Event.SESSION_STATE, lambda s: queued(s) and s["estimated_wait_s"] != state3["estimated_wait_s"]
    )
    assert shared["position"] == 2 and shared["estimated_wait_s"] == max(1, math.ceil(2 * waited / 2))

    # waits are per queue: the billing queue has measured nothing
    await alice.transfer(s_first, "billing")
    billing = await first.wait_for(Event.SESSION_STATE, lambda s: queued(s) and s["queue"] == "billing")
    assert billing["availability"]["available"] is True and billing["estimated_wait_s"] is None


async def test_waits_while_no_one_was_there_are_not_measurements(connect: Connect) -> None:
    sam = await connect("customer", "sam", name="Sam")
    s_sam, _ = await escalated(sam)
    await asyncio.sleep(0.5)
    alice = await connect("agent", "alice", name="Alice")
    await alice.accept(s_sam)  # waited while nobody was there: says nothing about the queue
    kim = await connect("customer", "kim", name="Kim")
    _, state = await escalated(kim)
    assert state["availability"]["available"] is True and state["estimated_wait_s"] is None


async def test_a_customer_in_wrap_up_starts_a_new_conversation_at_once(connect: Connect) -> None:
    sam = await connect("customer", "sam", name="Sam")
    old, _ = await escalated(sam)
    alice = await connect("agent", "alice", name="Alice")
    await alice.accept(old)
    await alice.send(old, "Anything else?")
    await alice.end(old)
    await sam.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "wrap_up")

    # "Start a new conversation": session.start without an id, while Alice still wraps up
    fresh = await sam.start_session()
    assert fresh.session_id != old and fresh.session["state"] == "virtual"
    assert [m["sender"]["role"] for m in fresh.messages][:1] == ["assistant"]  # greeted
    assert "Anything else?" not in [m["text"] for m in fresh.messages]
    # the old one can still be rated, and Alice still holds it and wraps it up
    await sam.rate(old, 4, "Quick")
    seat = await alice.wait_for(Event.AGENT_STATE, lambda a: old in a["sessions"])
    assert fresh.session_id not in seat["sessions"]
    await alice.wrap_up(old, "Done")
    assert (await sam.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "ended"))["session_id"] == old
    # a reload with the old id now lands in the new conversation
    assert (await sam.start_session(old)).session_id == fresh.session_id
    await sam.send(fresh.session_id, "One more question")


async def test_a_database_from_before_left_messages_gets_the_new_columns(
    server_config: Config, mint: Callable[..., str]
) -> None:
    from sqlalchemy import text

    from signaling_server.store import Store

    async with serve(server_config) as url, DcsClient(url, mint("customer", "sam")) as sam:
        sid = (await sam.start_session()).session_id
    store = await Store.open(server_config.database_url)
    async with store.engine.begin() as conn:  # as a version before left messages made it
        await conn.execute(text("ALTER TABLE dcs_sessions DROP COLUMN left_message"))
        await conn.execute(text("ALTER TABLE dcs_sessions DROP COLUMN left_message_at"))
    await store.close()

    async with serve(server_config) as url, DcsClient(url, mint("customer", "sam")) as sam:
        resumed = await sam.start_session(sid)
        assert resumed.session_id == sid and resumed.session["left_message_at"] is None
        await sam.escalate(sid)
        ack = await sam.leave_message(sid, "Stored in the new columns")
        assert ack["session"]["left_message_at"] is not None
