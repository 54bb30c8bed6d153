"""The floor in real Chromium: a supervisor's live wall and step-in, two agents passing a
customer between them, and the customer's widget, all in one run that shares its pages.

Sam (supervisor) watches the wall as the customer escalates and Alice accepts; observes
(the customer sees nothing of it), whispers (only Alice sees it), joins the chat and leaves.
Alice warm-transfers to Bob with a note and a consult; Bob accepts with the history in
front of him and the customer is told, typing nothing again. Bob's transfer back is
declined and returns to him. Bob walks away; Sam reassigns his customer to Alice, and the
wall follows every step until the session ends.
"""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.pages import Contexts, W, part, send_from_console, send_from_widget


async def sign_in(contexts: Contexts, shop_url: str, who: str, errors: list[str]) -> Page:
    page = await contexts.new_page()
    page.on("pageerror", lambda exc: errors.append(f"{who}: {exc}"))
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{shop_url}/console")
    await page.locator(part("agent-option") + f"[data-agent-id='{who}']").click()
    return page


def session_row(page: Page) -> object:
    return page.locator(part("wall-sessions-row"))


async def test_the_floor_wall_step_in_and_transfers(contexts: Contexts, shop_url: str) -> None:
    errors: list[str] = []
    sam = await sign_in(contexts, shop_url, "sam", errors)
    await expect(sam.locator(part("wall"))).to_be_visible()

    customer = await contexts.new_page()
    customer.on("pageerror", lambda exc: errors.append(f"customer: {exc}"))
    await customer.goto(f"{shop_url}/")
    await customer.locator(part("launcher", W)).click()
    await send_from_widget(customer, "My parcel 88123 never arrived")
    await customer.locator(part("escalate", W)).click()
    await expect(customer.locator(part("queue", W))).to_be_visible()

    # the wall: the customer waits, with the reason in words
    row = session_row(sam)
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Waiting")
    await expect(row).to_contain_text("asked for a person")
    general = sam.locator(part("wall-queues-row") + "[data-key='q:general']")
    await expect(general.locator("td[data-col='waiting']")).to_have_text("1")

    alice = await sign_in(contexts, shop_url, "alice", errors)
    await alice.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(customer.locator(part("status", W))).to_contain_text("Alice")
    await expect(row).to_contain_text("Live")
    await expect(row.locator("td[data-col='agent']")).to_have_text("Alice Martin")
    await expect(general.locator("td[data-col='waiting']")).to_have_text("0")

    # observe: the transcript and live messages; the customer is not told
    await row.locator(part("session-open")).click()
    observed = sam.locator(part("observe-log"))
    await expect(observed).to_contain_text("parcel 88123")
    await send_from_widget(customer, "Is anyone looking at this?")
    await expect(observed).to_contain_text("Is anyone looking at this?")

    # whisper: only Alice sees it, apart from the chat
    await sam.locator(part("whisper-input")).fill("Offer the express reshipment")
    await sam.locator(part("whisper")).locator("button[type='submit']").click()
    await expect(alice.locator(part("staff-note-whisper"))).to_contain_text("Offer the express reshipment")

    # barge: the customer sees the supervisor join and speak; then Sam leaves
    await sam.locator(part("barge")).click()
    joined = customer.locator(part("message", W)).filter(has_text="Sam Rivera (supervisor) joined the chat.")
    await expect(joined).to_have_count(1)
    await sam.locator(part("say-input")).fill("Hi, I'm Alice's supervisor; we'll sort this out.")
    await sam.locator(part("say")).locator("button[type='submit']").click()
    await expect(customer.locator(part("message", W)).filter(has_text="we'll sort this out")).to_have_count(1)
    await sam.locator(part("barge")).click()  # now "Leave the chat"
    await expect(
        customer.locator(part("message", W)).filter(has_text="(supervisor) left the chat")
    ).to_have_count(1)

    # a warm transfer to Bob, with a note and a consult
    bob = await sign_in(contexts, shop_url, "bob", errors)
    await expect(sam.locator(part("wall-agents-row") + "[data-key='a:bob']")).to_contain_text("Available")
    await alice.locator(part("transfer-open")).click()
    dialog = alice.locator(part("transfer-dialog"))
    await expect(dialog).to_be_visible()
    await dialog.locator(part("transfer-target")).select_option("a:bob")
    await dialog.locator(part("transfer-note")).fill("Reship 88123 express, already approved")
    await dialog.locator(part("transfer-submit")).click()
    offer = bob.locator(part("transfer-offer"))
    await expect(offer).to_contain_text("Reship 88123 express")
    await expect(offer).to_contain_text("transferred by Alice Martin")
    await expect(offer.locator(part("transfer-history"))).to_contain_text("parcel 88123")
    await alice.locator(part("consult-input")).fill("She has been patient, be quick")
    await alice.locator(part("consult-input")).press("Enter")
    await expect(offer.locator(part("consult-log"))).to_contain_text("be quick")
    await offer.locator(part("transfer-accept")).click()
    told = customer.locator(part("message", W)).filter(has_text="has passed you to Bob Chen")
    await expect(told).to_have_count(1)
    await expect(customer.locator(part("status", W))).to_contain_text("Bob")
    await expect(bob.locator(part("message")).filter(has_text="parcel 88123")).to_have_count(1)
    await expect(row.locator("td[data-col='agent']")).to_have_text("Bob Chen")

    # none of the staff's words reached the customer
    for private in ("Offer the express reshipment", "Reship 88123 express", "be quick"):
        await expect(customer.locator(part("message", W)).filter(has_text=private)).to_have_count(0)
    await expect(customer.locator(part("message", W)).filter(has_text="observ")).to_have_count(0)

    # Bob's transfer back is declined: it stays with him, and he is told
    await bob.locator(part("transfer-open")).click()
    await bob.locator(part("transfer-target")).select_option("a:alice")
    await bob.locator(part("transfer-submit")).click()
    await expect(bob.locator(part("transfer-outgoing"))).to_contain_text("Waiting for Alice Martin")
    await alice.locator(part("transfer-offer")).locator(part("transfer-decline")).click()
    await expect(bob.locator(part("notice"))).to_contain_text("Alice Martin declined the transfer")
    await expect(bob.locator(part("transfer-outgoing"))).to_be_hidden()
    await send_from_console(bob, "Still me, Bob. Reshipping now.")
    await expect(customer.locator(part("message", W)).filter(has_text="Reshipping now")).to_have_count(1)

    # Bob walks away; Sam reassigns his customer to Alice, who has the whole conversation
    await bob.close()
    await expect(sam.locator(part("wall-agents-row") + "[data-key='a:bob']")).to_contain_text("Offline")
    await row.locator(part("session-open")).click()
    await sam.locator(part("reassign-agent")).select_option("a:alice")
    await sam.locator(part("reassign-note")).fill("Bob left; reship is approved")
    await sam.locator(part("reassign")).locator("button[type='submit']").click()
    await expect(row.locator("td[data-col='agent']")).to_have_text("Alice Martin")
    await expect(
        customer.locator(part("message", W)).filter(has_text="has passed you to Alice Martin")
    ).to_have_count(1)
    await expect(alice.locator(part("message")).filter(has_text="Reshipping now")).to_have_count(1)
    notes = alice.locator(part("staff-note-transfer"))
    await expect(notes.filter(has_text="Bob left; reship is approved")).to_contain_text(
        "Sam Rivera (supervisor)"
    )

    # the session ends and leaves the wall
    await alice.locator(part("end")).click()
    await alice.locator(part("confirm-ok")).click()
    await expect(row).to_contain_text("Wrap-up")
    assert not errors, errors
