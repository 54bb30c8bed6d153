"""The widget as a browser downloads it: pre-compressed, cached by content hash, the loader
revalidated by ETag, no source maps unless configured."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import brotli
import pytest
from aiohttp.test_utils import TestServer

from signaling_server import Config, create_app

STATIC = Path(__file__).parents[2] / "signaling_server" / "static"
LOADER_BUDGET = 30 * 1024  # what a host page pays before anyone asks for help
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    # auto_decompress=False: read the bytes on the wire, as the browser receives them
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        yield session


def manifest() -> dict[str, str]:
    return dict(json.loads((STATIC / "widget" / "manifest.json").read_text()))


async def test_the_loader_is_brotli_short_cached_and_revalidated(
    dcs_url: str, http: aiohttp.ClientSession
) -> None:
    original = (STATIC / "widget" / "dcs-widget.js").read_bytes()
    async with http.get(f"{dcs_url}/widget/dcs-widget.js", headers=BROWSER) as resp:
        body = await resp.read()
        assert resp.status == 200 and resp.headers["Content-Encoding"] == "br"
        assert "javascript" in resp.headers["Content-Type"]
        assert resp.headers["Vary"] == "Accept-Encoding"
        assert resp.headers["Cache-Control"] == "public, max-age=300"
        assert resp.headers["Access-Control-Allow-Origin"] == "*"  # other sites load it
        etag = resp.headers["ETag"]
    assert brotli.decompress(body) == original
    assert len(body) <= LOADER_BUDGET, f"the loader is {len(body)} bytes on the wire"
    assert len(body) < len(original) / 3
    # the loader names the hashed chunks, so a new release is picked up through it alone
    text = original.decode()
    assert all(name in text for name in manifest().values())
    async with http.get(
        f"{dcs_url}/widget/dcs-widget.js", headers={**BROWSER, "If-None-Match": etag}
    ) as resp:
        assert resp.status == 304 and await resp.read() == b""
    # a browser without brotli gets gzip, one without either the plain file
    async with http.get(f"{dcs_url}/widget/dcs-widget.js", headers={"Accept-Encoding": "gzip"}) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(await resp.read()) == original
    async with http.get(f"{dcs_url}/widget/dcs-widget.js", headers={"Accept-Encoding": "identity"}) as resp:
        assert "Content-Encoding" not in resp.headers and await resp.read() == original


async def test_hashed_chunks_are_immutable(dcs_url: str, http: aiohttp.ClientSession) -> None:
    for key, name in manifest().items():
        assert name.startswith(f"dcs-{key}-") and name.endswith(".js")
        async with http.get(f"{dcs_url}/widget/{name}", headers=BROWSER) as resp:
            assert resp.status == 200 and resp.headers["Content-Encoding"] == "br"
            assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert brotli.decompress(await resp.read()) == (STATIC / "widget" / name).read_bytes()


async def test_source_maps_and_compressed_copies_are_not_served_by_default(
    dcs_url: str, http: aiohttp.ClientSession
) -> None:
    assert (STATIC / "widget" / "dcs-widget.js.map").exists()
    for path in (
        "/widget/dcs-widget.js.map",
        "/widget/dcs-widget.js.br",
        "/widget/dcs-widget.js.gz",
        f"/widget/{manifest()['call']}.map",
        "/console/console.js.map",
        "/widget/..",
        "/widget/.hidden",
    ):
        async with http.get(f"{dcs_url}{path}") as resp:
            assert resp.status == 404, path


async def test_source_maps_are_served_when_configured(server_config: Config) -> None:
    server = TestServer(create_app(replace(server_config, serve_source_maps=True)), host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(server.make_url("/widget/dcs-widget.js.map")) as r,
        ):
            assert r.status == 200 and "mappings" in await r.json(content_type=None)
    finally:
        await server.close()


async def test_the_console_is_compressed_too(dcs_url: str, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{dcs_url}/console/console.js", headers=BROWSER) as resp:
        assert resp.status == 200 and resp.headers["Content-Encoding"] == "br"
        assert brotli.decompress(await resp.read()) == (STATIC / "console" / "console.js").read_bytes()
    async with http.get(f"{dcs_url}/console", headers=BROWSER) as resp:
        assert resp.headers["Content-Encoding"] == "br" and resp.headers["Cache-Control"] == "no-store"
