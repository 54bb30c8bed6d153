"""Accessibility as a gate, in real Chromium: axe-core finds no serious or critical
violation in the widget or the console in any state the journey reaches, focus lands where
the next action is after each state change, and toggles say the state they are in.

The call and co-browse states are checked with their own features in
test_widget_call_bar_browser.py and test_widget_cobrowse_banner_browser.py.
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.axe import WIDGET, assert_no_serious_violations
from tests.e2e.pages import Contexts, W, part, send_from_console, send_from_widget


async def focused_part(page: Page) -> str | None:
    """The data-part of the element with keyboard focus, looking into the widget's shadow root."""
    part_name: str | None = await page.evaluate(
        """() => {
          let el = document.activeElement;
          while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
          return el ? el.getAttribute("data-part") || el.tagName.toLowerCase() : null;
        }"""
    )
    return part_name


async def test_widget_and_console_pass_axe_in_every_chat_state(contexts: Contexts, shop_url: str) -> None:
    customer = await contexts.new_page()
    await customer.goto(f"{shop_url}/")
    await expect(customer.locator(part("launcher", W))).to_be_visible()
    await assert_no_serious_violations(customer, "widget closed", WIDGET)

    # the assistant; keyboard: the launcher opens the panel with focus in the composer
    await customer.locator(part("launcher", W)).focus()
    await customer.keyboard.press("Enter")
    await expect(customer.locator(part("message", W)).first).to_be_visible()
    assert await focused_part(customer) == "input"
    await assert_no_serious_violations(customer, "widget with the assistant", WIDGET)

    # the console before anyone waits: sign-in, then the empty workspace
    agent = await contexts.new_page()
    await agent.goto(f"{shop_url}/console")
    await expect(agent.locator(part("agent-option")).first).to_be_visible()
    await assert_no_serious_violations(agent, "console sign-in")
    await agent.locator(part("agent-option") + "[data-agent-id='alice']").click()
    presence = agent.locator(part("presence"))
    await expect(presence).to_have_text("Available")
    await expect(agent.locator("h1")).to_have_count(1)
    await assert_no_serious_violations(agent, "console, empty workspace")

    # "Talk to a person" (by keyboard): the button goes away, focus moves to the composer (not <body>)
    await customer.locator(part("escalate", W)).focus()
    await customer.keyboard.press("Enter")
    await expect(customer.locator(part("queue", W))).to_be_visible()
    await expect(customer.locator(part("escalate", W))).to_be_hidden()
    assert await focused_part(customer) == "input"
    await assert_no_serious_violations(customer, "widget queued", WIDGET)
    await expect(agent.locator(part("queue-item"))).to_have_count(1)
    await assert_no_serious_violations(agent, "console with a waiting customer")

    # live (accepted by keyboard: focus lands in the reply box), with a link in a message
    await agent.locator(part("queue-item")).first.locator(part("accept")).focus()
    await agent.keyboard.press("Enter")
    await expect(agent.locator(part("input"))).to_be_focused()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    await send_from_console(agent, "Your tracking page: https://example.com/track?id=1.")
    await send_from_widget(customer, "Thanks")
    await expect(agent.locator(part("message")).filter(has_text="Thanks")).to_have_count(1)
    await assert_no_serious_violations(customer, "widget live", WIDGET)
    await assert_no_serious_violations(agent, "console live")

    # away: the button says so, and back
    await presence.click()
    await expect(presence).to_have_text("Away")
    await expect(presence).to_have_attribute("data-status", "away")
    await assert_no_serious_violations(agent, "console, agent away")
    await presence.click()
    await expect(presence).to_have_text("Available")

    # End chat asks first; Escape keeps the chat and gives focus back to End chat
    await customer.locator(part("end", W)).click()
    await expect(customer.locator(part("end-dialog", W))).to_be_visible()
    assert await focused_part(customer) == "end-cancel"
    await assert_no_serious_violations(customer, "widget, end confirmation", WIDGET)
    await customer.keyboard.press("Escape")
    await expect(customer.locator(part("end-dialog", W))).to_be_hidden()
    await expect(customer.locator(part("panel", W))).to_be_visible()  # Escape closed the question only
    assert await focused_part(customer) == "end"

    # the console's End session asks in a modal dialog; Cancel keeps the chat live
    await agent.locator(part("end")).click()
    dialog = agent.locator(part("confirm-dialog"))
    await expect(dialog).to_be_visible()
    assert await focused_part(agent) == "confirm-cancel"
    await assert_no_serious_violations(agent, "console, end confirmation")
    await agent.locator(part("confirm-cancel")).click()
    await expect(dialog).to_be_hidden()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    assert await focused_part(agent) == "end"
    # End session again, by keyboard (on the button itself: a re-render of the context panel
    # as the history loads may replace the focused node)
    await agent.locator(part("end")).press("Enter")
    await expect(dialog).to_be_visible()
    await agent.keyboard.press("Tab")
    assert await focused_part(agent) == "confirm-ok"
    await agent.keyboard.press("Enter")

    # rating (focus on the first score once the composer went away), wrap-up
    await expect(customer.locator(part("csat", W))).to_be_visible()
    await assert_no_serious_violations(customer, "widget rating", WIDGET)
    await expect(agent.locator(part("wrap-up"))).to_be_visible()
    await assert_no_serious_violations(agent, "console wrap-up")
    await customer.locator(part("csat-score", W) + "[data-score='4']").click()
    await customer.locator(part("csat-submit", W)).click()
    await expect(customer.locator(part("csat-thanks", W))).to_be_visible()
    await assert_no_serious_violations(customer, "widget, thanks for rating", WIDGET)


async def test_console_sign_in_passes_axe_with_a_keyboard(contexts: Contexts, shop_url: str) -> None:
    """Signing in needs no mouse: Tab to an agent, Enter; the workspace has one <h1>."""
    agent = await contexts.new_page()
    await agent.goto(f"{shop_url}/console")
    option = agent.locator(part("agent-option") + "[data-agent-id='alice']")
    await expect(option).to_be_visible()
    await option.focus()
    await agent.keyboard.press("Enter")
    await expect(agent.locator(part("presence"))).to_have_text("Available")
    await expect(agent.locator("h1")).to_have_text("DCSAgent console")
    await assert_no_serious_violations(agent, "console signed in by keyboard")
