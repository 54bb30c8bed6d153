"""Co-browse in real Chromium: the demo shop's widget and the agent console, end to end.

Each test runs inside a private network namespace (tests/netns.py). With a local coturn
handing out relay candidates (a page without camera permission has no usable host
candidates), the page travels peer to peer over the data channel; without any ICE server
it must fall back to the server relay and still work.

Canary values typed into masked fields are searched for in everything the customer's
browser sent (every WebSocket frame and every data-channel message), in the server's log
records and in the raw bytes of its SQLite database.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, expect

from tests import netns, turn
from tests.e2e.conftest import serve_shop
from tests.e2e.pages import Contexts, W, end_from_console, end_from_widget, live_session, part
from tests.e2e.relay_codec import RelayDecoder
from tests.e2e.test_calls_browser import agent_rings_customer_accepts, call_state

TIMEOUT_MS = 15_000
VIEW_IFRAME = f"{part('cobrowse-view')} iframe"
CANARIES = {
    "#card": "4111 1111 1111 1111",  # data-dcs-mask
    "#password": "Canary-Pass-9931",  # a password field
    "#email": "canary.mail@example.org",  # an input the shop's policy does not allow
}
CANARY_TAILS = ("1111 1111", "Pass-99", "canary.mail")  # typed digit by digit: prefixes travel too
ALLOWED = ("#note", "Leave it with the neighbour")

# Everything the customer's page sends over a data channel is reported to the test.
TAP_JS = """
(() => {
  const send = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    try { window.__dcsTap(typeof data === "string" ? data : "[binary]"); } catch (_) {}
    return send.call(this, data);
  };
})();
"""


@pytest.fixture
async def shop_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """The demo shop, with coturn (peer-to-peer tests) or with no ICE server at all (fallback)."""
    # tests/netns.py re-runs single nodes, so the variant comes from the test's name
    fallback = "falls_back" in request.node.name
    if fallback or "turn_only" in request.node.name:
        monkeypatch.setenv("DCS_ICE_TRANSPORT_POLICY", "relay")
    if not fallback:  # (without TURN and with a relay-only policy, no peer path exists)
        monkeypatch.setenv("DCS_TURN_URLS", turn.TURN_URL)
        monkeypatch.setenv("DCS_TURN_SECRET", turn.TURN_SECRET)
    if not fallback:
        turn.require_coturn()
    relay_server = contextlib.nullcontext() if fallback else turn.coturn(tmp_path)
    async with relay_server, serve_shop(tmp_path) as url:
        yield url


class Sent:
    """Everything the customer's browser context sent: WebSocket frames and data-channel messages."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.inflated = 0

    async def attach(self, page: Page) -> None:
        keep = self.messages.append
        await page.context.expose_function("__dcsTap", lambda data: keep(str(data)))
        await page.context.add_init_script(TAP_JS)
        page.on("websocket", lambda ws: ws.on("framesent", lambda payload: keep(str(payload))))

    def text(self) -> str:
        """All of it, raw, and every co-browse frame in it as the receiver reads it (pieces
        joined, deflated frames inflated), so that no canary hides behind an encoding."""
        return "\n".join([*self.messages, *self._decode(self._frames())])

    def _frames(self) -> list[str]:
        frames = []
        relayed = RelayDecoder()  # small relayed frames are written against earlier ones
        for raw in self.messages:
            if raw.startswith("4"):  # a socket.io packet: cobrowse.data carries a frame
                try:
                    packet = json.loads(raw.lstrip("0123456789"))
                except ValueError:
                    continue
                if isinstance(packet, list) and packet[:1] == ["cobrowse.data"]:
                    text = relayed.decode(str(packet[1]["frame"]))
                    assert text is not None, f"names a frame never sent: {packet[1]['frame'][:80]}"
                    frames.append(text)
            else:  # a data-channel message is a frame
                frames.append(raw)
        return frames

    def _decode(self, frames: list[str]) -> list[str]:
        out: list[str] = []
        pieces: dict[Any, dict[int, str]] = {}
        for text in frames:
            try:
                frame = json.loads(text)
            except ValueError:
                continue
            kind = frame.get("t") if isinstance(frame, dict) else None
            if kind == "part":
                got = pieces.setdefault(frame["id"], {})
                got[frame["i"]] = frame["d"]
                if len(got) == frame["n"]:
                    out += self._decode(["".join(got[i] for i in range(frame["n"]))])
            elif kind == "z":
                self.inflated += 1
                out.append(zlib.decompress(base64.b64decode(frame["d"]), -15).decode())
            else:
                out.append(text)
        return out


def replay(agent: Page) -> Any:
    return agent.frame_locator(VIEW_IFRAME)


