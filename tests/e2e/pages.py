"""Selectors and actions shared by the browser tests (widget and console)."""

from __future__ import annotations

from playwright.async_api import Page

W = "#dcs-widget-root"  # the widget's shadow host; Playwright's CSS pierces open shadow roots


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
