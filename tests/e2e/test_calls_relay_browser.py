"""Relay-only calls in real Chromium, through a coturn the test starts, with TURN REST credentials.

Demo shop widget <-> agent console inside a private network namespace (tests/netns.py), the
server handing out ``ice_transport_policy = "relay"`` and credentials for a local coturn
(tests/turn.py), so the only way the two browsers can meet is through it. A wrong secret or
an expired credential leaves Chromium with no candidate at all: the call must fail at once,
saying so on both sides, and the chat must carry on. A relay that cannot pass traffic (its
ports blocked by a routing rule), or a TURN server that does not answer, must end the call
at the connect timeout, shortened here with ``window.__dcsCallTimeoutMs``.

tests/netns.py re-runs single nodes and cannot parametrize, so each test's variant comes
from its name (the ``shop_url`` fixture below).
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests import netns, turn
from tests.e2e.conftest import serve_shop
from tests.e2e.pages import Contexts, W, live_session, part
from tests.e2e.test_calls_browser import (
    CALL_TIMEOUT_MS,
    agent_rings_customer_accepts,
    call_state,
    chat_both_ways,
    expect_state,
    wait_rising,
)

WRONG_SECRET = "not-the-turn-secret"
SHORT_CONNECT_TIMEOUT_MS = 4000  # instead of the product's 30 s (window.__dcsCallTimeoutMs)
RELAY_PORTS = "49160-49260"  # coturn's --min-port/--max-port in tests/turn.py
SILENT_TURN_URL = f"turn:{turn.TURN_IP}:{turn.TURN_PORT + 1}?transport=udp"  # nothing listens there

# The candidate pair the current connection uses, with both candidates.
SELECTED_PAIR_JS = """
async () => {
  const report = await window.__dcsCall.stats();
  const byId = new Map();
  report.forEach((s) => byId.set(s.id, s));
  let pair = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  });
  if (!pair) return null;
  const side = (id) => {
    const c = byId.get(id) || {};
    return {type: c.candidateType, address: c.address, relayProtocol: c.relayProtocol || null};
  };
  return {state: pair.state, local: side(pair.localCandidateId), remote: side(pair.remoteCandidateId)};
}
"""


@pytest.fixture
async def shop_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """The demo shop with a relay-only policy and TURN credentials for coturn (tests that
    need it running ask for the ``coturn`` fixture)."""
    name = request.node.name
    monkeypatch.setenv("DCS_ICE_TRANSPORT_POLICY", "relay")
    monkeypatch.setenv("DCS_TURN_URLS", SILENT_TURN_URL if "unreachable" in name else turn.TURN_URL)
    monkeypatch.setenv("DCS_TURN_SECRET", WRONG_SECRET if "wrong_turn_secret" in name else turn.TURN_SECRET)
    if "expired" in name:
        monkeypatch.setenv("DCS_TURN_TTL_S", "-3600")  # credentials that expired an hour before minting
    if "blocked" in name:
        block_relayed_traffic()
    async with serve_shop(tmp_path) as url:
        yield url


@pytest.fixture
async def contexts(browser: Any, shop_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Contexts]:
    """Pages as usual; for the "gives_up" tests, calls give up connecting after
    SHORT_CONNECT_TIMEOUT_MS."""
    short = "gives_up" in request.node.name
    made = Contexts(browser, f"window.__dcsCallTimeoutMs = {SHORT_CONNECT_TIMEOUT_MS};" if short else "")
    try:
        yield made
    finally:
        await made.close()


def block_relayed_traffic() -> None:
    """From here on, nothing coturn relays reaches the other allocation: UDP between relay
    ports is refused by a routing rule ahead of the local table. The browsers still reach
    coturn (port 3478) and get their relay candidates, but no check passes between them."""
    assert netns.inside(), "routing rules are only changed inside the test's own namespace"
    for rule in (
        f"add pref 10 ipproto udp sport {RELAY_PORTS} dport {RELAY_PORTS} prohibit",
        "add pref 100 lookup local",
        "del pref 0 lookup local",
    ):
        subprocess.run(["ip", "rule", *rule.split()], check=True, capture_output=True)


async def selected_pair(page: Page) -> dict[str, Any]:
    """The selected candidate pair, once it has succeeded and both ends' types are known (a
    remote candidate first met as peer-reflexive takes its type when its signal comes)."""
    deadline = time.monotonic() + 10
    while True:
        pair = await page.evaluate(SELECTED_PAIR_JS)
        settled = (
            pair
            and pair["state"] == "succeeded"
            and "prflx" not in (pair["local"]["type"], pair["remote"]["type"])
        )
        if settled or time.monotonic() > deadline:
            assert pair is not None, "no selected candidate pair"
            return dict(pair)
        await asyncio.sleep(0.2)


async def turn_username(page: Page) -> str:
    """The TURN REST username (``expiry:identity``) the server gave this page."""
    servers = await page.evaluate("window.__dcsCall.pc.getConfiguration().iceServers")
    return str(next(s["username"] for s in servers if s.get("username")))


async def visitor_id(customer: Page) -> str:
    """The customer's DCS identity: the demo shop's visitor cookie."""
    cookies = await customer.context.cookies()
    return next(str(c["value"]) for c in cookies if c["name"] == "shop_visitor")


async def coturn_lines(log: Path, identity: str) -> list[str]:
    """coturn's log lines about the TURN user ``<expiry>:<identity>``."""
    user = re.compile(rf"user <\d+:{re.escape(identity)}>")
    text = await asyncio.to_thread(log.read_text)
    return [line for line in text.splitlines() if user.search(line)]


