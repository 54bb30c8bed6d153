"""Pages for the co-browse fidelity tests (tests/e2e/test_cobrowse_fidelity.py), on the
customer's site (``site_app``), so on another origin than DCS: a product page (images, a
web font, CSS backgrounds), a canvas chart (the site opts in to canvas recording), a
10,000-node table, a single-page app with client-side routes, a form (selects, checkboxes,
radio buttons, a range), inner scrollers and live-updating content.

Assets are made here: the photos are PNGs drawn in code, the web font is a font file of the
machine's (Chromium's Debian package brings Liberation and DejaVu) under a family name no
system font has, so a replay that cannot load it falls back visibly. Fonts are served with
``Access-Control-Allow-Origin: *`` (a cross-origin @font-face needs CORS, and font hosts
send it).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).parent
PAGES = {
    "/fid/product": "fid-product.html",
    "/fid/chart": "fid-chart.html",
    "/fid/chart-frame": "fid-chart-frame.html",  # an iframe of the chart page
    "/fid/table": "fid-table.html",
    "/fid/spa": "fid-spa.html",
    "/fid/form": "fid-form.html",
    "/fid/scroller": "fid-scroller.html",
    "/fid/live": "fid-live.html",
}
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
)


def font_file() -> Path:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FileNotFoundError(f"no font file for the product page's web font: {FONT_CANDIDATES}")


def png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """An RGB PNG, pixel(x, y) -> (r, g, b)."""
    rows = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def photo(variant: int) -> bytes:
    """A 'product photo': a gradient with a jacket-ish shape, a different hue per variant."""
    base = [(200, 60, 40), (40, 110, 190), (60, 150, 80)][variant % 3]

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        inside = abs(x - 160) < 70 - (y - 120) // 6 and 40 < y < 220
        if inside:
            lift = 40 if x % 16 < 2 else 0  # seams
            return (min(255, base[0] + lift), min(255, base[1] + lift), min(255, base[2] + lift))
        shade = 230 - y // 6
        return (shade, shade - x // 20, 255 - x // 8)

    return png(320, 240, pixel)


PHOTOS = {n: photo(n) for n in range(3)}


def add_fidelity_routes(app: web.Application, render: Callable[[str], str]) -> None:
    """The fidelity pages and their assets, on the customer's site."""

    async def page(request: web.Request) -> web.Response:
        path = request.path if request.path in PAGES else "/fid/spa"  # the app's own routes
        return web.Response(text=render(PAGES[path]), content_type="text/html")

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=PHOTOS[int(request.match_info["n"]) % 3], content_type="image/png")

    async def font(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(
            font_file(), headers={"Content-Type": "font/ttf", "Access-Control-Allow-Origin": "*"}
        )

    async def asset(request: web.Request) -> web.FileResponse:
        return web.FileResponse(HERE / f"fid-{request.match_info['name']}")

    for path in PAGES:
        app.router.add_get(path, page)
    app.router.add_get("/fid/spa/{route:.*}", page)
    app.router.add_get("/fid/photo-{n:\\d}.png", image)
    app.router.add_get("/fid/display.ttf", font)
    app.router.add_get("/fid/{name:[a-z]+\\.(?:css|svg)}", asset)
