"""Metrics: scripted journeys against a real server, and the exact values its admin
listener then reports (parsed with prometheus-client's own parser), on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dcs_sdk import DcsClient, ErrorCode, Event, ProtocolError
from signaling_server import Config
from tests.conftest import serve
from tests.server_process import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
CANDIDATE = "candidate:1 1 udp 2122260223 10.99.0.1 50000 typ {kind}"


async def scrape(url: str, token: str = "") -> Samples:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/plain; version=")
        text = await resp.text()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


class Stack:
    def __init__(self, url: str, mint: Callable[..., str]) -> None:
        self.url, self.mint, self.clients = url, mint, list[DcsClient]()

    async def connect(self, role: str, sub: str, **grants: Any) -> DcsClient:
        client = DcsClient(self.url, self.mint(role, sub, name=sub.title(), **grants))
        await client.connect()
        self.clients.append(client)
        return client


@pytest.fixture
async def metered(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> AsyncIterator[tuple[Stack, str]]:
    port = free_port()
    config = replace(server_config, database_url=database_url, metrics_port=port)
    async with serve(config) as url:
        stack = Stack(url, mint)
        yield stack, f"http://127.0.0.1:{port}/metrics"
        for client in stack.clients:
            await client.close()


async def settle(url: str, name: str, want: float, **labels: str) -> Samples:
    """Scrape until ``name`` reaches ``want`` (counts land after the ack a client awaited)."""
    for _ in range(100):
        samples = await scrape(url)
        if samples.get((name, frozenset(labels.items()))) == want:
            return samples
        await asyncio.sleep(0.02)
    return samples


async def test_journeys_give_exact_metrics(metered: tuple[Stack, str]) -> None:
    stack, metrics_url = metered
    before = await scrape(metrics_url)
    assert value(before, "dcs_sessions", state="virtual") == 0
    assert value(before, "dcs_sessions_ended_total", outcome="contained") == 0

    # contained: the assistant answers, the customer leaves without asking for a person
    c1 = await stack.connect("customer", "c1")
    s1 = (await c1.start_session()).session_id
    await c1.send(s1, "What are your opening hours?")
    await c1.close_session(s1)

    # abandoned: asked for a person, left while queued
    c2 = await stack.connect("customer", "c2")
    s2 = (await c2.start_session()).session_id
    await c2.escalate(s2)
    await c2.close_session(s2)

    # handled and rated 5: accepted, answered, a call and two co-browse shares, ended
    agent = await stack.connect("agent", "alice")
    c3 = await stack.connect("customer", "c3")
    s3 = (await c3.start_session()).session_id
    await c3.escalate(s3, "frustration")
    await agent.accept(s3)
    await c3.send(s3, "Hello?")
    await agent.send(s3, "Hi, I'm here.")
    await agent.send(s3, "How can I help?")
    await calls(c3, agent, s3)
    await cobrowse(c3, agent, s3, relay=True)
    await cobrowse(c3, agent, s3, candidates=("relay", "relay"))
    await cobrowse(c3, agent, s3, candidates=("host", "relay"))
    await agent.end(s3)
    await agent.wrap_up(s3, "Sorted out the refund.")
    await c3.rate(s3, 5)

    # transferred, then handled by a second agent, rated 3
    bob = await stack.connect("agent", "bob")
    c4 = await stack.connect("customer", "c4")
    s4 = (await c4.start_session()).session_id
    await c4.escalate(s4)
    await agent.accept(s4)
    await agent.transfer(s4, "billing", "a billing question")
    await bob.accept(s4)
    await bob.end(s4)
    await bob.wrap_up(s4)
    await c4.rate(s4, 3)

    # warm-transferred to a named agent (live -> live), then handled by them
    c7 = await stack.connect("customer", "c7")
    s7 = (await c7.start_session()).session_id
    await c7.escalate(s7)
    await agent.accept(s7)
    offered = await agent.transfer(s7, agent_id="bob", note="knows this one")
    await bob.request(
        Event.TRANSFER_ANSWER, {"transfer_id": offered["transfer"]["transfer_id"], "accept": True}
    )
    await bob.end(s7)
    await bob.wrap_up(s7)

    # still waiting (a reason outside the known set), and still with the assistant
    c5 = await stack.connect("customer", "c5")
    s5 = (await c5.start_session()).session_id
    await c5.escalate(s5, "my own words")
    c6 = await stack.connect("customer", "c6")
    await c6.start_session()

    # refused events, by code
    with pytest.raises(ProtocolError):
        await c1.send(s1, "are you there?")  # ended: wrong_state
    with pytest.raises(ProtocolError):
        await c1.request(Event.CHAT_SEND, {"session_id": s1})  # no text: bad_payload
    with pytest.raises(ProtocolError):
        await c1.request("no.such.event", {})

    m = await settle(metrics_url, "dcs_csat_total", 1, score="3")
    # sessions by state, and the queue, straight from the router
    assert value(m, "dcs_sessions", state="virtual") == 1
    assert value(m, "dcs_sessions", state="queued") == 1
    assert value(m, "dcs_sessions", state="live") == 0
    assert value(m, "dcs_sessions", state="wrap_up") == 0
    assert value(m, "dcs_queue_depth", queue="general") == 1
    assert 0 <= value(m, "dcs_queue_oldest_wait_seconds", queue="general") < 30
    assert ("dcs_queue_depth", frozenset({("queue", "billing")})) not in m
    # outcomes, escalations, transfers, CSAT
    assert value(m, "dcs_sessions_ended_total", outcome="contained") == 1
    assert value(m, "dcs_sessions_ended_total", outcome="abandoned") == 1
    assert value(m, "dcs_sessions_ended_total", outcome="handled") == 3
    assert value(m, "dcs_escalations_total", reason="customer_request") == 3
    assert value(m, "dcs_escalations_total", reason="frustration") == 1
    assert value(m, "dcs_escalations_total", reason="other") == 1
    assert value(m, "dcs_escalations_total", reason="unmatched") == 0
    assert value(m, "dcs_transfers_total") == 2  # to a queue, and warm to bob
    assert value(m, "dcs_csat_total", score="5") == 1
    assert value(m, "dcs_csat_total", score="3") == 1
    assert value(m, "dcs_csat_total", score="1") == 0
    # the histograms: one observation per accept, per first reply, per handled session
    assert value(m, "dcs_queue_wait_seconds_count") == 4
    assert value(m, "dcs_first_response_seconds_count") == 1
    assert value(m, "dcs_handle_seconds_count") == 3
    assert value(m, "dcs_events_total", event="chat.send") == 6  # 4 stored, 2 refused
    assert value(m, "dcs_message_relay_seconds_count") == 4
    assert value(m, "dcs_events_total", event="session.escalate") == 5
    assert value(m, "dcs_events_total", event="transfer.answer") == 1
    assert value(m, "dcs_events_total", event="csat.submit") == 2
    assert value(m, "dcs_events_total", event="other") == 1  # no.such.event
    assert value(m, "dcs_event_errors_total", event="chat.send", code=ErrorCode.WRONG_STATE) == 1
    assert value(m, "dcs_event_errors_total", event="chat.send", code=ErrorCode.BAD_PAYLOAD) == 1
    assert value(m, "dcs_event_errors_total", event="other", code=ErrorCode.UNKNOWN_EVENT) == 1
    # store writes timed by kind
    assert value(m, "dcs_store_write_seconds_count", kind="create_session") == 7
    assert value(m, "dcs_store_write_seconds_count", kind="transition") >= 12
    assert value(m, "dcs_store_write_seconds_count", kind="messages") >= 1
    # calls: one connected, one declined, one hung up while ringing; co-browse by path
    assert value(m, "dcs_calls_total", outcome="connected") == 1
    assert value(m, "dcs_calls_total", outcome="declined") == 1
    assert value(m, "dcs_calls_total", outcome="cancelled") == 1
    assert value(m, "dcs_calls_total", outcome="failed") == 0
    assert value(m, "dcs_call_setup_seconds_count") == 1
    assert value(m, "dcs_cobrowse_sessions_total", path="relay") == 1
    assert value(m, "dcs_cobrowse_sessions_total", path="turn") == 1
    assert value(m, "dcs_cobrowse_sessions_total", path="peer") == 1
    # connected sockets by role, and agents by presence
    assert value(m, "dcs_connected_sockets", role="customer") == 7
    assert value(m, "dcs_connected_sockets", role="agent") == 2
    assert value(m, "dcs_agents", presence="available") == 2

    await c6.close()
    await agent.close()
    m = await settle(metrics_url, "dcs_connected_sockets", 6, role="customer")
    assert value(m, "dcs_connected_sockets", role="agent") == 1


async def calls(customer: DcsClient, agent: DcsClient, sid: str) -> None:
    """One call connected (both sides report it), one declined, one given up while ringing."""
    call = (await customer.request(Event.CALL_INVITE, {"session_id": sid}))["call"]["call_id"]
    ref = {"session_id": sid, "call_id": call}
    await agent.request(Event.CALL_ANSWER, {**ref, "accept": True})
    await customer.request(Event.CALL_MEDIA, {**ref, "state": "connected"})
    await agent.request(Event.CALL_MEDIA, {**ref, "state": "connected"})
    await agent.request(Event.CALL_HANGUP, ref)
    call = (await agent.request(Event.CALL_INVITE, {"session_id": sid}))["call"]["call_id"]
    await customer.request(Event.CALL_ANSWER, {"session_id": sid, "call_id": call, "accept": False})
    call = (await customer.request(Event.CALL_INVITE, {"session_id": sid}))["call"]["call_id"]
    await customer.request(Event.CALL_HANGUP, {"session_id": sid, "call_id": call})


async def cobrowse(
    customer: DcsClient, agent: DcsClient, sid: str, *, relay: bool = False, candidates: tuple[str, ...] = ()
) -> None:
    """A share, with frames through the server or ICE candidates of these types, then stopped."""
    cid = (await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid}))["cobrowse"]["cobrowse_id"]
    await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True})
    ref = {"session_id": sid, "cobrowse_id": cid}
    if relay:
        await customer.request(Event.COBROWSE_DATA, {**ref, "frame": '{"t":"ev"}'})
    for sender, kind in zip((customer, agent), candidates, strict=False):
        candidate = {"candidate": CANDIDATE.format(kind=kind), "sdpMid": "0", "sdpMLineIndex": 0}
        await sender.request(Event.COBROWSE_SIGNAL, {**ref, "pc_id": "p1", "candidate": candidate})
    await agent.request(Event.COBROWSE_STOP, ref)


async def test_metrics_behind_a_token_on_the_public_port(server_config: Config) -> None:
    config = replace(server_config, metrics_token="s3cret-scrape-token")
    async with serve(config) as url:
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-scrape-token"}):
                async with http.get(f"{url}/metrics", headers=headers) as resp:
                    assert resp.status == 401
                    body = await resp.json()
                    assert body["error"]["code"] == "unauthorized"
                    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        samples = await scrape(f"{url}/metrics", token="s3cret-scrape-token")
        assert value(samples, "dcs_sessions", state="queued") == 0


async def test_no_metrics_route_unless_configured(dcs_url: str) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{dcs_url}/metrics") as resp:
        assert resp.status == 404