async def wait_coturn_lines(log: Path, identity: str, what: str, timeout: float = 10.0) -> list[str]:  # noqa: ASYNC109
    """coturn's lines about ``identity`` once one of them contains ``what`` (coturn logs a
    request a moment after the browser sent it); fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        lines = await coturn_lines(log, identity)
        if any(what in line for line in lines):
            return lines
        assert time.monotonic() < deadline, f"coturn logged no {what!r} for {identity}: {lines}"
        await asyncio.sleep(0.1)


async def expect_failed(page: Page, scope: str, message: re.Pattern[str]) -> None:
    """`page`'s call ended as failed, and its UI says why in an alert."""
    error = page.locator(part("call-error", scope))
    await expect(error).to_contain_text(message, timeout=CALL_TIMEOUT_MS)
    assert await error.get_attribute("role") == "alert"
    await expect(call_state(page, scope)).to_have_attribute("data-state", "ended", timeout=CALL_TIMEOUT_MS)
    await expect(call_state(page, scope)).to_have_text("Call failed")
    assert await page.evaluate("window.__dcsCall && window.__dcsCall.pc") is None  # nothing left open


async def ring(customer: Page, agent: Page) -> None:
    """The agent calls; the customer's widget shows the prompt."""
    await agent.locator(part("call-start")).click()
    await expect(customer.locator(part("call-prompt", W))).to_be_visible()


async def accept(customer: Page) -> float:
    """The customer accepts the ringing call; returns the time of the click."""
    started = time.monotonic()
    await customer.locator(part("call-accept", W)).click()
    return started


