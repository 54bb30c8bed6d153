"""The supervisor's console as an accessibility gate, in real Chromium: axe-core finds no
serious or critical violation in any supervisor view (the live wall sorted and filtered,
observing a waiting and a live session, whisper, barge, move / reassign / set away / sign
out, the agents' transfer dialog and offer, the Reports view); signing an agent out asks in
the console's own modal dialog (never window.confirm), by keyboard, with focus moved into it
and given back; and a supervisor can open the wall, observe a session and leave it with the
keyboard alone.
"""

from __future__ import annotations

from playwright.async_api import Dialog, Page, expect

from tests.e2e.axe import assert_no_serious_violations
from tests.e2e.pages import Contexts, W, part, send_from_widget

MAX_TABS = 80  # a journey that needs more Tab presses than this to reach a control fails


async def sign_in(contexts: Contexts, shop_url: str, who: str, problems: list[str]) -> Page:
    """A demo console signed in as `who`. Page errors and native dialogs (alert, confirm)
    are recorded in `problems`: the console has its own dialogs."""
    page = await contexts.new_page()
    page.on("pageerror", lambda exc: problems.append(f"{who}: {exc}"))

    async def native(dialog: Dialog) -> None:
        problems.append(f"{who}: native {dialog.type}: {dialog.message}")
        await dialog.dismiss()

    page.on("dialog", native)
    await page.goto(f"{shop_url}/console")
    await page.locator(part("agent-option") + f"[data-agent-id='{who}']").click()
    await expect(page.locator(part("connection"))).to_have_text("Connected")
    return page


async def customer_waiting(contexts: Contexts, shop_url: str, first: str) -> Page:
    customer = await contexts.new_page()
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await send_from_widget(customer, first)
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()
    return customer


async def focused(page: Page) -> dict[str, str | None]:
    """What has keyboard focus: its data-part, tag, text and the row it sits in."""
    found: dict[str, str | None] = await page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el) return {part: null, tag: null, text: null, row: null};
          const row = el.closest("tr");
          return {part: el.getAttribute("data-part"), tag: el.tagName.toLowerCase(),
                  text: (el.textContent || "").trim(), row: row ? row.getAttribute("data-key") : null,
                  view: el.getAttribute("data-view"), agent: el.getAttribute("data-agent-id")};
        }"""
    )
    return found


async def tab_to(page: Page, wanted: dict[str, str], backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches every key of `wanted`."""
    seen = []
    for _ in range(MAX_TABS):
        await page.keyboard.press("Shift+Tab" if backwards else "Tab")
        now = await focused(page)
        if all(now.get(key) == value for key, value in wanted.items()):
            return
        seen.append(now)
    raise AssertionError(f"Tab never reached {wanted}; went through {seen}")


