"""The in-page journey through a real server with real socket.io clients:
assistant -> queue -> agent -> chat -> end -> CSAT, with the handoff in between."""

from __future__ import annotations

import asyncio
from typing import Any

from dcs_sdk import ErrorCode, Event, PageInfo, Presence, ProtocolError
from dcs_sdk.client import DcsClient
from tests.conftest import Connect

PAGE = PageInfo(url="https://shop.test/orders/123", title="Your order")


def by_role(role: str) -> Any:
    return lambda m: m["sender"]["role"] == role


async def queued_session(
    connect: Connect, sub: str, text: str = "Where is my order 88123?"
) -> tuple[DcsClient, str]:
    customer = await connect(
        "customer", sub, name=sub.title(), attributes={"plan": "gold", "email": f"{sub}@x.test"}
    )
    started = await customer.start_session(page=PAGE)
    await customer.send(started.session_id, text)
    await customer.wait_for(Event.CHAT_MESSAGE, by_role("assistant"))  # the greeting
    await customer.escalate(started.session_id, reason="customer_request")
    return customer, started.session_id


async def test_customer_is_greeted_and_answered_by_the_assistant(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    started = await customer.start_session(page=PAGE)
    assert started.session["state"] == "virtual"
    greeting = [m for m in started.messages if m["sender"]["role"] == "assistant"]
    assert greeting and greeting[0]["seq"] == 1
    await customer.send(started.session_id, "how long does shipping take?")
    reply = await customer.wait_for(
        Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "assistant" and m["seq"] > 2
    )
    assert "ship" in reply["text"].lower() or "deliver" in reply["text"].lower()


async def test_the_whole_journey_with_handoff(connect: Connect) -> None:
    customer, sid = await queued_session(connect, "v1")
    state = await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued")
    # no agent online and no wait measured: the place only, and why (test_waiting.py)
    assert state["position"] == 1 and state["estimated_wait_s"] is None
    assert state["availability"]["available"] is False

    agent = await connect("agent", "alice", name="Alice")
    item = (await agent.wait_queue(bool))[0]
    assert item["session_id"] == sid
    assert item["first_message"] == "Where is my order 88123?"
    assert item["page"]["url"] == PAGE.url and item["reason"] == "asked for a person"

    handoff = await agent.accept(sid)
    assert handoff["customer"] == {
        "id": "v1",
        "name": "V1",
        "attributes": {"plan": "gold", "email": "v1@x.test"},
    }
    assert handoff["page"] == {"url": PAGE.url, "title": PAGE.title}
    assert handoff["reason"] == "asked for a person"
    texts = [m["text"] for m in handoff["transcript"]]
    assert "Where is my order 88123?" in texts
    assert [m["seq"] for m in handoff["transcript"]] == list(range(1, len(texts) + 1))
    assert handoff["understanding"]["slots"].get("order_number") == "88123"

    live = await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "live")
    assert live["agent"] == {"id": "alice", "name": "Alice"}
    joined = await customer.wait_for(Event.CHAT_MESSAGE, by_role("system"))
    assert "Alice" in joined["text"] or "No one is available" in joined["text"]

    await agent.send(sid, "Hi, I'm Alice. Let me check order 88123.")
    got = await customer.wait_for(Event.CHAT_MESSAGE, by_role("agent"))
    assert got["text"].startswith("Hi, I'm Alice") and got["sender"]["name"] == "Alice"
    await customer.typing(sid, True)
    typing = await agent.wait_for(Event.CHAT_TYPING)
    assert typing["typing"] is True and typing["sender"]["role"] == "customer"
    await customer.send(sid, "Thanks!")
    got = await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Thanks!")
    assert got["sender"]["id"] == "v1"

    await agent.end(sid)
    await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "wrap_up")
    await customer.rate(sid, 5, "Quick and kind")
    rated = await agent.wait_for(Event.SESSION_STATE, lambda s: s["csat"] is not None)
    assert rated["csat"] == {"score": 5, "comment": "Quick and kind"}
    await agent.wrap_up(sid, "Order delayed by carrier; gave tracking link.")
    await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "ended")
    revoked = await agent.wait_for(Event.SESSION_REVOKED)
    assert revoked == {"session_id": sid, "reason": "ended"}
    state = await agent.wait_for(Event.AGENT_STATE, lambda a: a["sessions"] == [])
    assert state["capacity"] == 3


