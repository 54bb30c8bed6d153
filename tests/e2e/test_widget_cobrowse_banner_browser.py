"""The co-browse banner in real Chromium: a small bar docked to a bottom corner that never
covers the site's header links (desktop and phone), movable to another corner with one
button, Stop one click away; axe finds nothing serious in the prompt, the banner or the
console's co-browse view."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, ViewportSize, expect

from tests.e2e.axe import WIDGET, assert_no_serious_violations
from tests.e2e.pages import Contexts, W, live_session, part

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)

# Every link in the site's header, and whether a click at its centre would reach it.
HEADER_LINKS_JS = """
() => [...document.querySelectorAll("header a")].map((a) => {
  const box = a.getBoundingClientRect();
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return {text: a.textContent.trim(), reachable: !!hit && (hit === a || a.contains(hit))};
})
"""

BANNER_BOX_JS = """
() => {
  const root = document.querySelector("#dcs-widget-root").shadowRoot;
  const b = root.querySelector("[data-part=cobrowse-banner]");
  const r = b.getBoundingClientRect();
  return {left: r.left, top: r.top, right: r.right, bottom: r.bottom, corner: b.dataset.corner};
}
"""


async def header_links(page: Page) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = await page.evaluate(HEADER_LINKS_JS)
    assert links, "the demo shop has header links"
    return links


async def test_banner_docks_in_a_corner_and_leaves_the_header_clickable(
    contexts: Contexts, shop_url: str
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    await agent.locator(part("cobrowse-request")).click()
    await expect(customer.locator(part("cobrowse-prompt", W))).to_be_visible()
    await assert_no_serious_violations(customer, "widget, co-browse consent prompt", WIDGET)
    await customer.locator(part("cobrowse-allow", W)).click()
    banner = customer.locator(part("cobrowse-banner", W))
    await expect(banner).to_contain_text("Alice Martin can see this page")
    await assert_no_serious_violations(customer, "widget, co-browse active", WIDGET)
    await assert_no_serious_violations(agent, "console, co-browse active")

    # panel closed, desktop: the bar sits in the bottom-left corner, every header link clickable
    await customer.locator(part("close", W)).click()
    await customer.set_viewport_size(DESKTOP)
    box = await customer.evaluate(BANNER_BOX_JS)
    assert box["corner"] == "bottom-start" and box["left"] < 40 and box["bottom"] > DESKTOP["height"] - 40, (
        box
    )
    assert all(link["reachable"] for link in await header_links(customer))
    # and really clickable: "go to Orders" works with the bar up
    await customer.locator("header a", has_text="Orders").click()
    await expect(customer).to_have_url(f"{shop_url}/orders")
    await expect(banner).to_be_visible()  # co-browse follows the navigation

    # a phone: still docked low, still out of the header's way
    await customer.set_viewport_size(PHONE)
    box = await customer.evaluate(BANNER_BOX_JS)
    assert box["right"] <= PHONE["width"] - 80 and box["bottom"] > PHONE["height"] - 80, box
    assert all(link["reachable"] for link in await header_links(customer))

    # movable: one button takes it to the next corner (top-left), and on round
    move = customer.locator(part("cobrowse-move", W))
    await move.click()
    assert (await customer.evaluate(BANNER_BOX_JS))["corner"] == "top-start"
    for _ in range(3):
        await move.click()
    assert (await customer.evaluate(BANNER_BOX_JS))["corner"] == "bottom-start"

    # the panel open on a phone: the bar sits above the panel, not over its composer
    await customer.locator(part("launcher", W)).click()
    composer = await customer.locator(part("input", W)).bounding_box()
    box = await customer.evaluate(BANNER_BOX_JS)
    assert composer is not None and box["bottom"] <= composer["y"], (box, composer)
    await assert_no_serious_violations(customer, "widget, co-browse with the panel open on a phone", WIDGET)

    # Stop: one click, from the bar
    await customer.locator(part("cobrowse-stop", W)).click()
    await expect(banner).to_be_hidden()
    assert not errors, errors