async def click_in_view(agent: Page, selector: str) -> None:
    """Click, on the console's overlay, where `selector` shows in the replayed page."""
    box = await replay(agent).locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not visible in the viewer"
    await agent.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


async def share(customer: Page, agent: Page) -> None:
    """The agent asks to see the page; the customer allows it."""
    await agent.locator(part("cobrowse-request")).click()
    prompt = customer.locator(part("cobrowse-prompt", W))
    await expect(prompt).to_be_visible()
    assert await prompt.get_attribute("role") == "alertdialog"
    await expect(prompt).to_contain_text("Alice")
    await customer.locator(part("cobrowse-allow", W)).click()
    await expect(customer.locator(part("cobrowse-banner", W))).to_contain_text(
        "Alice Martin can see this page"
    )
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(1, timeout=TIMEOUT_MS)
    assert await agent.locator(VIEW_IFRAME).get_attribute("sandbox") == "allow-same-origin"


async def point_at(customer: Page, agent: Page, selector: str) -> None:
    """The agent points at `selector` in the viewer; the customer's page shows the pointer
    there. Co-browse frames travel in order, so everything the console sent before the
    pointer has then been handled by the customer's page too."""
    shown = await replay(agent).locator(selector).first.bounding_box()
    assert shown is not None, f"{selector} is not visible in the viewer"
    await agent.mouse.move(shown["x"] + 5, shown["y"] + 5, steps=4)
    await expect(customer.locator(part("cobrowse-pointer", W))).to_be_visible()
    target = await customer.locator(selector).first.bounding_box()
    assert target is not None
    await customer.wait_for_function(
        """([x, y]) => {
          const root = document.querySelector("#dcs-widget-root").shadowRoot;
          const box = root.querySelector("[data-part=cobrowse-pointer]").getBoundingClientRect();
          return Math.abs(box.left - x) < 20 && Math.abs(box.top - y) < 20;
        }""",
        arg=[target["x"] + 5, target["y"] + 5],
        timeout=TIMEOUT_MS,
    )


def database_bytes(data_dir: Path) -> str:
    """The SQLite database with its WAL, raw: whatever any table or page holds."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("dcs.sqlite3*"))).decode("latin-1")


async def wait_transport(customer: Page, kind: str) -> None:
    """The customer's widget sends the page over `kind` ("peer": the data channel; "relay")."""
    hook = "window.__dcsCobrowse"
    try:
        await customer.wait_for_function(f"(kind) => {hook} && {hook}.transport === kind", arg=kind)
    except PlaywrightError as exc:
        now = await customer.evaluate(f"() => {hook} && {hook}.stats()")
        raise AssertionError(f"the co-browse transport is not {kind}: {now}") from exc


