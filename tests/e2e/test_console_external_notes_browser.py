"""A note another system adds through the REST API (a CRM's remark) shows in the agent's
context panel at once, and again after the console reloads. Real Chromium, the demo shop,
the SDK's ApiClient with a service token."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from dcs_sdk import AccessToken, ApiClient
from signaling_server import Config
from signaling_server.auth import ensure_demo_key
from tests.e2e.pages import Contexts, live_session, part

NOTE = "VIP since 2019; refund R-77 approved."


async def test_a_crm_note_reaches_the_agents_context_panel(
    contexts: Contexts, shop_url: str, tmp_path: Path
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    await expect(agent.locator(part("handoff-customer"))).to_be_visible()
    await expect(agent.locator(part("handoff-external-notes"))).to_have_count(0)

    defaults = Config()
    key = ensure_demo_key(tmp_path)  # the demo server's own key, in its data dir
    token = AccessToken(key, issuer=defaults.issuer, audience=defaults.audience).with_identity("crm")
    service = token.as_service(scopes=["sessions:read", "sessions:write"]).to_jwt()
    async with ApiClient(shop_url, service) as api:
        sid = (await api.sessions(state="live"))["items"][0]["id"]
        await api.add_note(sid, NOTE)

    notes = agent.locator(part("handoff-external-notes"))
    await expect(notes).to_contain_text(NOTE)  # pushed: no reload
    await expect(notes).to_contain_text("crm")
    await agent.reload()
    await expect(agent.locator(part("handoff-external-notes"))).to_contain_text(NOTE)
    assert not errors, errors
