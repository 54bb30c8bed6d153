"""An agent who leaves hands the customers on: on sign-out, or once every console connection
has been gone for the grace period, live sessions go back to the front of their queue with
the whole history; the customer is told, the next agent sees why. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from dcs_sdk import DcsClient, Event
from signaling_server import Config
from tests.conftest import Connect, serve

GRACE_S = 1.0  # short, but with room for a reconnect on a loaded 2-core machine


@pytest.fixture
def server_config(server_config: Config, database_url: str) -> Config:
    """Every test here on SQLite and on PostgreSQL, with a short grace period."""
    return replace(server_config, database_url=database_url, agent_grace_s=GRACE_S)


def system(m: dict[str, Any]) -> bool:
    return bool(m["sender"]["role"] == "system")


def queued(s: dict[str, Any]) -> bool:
    return bool(s["state"] == "queued")


async def waiting_customer(connect: Connect, sub: str, text: str) -> tuple[DcsClient, str]:
    customer = await connect("customer", sub, name=sub.title())
    sid = (await customer.start_session()).session_id
    await customer.send(sid, text)
    await customer.escalate(sid)
    await customer.wait_for(Event.SESSION_STATE, queued)
    return customer, sid


async def live_with_alice(connect: Connect, sub: str, text: str) -> tuple[DcsClient, DcsClient, str]:
    customer, sid = await waiting_customer(connect, sub, text)
    alice = await connect("agent", "alice", name="Alice")
    await alice.accept(sid)
    await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "live")
    await customer.wait_for(Event.CHAT_MESSAGE, lambda m: system(m) and "joined" in m["text"])
    return customer, alice, sid


async def test_signout_hands_live_sessions_on_to_the_front(connect: Connect) -> None:
    early, s_early = await waiting_customer(connect, "early", "I was here first")
    sam, alice, s_sam = await live_with_alice(connect, "sam", "My parcel never came")
    await alice.send(s_sam, "Let me check with the carrier.")
    done, s_done = await waiting_customer(connect, "done", "Quick question")
    await alice.accept(s_done)
    await alice.end(s_done)
    await done.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "wrap_up")
    assert (await early.wait_for(Event.SESSION_STATE, queued))["position"] == 1
    for client in (early, sam):
        client.drain(Event.SESSION_STATE)
    alice.drain(Event.AGENT_STATE)

    ack = await alice.signout()
    assert ack["handed_on"] == [s_sam] and ack["closed"] == [s_done]

    # the customer is told in words, and is first in line ahead of who already waited
    told = await sam.wait_for(Event.CHAT_MESSAGE, lambda m: system(m) and "had to leave" in m["text"])
    assert told["text"] == (
        "Alice had to leave. You're first in line for the next agent, who will see this whole conversation."
    )
    state = await sam.wait_for(Event.SESSION_STATE, queued)
    # nobody serves the queue now: no estimate, and the customer is told (test_waiting.py)
    assert state["position"] == 1 and state["agent"] is None and state["estimated_wait_s"] is None
    assert (await early.wait_for(Event.SESSION_STATE, lambda s: s["position"] == 2))["state"] == "queued"
    # the session in wrap-up is closed, and Alice's seat is free
    assert (await done.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "ended"))["state"] == "ended"
    revoked = [await alice.wait_for(Event.SESSION_REVOKED) for _ in range(2)]
    assert {(r["session_id"], r["reason"]) for r in revoked} == {(s_sam, "handed_on"), (s_done, "ended")}
    seat = await alice.wait_for(Event.AGENT_STATE, lambda a: a["sessions"] == [])
    assert seat["presence"] == "offline"
    await alice.close()

    # the next agent sees why, takes it, and gets the whole conversation
    bob = await connect("agent", "bob", name="Bob")
    first, second = await bob.wait_queue(lambda q: len(q) == 2)
    assert (first["session_id"], second["session_id"]) == (s_sam, s_early)
    assert first["reason"] == "Alice signed out" and first["priority"] is True
    assert second["priority"] is False
    handoff = await bob.accept(s_sam)
    assert handoff["reason"] == "Alice signed out"
    texts = [m["text"] for m in handoff["transcript"]]
    assert "My parcel never came" in texts and "Let me check with the carrier." in texts
    assert told["text"] in texts
    assert [m["seq"] for m in handoff["transcript"]] == list(range(1, len(texts) + 1))
    live = await sam.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "live")
    assert live["agent"] == {"id": "bob", "name": "Bob"}
    await bob.send(s_sam, "Bob here, I have the whole story.")
    assert (await sam.wait_for(Event.CHAT_MESSAGE, lambda m: m["sender"]["id"] == "bob"))["text"].startswith(
        "Bob here"
    )


async def test_lost_connection_hands_on_after_the_grace_and_ends_the_call(connect: Connect) -> None:
    early, s_early = await waiting_customer(connect, "early", "I was here first")
    sam, alice, s_sam = await live_with_alice(connect, "sam", "Can you call me?")
    call = (await alice.request(Event.CALL_INVITE, {"session_id": s_sam}))["call"]
    await sam.request(Event.CALL_ANSWER, {"session_id": s_sam, "call_id": call["call_id"], "accept": True})
    await sam.wait_for(Event.CALL_STATE, lambda c: c["state"] == "connecting")

    for client in (early, sam):
        client.drain(Event.SESSION_STATE)
    sam.drain(Event.CHAT_MESSAGE)
    await alice.close()  # no sign-out: the network went away
    await asyncio.sleep(GRACE_S / 3)
    assert not [m for m in sam.drain(Event.CHAT_MESSAGE) if system(m)], "handed on before the grace"
    assert not [s for s in sam.drain(Event.SESSION_STATE) if queued(s)]

    ended = await sam.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ended", timeout=GRACE_S + 5)
    assert ended["reason"] == "agent left"
    told = await sam.wait_for(Event.CHAT_MESSAGE, system)
    assert told["text"].startswith("Alice had to leave, so the call ended. You're first in line")
    assert (await sam.wait_for(Event.SESSION_STATE, queued))["position"] == 1
    assert (await early.wait_for(Event.SESSION_STATE, lambda s: s["position"] == 2))["state"] == "queued"

    bob = await connect("agent", "bob", name="Bob")
    queue = await bob.wait_queue(lambda q: len(q) == 2)
    assert [i["session_id"] for i in queue] == [s_sam, s_early]
    assert queue[0]["reason"] == "Alice lost connection"
    handoff = await bob.accept(s_sam)
    assert handoff["reason"] == "Alice lost connection" and handoff["call"] is None
    assert "Can you call me?" in [m["text"] for m in handoff["transcript"]]
    # Alice comes back later: she holds nothing any more
    again = await connect("agent", "alice", name="Alice")
    assert (await again.wait_for(Event.AGENT_STATE))["sessions"] == []


async def test_a_reconnect_within_the_grace_keeps_the_sessions(connect: Connect) -> None:
    sam, alice, s_sam = await live_with_alice(connect, "sam", "Still there?")
    sam.drain(Event.CHAT_MESSAGE)
    sam.drain(Event.SESSION_STATE)
    await alice.close()
    await asyncio.sleep(GRACE_S / 3)
    back = await connect("agent", "alice", name="Alice")
    handoff = await back.wait_for(Event.SESSION_HANDOFF)
    assert handoff["session"]["session_id"] == s_sam
    await asyncio.sleep(GRACE_S * 2)  # well past the grace of the first disconnect
    assert not [m for m in sam.drain(Event.CHAT_MESSAGE) if system(m)]
    assert all(s["state"] == "live" for s in sam.drain(Event.SESSION_STATE))
    assert back.drain(Event.SESSION_REVOKED) == []
    await back.send(s_sam, "Yes, sorry, my network dropped.")
    got = await sam.wait_for(Event.CHAT_MESSAGE, lambda m: m["sender"]["id"] == "alice")
    assert got["text"] == "Yes, sorry, my network dropped."


async def test_every_disconnect_gets_a_full_grace(connect: Connect) -> None:
    """A flapping connection: the grace counts from the last disconnect, not the first."""
    sam, alice, s_sam = await live_with_alice(connect, "sam", "Hello?")
    sam.drain(Event.CHAT_MESSAGE)
    await alice.close()
    await asyncio.sleep(GRACE_S / 3)
    back = await connect("agent", "alice", name="Alice")
    await back.wait_for(Event.SESSION_HANDOFF)
    await asyncio.sleep(GRACE_S / 3)
    await back.close()
    await asyncio.sleep(GRACE_S * 0.6)  # past the first disconnect's grace, not the second's
    assert not [m for m in sam.drain(Event.CHAT_MESSAGE) if system(m)], "handed on too early"
    told = await sam.wait_for(Event.CHAT_MESSAGE, system, timeout=GRACE_S + 5)
    assert "had to leave" in told["text"]


async def test_handed_on_sessions_keep_their_place_across_a_restart(
    server_config: Config, mint: Callable[..., str]
) -> None:
    async with (
        serve(server_config) as url,
        DcsClient(url, mint("customer", "early")) as early,
        DcsClient(url, mint("customer", "sam")) as sam,
    ):
        s_early = (await early.start_session()).session_id
        await early.escalate(s_early)
        s_sam = (await sam.start_session()).session_id
        await sam.escalate(s_sam)
        async with DcsClient(url, mint("agent", "alice", name="Alice")) as alice:
            await alice.accept(s_sam)
            await alice.signout()

    async with serve(server_config) as url:
        async with DcsClient(url, mint("customer", "early")) as early:
            assert (await early.start_session(s_early)).session["position"] == 2
        async with DcsClient(url, mint("customer", "sam")) as sam:
            resumed = await sam.start_session(s_sam)
            assert resumed.session["state"] == "queued" and resumed.session["position"] == 1
        async with DcsClient(url, mint("agent", "bob", name="Bob")) as bob:
            snapshot = await bob.wait_for(Event.QUEUE_SNAPSHOT)
            assert [i["session_id"] for i in snapshot["sessions"]] == [s_sam, s_early]
            assert snapshot["sessions"][0]["reason"] == "Alice signed out"


async def test_held_sessions_are_handed_on_after_a_restart_nobody_came_back_from(
    server_config: Config, mint: Callable[..., str]
) -> None:
    async with serve(server_config) as url, DcsClient(url, mint("customer", "sam")) as sam:
        s_sam = (await sam.start_session()).session_id
        await sam.escalate(s_sam)
        async with DcsClient(url, mint("agent", "alice", name="Alice")) as alice:
            await alice.accept(s_sam)

    async with serve(server_config) as url, DcsClient(url, mint("customer", "sam")) as sam:
        assert (await sam.start_session(s_sam)).session["state"] == "live"
        told = await sam.wait_for(Event.CHAT_MESSAGE, system, timeout=GRACE_S + 5)
        assert "had to leave" in told["text"]
        assert (await sam.wait_for(Event.SESSION_STATE, queued))["position"] == 1