@netns.isolated
async def test_cobrowse_view_mask_highlight_control_navigate_stop(
    contexts: Contexts, shop_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for name in ("signaling_server", "dcs_sdk", "socketio", "engineio", "aiohttp"):
        caplog.set_level(logging.DEBUG, logger=name)
    sent = Sent()
    customer, agent, errors = await live_session(contexts, shop_url)
    await sent.attach(customer)
    await customer.reload()  # from here on, every byte the customer's page sends is seen
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")

    # consent: the agent's viewer shows the customer's page, peer to peer
    await share(customer, agent)
    await expect(replay(agent).locator("h1")).to_have_text("Gear for the trail", timeout=TIMEOUT_MS)
    await wait_transport(customer, "peer")
    await expect(agent.locator(part("cobrowse-transport"))).to_have_attribute("data-transport", "peer")
    await expect(agent.locator(part("cobrowse-viewport"))).to_contain_text(re.compile(r"\d+\s*[×x]\s*\d+"))

    # navigation resumes by itself, with a fresh snapshot and no new prompt
    await customer.goto(f"{shop_url}/checkout")
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_visible(timeout=TIMEOUT_MS)
    await expect(customer.locator(part("cobrowse-prompt", W))).to_be_hidden()
    await expect(replay(agent).locator("h1")).to_have_text("Checkout", timeout=TIMEOUT_MS)
    await expect(agent.locator(part("cobrowse-url"))).to_contain_text("/checkout")

    # the allowed field shows; masked ones show only masks, and the canaries never leave
    await customer.locator(ALLOWED[0]).press_sequentially(ALLOWED[1], delay=10)
    for selector, value in CANARIES.items():
        await customer.locator(selector).press_sequentially(value, delay=10)
    await customer.locator(ALLOWED[0]).focus()  # blur the last masked field
    await expect(replay(agent).locator(ALLOWED[0])).to_have_value(ALLOWED[1], timeout=TIMEOUT_MS)
    for selector in CANARIES:  # (typed after the allowed field: their frames may come later)
        await expect(replay(agent).locator(selector)).to_have_value(re.compile(r"^\*+$"), timeout=TIMEOUT_MS)
    await expect(replay(agent).locator(".saved")).not_to_contain_text("4242")
    await expect(replay(agent).locator(".promo")).to_have_text("")  # blocked: an empty placeholder

    # highlight: the agent points at the Pay button; the customer's page shows the highlight
    await agent.locator(part("cobrowse-highlight-mode")).click()
    await click_in_view(agent, "form.checkout button")
    highlight = customer.locator(part("cobrowse-highlight", W))
    await expect(highlight).to_be_visible()
    # around the button, both read in one frame (a highlight scrolls its element into view)
    await customer.wait_for_function(
        """() => {
          const root = document.querySelector("#dcs-widget-root").shadowRoot;
          const box = root.querySelector("[data-part=cobrowse-highlight]").getBoundingClientRect();
          const pay = document.querySelector("form.checkout button").getBoundingClientRect();
          return Math.abs(box.left - pay.left) < 12 && Math.abs(box.top - pay.top) < 12;
        }""",
        timeout=TIMEOUT_MS,
    )
    await agent.locator(part("cobrowse-highlight-mode")).click()  # back to pointing
    # the agent's pointer shows where the agent points
    await point_at(customer, agent, "#note")

    # remote control: declined, then granted; the agent's click changes the customer's page
    await agent.locator(part("cobrowse-control-request")).click()
    await expect(agent.locator(part("cobrowse-control"))).to_have_attribute("data-control", "requested")
    await customer.locator(part("cobrowse-control-decline", W)).click()
    await expect(agent.locator(part("cobrowse-control"))).to_have_attribute("data-control", "off")
    await customer.goto(f"{shop_url}/")
    await expect(replay(agent).locator("h1")).to_have_text("Gear for the trail", timeout=TIMEOUT_MS)
    await click_in_view(agent, "button.add")  # no control: nothing happens
    await point_at(customer, agent, "h1")  # (whatever the click sent has arrived by now)
    await expect(customer.locator("#cart-count")).to_have_text("0")
    await agent.locator(part("cobrowse-control-request")).click()
    await customer.locator(part("cobrowse-control-allow", W)).click()
    await expect(customer.locator(part("cobrowse-banner", W))).to_contain_text("control")
    await expect(agent.locator(part("cobrowse-control"))).to_have_attribute("data-control", "granted")
    await click_in_view(agent, "button.add")
    await expect(customer.locator("#cart-count")).to_have_text("1")
    await expect(replay(agent).locator("#cart-count")).to_have_text("1", timeout=TIMEOUT_MS)

    # control carries over to the next page; typing reaches allowed fields only
    await customer.goto(f"{shop_url}/checkout")
    await expect(replay(agent).locator("h1")).to_have_text("Checkout", timeout=TIMEOUT_MS)
    await click_in_view(agent, "#note")
    await agent.locator(part("cobrowse-type")).fill("Ring twice")
    await expect(customer.locator("#note")).to_have_value("Ring twice")
    await click_in_view(agent, "#card")
    typed = agent.locator(part("cobrowse-type"))
    if await typed.is_visible():
        await typed.fill("9999")
    await point_at(customer, agent, "h1")  # (whatever the console sent has arrived by now)
    await expect(customer.locator("#card")).to_have_value("")
    # the customer takes control back
    await customer.locator(part("cobrowse-revoke", W)).click()
    await expect(agent.locator(part("cobrowse-control"))).to_have_attribute("data-control", "off")

    # Stop ends it on both sides at once
    await customer.locator(part("cobrowse-stop", W)).click()
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_hidden()
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(0, timeout=TIMEOUT_MS)
    await expect(agent.locator(part("cobrowse-status"))).to_contain_text("stopped", ignore_case=True)
    assert await customer.evaluate("() => window.__dcsCobrowse.state") in ("idle", "ended")

    # the canaries never left the customer's browser: not on the wire, not in logs, not stored
    wire = sent.text()
    assert sent.inflated > 0 and "Checkout" in wire, "the co-browse frames on the wire were not read"
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    stored = database_bytes(tmp_path)
    assert stored, "no database file found"
    for where, text in (("sent", wire), ("server log", logged), ("database", stored)):
        leaks = [v for v in (*CANARIES.values(), *CANARY_TAILS) if v in text]
        assert not leaks, f"masked values reached the {where}: {leaks}"
    assert not errors, errors


@netns.isolated
async def test_cobrowse_alongside_a_call(contexts: Contexts, shop_url: str) -> None:
    """A call and co-browse at once, each on its own connection: neither disturbs the other."""
    customer, agent, errors = await live_session(contexts, shop_url)
    await agent_rings_customer_accepts(customer, agent)
    await share(customer, agent)
    await wait_transport(customer, "peer")
    await customer.evaluate("() => { document.querySelector('h1').textContent = 'During the call'; }")
    await expect(replay(agent).locator("h1")).to_have_text("During the call", timeout=TIMEOUT_MS)
    await expect(call_state(agent)).to_have_attribute("data-state", "connected")
    # hanging up leaves co-browse running
    await customer.locator(part("call-hangup", W)).click()
    await expect(call_state(agent)).to_have_attribute("data-state", "ended", timeout=TIMEOUT_MS)
    await customer.evaluate("() => { document.querySelector('h1').textContent = 'After the call'; }")
    await expect(replay(agent).locator("h1")).to_have_text("After the call", timeout=TIMEOUT_MS)
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_visible()
    # the customer closes the conversation: co-browse stops with it, on both sides
    await end_from_widget(customer)
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_hidden(timeout=TIMEOUT_MS)
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(0, timeout=TIMEOUT_MS)
    assert not errors, errors


# The candidate types of the co-browse connection's selected pair, on the customer's side.
SELECTED_PAIR_JS = """
async () => {
  const report = await window.__dcsCobrowse.pc.getStats();
  let pair = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId);
  });
  if (!pair) return null;
  const type = (id) => report.get(id).candidateType;
  return {local: type(pair.localCandidateId), remote: type(pair.remoteCandidateId)};
}
"""


async def settled_pair(customer: Page) -> Any:
    """The selected pair's candidate types once both are known: a remote candidate first met
    as peer-reflexive (its check came before its signal) takes its type when the signal comes."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        pair = await customer.evaluate(SELECTED_PAIR_JS)
        if (pair and "prflx" not in pair.values()) or time.monotonic() > deadline:
            return pair
        await asyncio.sleep(0.2)


@netns.isolated
async def test_cobrowse_turn_only_path_is_still_peer_to_peer(contexts: Contexts, shop_url: str) -> None:
    """A relay-only ICE policy with coturn: the data channel goes through TURN, not the server."""
    customer, agent, errors = await live_session(contexts, shop_url)
    await share(customer, agent)
    await wait_transport(customer, "peer")
    assert await settled_pair(customer) == {"local": "relay", "remote": "relay"}
    await customer.evaluate("() => { document.querySelector('h1').textContent = 'Through TURN'; }")
    await expect(replay(agent).locator("h1")).to_have_text("Through TURN", timeout=TIMEOUT_MS)
    relayed = await customer.evaluate("() => window.__dcsCobrowse.stats()")
    assert relayed["bytesPeer"] > 0, relayed
    # ending the session stops co-browse on both sides at once
    await end_from_console(agent)
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_hidden(timeout=TIMEOUT_MS)
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(0, timeout=TIMEOUT_MS)
    assert not errors, errors


@netns.isolated
async def test_cobrowse_falls_back_to_the_server_relay(contexts: Contexts, shop_url: str) -> None:
    """No ICE server and a relay-only policy: no peer path can exist, the server relays."""
    customer, agent, errors = await live_session(contexts, shop_url)
    # the customer shares unasked, from the widget
    await customer.locator(part("cobrowse-share", W)).click()
    await expect(customer.locator(part("cobrowse-banner", W))).to_contain_text(
        "Alice Martin can see this page"
    )
    await expect(replay(agent).locator("h1")).to_have_text("Gear for the trail", timeout=TIMEOUT_MS)
    await wait_transport(customer, "relay")
    await expect(agent.locator(part("cobrowse-transport"))).to_have_attribute("data-transport", "relay")
    # changes keep coming through the relay, and the hidden-tab indicator works
    await customer.evaluate("() => { document.querySelector('h1').textContent = 'Changed by the customer'; }")
    await expect(replay(agent).locator("h1")).to_have_text("Changed by the customer", timeout=TIMEOUT_MS)
    await customer.evaluate(
        "() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});"
        " Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    await expect(agent.locator(part("cobrowse-hidden"))).to_be_visible(timeout=TIMEOUT_MS)
    # the customer's scroll position shows in the console
    await customer.set_viewport_size({"width": 800, "height": 300})
    await customer.evaluate("() => window.scrollTo(0, 120)")
    viewport = agent.locator(part("cobrowse-viewport"))
    await expect(viewport).to_have_attribute("data-scroll-y", "120", timeout=TIMEOUT_MS)
    await expect(viewport).to_have_attribute("data-width", "800")
    # the agent stops it
    await agent.locator(part("cobrowse-stop")).click()
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_hidden(timeout=TIMEOUT_MS)
    assert not errors, errors
