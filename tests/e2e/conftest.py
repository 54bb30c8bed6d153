"""Browser fixtures: the demo app on a loopback port, and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from tests.e2e.pages import Contexts

CHROMIUM = os.environ.get("DCS_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--disable-quic",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
STATIC = Path(__file__).parents[2] / "signaling_server" / "static"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e" in str(item.path):
            item.add_marker(pytest.mark.browser)


@asynccontextmanager
async def serve_shop(data_dir: Path) -> AsyncIterator[str]:
    """The demo shop + DCS server (demo mode, SQLite in data_dir, DCS_* settings from the
    environment) on a real loopback port; yields its base URL."""
    if not (STATIC / "widget" / "dcs-widget.js").exists():
        pytest.fail("widget assets are not built: run `make build`")
    from examples.demo_shop.__main__ import build_app

    server = TestServer(build_app(data_dir=str(data_dir)), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def shop_url(tmp_path: Path) -> AsyncIterator[str]:
    async with serve_shop(tmp_path) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"Chromium is required under CI but {CHROMIUM} is missing (make chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}: run `make chromium`")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        instance = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def contexts(browser: Any, shop_url: str) -> AsyncIterator[Contexts]:
    made = Contexts(browser)
    try:
        yield made
    finally:
        await made.close()
