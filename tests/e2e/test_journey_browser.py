"""The in-page journey in real Chromium: demo shop widget <-> agent console, through the server.

The customer asks the FAQ, asks for a person, the agent accepts from the console and sees
the transcript and page, they chat both ways, the customer reloads and navigates (every
message exactly once), hostile HTML stays text, the agent ends and the customer rates.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, expect

from tests.e2e.pages import W, end_from_console, part, send_from_console, send_from_widget


async def widget_messages(page: Page) -> list[dict[str, Any]]:
    return list(
        await page.eval_on_selector_all(
            part("message", W),
            "els => els.map(e => ({seq: e.dataset.seq, role: e.dataset.role,"
            " pending: e.hasAttribute('data-pending'), text: e.textContent}))",
        )
    )


async def assert_each_once(page: Page) -> list[dict[str, Any]]:
    messages = [m for m in await widget_messages(page) if not m["pending"]]
    seqs = [int(m["seq"]) for m in messages]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), f"messages out of order or twice: {seqs}"
    assert seqs == list(range(1, len(seqs) + 1)), f"a message is missing: {seqs}"
    return messages


async def test_customer_to_agent_journey(browser: Any, shop_url: str) -> None:
    customer_ctx = await browser.new_context()
    agent_ctx = await browser.new_context()
    errors: list[str] = []
    customer = await customer_ctx.new_page()
    agent = await agent_ctx.new_page()
    for page in (customer, agent):
        page.on("pageerror", lambda exc: errors.append(str(exc)))

    # 1. the assistant answers a FAQ question
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await expect(customer.locator(part("message", W) + "[data-role='assistant']").first).to_be_visible()
    await send_from_widget(customer, "how long does shipping take?")
    answer = customer.locator(part("message", W) + "[data-role='assistant']").nth(1)
    await expect(answer).to_contain_text(re.compile(r"business day|deliver|ship", re.I))

    # 2. ask for a person: queued, with a live position
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_contain_text("1")

    # 3. the agent signs in, sees the waiting session and accepts it
    await agent.goto(f"{shop_url}/console")
    await agent.locator(part("agent-option") + "[data-agent-id='alice']").click()
    item = agent.locator(part("queue-item")).first
    await expect(item).to_contain_text(re.compile("shipping", re.I))
    await item.locator(part("accept")).click()

    # 4. the handoff: transcript, page, verified attributes, reason
    handoff = agent.locator(part("handoff"))
    await expect(agent.locator(part("handoff-page"))).to_contain_text("Shop")
    await expect(agent.locator(part("handoff-attributes"))).to_contain_text("sam.taylor@example.com")
    await expect(agent.locator(part("handoff-reason"))).to_contain_text("asked for a person")
    await expect(handoff).to_be_visible()
    await expect(
        agent.locator(part("message")).filter(has_text="how long does shipping take?")
    ).to_have_count(1)
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")

    # 5. chat both ways
    await send_from_console(agent, "Hi, this is Alice. How can I help?")
    await expect(customer.locator(part("message", W)).filter(has_text="this is Alice")).to_have_count(1)
    await send_from_widget(customer, "My order 88123 is late")
    await expect(agent.locator(part("message")).filter(has_text="My order 88123 is late")).to_have_count(1)

    # 6. reload mid-chat: same session, same agent, every message once
    before = await assert_each_once(customer)
    await customer.reload()
    await expect(
        customer.locator(part("message", W)).filter(has_text="My order 88123 is late")
    ).to_have_count(1)
    after = await assert_each_once(customer)
    assert [m["text"] for m in after][: len(before)] == [m["text"] for m in before]
    await send_from_widget(customer, "Still here after reload")
    await expect(agent.locator(part("message")).filter(has_text="Still here after reload")).to_have_count(1)

    # 7. navigate to another page of the site: the conversation follows
    await customer.goto(f"{shop_url}/orders")
    await expect(
        customer.locator(part("message", W)).filter(has_text="Still here after reload")
    ).to_have_count(1)
    await expect(agent.locator(part("handoff-page"))).to_contain_text("Orders")
    await send_from_console(agent, "I can see you are on the orders page.")
    await expect(customer.locator(part("message", W)).filter(has_text="on the orders page")).to_have_count(1)
    await assert_each_once(customer)

    # 8. hostile HTML is shown as text on both sides and runs nowhere
    hostile = '<img src=x onerror="window.__pwned=1">'
    await send_from_widget(customer, hostile)
    await expect(agent.locator(part("message")).filter(has_text=hostile)).to_have_count(1)
    await expect(customer.locator(part("message", W)).filter(has_text=hostile)).to_have_count(1)
    for page in (customer, agent):
        assert await page.evaluate("window.__pwned") is None

    # 9. the agent ends; the customer rates; the agent wraps up
    await end_from_console(agent)
    await customer.locator(part("csat-score", W) + "[data-score='5']").click()
    await customer.locator(part("csat-comment", W)).fill("Sorted quickly")
    await customer.locator(part("csat-submit", W)).click()
    await expect(customer.locator(part("csat-thanks", W))).to_be_visible()
    await agent.locator(part("wrap-up-notes")).fill("Carrier delay; tracking sent.")
    await agent.locator(part("wrap-up-disposition")).select_option("resolved")
    await agent.locator(part("wrap-up-submit")).click()
    await expect(agent.locator(part("my-session"))).to_have_count(0)

    await assert_each_once(customer)
    assert not errors, errors
    await customer_ctx.close()
    await agent_ctx.close()
