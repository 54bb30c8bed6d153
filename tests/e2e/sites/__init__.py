"""Realistic customer sites for the co-browse privacy tests, each on an origin of its own.

``site_app`` is a customer's site (a checkout, online banking, a design system of custom
elements with shadow DOM, a page of iframes) that includes the DCS widget from the DCS
server's origin and mints the widget's tokens on its own origin, as real sites do;
``third_party_app`` is a partner embedded cross-origin. Every value the privacy policy
hides is a canary that starts with ``cnry``; text that must reach the agent starts with
``VISIBLE``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from dcs_sdk import SigningKey
from examples.demo_shop.token_backend import token_handler

from .fidelity import PAGES as FIDELITY_PAGES
from .fidelity import add_fidelity_routes

HERE = Path(__file__).parent
PAGES = {
    "/checkout": "checkout.html",
    "/bank": "bank.html",
    "/components": "components.html",
    "/frames": "frames.html",
    "/app": "app.html",
    "/typing": "typing.html",
    "/frame/help": "frame-help.html",
    "/frame/statement": "frame-statement.html",
    "/frame/blocked": "frame-blocked.html",
}
CANARY = re.compile(r"cnry[\w.@-]*[\w]")


PRIVACY_FILES = (*PAGES.values(), "chart.svg", "embed-map.html")
FIDELITY_FILES = tuple(FIDELITY_PAGES.values())


def page_canaries(files: tuple[str, ...] = PRIVACY_FILES) -> set[str]:
    """Every canary planted in these pages (markup, attributes, shadow roots, frames, and
    what their scripts write: a canary made at run time starts with the one in the file)."""
    found: set[str] = set()
    for name in files:
        found.update(CANARY.findall((HERE / name).read_text()))
    return found


def site_app(
    *, dcs_url: Callable[[], str], third_url: Callable[[], str], key: Callable[[], SigningKey]
) -> web.Application:
    """The customer's site. The URLs and the signing key are read at request time (the DCS
    server starts after this site, once the site's origin is known and allowed)."""
    app = web.Application()

    def render(name: str) -> str:
        return (HERE / name).read_text().replace("{dcs}", dcs_url()).replace("{third}", third_url())

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=render(PAGES[request.path]), content_type="text/html")

    async def tokens(request: web.Request) -> web.StreamResponse:
        handler = token_handler(key(), issuer="dcs-demo", audience="dcs")
        return await handler(request)

    async def asset(request: web.Request) -> web.FileResponse:
        return web.FileResponse(HERE / request.match_info["name"])

    for path in PAGES:
        app.router.add_get(path, page)
    app.router.add_get("/api/dcs-token", tokens)
    app.router.add_get("/{name:site\\.css|chart\\.svg}", asset)
    add_fidelity_routes(app, render)  # the co-browse fidelity pages (fidelity.py)
    return app


def third_party_app() -> web.Application:
    """A partner's map, embedded by the site from another origin."""
    app = web.Application()

    async def embed(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(HERE / "embed-map.html")

    app.router.add_get("/embed/map", embed)
    return app
