"""The widget's branding, languages and links in real Chromium: a site's brand colour
(made readable when it is too light), logo, launcher corner and text; texts from the
locale files chosen by data-locale or the browser; Arabic laid out right to left; only
http(s) links in messages, opening safely, in the widget and the console."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import Page, Route, expect

from tests.e2e.axe import WIDGET, assert_no_serious_violations
from tests.e2e.pages import Contexts, W, live_session, open_console, part, send_from_console, send_from_widget

LOGO_SVG = (
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 8 8'><rect width='8' height='8' fill='#f60'/></svg>"
)


def host_page(attributes: str) -> str:
    """A customer's site: a header with links and the one script tag, with `attributes`."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Site</title></head><body>'
        '<header><a href="/">Home</a> <a href="/orders">Orders</a></header><main><h1>Site</h1></main>'
        f'<script src="/widget/dcs-widget.js" data-token-url="/api/dcs-token" {attributes}></script>'
        "</body></html>"
    )


async def open_site(page: Page, shop_url: str, attributes: str) -> None:
    """Serve host_page(attributes) at /site on the shop's origin (where its token URL is)."""

    async def fulfil(route: Route) -> None:
        await route.fulfill(body=host_page(attributes), content_type="text/html")

    async def logo(route: Route) -> None:
        await route.fulfill(body=LOGO_SVG, content_type="image/svg+xml")

    await page.route(f"{shop_url}/site", fulfil)
    await page.route(f"{shop_url}/brand/logo.svg", logo)
    await page.goto(f"{shop_url}/site")


def relative_luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_with_white(css_rgb: str) -> float:
    rgb = tuple(int(v) for v in re.findall(r"\d+", css_rgb)[:3])
    return 1.05 / (relative_luminance(rgb) + 0.05)


async def style_of(page: Page, selector: str, prop: str) -> Any:
    return await page.locator(selector).evaluate(f"(el) => getComputedStyle(el)[{prop!r}]")


async def test_theme_brand_colour_logo_corner_and_launcher_text(contexts: Contexts, shop_url: str) -> None:
    page = await contexts.new_page()
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    # a brand yellow: white text on it would read at 1.6:1, so the widget darkens it
    await open_site(
        page,
        shop_url,
        'data-brand-color="#ffd400" data-logo="/brand/logo.svg" data-position="left" '
        'data-launcher-text="Chat with us"',
    )
    launcher = page.locator(part("launcher", W))
    await expect(launcher).to_contain_text("Chat with us")
    await expect(launcher).to_have_attribute("aria-label", "Chat with us")
    box = await launcher.bounding_box()
    assert box is not None and box["x"] < 40, box  # the bottom-left corner
    background = await style_of(page, part("launcher", W), "backgroundColor")
    assert background != "rgb(255, 212, 0)"
    assert contrast_with_white(background) >= 4.5, background
    # still a yellowish brand colour, not a fallback blue
    r, g, b = (int(v) for v in re.findall(r"\d+", background)[:3])
    assert r > b and g > b, background
    assert any("too light for white text" in m for m in messages), messages
    await launcher.click()
    await expect(page.locator(part("logo", W))).to_be_visible()
    assert await page.locator(part("logo", W)).get_attribute("alt") == ""  # decorative: the title names it
    panel = await page.locator(part("panel", W)).bounding_box()
    assert panel is not None and panel["x"] < 40, panel
    await assert_no_serious_violations(page, "themed widget", WIDGET)

    # the same through window.DCSConfig (it wins over the attributes); a colour that reads
    # well already is kept as it is
    configured = await contexts.new_page(
        'window.DCSConfig = {brandColor: "#0a6b4d", launcherText: "Ask us", locale: "fr"};'
    )
    await open_site(configured, shop_url, 'data-launcher-text="ignored"')
    launcher = configured.locator(part("launcher", W))
    await expect(launcher).to_contain_text("Ask us")
    assert await style_of(configured, part("launcher", W), "backgroundColor") == "rgb(10, 107, 77)"
    await launcher.click()
    await expect(configured.locator(part("escalate", W))).to_have_text("Parler à une personne")


