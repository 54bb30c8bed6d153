"""An agent who signs out hands the customer on, in real Chromium: the console asks first,
the customer's widget says what happened and shows the queue, and the next agent takes over
with the whole conversation (nothing typed again)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.pages import Contexts, W, live_session, part, send_from_console, send_from_widget


async def test_signing_out_hands_the_customer_to_the_next_agent(contexts: Contexts, shop_url: str) -> None:
    customer, alice, errors = await live_session(contexts, shop_url)
    await send_from_widget(customer, "My parcel 88123 never arrived")
    await expect(alice.locator(part("message")).filter(has_text="parcel 88123")).to_have_count(1)
    await send_from_console(alice, "Let me check with the carrier.")
    await expect(customer.locator(part("message", W)).filter(has_text="with the carrier")).to_have_count(1)

    # signing out with a live chat asks first; staying keeps everything as it was
    dialog = alice.locator(part("signout-dialog"))
    await alice.locator(part("signout")).click()
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("1 live chat")
    await expect(dialog).to_contain_text("front of the queue")
    await alice.locator(part("signout-cancel")).click()
    await expect(dialog).to_be_hidden()
    await expect(alice.locator(part("my-session"))).to_have_count(1)
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")

    # confirm: the console signs out and the customer is told, in words, and queued
    await alice.locator(part("signout")).click()
    await alice.locator(part("signout-confirm")).click()
    await expect(alice.locator(part("agent-option")).first).to_be_visible()
    told = customer.locator(part("message", W) + "[data-role='system']").filter(has_text="had to leave")
    await expect(told).to_have_count(1)
    await expect(told).to_contain_text("You're first in line for the next agent")
    await expect(customer.locator(part("status", W))).not_to_contain_text("Alice")
    await expect(customer.locator(part("queue", W))).to_contain_text("number 1 in the queue")

    # the next agent sees why, takes over, and has the history
    bob = await contexts.new_page()
    bob.on("pageerror", lambda exc: errors.append(f"bob: {exc}"))
    await bob.goto(f"{shop_url}/console")
    await bob.locator(part("agent-option") + "[data-agent-id='bob']").click()
    item = bob.locator(part("queue-item")).first
    await expect(item).to_contain_text("signed out")
    await item.locator(part("accept")).click()
    await expect(bob.locator(part("handoff-reason"))).to_contain_text("signed out")
    for text in ("parcel 88123", "with the carrier", "had to leave"):
        await expect(bob.locator(part("message")).filter(has_text=text)).to_have_count(1)
    await expect(customer.locator(part("status", W))).to_contain_text("Bob")
    await send_from_console(bob, "Bob here, I can see everything you told Alice.")
    await expect(customer.locator(part("message", W)).filter(has_text="Bob here")).to_have_count(1)
    assert not errors, errors
