"""Honest waiting and starting over in real Chromium: with no agent online the widget says so
and the customer leaves a message, which an agent finds in the console, accepts and answers,
and the customer reads when they open the widget again; after the agent ends a chat the
customer starts a new conversation at once while the agent still wraps the old one up."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.e2e.pages import (
    Contexts,
    W,
    end_from_console,
    live_session,
    open_console,
    part,
    send_from_console,
    send_from_widget,
)

LEFT = "My parcel 5512 arrived damaged, please get back to me."


async def test_no_one_available_leave_a_message_and_read_the_reply(contexts: Contexts, shop_url: str) -> None:
    errors: list[str] = []
    customer = await contexts.new_page()
    customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()

    # said at once, with no minutes, and the composer makes way for the form
    queue = customer.locator(part("queue", W))
    await expect(queue).to_have_text(
        "No one is available right now, but you're number 1 in the queue. "
        "Leave a message and we'll reply here."
    )
    await expect(queue).to_have_attribute("role", "status")
    await expect(customer.locator(part("status", W))).to_have_text("No one available right now")
    await expect(customer.locator(part("input", W))).to_be_hidden()
    box = customer.get_by_label("Your message", exact=True)  # the form's input is labelled
    await expect(box).to_be_visible()
    await box.fill(LEFT)
    await customer.locator(part("leave-message-submit", W)).click()
    await expect(customer.locator(part("message", W) + "[data-role='customer']")).to_have_text(
        [f"You: {LEFT}"]
    )
    await expect(queue).to_contain_text("Your message is saved")
    await expect(customer.locator(part("status", W))).to_have_text("Message left")
    await expect(customer.locator(part("leave-message", W))).to_be_hidden()
    await expect(customer.locator(part("input", W))).to_be_visible()
    shop = customer.context
    await customer.close()  # the customer goes away

    # an agent comes in: the left message is in the queue, and gets an answer
    agent = await open_console(contexts, shop_url)
    agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
    item = agent.locator(part("queue-item")).first
    await expect(item.locator(part("queue-left-message"))).to_contain_text(
        re.compile(r"Left a message.*5512")
    )
    await item.locator(part("accept")).click()
    await expect(agent.locator(part("message")).filter(has_text=LEFT)).to_have_count(1)
    await send_from_console(agent, "Sorry about that! A replacement ships today.")
    await expect(agent.locator(part("message")).filter(has_text="replacement ships today")).to_have_count(1)

    # the customer opens the widget again later: the same conversation, with the reply
    back = await shop.new_page()
    back.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await back.goto(f"{shop_url}/")
    await back.locator(part("launcher", W)).click()
    reply = back.locator(part("message", W) + "[data-role='agent']")
    await expect(reply).to_have_text(re.compile("A replacement ships today"))
    await expect(back.locator(part("message", W)).filter(has_text=LEFT)).to_have_count(1)
    await expect(back.locator(part("status", W))).to_contain_text("Alice")
    assert not errors, errors


async def test_start_a_new_conversation_while_the_agent_wraps_up(contexts: Contexts, shop_url: str) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    await send_from_widget(customer, "Thanks, that was all")
    await expect(agent.locator(part("message")).filter(has_text="Thanks, that was all")).to_have_count(1)
    old = await customer.evaluate("localStorage.getItem('dcs:session')")
    await end_from_console(agent)

    # over for the customer at once: rate, and start again (the agent is still in wrap-up)
    restart = customer.locator(part("new-conversation", W))
    await expect(restart).to_be_visible()
    await expect(agent.locator(part("wrap-up-notes"))).to_be_visible()
    await customer.locator(part("csat-score", W) + "[data-score='4']").click()
    await customer.locator(part("csat-submit", W)).click()
    await expect(customer.locator(part("csat-thanks", W))).to_be_visible()
    await restart.click()
    await expect(customer.locator(part("status", W))).to_have_text("Virtual assistant")
    await expect(customer.locator(part("message", W) + "[data-role='assistant']").first).to_be_visible()
    await expect(customer.locator(part("message", W)).filter(has_text="Thanks, that was all")).to_have_count(
        0
    )
    await expect(customer.locator(part("input", W))).to_be_visible()
    await expect(restart).to_be_hidden()
    new = await customer.evaluate("localStorage.getItem('dcs:session')")
    assert new and new != old
    await send_from_widget(customer, "how long does shipping take?")
    answer = customer.locator(part("message", W) + "[data-role='assistant']").nth(1)
    await expect(answer).to_contain_text(re.compile(r"business day|deliver|ship", re.I))

    # the agent finishes the old one's wrap-up undisturbed
    await agent.locator(part("wrap-up-notes")).fill("Resolved.")
    await agent.locator(part("wrap-up-disposition")).select_option("resolved")
    await agent.locator(part("wrap-up-submit")).click()
    await expect(agent.locator(part("my-session"))).to_have_count(0)
    await expect(customer.locator(part("status", W))).to_have_text("Virtual assistant")
    assert not errors, errors


async def test_the_queue_banner_follows_the_agents(contexts: Contexts, shop_url: str) -> None:
    agent = await open_console(contexts, shop_url)
    presence = agent.locator(part("presence"))
    await expect(presence).to_have_attribute("data-status", "available")
    customer = await contexts.new_page()
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()
    # someone is there, no wait measured yet: the place, and no minutes
    queue = customer.locator(part("queue", W))
    await expect(queue).to_have_text("You're number 1 in the queue.")
    await expect(customer.locator(part("status", W))).to_have_text("Waiting for an agent")
    await expect(customer.locator(part("leave-message", W))).to_be_hidden()
    # the only agent steps away: the widget says so at once and offers the form
    await presence.click()
    await expect(presence).to_have_attribute("data-status", "away")
    await expect(queue).to_contain_text("No one is available right now")
    await expect(customer.locator(part("leave-message", W))).to_be_visible()
    await presence.click()
    await expect(queue).to_have_text("You're number 1 in the queue.")
    await expect(customer.locator(part("input", W))).to_be_visible()