async def test_every_supervisor_view_passes_axe(contexts: Contexts, shop_url: str) -> None:
    problems: list[str] = []
    sam = await sign_in(contexts, shop_url, "sam", problems)
    await expect(sam.locator(part("wall"))).to_be_visible()
    await assert_no_serious_violations(sam, "supervisor, the wall before anyone waits")

    # a customer waits: the three tables have rows
    customer = await customer_waiting(contexts, shop_url, "My parcel 88123 never arrived")
    row = sam.locator(part("wall-sessions-row"))
    await expect(row).to_have_count(1)
    general = sam.locator(part("wall-queues-row") + "[data-key='q:general']")
    await expect(general.locator("td[data-col='waiting']")).to_have_text("1")
    await assert_no_serious_violations(sam, "supervisor, wall with a waiting customer")

    # sorting: the header buttons say the order
    waiting_header = sam.locator(part("wall-queues") + " th[data-col='waiting']")
    await waiting_header.locator("button").click()
    await expect(waiting_header).to_have_attribute("aria-sort", "ascending")
    await waiting_header.locator("button").click()
    await expect(waiting_header).to_have_attribute("aria-sort", "descending")
    await assert_no_serious_violations(sam, "supervisor, wall sorted")

    # filtering: nothing matches, then by state
    await sam.locator(part("wall-filter")).fill("nobody by this name")
    await expect(row).to_have_count(0)
    await assert_no_serious_violations(sam, "supervisor, wall filtered to nothing")
    await sam.locator(part("wall-filter")).fill("")
    await sam.locator(part("wall-state-filter")).select_option("queued")
    await expect(row).to_have_count(1)
    await assert_no_serious_violations(sam, "supervisor, wall filtered by state")
    await sam.locator(part("wall-state-filter")).select_option("")

    # a waiting session: observe it, move it to the front
    await row.locator(part("session-open")).click()
    stepin = sam.locator(part("stepin"))
    await expect(stepin.locator(part("move-front"))).to_be_visible()
    await expect(sam.locator(part("observe-log"))).to_contain_text("parcel 88123")
    await assert_no_serious_violations(sam, "supervisor, observing a waiting session (move)")
    await stepin.locator(part("move-front")).click()
    await expect(row).to_contain_text("first in line")
    await assert_no_serious_violations(sam, "supervisor, moved to the front")

    # live: observe, whisper, barge
    alice = await sign_in(contexts, shop_url, "alice", problems)
    await alice.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    await expect(row).to_contain_text("Live")
    await expect(stepin.locator(part("reassign"))).to_be_visible()
    await send_from_widget(customer, "Is anyone looking at this?")
    await expect(sam.locator(part("observe-log"))).to_contain_text("Is anyone looking at this?")
    await assert_no_serious_violations(sam, "supervisor, observing a live session")
    await sam.locator(part("whisper-input")).fill("Offer the express reshipment")
    await sam.locator(part("whisper")).locator("button[type='submit']").click()
    await expect(sam.locator(part("observe-notes"))).to_contain_text("Offer the express reshipment")
    await expect(alice.locator(part("staff-note-whisper"))).to_contain_text("Offer the express reshipment")
    await assert_no_serious_violations(sam, "supervisor, after a whisper")
    await assert_no_serious_violations(alice, "agent console with a whisper")
    await sam.locator(part("barge")).click()
    await expect(sam.locator(part("say-input"))).to_be_visible()
    joined = customer.locator(part("message", W)).filter(has_text="(supervisor) joined the chat")
    await expect(joined).to_have_count(1)
    await assert_no_serious_violations(sam, "supervisor, in the chat (barge)")
    await assert_no_serious_violations(alice, "agent console, a supervisor in the chat")
    await sam.locator(part("barge")).click()  # leave the chat, still observing
    await expect(sam.locator(part("say-input"))).to_be_hidden()

    # the agents' transfer dialog, the offer with its consult, and the reassign
    bob = await sign_in(contexts, shop_url, "bob", problems)
    await expect(sam.locator(part("wall-agents-row") + "[data-key='a:bob']")).to_contain_text("Available")
    await assert_no_serious_violations(sam, "supervisor, wall with two agents")
    await alice.locator(part("transfer-open")).click()
    dialog = alice.locator(part("transfer-dialog"))
    await expect(dialog).to_be_visible()
    await assert_no_serious_violations(alice, "agent console, transfer dialog")
    await dialog.locator(part("transfer-target")).select_option("a:bob")
    await dialog.locator(part("transfer-note")).fill("Reship 88123 express")
    await dialog.locator(part("transfer-submit")).click()
    offer = bob.locator(part("transfer-offer"))
    await expect(offer).to_contain_text("Reship 88123 express")
    await alice.locator(part("consult-input")).fill("Be quick, please")
    await alice.locator(part("consult-input")).press("Enter")
    await expect(offer.locator(part("consult-log"))).to_contain_text("Be quick")
    await assert_no_serious_violations(alice, "agent console, transfer waiting with a consult")
    await assert_no_serious_violations(bob, "agent console, transfer offered with a consult")
    await offer.locator(part("transfer-decline")).click()
    await expect(alice.locator(part("transfer-outgoing"))).to_be_hidden()

    await sam.locator(part("reassign-agent")).select_option("a:bob")
    await sam.locator(part("reassign-note")).fill("Bob knows the carrier")
    await sam.locator(part("reassign")).locator("button[type='submit']").click()
    await expect(row.locator("td[data-col='agent']")).to_have_text("Bob Chen")
    await assert_no_serious_violations(sam, "supervisor, reassigned")
    await sam.locator(part("stepin-close")).click()
    await expect(stepin).to_be_hidden()

    # set away, then sign out (asking first, in the console's dialog)
    bob_row = sam.locator(part("wall-agents-row") + "[data-key='a:bob']")
    await bob_row.locator(part("agent-away")).click()
    await expect(bob_row.locator("td[data-col='presence']")).to_have_text("Away")
    await assert_no_serious_violations(sam, "supervisor, an agent set away")
    await bob_row.locator(part("agent-signout")).click()
    confirm = sam.locator(part("confirm-dialog"))
    await expect(confirm).to_be_visible()
    await assert_no_serious_violations(sam, "supervisor, sign-out confirmation")
    await sam.locator(part("confirm-ok")).click()
    await expect(bob.locator(part("agent-option")).first).to_be_visible()
    await expect(bob_row.locator("td[data-col='presence']")).to_have_text("Offline")
    await assert_no_serious_violations(sam, "supervisor, an agent signed out")

    # the Reports view
    await sam.locator("[data-view='reports']").click()
    await expect(sam.locator(part("reports"))).to_have_attribute("data-loaded", "true")
    await expect(sam.locator(part("wall"))).to_be_hidden()
    await assert_no_serious_violations(sam, "supervisor, Reports view")
    assert not problems, problems