@netns.isolated
async def test_relay_only_call_connects_through_coturn(
    contexts: Contexts, shop_url: str, coturn: Path
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    setup_s = await agent_rings_customer_accepts(customer, agent)
    print(f"relay-only call: connected {setup_s * 1000:.0f} ms after the customer's accept")

    # each side's connection runs relay to relay, through coturn's address
    for page in (customer, agent):
        pair = await selected_pair(page)
        print(f"{'customer' if page is customer else 'agent'}'s selected pair: {pair}")
        assert pair["state"] == "succeeded", pair
        assert pair["local"]["type"] == pair["remote"]["type"] == "relay", pair
        assert pair["local"]["address"] == pair["remote"]["address"] == turn.TURN_IP, pair
        assert pair["local"]["relayProtocol"] == "udp", pair

    # the beeping fake microphones are heard both ways, and keep being heard
    for page in (customer, agent):
        await wait_rising(page, "audio")
        await wait_rising(page, "audio", key="energy")

    # coturn allocated for both identities, with the credentials the server minted for them
    usernames = {page: await turn_username(page) for page in (customer, agent)}
    assert usernames[agent].endswith(":alice")
    assert usernames[customer].endswith(f":{await visitor_id(customer)}")
    for username in usernames.values():
        await wait_coturn_lines(coturn, username.split(":", 1)[1], "ALLOCATE processed, success")

    await chat_both_ways(customer, agent, "during the relayed call")
    await agent.locator(part("call-hangup")).click()
    for page, scope in ((customer, W), (agent, "")):
        await expect(call_state(page, scope)).to_have_attribute("data-state", "ended")
        await expect(call_state(page, scope)).to_have_text("Call ended")
    assert not errors, errors


async def refused_credential_fails_cleanly(contexts: Contexts, shop_url: str, coturn: Path) -> None:
    """coturn refuses the credential: no candidate on either side, so the call fails at once
    (not at the 30 s connect timeout) with a message on both sides; the chat goes on."""
    customer, agent, errors = await live_session(contexts, shop_url)
    await ring(customer, agent)
    # while it rings both sides ask coturn, and it says no to both identities (401: the HMAC
    # does not match, or it has expired): the agent gathers for the offer it holds, the
    # customer ahead with iceCandidatePoolSize. Waited for here: once the call is answered,
    # either side may learn that the other has no candidate and hang up before it has asked
    # coturn itself, which is fine for the call but leaves nothing to check in coturn's log.
    identities = (await visitor_id(customer), "alice")
    for identity in identities:
        await wait_coturn_lines(coturn, identity, "error 401")
    started = await accept(customer)
    relay_failure = re.compile("Could not reach the media relay server")
    for page, scope in ((customer, W), (agent, "")):
        await expect_failed(page, scope, relay_failure)
    failed_s = time.monotonic() - started
    print(f"the call failed {failed_s * 1000:.0f} ms after the customer's accept")
    assert failed_s < 5, "it waited for the connect timeout instead of failing at once"
    await expect(customer.locator(part("call-prompt", W))).to_be_hidden()

    # and it never said yes to either, before or after the answer
    for identity in identities:
        lines = await coturn_lines(coturn, identity)
        assert not any("success" in line for line in lines), lines

    # the chat carries on, and either side can try to call again
    await chat_both_ways(customer, agent, "after the failed call")
    await expect(agent.locator(part("call-start"))).to_be_visible()
    await expect(customer.locator(part("call-start", W))).to_be_visible()
    assert not errors, errors


@netns.isolated
async def test_wrong_turn_secret_fails_at_once_and_cleanly(
    contexts: Contexts, shop_url: str, coturn: Path
) -> None:
    await refused_credential_fails_cleanly(contexts, shop_url, coturn)


@netns.isolated
async def test_expired_turn_credential_fails_at_once_and_cleanly(
    contexts: Contexts, shop_url: str, coturn: Path
) -> None:
    await refused_credential_fails_cleanly(contexts, shop_url, coturn)


async def gives_up_at_the_timeout(contexts: Contexts, shop_url: str, message: re.Pattern[str]) -> None:
    """The call shows "connecting" until the connect timeout, then fails on both sides with
    `message`, and the chat goes on."""
    customer, agent, errors = await live_session(contexts, shop_url)
    await ring(customer, agent)
    started = await accept(customer)
    await expect_state(customer, "connecting", W)
    await expect_state(agent, "connecting")
    for page, scope in ((customer, W), (agent, "")):
        await expect_failed(page, scope, message)
    failed_s = time.monotonic() - started
    print(f"the call gave up {failed_s * 1000:.0f} ms after the customer's accept")
    assert SHORT_CONNECT_TIMEOUT_MS / 1000 <= failed_s < SHORT_CONNECT_TIMEOUT_MS / 1000 + 5
    await chat_both_ways(customer, agent, "after the call that never connected")
    await expect(agent.locator(part("call-start"))).to_be_visible()
    assert not errors, errors


@netns.isolated
async def test_blocked_relay_gives_up_at_the_connect_timeout(
    contexts: Contexts, shop_url: str, coturn: Path
) -> None:
    # relay candidates on both sides, but nothing passes between them
    await gives_up_at_the_timeout(contexts, shop_url, re.compile("The call could not connect"))


@netns.isolated
async def test_unreachable_relay_gives_up_at_the_connect_timeout(contexts: Contexts, shop_url: str) -> None:
    # no TURN server answers: Chromium would take about 40 s to give up gathering, so the
    # timeout ends the call, and both sides can tell it was the relay (they gathered nothing)
    await gives_up_at_the_timeout(contexts, shop_url, re.compile("Could not reach the media relay server"))
