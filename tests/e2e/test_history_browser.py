"""History in the console, in real Chromium: the customer's earlier conversation in the
context column (its transcript opens in place), and a search over past sessions."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.async_api import expect

from dcs_sdk import Role, SessionState
from signaling_server import Config
from signaling_server.store import MessageRecord, SessionRecord, Store
from tests.e2e.pages import Contexts, W, open_console, part


async def seed_earlier(data_dir: Path, customer_id: str) -> None:
    """An ended conversation of this customer from last week, in the store the server uses."""
    store = await Store.open(Config(data_dir=str(data_dir)).resolved_database_url)
    created = time.time() - 7 * 86400
    record = SessionRecord(
        id="s_lastweek_cracked_lid",
        customer_id=customer_id,
        customer_name="Returning customer",
        state=SessionState.ENDED,
        created_at=created,
        queue="general",
        agent_id="bob",
        agent_name="Bob",
        ended_at=created + 300,
        first_message="The lid of my teapot is cracked",
        last_seq=2,
    )
    texts = [(Role.CUSTOMER, "The lid of my teapot is cracked"), (Role.AGENT, "A new lid is on its way")]
    messages = [
        MessageRecord(record.id, i + 1, f"c{i}", role, "x", "", text, created + i)
        for i, (role, text) in enumerate(texts)
    ]
    try:
        await store.create_session(record, actor=customer_id, messages=messages)
    finally:
        await store.close()


async def test_previous_conversations_and_search(contexts: Contexts, shop_url: str, tmp_path: Path) -> None:
    customer = await contexts.new_page()
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()
    session_id = await customer.evaluate("() => window.DCS.getState().session_id")
    store = await Store.open(Config(data_dir=str(tmp_path)).resolved_database_url)
    try:
        live = await store.get_session(session_id)
    finally:
        await store.close()
    assert live is not None
    await seed_earlier(tmp_path, live.customer_id)

    agent = await open_console(contexts, shop_url)
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    earlier = agent.locator(part("history-previous") + " button")
    await expect(earlier).to_have_count(1)
    await expect(earlier).to_contain_text("The lid of my teapot is cracked")
    await expect(earlier).to_contain_text("Bob")
    await earlier.click()
    transcript = agent.locator(part("history-transcript"))
    await expect(transcript).to_contain_text("A new lid is on its way")
    await expect(transcript.locator("h4")).to_be_focused()
    await transcript.get_by_role("button", name="Back to the lists").click()

    search = agent.locator(part("history-search"))
    await search.get_by_label("Words in the conversation").fill("NEW LID")
    await search.get_by_role("button", name="Search").click()
    await expect(agent.locator(".history__status")).to_have_text("1 conversation found.")
    await expect(agent.locator(part("history-results") + " button")).to_contain_text("teapot")
    await search.get_by_label("Words in the conversation").fill("no such words")
    await search.get_by_role("button", name="Search").click()
    await expect(agent.locator(".history__status")).to_have_text("No conversation matches.")


async def test_a_supervisor_searches_from_the_floor(
    contexts: Contexts, shop_url: str, tmp_path: Path
) -> None:
    await seed_earlier(tmp_path, "v_someone")
    sam = await contexts.new_page()
    await sam.goto(f"{shop_url}/console")
    await sam.locator(part("agent-option") + "[data-agent-id='sam']").click()
    await expect(sam.locator(part("wall"))).to_be_visible()
    search = sam.locator(part("history-search"))
    await search.get_by_label("Customer").fill("returning")
    await search.get_by_role("button", name="Search").click()
    found = sam.locator(part("history-results") + " button")
    await expect(found).to_have_count(1)
    await found.click()
    await expect(sam.locator(part("history-transcript"))).to_contain_text("The lid of my teapot is cracked")
