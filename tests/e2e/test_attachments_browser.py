"""Attachments and read receipts in real Chromium, widget <-> console through the server:
an image each way shown inline (decoded, not just an element), a disguised program refused
with the reason shown, and "Seen" on both sides."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from playwright.async_api import Page, expect

from tests.e2e.pages import Contexts, W, live_session, part, send_from_console, send_from_widget


def png(width: int, height: int, rgb: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + rgb * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def decoded_width(page: Page, selector: str) -> int:
    """The natural width of the image at ``selector`` once it has loaded (0 if it failed)."""
    img = page.locator(selector).last
    await expect(img).to_have_attribute("src", re.compile(r"/files/att_"))
    return int(await img.evaluate("i => i.decode().then(() => i.naturalWidth, () => 0)"))


async def test_an_image_both_ways_a_refusal_and_receipts(
    contexts: Contexts, shop_url: str, tmp_path: Path
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    mug = tmp_path / "broken-mug.png"
    mug.write_bytes(png(800, 600, b"\xc0\x20\x20"))
    label = tmp_path / "label.png"
    label.write_bytes(png(24, 16, b"\x20\x80\x20"))
    disguised = tmp_path / "invoice.pdf"
    disguised.write_bytes(b"MZ\x90\x00" + b"\x00" * 300)

    # the customer sends a photo: both sides show its thumbnail inline (320 px wide, decoded),
    # linked to the whole image
    await customer.locator(f"{W} input[type=file]").set_input_files(str(mug))
    await expect(customer.locator(part("message", W) + "[data-role='customer'] img")).to_have_count(1)
    assert await decoded_width(customer, f"{W} .msg[data-role='customer'] img") == 320
    assert await decoded_width(agent, ".conversation li[data-role='customer'] img") == 320
    thumb = agent.locator(".conversation li[data-role='customer'] img")
    await expect(thumb).to_have_attribute("src", re.compile(r"&v=thumb$"))
    assert "v=thumb" not in (
        await agent.locator(".conversation li[data-role='customer'] a.msg__file").get_attribute("href")
        or "v=thumb"
    )
    await expect(agent.locator(".conversation img[alt='Image: broken-mug.png']")).to_be_visible()

    # the agent sends one back from the console: the widget shows it inline
    await agent.locator(".conversation input[type=file]").set_input_files(str(label))
    await expect(agent.locator(".upload-status")).to_have_text("label.png sent.")
    assert await decoded_width(customer, f"{W} .msg[data-role='agent'] img") == 24
    await expect(customer.locator(f"{W} img[alt='Image: label.png']")).to_be_visible()

    # a PDF dropped on the console's reply box: the widget offers it as a download
    await agent.locator(".conversation form.composer").evaluate(
        """(form) => {
            const dt = new DataTransfer();
            dt.items.add(new File(["%PDF-1.4\\n%%EOF\\n"], "invoice.pdf", {type: "application/pdf"}));
            form.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
        }"""
    )
    pdf = customer.locator(f"{W} a.file-link")
    await expect(pdf).to_have_text(re.compile(r"^Open invoice\.pdf \(\d+ B\)$"))
    await expect(pdf).to_have_attribute("href", re.compile(r"/files/att_"))
    assert await pdf.get_attribute("rel") == "noopener noreferrer"

    # a program named like a PDF is refused, and the customer is told why
    await customer.locator(f"{W} input[type=file]").set_input_files(str(disguised))
    refusal = customer.locator(part("notice", W)).filter(has_text="invoice.pdf was not sent")
    await expect(refusal).to_contain_text("Windows program")

    # a photo above the size limit: refused while it streams in, and the customer told why
    huge = tmp_path / "huge.png"
    huge.write_bytes(png(8, 8, b"\x10\x10\x10") + b"\x00" * (11 * 1024 * 1024))
    await customer.locator(f"{W} input[type=file]").set_input_files(str(huge))
    too_big = customer.locator(part("notice", W)).filter(has_text="huge.png was not sent")
    await expect(too_big).to_contain_text("larger than 10 MB")

    # read receipts: the agent's reply is read by the open widget, the customer's by the console
    await send_from_console(agent, "Thanks, I can see the damage.")
    await expect(agent.locator("[data-customer-seen]")).to_have_text("Seen by the customer")
    seen_under = agent.locator(".conversation li", has=agent.locator("[data-customer-seen]"))
    await expect(seen_under).to_contain_text("Thanks, I can see the damage.")
    await send_from_widget(customer, "Great, thank you")
    seen = customer.locator(f"{W} [data-seen]")
    await expect(seen).to_have_text("Seen")
    await expect(customer.locator(f"{W} .msg", has=customer.locator("[data-seen]"))).to_contain_text(
        "Great, thank you"
    )

    # after a reload the widget shows the images and "Seen" again, from the store
    await customer.reload()
    await expect(customer.locator(f"{W} .msg img")).to_have_count(2)
    await expect(customer.locator(f"{W} a.file-link")).to_have_count(1)
    await expect(customer.locator(f"{W} [data-seen]")).to_have_text("Seen")
    # and the console, reloaded, shows the image and "Seen by the customer" again
    await agent.reload()
    await expect(agent.locator(".conversation img[alt='Image: broken-mug.png']")).to_be_visible()
    await expect(agent.locator("[data-customer-seen]")).to_have_text("Seen by the customer")
    assert not errors, errors
