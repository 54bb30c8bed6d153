"""The console's Chart.js is a chunk of its own: not in console.js (which every agent
loads), but in a content-hashed ES module beside it, served immutable and compressed from
the console's origin (its CSP's script-src 'self'), imported when the Reports view opens
(tests/e2e/test_reports_browser.py checks when the browser fetches it)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import brotli
import pytest

STATIC = Path(__file__).parents[2] / "signaling_server" / "static" / "console"
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}
CHUNK = re.compile(r"dcs-charts-[A-Z0-9]{8}\.js")
# Chart.js's own strings, which survive minifying: its licence banner, its CSS class prefix
CHART_JS_MARKERS = ("Chart.js Contributors", "chartjs", "devicePixelRatio")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


def charts_chunk() -> str:
    names = set(CHUNK.findall((STATIC / "console.js").read_text()))
    assert len(names) == 1, names  # console.js names the one chunk the build made
    return names.pop()


async def test_chart_js_is_not_in_the_console_bundle() -> None:
    console = (STATIC / "console.js").read_text()
    chunk = (STATIC / charts_chunk()).read_text()
    for marker in CHART_JS_MARKERS:
        assert marker in chunk and marker not in console, marker
    # the chunk is an ES module exporting the charts' one entry point
    assert re.search(r"export\s*\{[^}]*createChart", chunk)


async def test_the_charts_chunk_is_served_immutable_and_compressed(
    dcs_url: str, http: aiohttp.ClientSession
) -> None:
    name = charts_chunk()
    async with http.get(f"{dcs_url}/console/{name}", headers=BROWSER) as resp:
        assert resp.status == 200 and resp.headers["Content-Encoding"] == "br"
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "javascript" in resp.headers["Content-Type"]
        assert brotli.decompress(await resp.read()) == (STATIC / name).read_bytes()
