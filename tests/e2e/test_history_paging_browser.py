"""A conversation longer than one page of history, in real Chromium: the widget that comes
back to it fetches every page after session.start's first (``more``), and the agent who
accepts it gets the whole transcript. Before paging the widget showed the first 1,000
messages and never the rest."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from dcs_sdk import DcsClient, PageInfo
from dcs_sdk.protocol import HISTORY_PAGE
from tests.e2e.conftest import serve_shop
from tests.e2e.pages import Contexts, W, open_console, part

COUNT = HISTORY_PAGE + 150


@pytest.fixture
async def shop_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    # the customer below sends 1,150 messages in a few seconds: above the default rate budget
    monkeypatch.setenv("DCS_RATE_BURST", "5000")
    monkeypatch.setenv("DCS_RATE_PER_S", "5000")
    async with serve_shop(tmp_path) as url:
        yield url


async def test_the_widget_and_the_console_show_a_history_longer_than_a_page(
    contexts: Contexts, shop_url: str
) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # the demo shop's visitor cookie: one customer
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{shop_url}/api/dcs-token") as response:
            token = str((await response.json())["token"])
        async with DcsClient(shop_url, token) as customer:
            sid = (await customer.start_session(page=PageInfo(url=f"{shop_url}/", title="Home"))).session_id
            await customer.escalate(sid)  # waiting: no assistant answering each line
            for start in range(1, COUNT + 1, 50):
                await asyncio.gather(
                    *(customer.send(sid, f"line {n}") for n in range(start, min(start + 50, COUNT + 1)))
                )
    visitor = next(c for c in jar)

    # the same visitor comes back in the browser: the widget resumes the open session
    page = await contexts.new_page()
    await page.context.add_cookies([{"name": visitor.key, "value": visitor.value, "url": shop_url}])
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{shop_url}/")
    await page.locator(part("launcher", W)).click()
    messages = page.locator(part("message", W))
    await expect(messages.filter(has_text=f"line {COUNT}")).to_have_count(1, timeout=30_000)
    await expect(messages.filter(has_text=re.compile(r"\bline 1\b"))).to_have_count(1)
    assert await messages.filter(has_text="line ").count() == COUNT

    # the agent who takes it sees all of it too
    agent = await open_console(contexts, shop_url)
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    conversation = agent.locator(part("message"))
    await expect(conversation.filter(has_text=f"line {COUNT}")).to_have_count(1, timeout=30_000)
    assert await conversation.filter(has_text="line ").count() == COUNT
    assert not errors, errors
