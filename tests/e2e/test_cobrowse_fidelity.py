"""The agent sees the customer's page: pixel comparisons of the page and its co-browse replay.

The pages (tests/e2e/sites/fidelity.py) are on the customer's site, another origin (port)
than DCS, as real sites are: a product page (images, a web font, CSS backgrounds), a canvas
chart (the site opts in to canvas recording; canvases in a shadow root, in an iframe, and
WebGL ones too), a 10,000-node table, a single-page app with client-side routes
(pushState), a form (selects, checkboxes, radio buttons, a range), inner scrollers and
live-updating content. The customer and the agent's console are in browser
contexts of their own; one real co-browse (through the server relay) goes from page to page.

On every page: a pixel comparison (method and threshold: tests/e2e/cobrowse_checks.py);
canaries in each of its masked places (masked text and attributes, a link's query, hidden
and pre-filled inputs, a masked canvas, a masked message in an inner scroller, masked
content added by a route change or changed by every live update), none of which is in what
the customer's browser sent, the server's log or its database at the end; and text that is
not masked, which did arrive.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Locator, Page, ViewportSize, WebSocketRoute, expect

from signaling_server.auth import ensure_demo_key
from tests.e2e.cobrowse_checks import (
    CONSOLE_VIEWPORT,
    HIDE_REPLAY_MOUSE_CSS,
    MAX_DIFFERING,
    VIEWPORT,
    assert_nothing_leaked,
    log_everything,
)
from tests.e2e.cobrowse_checks import compare as compare_pixels
from tests.e2e.conftest import serve_shop
from tests.e2e.pages import Contexts, W, open_console, part
from tests.e2e.sites import FIDELITY_FILES, page_canaries, site_app, third_party_app
from tests.e2e.test_cobrowse_browser import Sent, replay, share

TIMEOUT_MS = 15_000
FIRST_VIEW_AIM_MS = 500  # consent -> the 10,000-node page in full in the console (bench)

# the customer clicks Allow: when (one clock for both pages: they are in one browser)
ALLOW_CLOCK_JS = """
window.addEventListener("click", (e) => {
  if (e.composedPath().some((n) => n.dataset && n.dataset.part === "cobrowse-allow"))
    window.__allowAt = performance.timeOrigin + performance.now();
}, true);
"""
# the console: when does the replay first show `selector` (the next frame after it is there;
# a console holding several sessions has a replay for each)
WATCH_FIRST_VIEW_JS = """
(selector) => {
  window.__firstViewAt = 0;
  const poll = () => {
    const frames = [...document.querySelectorAll("[data-part='cobrowse-view'] iframe")];
    if (frames.some((iframe) => iframe.contentDocument && iframe.contentDocument.querySelector(selector))) {
      requestAnimationFrame(() => (window.__firstViewAt = performance.timeOrigin + performance.now()));
      return;
    }
    requestAnimationFrame(poll);
  };
  poll();
}
"""
COUNT_NODES_JS = """
() => document.getElementsByTagName("*").length
  + document.evaluate("count(//text())", document, null, XPathResult.NUMBER_TYPE, null).numberValue