async def signout_ready(contexts: Contexts, shop_url: str, problems: list[str]) -> tuple[Page, Page]:
    """Sam on the wall and Alice signed in with a customer's chat; focus on Alice's Sign out."""
    sam = await sign_in(contexts, shop_url, "sam", problems)
    await customer_waiting(contexts, shop_url, "Where is my order?")
    alice = await sign_in(contexts, shop_url, "alice", problems)
    await alice.locator(part("queue-item")).first.locator(part("accept")).click()
    alice_row = sam.locator(part("wall-agents-row") + "[data-key='a:alice']")
    await expect(alice_row.locator("td[data-col='held']")).to_have_text("1/3")
    await alice_row.locator(part("agent-signout")).focus()
    return sam, alice


async def test_signing_an_agent_out_cancelled_keeps_them(contexts: Contexts, shop_url: str) -> None:
    problems: list[str] = []
    sam, alice = await signout_ready(contexts, shop_url, problems)
    alice_row = sam.locator(part("wall-agents-row") + "[data-key='a:alice']")
    dialog = sam.locator(part("confirm-dialog"))
    await sam.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Sign Alice Martin out?")
    await expect(sam.locator(part("confirm-cancel"))).to_be_focused()  # focus moved in, on the safe choice
    await sam.keyboard.press("Enter")  # Cancel
    await expect(dialog).to_be_hidden()
    await expect(alice_row.locator(part("agent-signout"))).to_be_focused()  # and given back
    # Escape cancels too
    await sam.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await sam.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(alice_row.locator(part("agent-signout"))).to_be_focused()
    # asked again before the last one's close event is dispatched (a busy page): the
    # stale event must not close the new dialog
    still_open = await sam.evaluate(
        """async () => {
            const button = document.activeElement;
            button.click();
            document.querySelector("[data-part='confirm-cancel']").click();
            button.click();
            await new Promise((resolve) => setTimeout(resolve, 100));
            return document.querySelector("[data-part='confirm-dialog']").open;
        }"""
    )
    assert still_open, "a stale close event closed the dialog asked for again"
    await sam.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    # Alice is still signed in with her chat
    await expect(alice_row.locator("td[data-col='presence']")).to_have_text("Available")
    await expect(alice_row.locator("td[data-col='held']")).to_have_text("1/3")
    await expect(alice.locator(part("presence"))).to_have_text("Available")
    await expect(alice.locator(part("my-session"))).to_have_count(1)
    assert not problems, problems  # no native confirm() was shown


