"""The demo shop's web routes: pages with the widget, its stylesheet, and its token endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from dcs_sdk import SigningKey

from .token_backend import token_handler

PAGES_DIR = Path(__file__).parent / "pages"
KNOWLEDGE_BASE = Path(__file__).parent / "knowledge_base.json"
PAGES = {
    "/": ("Shop", "home"),
    "/orders": ("Orders", "orders"),
    "/returns": ("Returns", "returns"),
    "/checkout": ("Checkout", "checkout"),
}


def render(title: str, name: str) -> str:
    layout = (PAGES_DIR / "layout.html").read_text()
    body = (PAGES_DIR / f"{name}.html").read_text()
    return layout.replace("{title}", title).replace("{body}", body)


def add_shop_routes(app: web.Application, key: SigningKey, *, issuer: str, audience: str) -> None:
    rendered = {path: render(title, name) for path, (title, name) in PAGES.items()}

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=rendered[request.path], content_type="text/html")

    for path in rendered:
        app.router.add_get(path, page)
    for asset in ("shop.css", "shop.js"):
        app.router.add_get(f"/shop/{asset}", _asset(asset))
    app.router.add_get("/api/dcs-token", token_handler(key, issuer=issuer, audience=audience))


def _asset(name: str) -> Any:
    async def serve(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(PAGES_DIR / name)

    return serve
