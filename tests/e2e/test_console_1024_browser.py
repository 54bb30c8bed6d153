"""The console at 1024x768 (issue 13: "works down to 1024 px wide"), in real Chromium, with a
video call and the customer's page (co-browse) open in the middle column: the conversation
and the reply box stay on screen, uncovered and usable (a reply typed there reaches the
customer), the page does not scroll sideways, and axe finds nothing serious. Runs in a
private network namespace (tests/netns.py), like the other call tests."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests import netns
from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.pages import Contexts, W, live_session, part, send_from_console
from tests.e2e.test_calls_browser import CALL_TIMEOUT_MS, agent_rings_customer_accepts

WIDTH, HEIGHT = 1024, 768
MIN_LOG_PX = 120  # the conversation keeps at least this much height beside the media

# whether the element under the centre of `selector` is that element (or inside it): nothing
# (a sticky bar, the media, an overlay) covers it
UNCOVERED = """(selector) => {
  const el = document.querySelector(selector);
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (hit === el || el.contains(hit));
}"""


async def inside_viewport(page: Page, name: str) -> None:
    box = await page.locator(part(name)).bounding_box()
    assert box is not None, f"{name} is not rendered"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5, (name, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= HEIGHT + 0.5, (name, box)
    assert await page.evaluate(UNCOVERED, part(name)), f"{name} is covered by another element"


@netns.isolated
async def test_console_at_1024x768_with_video_and_cobrowse_keeps_the_reply_box_usable(
    contexts: Contexts, shop_url: str
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    await agent.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    for i in range(8):
        await send_from_console(agent, f"line {i} of the conversation")
    await expect(customer.locator(part("message", W)).filter(has_text="line 7")).to_have_count(1)
    await agent_rings_customer_accepts(customer, agent, video=True)
    await expect(agent.locator(part("remote-video"))).to_be_visible(timeout=CALL_TIMEOUT_MS)
    await agent.locator(part("cobrowse-request")).click()
    await customer.locator(part("cobrowse-allow", W)).click()
    await expect(agent.locator(f"{part('cobrowse-view')} iframe")).to_have_count(1, timeout=CALL_TIMEOUT_MS)

    # both media are open and on screen
    for name in ("remote-video", "cobrowse-view"):
        await expect(agent.locator(part(name))).to_be_in_viewport()
    # the conversation: a few lines tall, and still showing its latest line (the media opening
    # above it shrank it)
    log = await agent.locator(part("messages")).bounding_box()
    assert log is not None and log["height"] >= MIN_LOG_PX, log
    assert log["x"] >= 0 and log["x"] + log["width"] <= WIDTH + 0.5, log
    await expect(agent.locator(part("message")).last).to_be_in_viewport()
    # the reply box and its Send button: inside the viewport and not covered
    await inside_viewport(agent, "input")
    await inside_viewport(agent, "send")
    # nothing makes the page scroll sideways at this width
    overflow = await agent.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the console is {overflow}px wider than a {WIDTH}px window"

    # usable: typed by keyboard, sent with Enter, and with the Send button
    box = agent.locator(part("input"))
    await box.click()
    await agent.keyboard.type("typed at 1024x768")
    await agent.keyboard.press("Enter")
    await expect(customer.locator(part("message", W)).filter(has_text="typed at 1024x768")).to_have_count(1)
    await expect(box).to_have_value("")
    await box.fill("sent with the button")
    await agent.locator(part("send")).click()
    sent = "sent with the button"
    await expect(customer.locator(part("message", W)).filter(has_text=sent)).to_have_count(1)
    await expect(agent.locator(part("message")).filter(has_text=sent)).to_be_in_viewport()
    await assert_no_serious_violations(agent, "console at 1024x768 with video and co-browse")
    assert not errors, errors
