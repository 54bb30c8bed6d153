"""axe-core as a gate in the browser tests: ``await assert_no_serious_violations(page, "live")``.

axe-core comes from widget/node_modules (a devDependency in widget/package.json). It is
evaluated through the DevTools protocol, which the pages' CSP does not govern, so the
console's strict policy needs no exception for the tests. The widget lives in an open shadow
root, which axe walks into.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_JS = Path(__file__).parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"
WIDGET = "#dcs-widget-root"
FAILING_IMPACTS = ("serious", "critical")


@functools.cache
def _source() -> str:
    if not AXE_JS.exists():
        raise AssertionError(f"axe-core is not installed at {AXE_JS}: run `make deps`")
    return AXE_JS.read_text()


async def _inject(page: Page) -> None:
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(f"() => {{ {_source()}\n }}")
        # the UMD wrapper sets window.axe when there is no module system
        assert await page.evaluate("() => typeof window.axe === 'object'"), "axe-core did not load"


def _describe(violation: dict[str, Any]) -> str:
    nodes = "; ".join(
        f"{' > '.join(map(str, n['target']))}: {n.get('failureSummary', '').splitlines()[-1].strip()}"
        for n in violation["nodes"][:4]
    )
    return f"[{violation['impact']}] {violation['id']} ({violation['help']}): {nodes}"


async def violations(page: Page, include: str | None = None) -> list[dict[str, Any]]:
    """axe's violations of impact serious or critical in `page` (or under `include`)."""
    await _inject(page)
    found: list[dict[str, Any]] = await page.evaluate(
        """async (include) => {
          const context = include ? {include: [[include]]} : document;
          const result = await window.axe.run(context, {resultTypes: ["violations"]});
          return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({target: n.target, failureSummary: n.failureSummary}))}));
        }""",
        include,
    )
    return [v for v in found if v["impact"] in FAILING_IMPACTS]


async def assert_no_serious_violations(page: Page, context: str, include: str | None = None) -> None:
    """Fail with every serious or critical axe violation in `page` (scoped to `include`, a
    CSS selector, when given: e.g. WIDGET, so the host page's own markup is not judged).
    `context` names the state in the failure message ("widget queued", "console wrap-up")."""
    bad = await violations(page, include)
    assert not bad, f"axe, {context}:\n" + "\n".join(map(_describe, bad))