"""
SELECTED_JS = "(el) => [el.selectedIndex, el.selectedOptions[0] && el.selectedOptions[0].text]"
# n updates of the live page, `ms` apart; SMALL_TICKS_JS changes only its last line
TICKS_JS = """
async ([from, to, ms]) => {
  for (let n = from; n <= to; n += 1) { window.tick(n); await new Promise((r) => setTimeout(r, ms)); }
}
"""
SMALL_TICKS_JS = """
async ([from, to, ms]) => {
  for (let n = from; n <= to; n += 1) {
    ready.textContent = `tick ${n}`;
    await new Promise((r) => setTimeout(r, ms));
  }
}
"""


@dataclass
class World:
    dcs: str = ""
    site: str = ""
    third: str = ""
    figures: dict[str, float] = field(default_factory=dict)


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    """The customer's site, then the DCS server allowing its origin, each on a port of its
    own. No ICE server and a relay-only policy: frames go through the server relay."""
    made = World()
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
    monkeypatch.setenv("DCS_ICE_TRANSPORT_POLICY", "relay")
    monkeypatch.setenv("DCS_LOG_LEVEL", "WARNING")
    try:
        async with serve_shop(tmp_path) as dcs:
            made.dcs = dcs
            yield made
    finally:
        await site.close()
        await third.close()
        if os.environ.get("DCS_FIDELITY_REPORT"):
            print("\nfidelity:", made.figures)


@pytest.fixture
def shop_url(world: World) -> str:
    return world.dcs


async def new_page(contexts: Contexts, viewport: ViewportSize, init: str = "") -> Page:
    context = await contexts.browser.new_context(viewport=viewport)
    contexts.opened.append(context)
    if init:
        await context.add_init_script(init)
    page: Page = await context.new_page()
    return page


async def compare(customer: Page, agent: Page, name: str, world: World, out: Path) -> float:
    return await compare_pixels(customer, agent, name, world.figures, out)


async def goto(customer: Page, agent: Page, url: str, ready: str) -> None:
    """The customer goes to another page; sharing resumes there by itself."""
    await customer.goto(url)
    await expect(customer.locator(part("cobrowse-banner", W))).to_be_visible(timeout=TIMEOUT_MS)
    await expect(replay(agent).locator("#ready")).to_contain_text(ready, timeout=TIMEOUT_MS)


# text of the pages that is not masked (next to masked text, or changed after the
# snapshot): it must reach the agent
SHOWN = (
    "#101119",  # the table's last row
    "Three layers, one jacket",
    "Drawn on a canvas",
    "Member since 2019",  # a route the single-page app rendered
    "Change anything",
    "your order 100259 has shipped",  # the inbox's last message
    "tick 40",
)
MASKED_TEXT = re.compile(r"^[x\s]+$")


async def masked(shown: Locator) -> None:
    """A masked element of the replay shows runs of "x" only (text's length kept)."""
    await expect(shown).to_have_text(MASKED_TEXT)


async def test_the_agent_sees_the_customers_page(
    contexts: Contexts, world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_everything(caplog)
    errors: list[str] = []
    customer = await new_page(contexts, VIEWPORT, ALLOW_CLOCK_JS)
    customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    sent = Sent()
    await sent.attach(customer)
    await customer.goto(f"{world.site}/fid/table")
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()
    agent = await open_console(contexts, world.dcs)
    await agent.set_viewport_size(CONSOLE_VIEWPORT)
    agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
    unread: list[str] = []
    agent.on("console", lambda m: "could not be read" in m.text and unread.append(m.text))
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    await agent.add_style_tag(content=HIDE_REPLAY_MOUSE_CSS)

    # consent -> the 10,000-node page in full in the console
    nodes = await customer.evaluate(COUNT_NODES_JS)
    assert nodes >= 10_000, nodes
    await agent.evaluate(WATCH_FIRST_VIEW_JS, "#row-1119")
    await share(customer, agent)
    await agent.wait_for_function("() => window.__firstViewAt > 0", timeout=TIMEOUT_MS)
    allowed_at = await customer.evaluate("() => window.__allowAt")
    world.figures["first_view_ms"] = round(await agent.evaluate("() => window.__firstViewAt") - allowed_at)
    assert await compare(customer, agent, "table", world, tmp_path) < MAX_DIFFERING
    view = replay(agent)
    await masked(view.locator("#owner"))
    assert await view.locator("#owner").get_attribute("aria-label") is None

    # a product page: images, a web font, CSS backgrounds (all from the site's origin)
    await goto(customer, agent, f"{world.site}/fid/product", "Free returns")
    assert await compare(customer, agent, "product", world, tmp_path) < MAX_DIFFERING
    await masked(view.locator("#ship-to"))
    await expect(view.locator("#ship-to a")).to_have_attribute("href", "#")
    await expect(view.locator("input[name=cart]")).not_to_have_attribute("value", re.compile("."))

    # a canvas chart (the site opted in): drawn before the snapshot, then redrawn
    await goto(customer, agent, f"{world.site}/fid/chart", "Drawn on a canvas")
    assert await compare(customer, agent, "chart", world, tmp_path) < MAX_DIFFERING
    await customer.evaluate("() => window.drawChart(2)")
    assert await compare(customer, agent, "chart-redrawn", world, tmp_path) < MAX_DIFFERING
    # canvases in an open shadow root, a same-origin iframe, WebGL (keeping its drawing
    # buffer or not: Chromium reads what the canvas shows): shown; a canvas nothing was
    # drawn on: no frame, an empty box of its size
    drawn = re.compile(r'url\("data:image/webp')
    await expect(view.locator("#shadow-spark canvas")).to_have_css("background-image", drawn)
    await expect(view.frame_locator("#chart-frame").locator("#frame-spark")).to_have_css(
        "background-image", drawn
    )
    await expect(view.locator("#gl-kept")).to_have_css("background-image", drawn)
    await expect(view.locator("#gl-cleared")).to_have_css("background-image", drawn)
    await expect(view.locator("#empty")).to_have_css("background-image", "none")
    size = "(el) => [el.getBoundingClientRect().width, el.getBoundingClientRect().height]"
    assert await customer.locator("#empty").evaluate(size) == await view.locator("#empty").evaluate(size)
    # a masked canvas: its box, never its picture (no frame of it was sent)
    balance = view.locator("#balance")
    assert await balance.evaluate("(el) => el.style.backgroundImage") == ""
    assert await customer.locator("#balance").evaluate(size) == await balance.evaluate(size)

    # a single-page app: the console follows its routes (URL and title), and shows them
    await customer.goto(f"{world.site}/fid/spa")
    view = replay(agent)
    url = agent.locator(part("cobrowse-url"))
    await expect(view.locator("h1")).to_have_text("Welcome back", timeout=TIMEOUT_MS)
    # (a click by script: the widget's panel covers the bar)
    await customer.locator("a[href='/fid/spa/orders']").dispatch_event("click")
    await expect(view.locator("h1")).to_have_text("Your orders")
    await expect(url).to_contain_text(f"{world.site}/fid/spa/orders")
    await expect(url).to_contain_text("Orders · Peak app")
    assert await compare(customer, agent, "spa-orders", world, tmp_path) < MAX_DIFFERING
    await customer.evaluate("() => history.replaceState({}, '', '/fid/spa/orders?year=2024')")
    await expect(url).to_contain_text("/fid/spa/orders?year=2024")
    await customer.evaluate("() => { location.hash = 'recent'; }")
    await expect(url).to_contain_text("/fid/spa/orders?year=2024#recent")
    await customer.locator("a[href='/fid/spa/account']").dispatch_event("click")
    await expect(url).to_contain_text("/fid/spa/account")
    await expect(url).to_contain_text("Account · Peak app")
    await masked(view.locator("#card-on-file"))  # added by the route, under a mask
    assert await compare(customer, agent, "spa-account", world, tmp_path) < MAX_DIFFERING
    await customer.go_back()  # popstate
    await expect(view.locator("h1")).to_have_text("Your orders")
    await expect(url).to_contain_text("/fid/spa/orders?year=2024#recent")
    await expect(url).to_contain_text("Orders · Peak app")

    # a form: the state of selects, checkboxes, radio buttons and a range, as set by the
    # markup, by the page's script, and by the customer
    await goto(customer, agent, f"{world.site}/fid/form", "Change anything")
    await expect(view.locator("#size")).to_have_value("l")
    await expect(view.locator("#colour")).to_have_value("blue")
    await expect(view.locator("#gift")).to_be_checked()
    await expect(view.locator("#ship-express")).to_be_checked()
    await expect(view.locator("#quantity")).to_have_value("7")
    await expect(view.locator("#promo")).to_have_value(re.compile(r"^\*+$"))  # not allowed
    await expect(view.locator("#basket")).not_to_have_attribute("value", re.compile("."))
    await masked(view.locator("#loyalty"))
    assert await compare(customer, agent, "form", world, tmp_path) < MAX_DIFFERING
    await customer.locator("#size").select_option("m")
    await customer.locator("#colour").select_option("green")
    await customer.locator("#gift").uncheck()
    await customer.locator("#insure").check()
    await customer.locator("#ship-standard").check()
    await customer.locator("#quantity").fill("3")
    await customer.locator("#country").select_option("fr")
    await expect(view.locator("#size")).to_have_value("m")
    await expect(view.locator("#colour")).to_have_value("green")
    await expect(view.locator("#gift")).not_to_be_checked()
    await expect(view.locator("#insure")).to_be_checked()
    await expect(view.locator("#ship-standard")).to_be_checked()
    await expect(view.locator("#quantity")).to_have_value("3")
    # the masked select shows a neutral value: neither blank nor the customer's choice
    country = view.locator("#country")
    await expect(country).not_to_have_value("fr")
    shown = await country.evaluate(SELECTED_JS)
    assert shown[0] >= 0 and shown[1] and "France" not in shown[1], shown
    assert await compare(customer, agent, "form-changed", world, tmp_path) < MAX_DIFFERING

    # inner scrollers: scrolled before the snapshot, then by the customer
    await goto(customer, agent, f"{world.site}/fid/scroller", "Scrolled inside")
    await expect(view.locator("#inbox")).to_have_js_property("scrollTop", 400)
    await expect(view.locator("#sizes")).to_have_js_property("scrollLeft", 250)
    # a canvas of a page that did not opt in: its box, nothing of its picture
    box = await customer.locator("#spark").bounding_box()
    shown_box = await view.locator("#spark").bounding_box()
    assert box and shown_box and (box["width"], box["height"]) == (shown_box["width"], shown_box["height"]), (
        shown_box
    )
    assert await view.locator("#spark").evaluate("(el) => el.style.backgroundImage") == ""
    await masked(view.locator("#inbox .item:nth-child(13)"))
    assert await compare(customer, agent, "scroller", world, tmp_path) < MAX_DIFFERING
    await customer.evaluate("() => { inbox.scrollTop = 900; sizes.scrollLeft = 600; }")
    await expect(view.locator("#inbox")).to_have_js_property("scrollTop", 900)
    await expect(view.locator("#sizes")).to_have_js_property("scrollLeft", 600)
    assert await compare(customer, agent, "scroller-moved", world, tmp_path) < MAX_DIFFERING

    # live-updating content: 40 updates, 50 ms apart, every one through the relay as a
    # frame written against earlier ones (relaycodec.js), and read: the view never had to
    # start over from a fresh snapshot
    await goto(customer, agent, f"{world.site}/fid/live", "tick 0")
    epoch = await customer.evaluate("() => window.__dcsCobrowse.epoch")
    await customer.evaluate(TICKS_JS, [1, 40, 50])
    await expect(view.locator("#ready")).to_have_text("tick 40", timeout=TIMEOUT_MS)
    await masked(view.locator("#balance"))  # changed with every update, never sent
    assert await view.locator("#balance").get_attribute("data-raw") is None
    assert await compare(customer, agent, "live", world, tmp_path) < MAX_DIFFERING
    assert await customer.evaluate("() => window.__dcsCobrowse.epoch") == epoch, "the view started over"
    assert not unread, unread
    relayed = [m for m in sent.messages if m.startswith("4") and "cobrowse.data" in m]
    copies = [m for m in relayed if re.search(r'"frame":"\^[a-z0-9]{4}\.\d+\.\d+', m)]
    assert len(copies) >= 20, f"{len(copies)} of {len(relayed)} relayed frames went as copies of earlier ones"
    wire = sent.text()  # (decoded: every relayed frame names frames sent before it)
    assert "tick 39" in wire and "tick 40" in wire
    assert "tick 39" not in "\n".join(relayed), "the live text went as it is, not as copies"

    # the console reloads (its new connection has none of the frames the next ones are
    # written against) and then loses a relayed frame: the view recovers both times
    drop = {"armed": False, "dropped": 0}
    agent_sent: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_server(message: str | bytes) -> None:
            if drop["armed"] and isinstance(message, str) and '"frame":"^' in message:
                drop["armed"] = False
                drop["dropped"] += 1
                return
            ws.send(message)

        def from_page(message: str | bytes) -> None:
            agent_sent.append(str(message))
            server.send(message)

        server.on_message(from_server)
        ws.on_message(from_page)

    await agent.route_web_socket(re.compile(r"/socket\.io/"), route)
    await agent.reload()
    view = replay(agent)
    await expect(view.locator("#ready")).to_have_text("tick 40", timeout=TIMEOUT_MS)
    await customer.evaluate("() => window.tick(41)")
    await expect(view.locator("#ready")).to_have_text("tick 41", timeout=TIMEOUT_MS)
    epoch = await customer.evaluate("() => window.__dcsCobrowse.epoch")
    drop["armed"] = True
    await customer.evaluate(SMALL_TICKS_JS, [42, 46, 100])  # (small frames: copies of earlier ones)
    await expect(view.locator("#ready")).to_have_text("tick 46", timeout=TIMEOUT_MS)
    assert drop["dropped"] == 1
    console_sent = Sent()
    console_sent.messages = agent_sent
    assert '{"t":"rz"' in console_sent.text(), "the console did not ask the page to start afresh"
    now = await customer.evaluate("() => window.__dcsCobrowse.epoch")
    assert now != epoch, "no fresh snapshot after the loss"
    assert await compare(customer, agent, "live-recovered", world, tmp_path) < MAX_DIFFERING

    # not one canary of these pages left the customer's browser
    canaries = page_canaries(FIDELITY_FILES)
    assert len(canaries) >= 15, canaries
    assert_nothing_leaked(canaries, SHOWN, sent, caplog, tmp_path)
    assert not errors, errors
