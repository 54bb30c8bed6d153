"""Checks every co-browse test of the realistic sites makes on every page it visits.

Pixels: the customer's page and the agent's replay look the same. The customer's viewport
(800x540) and the replay iframe (the console is big enough that the replay is not scaled;
checked) are screenshot at the same size. The widget (its panel, the co-browse banner, the
pointer layer) is hidden on the customer's page for the screenshot, and rrweb's drawing of
the customer's mouse pointer in the console. A pixel differs when one of its channels
differs by more than TOLERANCE (0-255), which absorbs anti-aliasing and the lossy encoding
of canvas frames; a page passes when fewer than MAX_DIFFERING of its pixels differ. Masked
text is drawn as runs of "x" of the same length in the replay, so it counts as differing
where it is. The comparison is retried until it passes or the timeout ends (images and
fonts load on their own time in the replay); the last figure is the one reported.

Leaks: no canary is in anything the customer's browser sent (WebSocket frames and
data-channel messages, with co-browse frames joined and inflated), in the server's log or
in its database; and what is not masked did arrive, so that a page cannot pass by sending
nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from playwright.async_api import FloatRect, Page, ViewportSize

from tests.e2e.test_cobrowse_browser import VIEW_IFRAME, Sent, database_bytes, replay

VIEWPORT: ViewportSize = {"width": 800, "height": 540}  # the customer's
CONSOLE_VIEWPORT: ViewportSize = {"width": 1700, "height": 1400}  # room for the replay at scale 1
TOLERANCE = 40  # per channel, of 255
MAX_DIFFERING = 0.05  # of the viewport's pixels
COMPARE_TIMEOUT_S = 15

HIDE_WIDGET_JS = (
    "(hidden) => (document.getElementById('dcs-widget-root').style.visibility = hidden ? 'hidden' : '')"
)
# the replay has loaded what it shows: fonts and images
LOADED_JS = """
(el) => {
  const doc = el.ownerDocument;
  return doc.fonts.status === "loaded" && [...doc.images].every((img) => img.complete);
}
"""
HIDE_REPLAY_MOUSE_CSS = ".replayer-mouse { display: none !important; }"


async def pixel_ready(customer: Page, agent: Page) -> None:
    """Both pages at the sizes the comparison needs, the replay's mouse pointer hidden."""
    await customer.set_viewport_size(VIEWPORT)
    await agent.set_viewport_size(CONSOLE_VIEWPORT)
    await agent.add_style_tag(content=HIDE_REPLAY_MOUSE_CSS)


def differing(a: bytes, b: bytes) -> tuple[float, Image.Image]:
    """The share of pixels of two same-sized screenshots that differ by more than
    TOLERANCE in some channel, and a picture of where."""
    one = Image.open(io.BytesIO(a)).convert("RGB")
    two = Image.open(io.BytesIO(b)).convert("RGB")
    assert one.size == two.size, f"screenshots of different sizes: {one.size} and {two.size}"
    r, g, bl = ImageChops.difference(one, two).split()
    worst = ImageChops.lighter(ImageChops.lighter(r, g), bl)
    mask = worst.point(lambda v: 255 if v > TOLERANCE else 0)
    count = mask.histogram()[255]
    return count / (one.size[0] * one.size[1]), mask


async def compare(customer: Page, agent: Page, name: str, figures: dict[str, float], out: Path) -> float:
    """Until the replay matches the page (or the timeout): the last share of differing
    pixels, recorded in `figures` (percent); the screenshots are kept in `out` when it fails."""
    frame = agent.locator(VIEW_IFRAME)
    transform = await agent.locator(".cob-frame").evaluate("(el) => getComputedStyle(el).transform")
    assert transform in ("none", "matrix(1, 0, 0, 1, 0, 0)"), f"the replay is scaled ({transform})"
    deadline = time.monotonic() + COMPARE_TIMEOUT_S
    share_ = 1.0
    while True:
        with contextlib.suppress(Exception):  # (a replay being rebuilt: try again)
            await replay(agent).locator("html").evaluate(LOADED_JS, timeout=2000)
        await customer.evaluate(HIDE_WIDGET_JS, True)
        page_png = await customer.screenshot()
        await customer.evaluate(HIDE_WIDGET_JS, False)
        box = await frame.bounding_box()
        assert box is not None, "the replay is not shown"
        clip = FloatRect(
            x=round(box["x"]), y=round(box["y"]), width=VIEWPORT["width"], height=VIEWPORT["height"]
        )
        replay_png = await agent.screenshot(clip=clip)
        share_, mask = differing(page_png, replay_png)
        if share_ < MAX_DIFFERING or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    figures[name] = round(share_ * 100, 2)
    if os.environ.get("DCS_FIDELITY_REPORT"):
        print(f"\ndiffering pixels, {name}: {figures[name]}%")
    if share_ >= MAX_DIFFERING or os.environ.get("DCS_FIDELITY_REPORT"):
        (out / f"{name}-page.png").write_bytes(page_png)
        (out / f"{name}-replay.png").write_bytes(replay_png)
        mask.save(out / f"{name}-diff.png")
    return share_


def log_everything(caplog: pytest.LogCaptureFixture) -> None:
    """The server logs all it would (and the test keeps it) while a test runs."""
    caplog.set_level("INFO")
    for name in ("signaling_server", "dcs_sdk", "socketio", "engineio", "aiohttp"):
        caplog.set_level("DEBUG", logger=name)


def assert_nothing_leaked(
    canaries: set[str],
    shown: tuple[str, ...],
    sent: Sent,
    caplog: pytest.LogCaptureFixture,
    data_dir: Path,
) -> None:
    """No canary left the customer's browser (on the wire, in the server's log, in its
    database), and every `shown` text (not masked) is on the wire."""
    wire = sent.text()
    assert sent.inflated > 0, "no co-browse frame on the wire was read"
    for text in shown:
        assert text in wire, f"{text!r} (not masked) is not on the wire: the checks below prove nothing"
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    stored = database_bytes(data_dir)
    assert stored, "no database file found"
    for where, text in (("sent", wire), ("server log", logged), ("database", stored)):
        leaks = sorted(v for v in canaries if v in text)
        assert not leaks, f"masked values reached the {where}: {leaks}"
