"""A hostile recording must not run anything in the agent's console.

The "customer" here is a Python program speaking the protocol directly (dcs_sdk.DcsClient),
so nothing of the widget's own recorder stands between the attacker and the console: it
shares its "page" and streams hand-made rrweb events through the server relay — scripts,
event-handler attributes, javascript: URLs, srcdoc iframes, meta refreshes, mutations that
add more of the same, events with forged or impossible shapes, frames that are not JSON and
piece trains that never end. Real Chromium renders them in the console's viewer. Nothing may
run (no dialog, no marker set anywhere), the viewer's iframe must be sandboxed without
scripts, and afterwards the console still renders an honest page and still chats.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect

from dcs_sdk import DcsClient, Event, PageInfo
from tests.e2e.pages import part, send_from_console

TIMEOUT_MS = 15_000
MARK = "parent.__pwned='{}';top.__pwned='{}';alert('{}')"


def run(tag: str) -> str:
    return MARK.format(tag, tag, tag)


def el(
    node_id: int, tag: str, attrs: dict[str, Any] | None = None, *children: dict[str, Any]
) -> dict[str, Any]:
    return {"type": 2, "tagName": tag, "attributes": attrs or {}, "childNodes": list(children), "id": node_id}


def text(node_id: int, content: str) -> dict[str, Any]:
    return {"type": 3, "textContent": content, "id": node_id}


def page_events(
    title: str, *body: dict[str, Any], head: tuple[dict[str, Any], ...] = ()
) -> list[dict[str, Any]]:
    """A Meta and a FullSnapshot event of a page with this body."""
    now = int(time.time() * 1000)
    document = {
        "type": 0,
        "id": 1,
        "childNodes": [
            {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 2},
            el(
                3, "html", {}, el(4, "head", {}, *head), el(10, "body", {"onload": run("body-onload")}, *body)
            ),
        ],
    }
    return [
        {
            "type": 4,
            "data": {"href": f"https://shop.example/{title}", "width": 1024, "height": 700},
            "timestamp": now,
        },
        {"type": 2, "data": {"node": document, "initialOffset": {"top": 0, "left": 0}}, "timestamp": now + 1},
    ]


HOSTILE_HEAD = (
    el(5, "script", {}, text(6, run("head-script"))),
    el(7, "meta", {"http-equiv": "refresh", "content": f"0;url=javascript:{run('meta-refresh')}"}),
    el(8, "base", {"href": "javascript:" + run("base") + "//"}),
    el(9, "style", {}, text(90, "body { background: url('javascript:" + run("css") + "') }")),
)
HOSTILE_BODY = (
    el(11, "h1", {}, text(12, "Hostile page")),
    el(13, "img", {"src": "data:,x", "onerror": run("img-onerror")}),
    el(14, "a", {"href": "javascript:" + run("link"), "id": "bad-link"}, text(15, "click me")),
    el(16, "iframe", {"srcdoc": f"<script>{run('srcdoc')}</script>"}),
    {**el(17, "svg", {"onload": run("svg-onload")}), "isSVG": True},
    el(18, "object", {"data": "javascript:" + run("object")}),
    el(
        19,
        "form",
        {"action": "javascript:" + run("form"), "id": "bad-form"},
        el(20, "button", {}, text(21, "go")),
    ),
    el(22, "embed", {"src": "javascript:" + run("embed")}),
    el(23, "input", {"autofocus": "", "onfocus": run("onfocus"), "value": "x"}),
    el(24, "details", {"open": "", "ontoggle": run("ontoggle")}, el(25, "summary", {}, text(26, "s"))),
)


def hostile_events() -> list[dict[str, Any]]:
    now = int(time.time() * 1000)
    script_added = el(
        30, "script", {"src": "data:text/javascript," + run("added-script")}, text(31, run("added"))
    )
    return [
        *page_events("hostile", *HOSTILE_BODY, head=HOSTILE_HEAD),
        # mutations that add a script and turn an attribute into a handler
        {
            "type": 3,
            "data": {
                "source": 0,
                "adds": [
                    {"parentId": 10, "nextId": None, "node": script_added},
                    {
                        "parentId": 10,
                        "nextId": None,
                        "node": el(32, "p", {"id": "late"}, text(33, "Added later")),
                    },
                ],
                "removes": [],
                "texts": [],
                "attributes": [{"id": 13, "attributes": {"src": "data:,y", "onerror": run("attr-onerror")}}],
            },
            "timestamp": now + 10,
        },
        # forged shapes: a missing parent, a bogus event type, inputs on nodes that are no inputs
        {
            "type": 3,
            "data": {
                "source": 0,
                "adds": [{"parentId": 99999, "node": el(40, "b")}],
                "removes": [{"parentId": 1, "id": 77}],
                "texts": [],
                "attributes": [],
            },
            "timestamp": now + 11,
        },  # noqa: E501
        {"type": 99, "data": {"evil": "<script>" + run("type99") + "</script>"}, "timestamp": now + 12},
        {
            "type": 3,
            "data": {"source": 5, "id": 14, "text": "javascript:" + run("input"), "isChecked": False},
            "timestamp": now + 13,
        },  # noqa: E501
        {"type": 3, "data": {"source": 2, "type": 2, "id": 14, "x": 5, "y": 5}, "timestamp": now + 14},
        {
            "type": 5,
            "data": {"tag": "<img src=x onerror=alert(1)>", "payload": {"html": "<script>alert(2)</script>"}},
            "timestamp": now + 15,
        },  # noqa: E501
        {
            "type": 6,
            "data": {
                "plugin": "rrweb/console@1",
                "payload": {"level": "log", "payload": ["<img src=x onerror=alert(3)>"]},
            },
            "timestamp": now + 16,
        },  # noqa: E501
        {
            "type": 3,
            "data": {"source": 3, "id": "not-a-number", "x": "1e999", "y": None},
            "timestamp": now + 17,
        },
    ]


def frame(epoch: str, seq: int, events: list[dict[str, Any]]) -> str:
    return json.dumps({"t": "ev", "g": epoch, "s": seq, "e": events}, separators=(",", ":"))


def deflated(text: str) -> str:
    """A frame as the widget sends a big one: deflate-raw, base64."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(text.encode()) + packer.flush()
    return json.dumps({"t": "z", "d": base64.b64encode(data).decode()})


