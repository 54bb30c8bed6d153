"""Co-browse on realistic customer sites: private by default, everywhere the page holds data.

The sites (tests/e2e/sites) run on an origin of their own, with a partner embedded from a
third origin, and include the widget from the DCS server's origin, as real sites do. They
plant canaries (``cnry…``) in every kind of place the privacy policy hides: inputs (typed,
pre-filled, hidden, set by script), text and attribute values under ``data-dcs-mask``,
open shadow roots of masked hosts (nested too), a closed shadow root, same-origin iframes
that are masked or blocked, a cross-origin iframe and its URL, and changes made to all of
these after the snapshot. A real co-browse runs peer to peer in Chromium (the agent's
console in a browser context of its own); afterwards no canary is in anything the
customer's browser sent (WebSocket frames and data-channel messages, inflated), in the
server's log or in its database. The agent's replay does show what is not masked (so the
test cannot pass by sending nothing), masked text keeps its length and line structure,
boxes keep their size, and remote control types into allowed inputs inside a shadow root
and an iframe, never into masked ones. Every page is also compared pixel by pixel with the
agent's replay (tests/e2e/cobrowse_checks.py: method and threshold).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from signaling_server.auth import ensure_demo_key
from tests import netns, turn
from tests.e2e.cobrowse_checks import (
    MAX_DIFFERING,
    assert_nothing_leaked,
    compare,
    log_everything,
    pixel_ready,
)
from tests.e2e.conftest import serve_shop
from tests.e2e.pages import Contexts, W, open_console, part, send_from_console
from tests.e2e.sites import page_canaries, site_app, third_party_app
from tests.e2e.test_cobrowse_browser import (
    VIEW_IFRAME,
    Sent,
    click_in_view,
    point_at,
    replay,
    share,
    wait_transport,
)

TIMEOUT_MS = 15_000

# typed by the customer into fields the policy hides (digits typed one by one travel as
# growing prefixes, so the tails are searched for too)
TYPED = {
    "#email": "cnry.typed@example.org",
    "#password": "Cnry-Pass-5521",
    "#card": "4000056655665556",
    "#cvc": "cnrycvc",
}
TYPED_TAILS = ("0566556", "Pass-55", "cnry.typed")
NOTE = "VISIBLE-note Leave it at the door"
NOTE_SECRETS = ("4111111111111111", "sam.cnry@example.net")  # typed into the allowed note
NOTE_TAILS = ("11111111", "sam.cnry")
CHAT_REPLY = "cnry-chatreply-0202"  # the agent's chat reply, shown in the (blocked) widget

# set by the sites' scripts after the snapshot: (JS, canaries it plants)
LATER_CHECKOUT = """() => {
  document.getElementById("customer-ref").value = "cnry-scriptref-7712";
  document.getElementById("csrf").setAttribute("value", "cnry-scriptattr-2231");
  document.getElementById("gift").textContent = "cnry-gifttext-2232";
  document.querySelector(".lede").textContent = "VISIBLE-checkout-later";
}"""
LATER_BANK = """() => {
  const acct = document.getElementById("acct-main");
  acct.setAttribute("aria-label", "Everyday account, balance cnry-mutaria-1122");
  acct.dataset.accountId = "cnry-mutdata-1123";
  acct.querySelector("h2").title = "cnry-muttitle-3344";
  acct.querySelector(".balance").firstChild.data = "Balance cnry-muttext-5566";
  acct.querySelector("a").href = "/statements?acct=cnry-muthref-5567";
  acct.querySelector("img").alt = "cnry-mutalt-5568";
  const li = document.createElement("li");
  li.dataset.amount = "cnry-mutaddattr-7788";
  li.textContent = "Coffee cnry-mutadd-9900";
  document.getElementById("txns").append(li);
  document.getElementById("offer").textContent = "VISIBLE-offer-later";
}"""
LATER_COMPONENTS = """() => {
  const balance = document.getElementById("balance");
  balance.setAttribute("amount", "cnry-muthostattr-7007");
  const p = document.createElement("p");
  p.textContent = "cnry-mutshadow-6006";
  p.title = "cnry-mutshadowattr-6007";
  balance.shadowRoot.append(p);
  const chip = balance.shadowRoot.querySelector("ds-chip");
  chip.shadowRoot.querySelector("span").textContent = "cnry-mutnested-6008";
  const late = document.createElement("ds-balance");
  late.setAttribute("data-dcs-mask", "");
  late.setAttribute("text", "cnry-lateshadow-8008");
  document.querySelector("main").append(late);
  document.getElementById("card-open").shadowRoot.querySelector(".body").textContent = "VISIBLE-shadow-later";
}"""
LATER_FRAMES = """() => {
  const masked = document.getElementById("frame-masked").contentDocument;
  masked.getElementById("stmt").textContent = "cnry-mutframe-6767";
  masked.getElementById("stmt").title = "cnry-mutframeattr-6768";
  const open = document.getElementById("frame-open").contentDocument;
  open.getElementById("help").textContent = "VISIBLE-frame-later";
}"""
LATER = {
    "cnry-scriptref-7712", "cnry-scriptattr-2231", "cnry-gifttext-2232", "cnry-mutaria-1122",
    "cnry-mutdata-1123", "cnry-muttitle-3344", "cnry-muttext-5566", "cnry-muthref-5567",
    "cnry-mutalt-5568", "cnry-mutaddattr-7788", "cnry-mutadd-9900", "cnry-muthostattr-7007",
    "cnry-mutshadow-6006", "cnry-mutshadowattr-6007", "cnry-mutnested-6008", "cnry-lateshadow-8008",
    "cnry-mutframe-6767", "cnry-mutframeattr-6768",
}  # fmt: skip
# every LATER script's canaries are listed above
LATER_JS = LATER_CHECKOUT + LATER_BANK + LATER_COMPONENTS + LATER_FRAMES
assert set(re.findall(r"cnry-[\w-]*\d", LATER_JS)) == LATER


# what the sites' scripts change that is not masked: it must reach the agent
UNMASKED_LATER = (
    "VISIBLE-checkout-later",
    "VISIBLE-offer-later",
    "VISIBLE-shadow-later",
    "VISIBLE-frame-later",
)


@dataclass
class World:
    dcs: str = ""
    site: str = ""
    third: str = ""


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    """The partner, the customer's site, then the DCS server (allowing the site's origin),
    each on its own loopback port; coturn for the peer-to-peer path."""
    turn.require_coturn()
    made = World()
    # (no access logs: the sites' own logs are not the DCS server's, which the test searches)
    third = TestServer(third_party_app(), host="127.0.0.1")
    site = TestServer(
        site_app(
            dcs_url=lambda: made.dcs, third_url=lambda: made.third, key=lambda: ensure_demo_key(tmp_path)
        ),
        host="127.0.0.1",
    )
    await third.start_server(access_log=None)
    await site.start_server(access_log=None)
    made.third = str(third.make_url("")).rstrip("/")
    made.site = str(site.make_url("")).rstrip("/")
    monkeypatch.setenv("DCS_ALLOWED_ORIGINS", made.site)
    monkeypatch.setenv("DCS_TURN_URLS", turn.TURN_URL)
    monkeypatch.setenv("DCS_TURN_SECRET", turn.TURN_SECRET)
    try:
        async with turn.coturn(tmp_path), serve_shop(tmp_path) as dcs:
            made.dcs = dcs
            yield made
    finally:
        await site.close()
        await third.close()


@pytest.fixture
def shop_url(world: World) -> str:
    """The DCS server (the conftest's `contexts` closes its browser contexts before it stops)."""
    return world.dcs


async def live_chat(
    contexts: Contexts, world: World, sent: Sent, path: str = "/checkout"
) -> tuple[Page, Page, list[str]]:
    """A customer on a page of the site (everything its browser sends is seen) chatting
    live with Alice in the console."""
    errors: list[str] = []
    customer = await contexts.new_page()
    customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await sent.attach(customer)
    await customer.goto(f"{world.site}{path}")
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()
    agent = await open_console(contexts, world.dcs)
    agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    return customer, agent, errors


async def grant_control(customer: Page, agent: Page) -> None:
    await agent.locator(part("cobrowse-control-request")).click()
    await customer.locator(part("cobrowse-control-allow", W)).click()
    await expect(agent.locator(part("cobrowse-control"))).to_have_attribute("data-control", "granted")


async def navigate(customer: Page, agent: Page, url: str, heading: str) -> None:
    """The customer goes to another page; sharing resumes there by itself."""
    await customer.goto(url)
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_visible(timeout=TIMEOUT_MS)
    await expect(replay(agent).locator("h1")).to_have_text(heading, timeout=TIMEOUT_MS)


GEOMETRY_JS = "(e) => { const r = e.getBoundingClientRect(); return [r.width, r.height, e.innerText]; }"


async def same_box(customer: Any, shown: Any, what: str, text: bool = False) -> None:
    """The element takes the same room in the replay as on the customer's page (and, for
    masked text, has lines of the same lengths)."""
    width, height, original = await customer.evaluate(GEOMETRY_JS)
    r_width, r_height, masked = await shown.evaluate(GEOMETRY_JS)
    assert abs(r_height - height) < 0.5 and abs(r_width - width) < 0.5, (
        f"{what}: {r_width}x{r_height} in the replay, {width}x{height} on the page"
    )
    if text:
        assert [len(line) for line in masked.split("\n")] == [len(line) for line in original.split("\n")], (
            f"{what}: {masked!r} does not have the lines of {original!r}"
        )
        assert re.fullmatch(r"[x\s]+", masked), f"{what}: {masked!r} is not masked"


async def type_in_view(agent: Page, target: Any, value: str, customer_field: Any = None) -> bool:
    """The agent clicks a field in the replay and types; False if the console offered no
    typing. `customer_field`: the field on the customer's page, scrolled into view first
    (the agent can only click what the replay shows)."""
    typed = agent.locator(part("cobrowse-type"))
    if await typed.is_visible():  # the last field's: closed, so that only this click opens one
        await typed.press("Escape")
        await expect(typed).to_be_hidden()
    if customer_field is not None:
        await customer_field.scroll_into_view_if_needed()
    view = await agent.locator(VIEW_IFRAME).bounding_box()
    assert view is not None, "the replay is not shown"
    last: tuple[float, float] | None = None
    for _ in range(50):  # until the replay has followed the customer's scroll, and stays
        box = await target.bounding_box()
        assert box is not None, "the field is not visible in the viewer"
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        inside = view["x"] <= x <= view["x"] + view["width"] and view["y"] <= y <= view["y"] + view["height"]
        if inside and last == (x, y):  # not still moving: a click on a moving field misses it
            break
        last = (x, y)
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the field is outside the replay's viewport")
    await agent.mouse.click(x, y)
    try:
        await expect(typed).to_be_visible(timeout=3000)
    except AssertionError:
        return False
    await typed.fill(value)
    return True


@netns.isolated
async def test_nothing_masked_leaves_real_sites(
    contexts: Contexts, world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_everything(caplog)
    sent = Sent()
    figures: dict[str, float] = {}
    customer, agent, errors = await live_chat(contexts, world, sent)
    await pixel_ready(customer, agent)
    await share(customer, agent)
    await wait_transport(customer, "peer")
    view = replay(agent)
    await expect(view.locator("h1")).to_have_text("Secure checkout", timeout=TIMEOUT_MS)
    await grant_control(customer, agent)
    # the widget is blocked, its own shadow root too: a reply shown there is not sent back
    await send_from_console(agent, CHAT_REPLY)
    await expect(customer.locator(W)).to_contain_text(CHAT_REPLY)

    # checkout: typed, pre-filled, hidden and script-set values
    note = f"{NOTE} {NOTE_SECRETS[0]} {NOTE_SECRETS[1]} ok"
    await customer.locator("#note").press_sequentially(note, delay=5)
    for selector, value in TYPED.items():
        await customer.locator(selector).press_sequentially(value, delay=5)
    await customer.locator("#note").focus()
    await customer.evaluate(LATER_CHECKOUT)
    await expect(view.locator(".lede")).to_have_text("VISIBLE-checkout-later", timeout=TIMEOUT_MS)
    await expect(view.locator("#note")).to_have_value(re.compile(re.escape(NOTE)), timeout=TIMEOUT_MS)
    for selector in TYPED:
        await expect(view.locator(selector)).to_have_value(re.compile(r"^\*+$"), timeout=TIMEOUT_MS)
    for hidden in ("#csrf", "#order-token", "#customer-ref"):
        value = await view.locator(hidden).get_attribute("value")
        assert value is None, f"{hidden} has a value in the replay"
    await expect(view.locator("#newsletter")).not_to_be_checked()  # not allowed: its state stays home
    await expect(customer.locator("#newsletter")).to_be_checked()
    assert await compare(customer, agent, "checkout", figures, tmp_path) < MAX_DIFFERING
    # the agent types into the allowed note (shown as typed, under the same rules as the
    # customer's own typing), never into the card number under the mask
    assert await type_in_view(
        agent, view.locator("#note"), "VISIBLE-typed-note ok", customer.locator("#note")
    )
    await expect(customer.locator("#note")).to_have_value("VISIBLE-typed-note ok")
    await type_in_view(agent, view.locator("#card"), "5555", customer.locator("#card"))
    await point_at(customer, agent, "#card")
    await expect(customer.locator("#card")).to_have_value(TYPED["#card"])

    # online banking: balances in attributes, masked text keeps its shape
    await navigate(customer, agent, f"{world.site}/bank", "Accounts overview")
    await expect(view.locator("#greeting")).to_contain_text("VISIBLE-bank")
    await same_box(customer.locator("#statement"), view.locator("#statement"), "masked statement", text=True)
    await same_box(customer.locator("#address"), view.locator("#address"), "masked address", text=True)
    await same_box(customer.locator("#acct-main"), view.locator("#acct-main"), "masked account")
    await same_box(customer.locator(".spark"), view.locator(".spark"), "masked image")
    await customer.evaluate(LATER_BANK)
    await expect(view.locator("#offer")).to_have_text("VISIBLE-offer-later", timeout=TIMEOUT_MS)
    await expect(view.locator("#txns li")).to_have_count(2)
    assert await compare(customer, agent, "bank", figures, tmp_path) < MAX_DIFFERING

    # a design system: open shadow roots (masked hosts, nested), a closed one, typing
    await navigate(customer, agent, f"{world.site}/components", "Components")
    await expect(view.locator("#card-open .body")).to_have_text(re.compile("VISIBLE-shadow-card"))
    await expect(view.locator("#card-open [slot=title]")).to_have_text("VISIBLE-slotted Returns")
    await same_box(customer.locator("#secret"), view.locator("#secret"), "closed shadow root")
    amount = "#balance .amount"
    await same_box(customer.locator(amount), view.locator(amount), "masked shadow text", text=True)
    await customer.evaluate(LATER_COMPONENTS)
    await expect(view.locator("#card-open .body")).to_have_text("VISIBLE-shadow-later", timeout=TIMEOUT_MS)
    assert await compare(customer, agent, "components", figures, tmp_path) < MAX_DIFFERING
    assert await type_in_view(
        agent, view.locator("#ref-open"), "VISIBLE-typed-ref", customer.locator("#field-masked")
    )
    await expect(customer.locator("#ref-open")).to_have_value("VISIBLE-typed-ref")
    await type_in_view(agent, view.locator("#ref-masked"), "9999")
    await point_at(customer, agent, "#field-open")  # (whatever the console sent has arrived by now)
    await expect(customer.locator("#ref-masked")).to_have_value("")

    # iframes: same-origin (open, masked, blocked) and another origin's
    await navigate(customer, agent, f"{world.site}/frames", "Help and statements")
    open_frame = view.frame_locator("#frame-open")
    await expect(open_frame.locator("#help")).to_contain_text("VISIBLE-frame-help", timeout=TIMEOUT_MS)
    await same_box(customer.locator("#frame-foreign"), view.locator("#frame-foreign"), "cross-origin iframe")
    await customer.evaluate(LATER_FRAMES)
    await expect(open_frame.locator("#help")).to_have_text("VISIBLE-frame-later", timeout=TIMEOUT_MS)
    assert await compare(customer, agent, "frames", figures, tmp_path) < MAX_DIFFERING
    frame_note = customer.frame_locator("#frame-open").locator("#frame-note")
    assert await type_in_view(agent, open_frame.locator("#frame-note"), "VISIBLE-typed-frame", frame_note)
    await expect(frame_note).to_have_value("VISIBLE-typed-frame")
    masked_note = customer.frame_locator("#frame-masked").locator("#frame-note")
    await type_in_view(agent, view.frame_locator("#frame-masked").locator("#frame-note"), "9999", masked_note)
    await point_at(customer, agent, "#frame-masked")
    await expect(customer.frame_locator("#frame-masked").locator("#frame-note")).to_have_value("")

    await customer.locator(part("cobrowse-stop", W)).click()
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(0, timeout=TIMEOUT_MS)

    # not one canary left the customer's browser: not on the wire, not in logs, not stored
    canaries = page_canaries() | LATER | set(TYPED.values()) | set(NOTE_SECRETS)
    assert len(canaries) > 50, canaries
    assert CHAT_REPLY not in sent.text(), "the widget's own content was recorded"
    searched = canaries | set(TYPED_TAILS) | set(NOTE_TAILS)
    assert_nothing_leaked(searched, (NOTE, "VISIBLE-typed-note", *UNMASKED_LATER), sent, caplog, tmp_path)
    assert not errors, errors


@netns.isolated
async def test_replay_follows_a_single_page_app_and_closed_dialogs(
    contexts: Contexts, world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The console follows the URL and title through pushState, replaceState, hash changes
    and going back; after the customer closes a modal dialog, the agent's clicks and typing
    reach the page again (the replay does not keep the rest of the page inert), never a
    masked field; nothing masked on the page (or in its dialog) is sent."""
    log_everything(caplog)
    sent = Sent()
    figures: dict[str, float] = {}
    customer, agent, errors = await live_chat(contexts, world, sent, "/app")
    await pixel_ready(customer, agent)
    await share(customer, agent)
    view = replay(agent)
    url = agent.locator(part("cobrowse-url"))
    await expect(view.locator("h1")).to_have_text("Dashboard", timeout=TIMEOUT_MS)
    await expect(url).to_contain_text("/app")
    await expect(view.locator("#plan")).to_have_text(re.compile(r"^[x\s]+$"))
    assert await compare(customer, agent, "app", figures, tmp_path) < MAX_DIFFERING
    await grant_control(customer, agent)

    # a modal dialog opens and closes on the customer's page; clicks then reach the page
    await customer.locator("#open-settings").click()
    await expect(view.locator("#settings")).to_be_visible(timeout=TIMEOUT_MS)
    await customer.locator("#close-settings").click()
    await expect(view.locator("#settings")).to_be_hidden(timeout=TIMEOUT_MS)
    await click_in_view(agent, "#more")
    await expect(customer.locator("#count")).to_have_text("1")
    await expect(view.locator("#count")).to_have_text("1", timeout=TIMEOUT_MS)
    # while it is open, the agent clicks in it; closed, the page is theirs again
    await customer.locator("#open-settings").click()
    await expect(view.locator("#settings")).to_be_visible(timeout=TIMEOUT_MS)
    await click_in_view(agent, "#close-settings")
    await expect(customer.locator("#settings")).to_be_hidden()
    await expect(view.locator("#settings")).to_be_hidden(timeout=TIMEOUT_MS)
    await click_in_view(agent, "#more")
    await expect(customer.locator("#count")).to_have_text("2")
    # and types: into the allowed field, never into the one that is not allowed
    assert await type_in_view(
        agent, view.locator("#app-ref"), "VISIBLE-typed-app ok", customer.locator("#app-ref")
    )
    await expect(customer.locator("#app-ref")).to_have_value("VISIBLE-typed-app ok")
    await type_in_view(agent, view.locator("#app-answer"), "9999", customer.locator("#app-answer"))
    await point_at(customer, agent, "#app-answer")
    await expect(customer.locator("#app-answer")).to_have_value("cnry-appanswer-7301")
    assert await compare(customer, agent, "app-after-dialog", figures, tmp_path) < MAX_DIFFERING

    # the router changes the URL and the title; the console follows
    await customer.evaluate("() => go('/app/orders?tab=open', 'Orders · Alpine app')")
    await expect(url).to_contain_text("/app/orders?tab=open", timeout=TIMEOUT_MS)
    await expect(url).to_contain_text("Orders · Alpine app")
    await expect(view.locator("h1")).to_have_text("Orders")
    await customer.evaluate("() => go('/app/orders/42', 'Order 42 · Alpine app', true)")
    await expect(url).to_contain_text("/app/orders/42", timeout=TIMEOUT_MS)
    await expect(url).to_contain_text("Order 42 · Alpine app")
    await customer.evaluate("() => { location.hash = 'details'; }")
    await expect(url).to_contain_text("/app/orders/42#details", timeout=TIMEOUT_MS)
    await customer.go_back()  # back to the order without the hash (a hash change)
    await expect(url).not_to_contain_text("#details", timeout=TIMEOUT_MS)
    await expect(url).to_contain_text("/app/orders/42")
    await customer.go_back()  # back to where the app started (popstate alone)
    await expect(url).to_have_text(re.compile(r"/app\s*$"), timeout=TIMEOUT_MS)

    canaries = page_canaries(("app.html",))
    assert len(canaries) >= 6, canaries
    assert_nothing_leaked(canaries, ("VISIBLE-app", "VISIBLE-typed-app", "Order 42"), sent, caplog, tmp_path)
    assert not errors, errors
