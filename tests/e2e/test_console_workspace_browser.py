"""The agent's workspace in real Chromium: new-chat alerts (title, desktop notification
after opting in, sound off by default), canned responses with "/" and placeholders from
the handoff, a disposition required at wrap-up, and the open session kept over a reload.
axe checks each new state."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.pages import Contexts, W, end_from_console, open_console, part, send_from_widget

# Every desktop notification the page makes, recorded before it reaches the real API.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notes.push({title, body: options && options.body});
    }
  };
})();
"""


async def customer_waiting(contexts: Contexts, shop_url: str, first: str) -> Page:
    customer = await contexts.new_page()
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await send_from_widget(customer, first)
    await expect(customer.locator(part("message", W) + "[data-role='assistant']").nth(1)).to_be_visible()
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()
    return customer


async def test_alerts_canned_responses_disposition_and_reload(contexts: Contexts, shop_url: str) -> None:
    agent = await open_console(contexts, shop_url)
    await agent.context.grant_permissions(["notifications"], origin=shop_url)
    await agent.add_init_script(RECORD_NOTIFICATIONS)
    await agent.reload()  # the recorder is in place; the demo sign-in is remembered in the tab
    await expect(agent.locator(part("presence"))).to_have_text("Available")
    desktop = agent.locator(part("alerts-desktop"))
    sound = agent.locator(part("alerts-sound"))
    await expect(desktop).to_have_text("Desktop alerts: off")
    await expect(sound).to_have_text("Sound: off")  # off by default
    await desktop.click()
    await expect(desktop).to_have_text("Desktop alerts: on")
    await sound.click()
    await expect(sound).to_have_text("Sound: on")
    played = await agent.evaluate("window.__dcsAlerts.sounds")  # the sample on turning it on
    await expect(agent).to_have_title("DCS agent console")
    await assert_no_serious_violations(agent, "console with alerts on")

    # a customer starts waiting: the title counts them, a notification and a tone say it
    customer = await customer_waiting(contexts, shop_url, "My order 88123 is late")
    await expect(agent).to_have_title("1 waiting · DCS agent console")
    await agent.wait_for_function("window.__notes.length === 1")
    note = (await agent.evaluate("window.__notes"))[0]
    assert note["title"] == "New chat: Sam Taylor" and "88123" in note["body"], note
    assert await agent.evaluate("window.__dcsAlerts.sounds") == played + 1
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(agent).to_have_title("DCS agent console")

    # "/" lists the canned responses of the queue; Enter fills the placeholders from the handoff
    box = agent.locator(part("input"))
    await box.fill("/la")
    options = agent.locator(part("canned-option"))
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("/late")
    await assert_no_serious_violations(agent, "console, canned responses open")
    await box.press("Enter")
    filled = "I'm sorry order 88123 is late, Sam. I'm checking with the carrier now."
    await expect(box).to_have_value(filled)
    await box.press("Enter")  # now it sends
    await expect(customer.locator(part("message", W)).filter(has_text=filled)).to_have_count(1)
    await box.fill("/")
    await expect(options).to_have_count(4)  # the queue's two and the two for every queue
    await box.press("ArrowDown")
    await expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    await box.press("Escape")
    await expect(options).to_have_count(0)
    await expect(box).to_have_value("/")  # Escape closed the list only
    await box.fill("")

    # a reload comes back to the session that was open, not just the first one
    second = await customer_waiting(contexts, shop_url, "Can I change my address?")
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(agent.locator(part("my-session"))).to_have_count(2)
    first_row = agent.locator(part("my-session")).filter(has_text="Sam Taylor").first
    await first_row.click()
    await expect(agent.locator(part("message")).filter(has_text=filled)).to_have_count(1)
    opened = await first_row.get_attribute("data-session-id")
    for _ in range(2):
        await agent.reload()
        await expect(agent.locator(part("my-session"))).to_have_count(2)
        await expect(agent.locator(part("my-session") + "[aria-current='true']")).to_have_attribute(
            "data-session-id", str(opened)
        )
        await expect(agent.locator(part("message")).filter(has_text=filled)).to_have_count(1)

    # wrap-up: a disposition is required; without it nothing is sent and focus goes there
    await end_from_console(agent)
    await expect(agent.locator(part("wrap-up"))).to_be_visible()
    disposition = agent.locator(part("wrap-up-disposition"))
    await expect(disposition).to_be_focused()
    await agent.locator(part("wrap-up-notes")).fill("Carrier contacted.")
    await agent.locator(part("wrap-up-submit")).click()
    await expect(agent.locator(part("wrap-up-error"))).to_have_text(
        "Choose a disposition before closing the session."
    )
    await expect(disposition).to_be_focused()
    await expect(disposition).to_have_attribute("aria-invalid", "true")
    await assert_no_serious_violations(agent, "console, wrap-up missing its disposition")
    await disposition.select_option("follow_up")
    await agent.locator(part("wrap-up-submit")).click()
    await expect(agent.locator(part("my-session"))).to_have_count(1)
    # the other chat is still there, and now shown, with focus in its reply box
    await expect(agent.locator(part("my-session"))).not_to_have_attribute("data-session-id", str(opened))
    await expect(agent.locator(part("input"))).to_be_focused()
    await expect(second.locator(part("status", W))).to_contain_text("Alice")