async def test_queue_positions_move_and_first_accept_wins(connect: Connect) -> None:
    c1, s1 = await queued_session(connect, "v1")
    c2, s2 = await queued_session(connect, "v2")
    assert (await c2.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued"))["position"] == 2
    alice = await connect("agent", "alice", name="Alice")
    bob = await connect("agent", "bob", name="Bob")
    await bob.wait_queue(lambda q: len(q) == 2)

    results = await asyncio.gather(alice.accept(s1), bob.accept(s1), return_exceptions=True)
    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, ProtocolError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code == ErrorCode.ALREADY_TAKEN
    # everyone sees it go, and the second customer moves up
    await bob.wait_queue(lambda q: [i["session_id"] for i in q] == [s2])
    await alice.wait_queue(lambda q: [i["session_id"] for i in q] == [s2])
    assert bob.queue.total == alice.queue.total == 1
    assert (await c2.wait_for(Event.SESSION_STATE, lambda s: s.get("position") == 1))["state"] == "queued"


async def test_capacity_is_enforced(connect: Connect) -> None:
    _, s1 = await queued_session(connect, "v1")
    _, s2 = await queued_session(connect, "v2")
    agent = await connect("agent", "solo", name="Solo", max_sessions=1)
    await agent.accept(s1)
    try:
        await agent.accept(s2)
    except ProtocolError as exc:
        assert exc.code == ErrorCode.AT_CAPACITY
    else:
        raise AssertionError("an agent at capacity took another session")


async def test_agents_see_only_their_queues_and_presence_drives_estimates(connect: Connect) -> None:
    customer, sid = await queued_session(connect, "v1")
    billing = await connect("agent", "carol", name="Carol", skills=["billing"])
    snapshot = await billing.wait_for(Event.QUEUE_SNAPSHOT)
    assert snapshot["sessions"] == []
    try:
        await billing.accept(sid)
    except ProtocolError as exc:
        assert exc.code == ErrorCode.FORBIDDEN
    else:
        raise AssertionError("an agent took a session from a queue they do not serve")
    general = await connect("agent", "alice", name="Alice")
    await general.set_presence(Presence.AWAY)
    away = await general.wait_for(Event.AGENT_STATE, lambda a: a["presence"] == "away")
    assert away["id"] == "alice"


async def test_escalation_in_the_customers_own_words(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    started = await customer.start_session(page=PAGE)
    await customer.send(started.session_id, "can I talk to someone please")
    state = await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued")
    assert state["position"] == 1
    agent = await connect("agent", "alice", name="Alice")
    assert (await agent.wait_queue(bool))[0]["reason"] == "asked for a person"


async def test_two_unanswerable_questions_escalate(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    started = await customer.start_session(page=PAGE)
    await customer.send(started.session_id, "what is the airspeed of an unladen swallow")
    await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "assistant" and m["seq"] > 2)
    await customer.send(started.session_id, "purple elephants dance quietly on tuesdays")
    await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued", timeout=10)
    agent = await connect("agent", "alice", name="Alice")
    # the queue card says why in words, and "understood" holds the questions themselves
    assert (await agent.wait_queue(bool))[0]["reason"] == (
        "the assistant could not answer twice: “what is the airspeed of an unladen swallow”; "
        "“purple elephants dance quietly on tuesdays”"
    )
    handoff = await agent.accept(started.session_id)
    assert handoff["understanding"]["unanswered"] == [
        "what is the airspeed of an unladen swallow",
        "purple elephants dance quietly on tuesdays",
    ]


async def test_retried_client_id_is_stored_once(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    sid = (await customer.start_session()).session_id
    first = await customer.send(sid, "hello there", client_id="c_retry_1")
    again = await customer.send(sid, "hello there", client_id="c_retry_1")
    assert first == again
    history = await customer.history(sid)
    assert [m["client_id"] for m in history].count("c_retry_1") == 1
    seqs = [m["seq"] for m in history]
    assert seqs == sorted(set(seqs)) == list(range(1, len(seqs) + 1))


async def test_a_reconnecting_customer_resumes_with_nothing_lost(connect: Connect) -> None:
    first, sid = await queued_session(connect, "v1")
    seen = (await first.history(sid))[-1]["seq"]
    await first.close()
    agent = await connect("agent", "alice", name="Alice")
    await agent.accept(sid)
    await agent.send(sid, "Are you still there?")
    again = await connect("customer", "v1")
    resumed = await again.start_session(
        sid, page=PageInfo(url="https://shop.test/help", title="Help"), after_seq=seen
    )
    assert resumed.session_id == sid and resumed.session["state"] == "live"
    assert resumed.session["agent"]["id"] == "alice"
    texts = [m["text"] for m in resumed.messages]
    assert "Are you still there?" in texts and all(m["seq"] > seen for m in resumed.messages)
    # without a session id, the customer's open session is found again
    third = await connect("customer", "v1")
    assert (await third.start_session()).session_id == sid
    # and the agent hears of the page the customer moved to
    handoff = await agent.wait_for(Event.SESSION_HANDOFF, lambda h: h["page"]["title"] == "Help")
    assert [p["title"] for p in handoff["pages"]] == ["Your order", "Help"]


async def test_customer_closing_a_queued_chat_leaves_the_queue(connect: Connect) -> None:
    customer, sid = await queued_session(connect, "v1")
    agent = await connect("agent", "alice", name="Alice")
    await agent.wait_queue(bool)
    closed = await customer.close_session(sid)
    assert closed["state"] == "ended"
    await agent.wait_queue(lambda q: q == [])
    assert agent.queue.total == 0
    await customer.rate(sid, 2, "gave up waiting")


async def test_transfer_requeues_with_history(connect: Connect) -> None:
    customer, sid = await queued_session(connect, "v1")
    alice = await connect("agent", "alice", name="Alice")
    await alice.accept(sid)
    await alice.send(sid, "Passing you to billing.")
    await alice.transfer(sid, "billing", note="refund question")
    await alice.wait_for(Event.SESSION_REVOKED, lambda r: r["reason"] == "transferred")
    state = await customer.wait_for(
        Event.SESSION_STATE, lambda s: s["state"] == "queued" and s["queue"] == "billing"
    )
    assert state["position"] == 1
    carol = await connect("agent", "carol", name="Carol", skills=["billing"])
    handoff = await carol.accept(sid)
    assert "Passing you to billing." in [m["text"] for m in handoff["transcript"]]
    assert handoff["reason"] == "transferred by Alice: refund question"
    # the note travels with the session as a staff note, never as chat
    assert [(n["kind"], n["text"]) for n in handoff["notes"]] == [("transfer", "refund question")]


async def test_away_survives_a_console_reconnect(connect: Connect) -> None:
    first = await connect("agent", "alice", name="Alice")
    await first.set_presence(Presence.AWAY)
    await first.close()
    again = await connect("agent", "alice", name="Alice")
    state = await again.wait_for(Event.AGENT_STATE)
    assert state["presence"] == "away"
