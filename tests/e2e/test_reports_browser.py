"""The supervisor's Reports view in Chromium: after the scripted journeys, its charts are
drawn (pixels on each canvas) with the figures of the record, under the console's CSP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from dcs_sdk.client import DcsClient
from signaling_server import Config
from tests.conftest import serve
from tests.e2e.pages import Contexts, part
from tests.integration.journeys import run_journeys

# how many pixels of a canvas are painted (not transparent)
PAINTED = """(name) => {
  const canvas = document.querySelector(`[data-part="chart-${name}"]`);
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  return painted;
}"""

# a CSP violation becomes a console error, which the test collects
REPORT_CSP = """document.addEventListener("securitypolicyviolation",
  (e) => console.error("CSP: " + e.violatedDirective))"""

CHART_DATA = """() => Object.fromEntries(Object.entries(window.__dcsReports.charts).map(
  ([name, chart]) => [name, {labels: chart.data.labels, data: chart.data.datasets.map((d) => d.data)}]))"""


async def test_reports_view_draws_the_figures(
    browser: Any, server_config: Config, mint: Callable[..., str]
) -> None:
    async with serve(server_config) as url:
        clients: list[DcsClient] = []

        async def connect(role: str, sub: str, **kw: Any) -> DcsClient:
            client = DcsClient(url, mint(role, sub, **kw))
            await client.connect()
            clients.append(client)
            return client

        await run_journeys(connect)
        for client in clients:
            await client.close()

        contexts = Contexts(browser)
        try:
            page = await contexts.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
            await page.add_init_script(REPORT_CSP)
            fetched: list[str] = []
            page.on("request", lambda request: fetched.append(request.url))
            await page.goto(f"{url}/console/#token={mint('supervisor', 'sue', name='Sue')}")
            await expect(page.locator("[data-view='reports']")).to_be_visible()
            # Chart.js is a chunk of its own, fetched only when the Reports view opens
            assert not [u for u in fetched if "/dcs-charts-" in u]
            await page.locator("[data-view='reports']").click()
            reports = page.locator(part("reports"))
            await expect(reports).to_have_attribute("data-loaded", "true")
            await expect(page.locator(part("status"))).to_contain_text("5 sessions")
            tiles = {
                key: await page.locator(f"[data-tile='{key}'] .reports__tile-value").text_content()
                for key in ("sessions", "containment", "escalation", "abandonment", "transfers", "csat")
            }
            assert tiles == {
                "sessions": "5",
                "containment": "20%",
                "escalation": "80%",
                "abandonment": "25%",
                "transfers": "1",
                "csat": "3.333 / 5 (3)",
            }
            assert len([u for u in fetched if re.search(r"/console/dcs-charts-[A-Z0-9]{8}\.js$", u)]) == 1
            charts = await page.evaluate(CHART_DATA)
            assert charts["funnel"] == {
                "labels": ["Assistant", "Queue", "Agent", "Resolved"],
                "data": [[5, 4, 3, 3]],
            }
            assert charts["csat"]["data"] == [[0, 1, 1, 0, 1]]
            assert sum(charts["abandonment"]["data"][0]) == 1 and sum(charts["reasons"]["data"][0]) == 4
            # volumes: one line each for sessions, contained, escalated, abandoned; 7 days
            assert [sum(series) for series in charts["volumes"]["data"]] == [5, 1, 4, 1]
            assert len(charts["volumes"]["labels"]) == 7
            for name in ("volumes", "funnel", "reasons", "abandonment", "csat"):
                assert await page.evaluate(PAINTED, name) > 500, name
            # per queue and agent tables, the comments, and the pickers learnt the queues
            details = await page.locator(part("details")).inner_text()
            assert "billing" in details and "Bob" in details and "Great help" in details
            await page.locator(part("queue")).select_option("billing")
            await page.locator(part("apply")).click()
            await expect(page.locator(part("status"))).to_contain_text("1 sessions")
            charts = await page.evaluate(CHART_DATA)
            assert charts["funnel"]["data"] == [[1, 1, 1, 1]]
            # the CSV download
            async with page.expect_download() as download_info:
                await page.locator(part("csv")).click()
            download = await download_info.value
            saved = await download.path()
            text = (await asyncio.to_thread(Path(saved).read_bytes)).decode()
            assert "totals,,sessions,1\r\n" in text and download.suggested_filename.endswith(".csv")
            assert problems == []
        finally:
            await contexts.close()