async def test_signing_an_agent_out_confirmed_by_keyboard(contexts: Contexts, shop_url: str) -> None:
    problems: list[str] = []
    sam, alice = await signout_ready(contexts, shop_url, problems)
    alice_row = sam.locator(part("wall-agents-row") + "[data-key='a:alice']")
    dialog = sam.locator(part("confirm-dialog"))
    await sam.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    await expect(sam.locator(part("confirm-cancel"))).to_be_focused()
    await sam.keyboard.press("Tab")
    await expect(sam.locator(part("confirm-ok"))).to_be_focused()
    await expect(sam.locator(part("confirm-ok"))).to_have_text("Sign out")
    await sam.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    # Alice is signed out, her chat went back to the queue
    await expect(alice.locator(part("agent-option")).first).to_be_visible()
    await expect(alice.locator(part("signin-error"))).to_contain_text("Sam Rivera signed you out")
    await expect(alice_row.locator("td[data-col='presence']")).to_have_text("Offline")
    await expect(sam.locator(part("wall-sessions-row"))).to_contain_text("Waiting")
    await expect(sam.locator(part("notice"))).to_contain_text("Alice Martin is signed out")
    # focus is back in Alice's row (the row was redrawn, the control kept focus)
    await expect(alice_row.locator(part("agent-signout"))).to_be_focused()
    assert not problems, problems  # no native confirm() was shown


async def test_keyboard_only_supervisor_journey(contexts: Contexts, shop_url: str) -> None:
    """Tab, Shift+Tab, Enter and the arrow keys only: sign in, filter the wall, observe a
    session (its transcript in view), leave it, with focus following each step."""
    problems: list[str] = []
    await customer_waiting(contexts, shop_url, "My parcel 88123 never arrived")
    sam = await contexts.new_page()
    sam.on("pageerror", lambda exc: problems.append(str(exc)))
    await sam.goto(f"{shop_url}/console")
    await expect(sam.locator(part("agent-option")).first).to_be_visible()
    await tab_to(sam, {"agent": "sam"})
    await sam.keyboard.press("Enter")
    await expect(sam.locator(part("wall"))).to_be_visible()
    row = sam.locator(part("wall-sessions-row"))
    await expect(row).to_have_count(1)

    # the state filter with the arrow keys: Waiting, then Live (no match), then Waiting again
    await tab_to(sam, {"part": "wall-state-filter"})
    state = sam.locator(part("wall-state-filter"))
    await sam.keyboard.press("ArrowDown")
    await expect(state).to_have_value("queued")
    await expect(row).to_have_count(1)
    await sam.keyboard.press("ArrowDown")
    await expect(state).to_have_value("live")
    await expect(row).to_have_count(0)
    await sam.keyboard.press("ArrowUp")
    await expect(state).to_have_value("queued")
    await expect(row).to_have_count(1)

    # sort the sessions by customer with Enter, then on to the row's Open and observe
    await tab_to(sam, {"tag": "button", "text": "Customer"})
    await sam.keyboard.press("Enter")
    await expect(sam.locator(part("wall-sessions") + " th[data-col='customer']")).to_have_attribute(
        "aria-sort", "descending"
    )
    await tab_to(sam, {"part": "session-open"})
    key = (await focused(sam))["row"]
    await sam.keyboard.press("Enter")
    stepin = sam.locator(part("stepin"))
    await expect(stepin).to_be_visible()
    await expect(stepin.locator(".stepin__title")).to_be_focused()  # focus moved to what opened
    await expect(sam.locator(part("observe-log"))).to_contain_text("parcel 88123")
    await assert_no_serious_violations(sam, "supervisor, observing by keyboard")

    # leave: Stop observing, and focus goes back to the row's Open button
    await tab_to(sam, {"part": "stepin-close"})
    await sam.keyboard.press("Enter")
    await expect(stepin).to_be_hidden()
    await expect(sam.locator(part("notice"))).to_contain_text("Stopped observing")
    back = await focused(sam)
    assert back["part"] == "session-open" and back["row"] == key, back
    assert not problems, problems
