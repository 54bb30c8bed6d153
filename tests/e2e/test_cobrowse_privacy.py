"""Co-browse privacy on the customer's device: masked values never reach the recording.

Real Chromium, the demo checkout page, the real co-browse chunk (rrweb under the DCS
policy). Canary values are typed into every kind of field; everything the recorder emits
(the only thing co-browse would ever send) is searched for them byte by byte. An allowed
input proves the recording does carry what it may.
"""

from __future__ import annotations

import json
from typing import Any

CANARIES = {
    "#email": "canary.mail@example.org",  # an input not allowed by the policy
    "#card": "4111 1111 1111 1111",  # an input under data-dcs-mask
    "#password": "Canary-Pass-9931",  # a password field
}
ALLOWED_TEXT = "Leave it with the neighbour"
ALLOWED_SECRETS = ("5500 0055 5555 5559", "sam.canary@example.net")  # typed into the allowed input
MASKED_TEXT = "Visa ending 4242"  # page text under data-dcs-mask
BLOCKED_TEXT = "Member price"  # page text under data-dcs-block

START = """async () => {
  const mod = await import("/widget/dcs-cobrowse.js");
  window.__events = [];
  window.__stop = mod.startRecording({
    policy: { allowInputs: ["note"] },
    emit: (event) => window.__events.push(JSON.stringify(event)),
  });
}"""


async def test_masked_values_never_leave_the_browser(browser: Any, shop_url: str) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{shop_url}/checkout")
    await page.evaluate(START)
    for selector, value in CANARIES.items():
        await page.locator(selector).press_sequentially(value, delay=5)
    await page.locator("#note").press_sequentially(
        f"{ALLOWED_TEXT} {ALLOWED_SECRETS[0]} {ALLOWED_SECRETS[1]}", delay=5
    )
    recorded_before = await page.evaluate("() => window.__events.length")
    await page.evaluate("() => document.querySelector('.saved').textContent += ' (updated)'")
    # the recorder has taken that change (an incremental snapshot of DOM mutations) in
    await page.wait_for_function(
        """(from) => window.__events.slice(from).map((e) => JSON.parse(e))
          .some((e) => e.type === 3 && e.data.source === 0)""",
        arg=recorded_before,
    )
    await page.evaluate("() => window.__stop()")
    recorded = "\n".join(await page.evaluate("() => window.__events"))

    assert len(recorded) > 1000, "the recorder emitted (almost) nothing"
    assert ALLOWED_TEXT in recorded, "the allowed input's text is not in the recording"
    leaks = [v for v in (*CANARIES.values(), *ALLOWED_SECRETS, MASKED_TEXT, BLOCKED_TEXT) if v in recorded]
    # digits typed one by one appear as growing prefixes: check the distinctive tails too
    leaks += [v for v in ("1111 1111", "Pass-99", "canary.mail", "0055 5555", "sam.canary") if v in recorded]
    assert not leaks, f"masked values reached the recording: {leaks}"
    full_snapshot = next(e for e in map(json.loads, recorded.splitlines()) if e["type"] == 2)
    assert "Checkout" in json.dumps(full_snapshot), "the page itself was not recorded"
    assert not errors, errors
    await context.close()