GARBAGE_FRAMES = [
    "<script>alert('not json')</script>",
    '{"t":"ev","g":"h1","s":"three","e":"not a list"}',
    '{"t":"ev","g":{"x":1},"s":3,"e":[null, 1, "x", {"type": 2}]}',
    '{"t":"part","id":1,"i":0,"n":1000000000,"d":"' + "A" * 5000 + '"}',
    '{"t":"part","id":"x","i":-1,"n":-5,"d":5}',
    '{"t":"vis","hidden":"<img src=x onerror=alert(4)>"}',
    '{"t":"nack","what":"<b>x</b>","why":"<img src=x onerror=alert(5)>"}',
    '{"t":"__proto__","__proto__":{"polluted":true}}',
    "[]",
    "null",
    '{"t":"z","d":"!!! not base64 !!!"}',
    '{"t":"z","d":"' + base64.b64encode(b"not deflate at all").decode() + '"}',
    deflated('{"t":"z","d":"nested"}'),
    deflated("\0" * 100_000),  # inflates to no JSON at all
]


@pytest.fixture
async def agent_page(browser: Any, shop_url: str) -> AsyncIterator[tuple[Page, list[str]]]:
    context = await browser.new_context()
    page = await context.new_page()
    seen: list[str] = []
    page.on("dialog", lambda d: (seen.append(f"dialog: {d.message}"), d.dismiss()))
    try:
        yield page, seen
    finally:
        await context.close()


async def pwned(page: Page) -> list[str]:
    """Markers any frame of the page (console or viewer iframe) would have set."""
    found = []
    for f in page.frames:
        try:
            value = await f.evaluate(
                "() => window.__pwned || (window.parent && window.parent.__pwned) || null"
            )
        except Exception:  # noqa: BLE001 - a frame torn down meanwhile
            continue
        if value:
            found.append(f"{f.url}: {value}")
    return found


async def test_hostile_recording_runs_nothing_in_the_console(
    agent_page: tuple[Page, list[str]], shop_url: str
) -> None:
    agent, dialogs = agent_page
    console_errors: list[str] = []
    agent.on("pageerror", lambda exc: console_errors.append(str(exc)))
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.get(f"{shop_url}/api/dcs-token") as response:
        token = str((await response.json())["token"])
    attacker = DcsClient(shop_url, lambda: token)
    try:
        await attacker.connect()
        sid = (await attacker.start_session(page=PageInfo(url=f"{shop_url}/", title="Shop"))).session_id
        await attacker.escalate(sid)

        response_headers = await (await agent.goto(f"{shop_url}/console")).all_headers()  # type: ignore[union-attr]
        csp = response_headers["content-security-policy"]
        script_src = csp.split("script-src")[1].split(";")[0]
        assert "'self'" in script_src and "unsafe" not in script_src, csp
        await agent.locator(part("agent-option") + "[data-agent-id='alice']").click()
        await agent.locator(part("queue-item")).first.locator(part("accept")).click()

        await attacker.wait_for(Event.SESSION_STATE, lambda d: d.get("state") == "live")
        # the "customer" shares its page unasked: the console starts viewing
        ack = await attacker.request(
            Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True}
        )
        cid = ack["cobrowse"]["cobrowse_id"]
        view = agent.locator(part("cobrowse-view"))
        await expect(view).to_be_visible(timeout=TIMEOUT_MS)

        async def relay(raw: str) -> None:
            await attacker.request(Event.COBROWSE_DATA, {"session_id": sid, "cobrowse_id": cid, "frame": raw})

        events = hostile_events()
        await relay(frame("h1", 1, events[:2]))
        await relay(deflated(frame("h1", 2, events[2:])))
        for raw in GARBAGE_FRAMES:
            await relay(raw)

        iframe = view.locator("iframe")
        await expect(iframe).to_have_count(1, timeout=TIMEOUT_MS)
        assert await iframe.get_attribute("sandbox") == "allow-same-origin"
        replay = agent.frame_locator(f"{part('cobrowse-view')} iframe")
        # it did render the hostile page (so "nothing ran" is not "nothing was shown")
        await expect(replay.locator("h1")).to_have_text("Hostile page", timeout=TIMEOUT_MS)
        await expect(replay.locator("#late")).to_have_count(1)  # from the deflated frame
        # poke it the way an agent might: the link, the form, focus
        for selector in ("#bad-link", "#bad-form button"):
            await replay.locator(selector).evaluate("(el) => el.click()")
        await agent.wait_for_timeout(1500)
        assert await pwned(agent) == []
        assert dialogs == []

        # the console carries on: an honest page in a new recording replaces it...
        honest = page_events("honest", el(11, "p", {"id": "ok"}, text(12, "All good here")))
        await relay(frame("h2", 1, honest))
        await expect(replay.locator("#ok")).to_have_text("All good here", timeout=TIMEOUT_MS)
        # ...and the chat still works both ways
        await send_from_console(agent, "still with you")
        got = await attacker.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "still with you")
        assert got["sender"]["role"] == "agent"
        assert await pwned(agent) == [] and dialogs == []
        assert not [e for e in console_errors if "pwned" in e], console_errors
    finally:
        await attacker.close()
        await http.close()
