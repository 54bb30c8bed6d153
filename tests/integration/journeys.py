"""Scripted journeys through a real server with real socket.io clients, for the report and
data-rights tests (test_api.py, test_reports_browser.py): one of each kind a report counts.

| customer | journey                                                    | CSAT |
|----------|------------------------------------------------------------|------|
| c_cont   | talks to the assistant, closes the chat (contained)        |      |
| c_rated  | escalates, Alice answers and ends, wrap-up                 | 5, "Great help" |
| c_aband  | escalates, leaves while queued (abandoned)                 |      |
| c_xfer   | escalates, Alice transfers to billing, Bob answers, ends   | 3, "Took a while" |
| c_low    | escalates, Alice answers and ends, wrap-up                 | 2    |
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dcs_sdk import Event, PageInfo
from dcs_sdk.client import DcsClient

Connect = Callable[..., Awaitable[DcsClient]]
PAGE = PageInfo(url="https://shop.test/orders/123", title="Your order")


@dataclass
class Journeys:
    sessions: dict[str, str]  # customer id -> session id
    texts: dict[str, list[str]]  # customer id -> what they wrote


def _assistant(m: dict[str, Any]) -> bool:
    return bool(m["sender"]["role"] == "assistant")


async def _start(connect: Connect, sub: str, text: str) -> tuple[DcsClient, str]:
    customer = await connect(
        "customer", sub, name=f"Name of {sub}", attributes={"email": f"{sub}@mail.test", "plan": "gold"}
    )
    started = await customer.start_session(page=PAGE)
    await customer.send(started.session_id, text)
    return customer, started.session_id


async def _served(
    agent: DcsClient, customer: DcsClient, sid: str, reply: str, score: int, comment: str
) -> None:
    await agent.send(sid, reply)
    await agent.end(sid)
    await agent.wrap_up(sid, notes=f"notes about {sid}")
    await customer.wait_for(Event.SESSION_STATE, lambda s: s["state"] in ("wrap_up", "ended"))
    await customer.rate(sid, score, comment)


async def run_journeys(connect: Connect) -> Journeys:
    sessions: dict[str, str] = {}
    texts: dict[str, list[str]] = {}
    alice = await connect("agent", "alice", name="Alice", skills=["general"])
    bob = await connect("agent", "bob", name="Bob", skills=["billing"])

    text = "how long does shipping take?"
    cont, sid = await _start(connect, "c_cont", text)
    await cont.wait_for(Event.CHAT_MESSAGE, lambda m: _assistant(m) and m["seq"] > 2)
    await cont.close_session(sid)
    sessions["c_cont"], texts["c_cont"] = sid, [text]

    text = "my parcel 4711 is lost"
    rated, sid = await _start(connect, "c_rated", text)
    await rated.escalate(sid)
    await alice.accept(sid)
    await _served(alice, rated, sid, "Let me look at 4711.", 5, "Great help")
    sessions["c_rated"], texts["c_rated"] = sid, [text]

    text = "I want a human for my invoice 0815"
    aband, sid = await _start(connect, "c_aband", text)
    await aband.escalate(sid)
    await aband.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued")
    await aband.close_session(sid)
    sessions["c_aband"], texts["c_aband"] = sid, [text]

    text = "refund for order 1234 please"
    xfer, sid = await _start(connect, "c_xfer", text)
    await xfer.escalate(sid)
    await alice.accept(sid)
    await alice.send(sid, "Billing will help you.")
    await alice.transfer(sid, "billing", note="refund of 1234")
    await xfer.wait_for(Event.SESSION_STATE, lambda s: s["state"] == "queued" and s["queue"] == "billing")
    await bob.accept(sid)
    await _served(bob, xfer, sid, "Refund done.", 3, "Took a while")
    sessions["c_xfer"], texts["c_xfer"] = sid, [text]

    text = "change my address to Elm Street 5"
    low, sid = await _start(connect, "c_low", text)
    await low.escalate(sid)
    await alice.accept(sid)
    await _served(alice, low, sid, "Address changed.", 2, "")
    sessions["c_low"], texts["c_low"] = sid, [text]
    return Journeys(sessions=sessions, texts=texts)
