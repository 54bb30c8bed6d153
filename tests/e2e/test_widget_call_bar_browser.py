"""A video call with the page shared, in real Chromium. The widget: the video leaves the
conversation in view, and with the panel closed a mini call bar keeps the call in reach
(duration, Mute/Unmute, Hang up, Open chat). The console: at 1280x720 and 1024x720, with
the video and the customer's page open, the conversation and the reply box stay in view
and usable, and a splitter gives the media more or less room. axe finds nothing serious on
either side; the call leaves its lines in the transcript. Runs in a private network
namespace (tests/netns.py), like the other call tests."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests import netns
from tests.e2e.axe import WIDGET, assert_no_serious_violations
from tests.e2e.pages import Contexts, W, live_session, part, send_from_console
from tests.e2e.test_calls_browser import CALL_TIMEOUT_MS, agent_rings_customer_accepts, expect_state

MIN_LOG_PX = 120  # the conversation keeps at least this much height beside the video


async def reply_box_usable(agent: Page, customer: Page, where: str) -> None:
    """The console's reply box is inside the viewport, the log shows a few lines, and a
    reply typed there reaches the customer."""
    size = agent.viewport_size
    assert size is not None
    box = await agent.locator(part("input")).bounding_box()
    log = await agent.locator(part("messages")).bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (where, box)
    assert log is not None and log["height"] >= MIN_LOG_PX, (where, log)
    await send_from_console(agent, f"typed {where}")
    await expect(customer.locator(part("message", W)).filter(has_text=f"typed {where}")).to_have_count(1)


@netns.isolated
async def test_video_with_cobrowse_layout_and_the_mini_call_bar(contexts: Contexts, shop_url: str) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    for i in range(6):
        await send_from_console(agent, f"line {i} of the conversation")
    await expect(customer.locator(part("message", W)).filter(has_text="line 5")).to_have_count(1)
    await agent_rings_customer_accepts(customer, agent, video=True)
    await expect(customer.locator(part("call-camera", W))).to_have_text("Turn camera off")
    await expect(customer.locator(part("remote-video", W))).to_be_visible(timeout=CALL_TIMEOUT_MS)
    await expect(customer.locator(part("local-video", W))).to_be_visible()

    # the video is sized to leave the conversation visible, with the latest line in view
    log = await customer.locator(part("messages", W)).bounding_box()
    assert log is not None and log["height"] >= MIN_LOG_PX, log
    await expect(customer.locator(part("message", W)).filter(has_text="line 5")).to_be_in_viewport()
    await assert_no_serious_violations(customer, "widget, video call", WIDGET)
    await assert_no_serious_violations(agent, "console, video call")
    await expect(agent.locator(part("message")).filter(has_text="Video call started.")).to_have_count(1)

    # the customer shares the page too: the console keeps the chat usable beside both
    await agent.locator(part("cobrowse-request")).click()
    await customer.locator(part("cobrowse-allow", W)).click()
    await expect(agent.locator(f"{part('cobrowse-view')} iframe")).to_have_count(1, timeout=CALL_TIMEOUT_MS)
    await expect(agent.locator(part("remote-video"))).to_be_visible()
    for width in (1280, 1024):
        await agent.set_viewport_size({"width": width, "height": 720})
        await reply_box_usable(agent, customer, f"at {width}x720")
        # the video and the page are both in view (side by side when the column is wide)
        for name in ("remote-video", "cobrowse-view"):
            await expect(agent.locator(part(name))).to_be_in_viewport()
        video = await agent.locator(part("remote-video")).bounding_box()
        page = await agent.locator(part("cobrowse-view")).bounding_box()
        assert video and page and video["x"] + video["width"] <= page["x"] + 1, (video, page)
    await assert_no_serious_violations(agent, "console, video call and co-browse")
    splitter = agent.locator(part("media-splitter"))
    await splitter.focus()
    await agent.keyboard.press("End")  # the most room for the media
    await expect(splitter).to_have_attribute("aria-valuenow", "75")
    await reply_box_usable(agent, customer, "with the media at its largest")
    media_large = await agent.locator(part("media")).bounding_box()
    await splitter.focus()  # (replying moved focus to the reply box)
    await agent.keyboard.press("Home")
    await expect(splitter).to_have_attribute("aria-valuenow", "15")
    media_small = await agent.locator(part("media")).bounding_box()
    assert media_large and media_small and media_small["height"] < media_large["height"] - 100
    await agent.keyboard.press("ArrowDown")
    await expect(splitter).to_have_attribute("aria-valuenow", "20")

    # the panel closes: the mini bar shows the call, its duration and the controls
    mini = customer.locator(part("call-mini", W))
    await expect(mini).to_be_hidden()  # the full call bar is in the open panel
    await customer.locator(part("close", W)).click()
    await expect(mini).to_be_visible()
    await expect(customer.locator(part("call-mini-duration", W))).to_have_text(re.compile(r"^0:\d\d$"))
    await assert_no_serious_violations(customer, "widget closed during a call", WIDGET)
    mute = customer.locator(part("call-mini-mute", W))
    await mute.click()
    await expect(mute).to_have_text("Unmute")
    await expect(agent.locator(part("call-bar"))).to_contain_text("is muted")
    await mute.click()
    await expect(mute).to_have_text("Mute")

    # Open chat brings the panel back (and the mini bar steps aside); closed again, Hang up
    await customer.locator(part("call-mini-open", W)).click()
    await expect(customer.locator(part("panel", W))).to_be_visible()
    await expect(mini).to_be_hidden()
    await customer.locator(part("close", W)).click()
    await customer.locator(part("call-mini-hangup", W)).click()
    await expect_state(agent, "ended")
    await expect(mini).to_be_hidden()
    ended = agent.locator(part("message")).filter(has_text=re.compile(r"Video call ended after \d+:\d\d\."))
    await expect(ended).to_have_count(1)
    camera_live = await customer.evaluate(
        "() => { const h = window.__dcsCall; return !!h && !!h.pc && h.pc.connectionState === 'connected'; }"
    )
    assert camera_live is False
    assert not errors, errors
