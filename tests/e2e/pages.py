"""Selectors and actions shared by the browser tests (widget and console)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

W = "#dcs-widget-root"  # the widget's shadow host; Playwright's CSS pierces open shadow roots
EXPECT_TIMEOUT_MS = 15_000

# Playwright's expect() waits 5 s by default: too short for a 2-core machine running several
# browsers at once. Every browser test's expect() waits longer (this module is imported by all
# that use it); a passing test is no slower, a failing one takes longer to fail.
expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def part(name: str, scope: str = "") -> str:
    return f"{scope} [data-part='{name}']".strip()


async def send_from_widget(page: Page, text: str) -> None:
    box = page.locator(part("input", W))
    await box.fill(text)
    await box.press("Enter")


async def send_from_console(page: Page, text: str) -> None:
    box = page.locator(part("input"))
    await box.fill(text)
    await box.press("Enter")


async def end_from_console(page: Page) -> None:
    """End the selected session: End session, then confirm in the dialog."""
    await page.locator(part("end")).click()
    await page.locator(part("confirm-ok")).click()


async def end_from_widget(page: Page) -> None:
    """The customer ends the chat: End chat, then confirm."""
    await page.locator(part("end", W)).click()
    await page.locator(part("end-confirm", W)).click()


class Contexts:
    """Browser contexts for one test, closed before the server stops (open sockets would hold
    it up). ``init_script`` runs first in every page they make."""

    def __init__(self, browser: Any, init_script: str = "") -> None:
        self.browser = browser
        self.init_script = init_script
        self.opened: list[Any] = []

    async def new_page(self, init_script: str = "") -> Page:
        context = await self.browser.new_context()
        self.opened.append(context)
        script = "\n".join(s for s in (self.init_script, init_script) if s)
        if script:
            await context.add_init_script(script)
        page: Page = await context.new_page()
        return page

    async def close(self) -> None:
        for context in self.opened:
            await context.close()


async def open_console(contexts: Contexts, shop_url: str) -> Page:
    agent = await contexts.new_page()
    await agent.goto(f"{shop_url}/console")
    await agent.locator(part("agent-option") + "[data-agent-id='alice']").click()
    return agent


async def live_session(
    contexts: Contexts, shop_url: str, customer_init: str = ""
) -> tuple[Page, Page, list[str]]:
    """A customer in the demo shop and Alice in the console, chatting live."""
    errors: list[str] = []
    customer = await contexts.new_page(customer_init)
    customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()
    agent = await open_console(contexts, shop_url)
    agent.on("pageerror", lambda exc: errors.append(f"agent: {exc}"))
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    return customer, agent, errors