async def test_locale_from_the_attribute_or_the_browser_and_arabic_right_to_left(
    browser: Any, contexts: Contexts, shop_url: str
) -> None:
    # data-locale wins
    spanish = await contexts.new_page()
    await open_site(spanish, shop_url, 'data-locale="es"')
    launcher = spanish.locator(part("launcher", W))
    await expect(launcher).to_have_attribute("aria-label", "Abrir el chat")
    await launcher.click()
    await expect(spanish.locator(part("escalate", W))).to_have_text("Hablar con una persona")
    await expect(spanish.locator(part("input", W))).to_have_attribute("placeholder", "Escribe tu mensaje…")
    await expect(spanish.locator("h2", has_text="Ayuda")).to_have_count(1)  # the default title, translated

    # else the browser's language (German); French likewise
    for locale, label, person in (
        ("de-DE", "Chat öffnen", "Mit einem Menschen sprechen"),
        ("fr-FR", "Ouvrir le chat", "Parler à une personne"),
    ):
        context = await browser.new_context(locale=locale)
        contexts.opened.append(context)
        page = await context.new_page()
        await open_site(page, shop_url, "")
        await expect(page.locator(part("launcher", W))).to_have_attribute("aria-label", label)
        await page.locator(part("launcher", W)).click()
        await expect(page.locator(part("escalate", W))).to_have_text(person)

    # Arabic: right to left, the launcher on the left, the customer's own messages on the left
    arabic = await contexts.new_page()
    await open_site(arabic, shop_url, 'data-locale="ar"')
    root = arabic.locator(f"{W} .root")
    await expect(root).to_have_attribute("dir", "rtl")
    await expect(root).to_have_attribute("lang", "ar")
    launcher = arabic.locator(part("launcher", W))
    await expect(launcher).to_have_attribute("aria-label", "فتح المحادثة")
    box = await launcher.bounding_box()
    assert box is not None and box["x"] < 40, box
    await launcher.click()
    await send_from_widget(arabic, "مرحبا")
    # the stored bubble (a pending one is replaced by it: measuring that one could find it gone)
    mine = arabic.locator(part("message", W) + "[data-role='customer'][data-seq]").first
    await expect(mine).to_be_visible()
    panel = await arabic.locator(part("panel", W)).bounding_box()
    bubble = await mine.bounding_box()
    assert panel is not None and bubble is not None
    assert bubble["x"] - panel["x"] < 40, (bubble, panel)  # at the start (left) edge of the panel
    assert await style_of(arabic, part("input", W), "direction") == "rtl"
    await assert_no_serious_violations(arabic, "widget in Arabic (right to left)", WIDGET)


async def test_only_http_links_are_clickable_and_open_safely(contexts: Contexts, shop_url: str) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    await send_from_console(
        agent, "Track it at https://example.com/track?id=7. Not javascript:alert(1) or data:text/html,x"
    )
    message = customer.locator(part("message", W)).filter(has_text="Track it at")
    await expect(message).to_have_count(1)
    links = message.locator("a")
    await expect(links).to_have_count(1)
    assert (
        await links.get_attribute("href") == "https://example.com/track?id=7"
    )  # the full stop is not the link's
    assert await links.get_attribute("rel") == "noopener noreferrer"
    assert await links.get_attribute("target") == "_blank"
    await expect(message).to_contain_text("javascript:alert(1)")  # as text
    await send_from_widget(customer, "See http://example.org/photo and <a href=javascript:alert(2)>x</a>")
    theirs = agent.locator(part("message")).filter(has_text="See http")
    await expect(theirs).to_have_count(1)
    await expect(theirs.locator("a")).to_have_count(1)
    assert await theirs.locator("a").get_attribute("href") == "http://example.org/photo"
    assert await theirs.locator("a").get_attribute("rel") == "noopener noreferrer"
    assert not errors, errors


async def test_system_lines_in_the_customers_language(contexts: Contexts, shop_url: str) -> None:
    """The server's lines (queued, joined, a call, ended) come with a code; a German widget
    shows them from its locale file, the console keeps the English."""
    customer = await contexts.new_page()
    await open_site(customer, shop_url, 'data-locale="de"')
    await customer.locator(part("launcher", W)).click()
    await customer.locator(part("escalate", W)).click()
    lines = customer.locator(part("message", W) + "[data-role='system']")
    # nobody signed in yet: the queue is unattended, said in German with the leave-a-message offer
    await expect(
        lines.filter(has_text="Gerade ist niemand erreichbar. Hinterlassen Sie eine Nachricht")
    ).to_have_count(1)
    agent = await open_console(contexts, shop_url)
    await agent.locator(part("queue-item")).first.locator(part("accept")).click()
    await expect(lines.filter(has_text=re.compile(r"ist dem Chat beigetreten\.$"))).to_have_count(1)
    await expect(agent.locator(part("message"), has_text=re.compile(r"joined the chat\.$"))).to_have_count(1)
    await agent.locator(part("end")).click()
    await agent.locator(part("confirm-ok")).click()
    await expect(lines.filter(has_text=re.compile(r"hat den Chat beendet\.$"))).to_have_count(1)
    assert await lines.filter(has_text="joined the chat").count() == 0
