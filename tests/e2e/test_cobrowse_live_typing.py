"""Co-browse, typing: the agent sees an allowed field's characters as the customer types them.

The customer's site (tests/e2e/sites/typing.html, on an origin of its own) allows an
input, a textarea, an input in an open shadow root and one in a same-origin iframe; the
agent's console runs in a browser context of its own, peer to peer. For every allowed
field the customer types one key at a time, and after each key (the field still focused,
so nothing waits for a blur) the agent's replay shows exactly what has been typed so far.
In an allowed field a card number and an e-mail address are still masked as they are
typed. Canaries typed into the fields the policy masks (not allowed; a password and
payment-card fields, even allowed; under ``data-dcs-mask``, also inside a shadow root;
not allowed inside the iframe), and a hidden input's value set by script, are in none of
the bytes the customer's browser sent (WebSocket frames and data-channel messages,
inflated), nor in the server's log or its database; the replay shows those fields as `*`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests import netns
from tests.e2e import test_cobrowse_privacy_sites as sites
from tests.e2e.cobrowse_checks import assert_nothing_leaked, log_everything
from tests.e2e.pages import Contexts, W, part
from tests.e2e.test_cobrowse_browser import VIEW_IFRAME, Sent, replay, share, wait_transport
from tests.e2e.test_cobrowse_privacy_sites import World, live_chat

# the realistic sites' fixtures: the customer's site, the partner, the DCS server, coturn
world = sites.world
shop_url = sites.shop_url

TIMEOUT_MS = 15_000
KEY_TIMEOUT_MS = 4_000  # one keystroke, customer to replay

# allowed fields: what the customer types into each (a newline is the Enter key)
LIVE = {
    "ref": "A-42 blue gate",
    "note": "Leave it at\nthe back door.",
    "gate": "Gate 7, ring twice",
    "frame": "Call me first",
}
# typed into the allowed note afterwards: masked by the policy even there, as it is typed
NOTE_SECRETS = " card 4111111111111111 mail sam.cnry@example.net ok"
NOTE_SECRETS_SHOWN = " card **************** mail ******************** ok"
NOTE_TAILS = ("11111111", "sam.cnry", "4111111111111111", "sam.cnry@example.net")
# typed into fields the policy masks
MASKED = {
    "answer": "cnryAnswer-Wolf-7x",
    "comment": "cnryComment-Fern-8y",
    "pin": "cnryPin-Lark-9z",
    "card": "4000 0566 5566 5556",
    "cvc": "cnryCvc-Moth-3q",
    "ref-masked": "cnryRefMask-Owl-4w",
    "gate-masked": "cnryGateMask-Elk-5v",
    "frame-secret": "cnryFrameSecret-Yak-6u",
}
CARD_TAILS = ("4000 ", "0566 5566")
HIDDEN_SET = "cnry-typingscript-6402"
FOCUSED_JS = "(e) => e.getRootNode().activeElement === e"


def fields(customer: Page, view: Any, name: str) -> tuple[Any, Any]:
    """A field on the customer's page and the same field in the agent's replay."""
    if name == "frame":
        return (
            customer.frame_locator("#frame-open").locator("#frame-note"),
            view.frame_locator("#frame-open").locator("#frame-note"),
        )
    if name == "frame-secret":
        return (
            customer.frame_locator("#frame-open").locator("#frame-secret"),
            view.frame_locator("#frame-open").locator("#frame-secret"),
        )
    # (locators pierce open shadow roots: #gate and #gate-masked are in one)
    return customer.locator(f"#{name}"), view.locator(f"#{name}")


async def type_live(field: Any, shown: Any, customer: Page, text: str, before: str = "") -> None:
    """Types `text` one key at a time into the focused `field`; after each key the replay
    shows all typed so far, while the field still has the focus."""
    typed = before
    for ch in text:
        await customer.keyboard.type(ch)
        typed += ch
        try:
            await expect(shown).to_have_value(typed, timeout=KEY_TIMEOUT_MS)
        except AssertionError:
            raise AssertionError(
                f"after typing {typed!r} the agent sees {await shown.input_value()!r}"
            ) from None
        assert await field.evaluate(FOCUSED_JS), "the field lost the focus while typing"


@netns.isolated
async def test_agent_sees_allowed_fields_as_typed_and_masked_ones_never(
    contexts: Contexts, world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_everything(caplog)
    sent = Sent()
    customer, agent, errors = await live_chat(contexts, world, sent, "/typing")
    await share(customer, agent)
    await wait_transport(customer, "peer")
    view = replay(agent)
    await expect(view.locator("h1")).to_have_text("Your order", timeout=TIMEOUT_MS)
    await expect(view.frame_locator("#frame-open").locator("#help")).to_contain_text(
        "VISIBLE-frame-help", timeout=TIMEOUT_MS
    )

    # allowed: an input, a textarea, an input in an open shadow root, one in an iframe
    for name, text in LIVE.items():
        field, shown = fields(customer, view, name)
        await field.focus()
        await type_live(field, shown, customer, text)

    # the policy still masks a card number and an e-mail address in an allowed field, as
    # they are typed (the note still focused: its last word is shown, as typed)
    field, shown = fields(customer, view, "note")
    await field.focus()
    await customer.keyboard.press("Control+End")
    await customer.keyboard.type(NOTE_SECRETS, delay=5)
    await expect(shown).to_have_value(LIVE["note"] + NOTE_SECRETS_SHOWN, timeout=TIMEOUT_MS)
    assert await field.evaluate(FOCUSED_JS)

    # masked: not one of their characters leaves the device, focused or not
    for name, text in MASKED.items():
        field, shown = fields(customer, view, name)
        await field.focus()
        await customer.keyboard.type(text, delay=5)
        value = await field.input_value()
        assert text in value, f"{name}: typing did not reach the field ({value!r})"
        await expect(shown).to_have_value("*" * len(value), timeout=TIMEOUT_MS)
    await customer.locator("h1").click()  # the last field loses the focus: still masked
    for name in MASKED:
        field, shown = fields(customer, view, name)
        await expect(shown).to_have_value(re.compile(r"^\*+$"), timeout=TIMEOUT_MS)
    await customer.evaluate(f"() => {{ document.getElementById('token').value = '{HIDDEN_SET}'; }}")
    # and the allowed ones, now without the focus, still show what was typed
    for name, text in LIVE.items():
        if name != "note":
            await expect(fields(customer, view, name)[1]).to_have_value(text, timeout=TIMEOUT_MS)
    await expect(view.locator("#token")).not_to_have_attribute("value", re.compile("."))

    await customer.locator(part("cobrowse-stop", W)).click()
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(0, timeout=TIMEOUT_MS)

    typed_canaries = set(MASKED.values())
    pieces = {c[i : i + 8] for c in typed_canaries for i in range(len(c) - 7)}  # any part typed
    searched = (
        typed_canaries | pieces | set(NOTE_TAILS) | set(CARD_TAILS) | {HIDDEN_SET, "cnry-typingtoken-6401"}
    )
    shown_texts = (
        "VISIBLE-typing",
        "A-42 blue gate",
        "the back door.",
        "Gate 7, ring twice",
        "Call me first",
    )
    assert_nothing_leaked(searched, shown_texts, sent, caplog, tmp_path)
    assert not errors, errors
