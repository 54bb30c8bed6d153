"""Co-browse figures on the demo shop, in real Chromium inside a private network namespace.

1. Latency from a DOM change on the customer's page to that change rendered in the agent's
   viewer: the customer page changes an element (text and an attribute) CHANGES times,
   spaced out; the console page watches the viewer iframe's document with a
   MutationObserver and takes the time at the next animation frame after the change lands
   (both pages are in one browser, so performance.timeOrigin + performance.now() is one
   clock). Once over the peer-to-peer data channel (TURN through a local coturn, as a page
   without camera permission has no usable host candidates) and once through the server
   relay (no ICE servers, relay-only policy: no peer path at all).
2. Bytes the customer's browser sends for co-browse during a scripted minute of browsing
   (four pages), scrolling, pointer moves and typing, and the size of the first snapshot.
   Counted by wrapping RTCDataChannel.send and WebSocket.send in the page (socket.io frames
   that carry cobrowse.data), independently of the product's own counters.
3. The widget's weight: gzip sizes of the first script and of the chunks loaded later.
4. Fidelity, on the customer's site (tests/e2e/sites, another origin than DCS): consent ->
   the first full view of a 10,000-node page in the console (from the customer's click on
   Allow to the animation frame after the table's last row is in the replay), FIRST_VIEWS
   times (median and p95; each a new co-browse, so on the peer path too the snapshot goes
   while the data channel is being set up); and the share of differing pixels between the
   customer's page and the agent's replay over the whole page set (the method of
   tests/e2e/cobrowse_checks.py).
   Relay vs peer: the relay's bandwidth over the peer's, from (2).

    python bench/cobrowse.py [--changes 200] [--minute 60] [--transports peer,relay]

Prints a table and writes bench/results/cobrowse.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import UnidentifiedImageError

sys.path.insert(0, str(Path(__file__).resolve().parent))

from namespace import ROOT, in_namespace, reexec_in_namespace  # noqa: E402

from tests.e2e.cobrowse_checks import (  # noqa: E402
    CONSOLE_VIEWPORT,
    HIDE_REPLAY_MOUSE_CSS,
    HIDE_WIDGET_JS,
    LOADED_JS,
    MAX_DIFFERING,
    VIEWPORT,
    differing,
)
from tests.e2e.conftest import LAUNCH_ARGS  # noqa: E402
from tests.e2e.sites import site_app, third_party_app  # noqa: E402
from tests.e2e.test_cobrowse_fidelity import ALLOW_CLOCK_JS, TICKS_JS, WATCH_FIRST_VIEW_JS  # noqa: E402
from tests.turn import TURN_SECRET, TURN_URL, coturn  # noqa: E402

RESULTS = ROOT / "bench" / "results"
STATIC = ROOT / "signaling_server" / "static"
CHROMIUM = os.environ.get("DCS_CHROMIUM", "/usr/bin/chromium")
W = "#dcs-widget-root"
VIEW_IFRAME = "[data-part='cobrowse-view'] iframe"
GAP_S = 0.08  # between two changes: each one on its own, not batched with the last

# Customer page, before its own scripts: count what leaves the page for co-browse.
SEND_PROBE_JS = r"""
(() => {
  const probe = (window.__sent = { peer: 0, relay: 0 });
  const size = (data) => (typeof data === "string" ? new Blob([data]).size : data.byteLength || 0);
  const dc = RTCDataChannel.prototype.send;
  RTCDataChannel.prototype.send = function (data) {
    probe.peer += size(data);
    return dc.call(this, data);
  };
  const ws = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === "string" && data.includes("cobrowse.data")) probe.relay += size(data);
    return ws.call(this, data);
  };
})();
"""
SENT_JS = "() => window.__sent.peer + window.__sent.relay"
TYPED = "looking for order 12345 please"
SETTLE_S = 1.5  # a page left alone this long after it loads has sent its snapshot

# Console page: when did change n land in the viewer (and the next frame after it)?
WATCH_JS = r"""
(selector) => {
  const seen = (window.__seen = {});
  let watched = null;
  const attach = () => {
    const iframe = document.querySelector(selector);
    const doc = iframe && iframe.contentDocument;
    if (!doc || doc === watched) return;
    watched = doc;
    new MutationObserver(() => {
      const el = doc.getElementById("bench-target");
      const n = el && el.getAttribute("data-n");
      if (n && !(n in seen) && el.textContent === `change ${n}`) {
        seen[n] = -1;
        requestAnimationFrame(() => (seen[n] = performance.timeOrigin + performance.now()));
      }
    }).observe(doc, { subtree: true, childList: true, characterData: true, attributes: true });
  };
  attach();
  setInterval(attach, 20);
}
"""

CHANGE_JS = """
(n) => {
  let el = document.getElementById("bench-target");
  if (!el) {
    el = document.createElement("p");
    el.id = "bench-target";
    document.querySelector("main").prepend(el);
  }
  const at = performance.timeOrigin + performance.now();
  el.setAttribute("data-n", String(n));
  el.textContent = `change ${n}`;
  return at;
}
"""


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def weights() -> dict[str, dict[str, Any]]:
    """Bytes on the wire as Chromium asks for them (Accept-Encoding with br), from the
    server: what a visitor downloads, not a file on disk."""
    import aiohttp
    from aiohttp.test_utils import TestServer

    from examples.demo_shop.__main__ import build_app

    chunks = json.loads((STATIC / "widget" / "manifest.json").read_text())
    names = ["dcs-widget.js", chunks["cobrowse"], chunks["call"]]
    server = TestServer(build_app(data_dir=tempfile.mkdtemp(prefix="dcs-bench-")), host="127.0.0.1")
    await server.start_server()
    out: dict[str, dict[str, Any]] = {}
    try:
        async with aiohttp.ClientSession(auto_decompress=False) as http:
            for name in names:
                headers = {"Accept-Encoding": "gzip, deflate, br, zstd"}
                async with http.get(server.make_url(f"/widget/{name}"), headers=headers) as resp:
                    body = await resp.read()
                    out[name] = {
                        "bytes": len(body),
                        "encoding": resp.headers.get("Content-Encoding", "identity"),
                        "cache_control": resp.headers.get("Cache-Control", ""),
                    }
    finally:
        await server.close()
    return out


async def start_cobrowse(browser: Any, shop: str) -> tuple[Any, Any]:
    """A live session, the agent asks to see the page, the customer allows; both pages."""
    from playwright.async_api import expect

    customer_ctx = await browser.new_context(viewport={"width": 1200, "height": 800})
    await customer_ctx.add_init_script(SEND_PROBE_JS)
    customer = await customer_ctx.new_page()
    await customer.goto(f"{shop}/")
    await customer.locator(f"{W} [data-part='launcher']").click()
    await customer.locator(f"{W} [data-part='escalate']").click()
    agent = await (await browser.new_context(viewport={"width": 1400, "height": 900})).new_page()
    await agent.goto(f"{shop}/console")
    await agent.locator("[data-part='agent-option'][data-agent-id='alice']").click()
    await agent.locator("[data-part='queue-item']").first.locator("[data-part='accept']").click()
    await expect(customer.locator(f"{W} [data-part='status']")).to_contain_text("Alice")
    await agent.locator("[data-part='cobrowse-request']").click()
    await customer.locator(f"{W} [data-part='cobrowse-allow']").click()
    await expect(agent.locator(VIEW_IFRAME)).to_have_count(1, timeout=20_000)
    await asyncio.sleep(SETTLE_S)
    return customer, agent


async def transport_of(customer: Any, want: str, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        now = await customer.evaluate("() => window.__dcsCobrowse && window.__dcsCobrowse.transport")
        if now == want or time.monotonic() > deadline:
            return str(now)
        await asyncio.sleep(0.2)


async def latency(customer: Any, agent: Any, changes: int) -> list[float]:
    await agent.evaluate(WATCH_JS, VIEW_IFRAME)
    await customer.evaluate(CHANGE_JS, 0)  # the target exists before timing starts
    await asyncio.sleep(1)
    sent: dict[int, float] = {}
    for n in range(1, changes + 1):
        sent[n] = await customer.evaluate(CHANGE_JS, n)
        await asyncio.sleep(GAP_S)
    await asyncio.sleep(2)
    seen = await agent.evaluate("() => window.__seen")
    missing = [n for n in sent if float(seen.get(str(n), -1)) < 0]
    if missing:
        raise SystemExit(f"{len(missing)} of {changes} changes never reached the viewer: {missing[:5]}...")
    return [float(seen[str(n)]) - sent[n] for n in sent]


async def scripted_minute(customer: Any, shop: str, seconds: float) -> dict[str, Any]:
    """Browse, scroll, move and type for `seconds`; bytes sent for co-browse over that time.

    Each page load starts a new recording with a snapshot: the bytes a freshly loaded page
    sends while left alone for SETTLE_S are that page's snapshot."""
    sent = 0
    snapshots: dict[str, int] = {}
    paths = ["/orders", "/returns", "/checkout", "/"]
    typing = {"/orders": "#order", "/returns": "#return-order", "/checkout": "#note"}
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < seconds:
        path = paths[step % len(paths)]
        await customer.goto(f"{shop}{path}")
        await asyncio.sleep(SETTLE_S)
        snapshots.setdefault(path, int(await customer.evaluate(SENT_JS)))
        for i in range(20):  # pointer moves and scrolling
            await customer.mouse.move(100 + 30 * i, 200 + 10 * (i % 7))
            await customer.mouse.wheel(0, 60 if i % 2 == 0 else -40)
            await asyncio.sleep(0.1)
        if path in typing:
            await customer.locator(typing[path]).press_sequentially(TYPED, delay=120)
        await asyncio.sleep(max(0.0, min(2.0, seconds - (time.monotonic() - started))))
        sent += int(await customer.evaluate(SENT_JS))
        step += 1
    elapsed = time.monotonic() - started
    return {
        "seconds": round(elapsed, 1),
        "page_loads": step,
        "bytes": sent,
        "kbit_per_s": round(sent * 8 / 1000 / elapsed, 2),
        "bytes_per_min": round(sent * 60 / elapsed),
        "snapshot_bytes": snapshots,
    }


FIRST_VIEWS = 12
# page -> (an element of the replay, its text once the page is shown)
FIDELITY_PAGES = {
    "/fid/table": ("#ready", "All orders"),
    "/fid/product": ("#ready", "Free returns"),
    "/fid/chart": ("#ready", "Drawn on a canvas"),
    "/fid/form": ("#ready", "Change anything"),
    "/fid/scroller": ("#ready", "Scrolled inside"),
    "/fid/spa/orders": ("h1", "Your orders"),
    "/fid/live": ("#ready", "tick 0"),
    "/checkout": ("h1", "Secure checkout"),
    "/bank": ("h1", "Accounts overview"),
    "/components": ("h1", "Components"),
    "/frames": ("h1", "Help and statements"),
    "/app": ("h1", "Dashboard"),
}


async def replay_diff(customer: Any, agent: Any, timeout_s: float = 10) -> float:
    """The share of differing pixels once the replay has loaded (or the last one measured)."""
    frame = agent.locator(VIEW_IFRAME)
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(Exception):  # (a replay being rebuilt: measure anyway)
            await agent.frame_locator(VIEW_IFRAME).locator("html").evaluate(LOADED_JS, timeout=2000)
        await customer.evaluate(HIDE_WIDGET_JS, True)
        page_png = await customer.screenshot()
        await customer.evaluate(HIDE_WIDGET_JS, False)
        box = await frame.bounding_box()
        clip = {"x": round(box["x"]), "y": round(box["y"]), **VIEWPORT}
        try:
            share, _ = differing(page_png, await agent.screenshot(clip=clip))
        except UnidentifiedImageError:  # (a screenshot taken mid-navigation: take it again)
            share = 1.0
        if share < MAX_DIFFERING or time.monotonic() > deadline:
            return share
        await asyncio.sleep(0.3)


async def fidelity(browser: Any, dcs: str, site: str) -> dict[str, Any]:
    """Consent -> first full view of the 10,000-node page, and pixel differences."""
    from playwright.async_api import expect

    customer_ctx = await browser.new_context(viewport=VIEWPORT)
    await customer_ctx.add_init_script(ALLOW_CLOCK_JS)
    customer = await customer_ctx.new_page()
    await customer.goto(f"{site}/fid/table")
    await customer.locator(f"{W} [data-part='launcher']").click()
    await customer.locator(f"{W} [data-part='escalate']").click()
    agent = await (await browser.new_context(viewport=CONSOLE_VIEWPORT)).new_page()
    await agent.goto(f"{dcs}/console")
    await agent.locator("[data-part='agent-option'][data-agent-id='alice']").click()
    await agent.locator("[data-part='queue-item']").first.locator("[data-part='accept']").click()
    await expect(customer.locator(f"{W} [data-part='status']")).to_contain_text("Alice")
    await agent.add_style_tag(content=HIDE_REPLAY_MOUSE_CSS)
    views: list[float] = []
    for n in range(FIRST_VIEWS):
        if n:
            await customer.locator(f"{W} [data-part='cobrowse-stop']").click()
            await expect(agent.locator(VIEW_IFRAME)).to_have_count(0, timeout=20_000)
            await asyncio.sleep(1)
        await agent.evaluate(WATCH_FIRST_VIEW_JS, "#row-1119")
        # (the console still holds the shop's session of (1)-(2): this one's panel is shown)
        await agent.locator("[data-part='cobrowse-request']:visible").click()
        await customer.locator(f"{W} [data-part='cobrowse-allow']").click()
        await agent.wait_for_function("() => window.__firstViewAt > 0", timeout=20_000)
        shown = await agent.evaluate("() => window.__firstViewAt")
        views.append(shown - await customer.evaluate("() => window.__allowAt"))
    diffs: dict[str, float] = {}
    for path, (selector, ready) in FIDELITY_PAGES.items():
        if path != "/fid/table":
            await customer.goto(f"{site}{path}")
        ready_el = agent.frame_locator(VIEW_IFRAME).locator(selector)
        await expect(ready_el).to_contain_text(ready, timeout=20_000)
        if path == "/fid/live":
            await customer.evaluate(TICKS_JS, [1, 40, 50])
            await expect(ready_el).to_have_text("tick 40", timeout=20_000)
        diffs[path] = round(100 * await replay_diff(customer, agent), 2)
    await customer_ctx.close()
    await agent.context.close()
    first = summary(views)
    return {
        "first_view_ms": [round(v) for v in views],
        "first_view_median_ms": round(first["p50_ms"]),
        "first_view_p95_ms": round(first["p95_ms"]),
        "first_view_max_ms": round(first["max_ms"]),
        "differing_pixels_pct": diffs,
        "mean_differing_pixels_pct": round(statistics.mean(diffs.values()), 2),
    }


async def run_transport(transport: str, changes: int, minute: float) -> dict[str, Any]:
    from aiohttp.test_utils import TestServer
    from playwright.async_api import async_playwright

    from examples.demo_shop.__main__ import build_app

    if transport == "peer":
        os.environ.update(DCS_TURN_URLS=TURN_URL, DCS_TURN_SECRET=TURN_SECRET, DCS_ICE_TRANSPORT_POLICY="all")
    else:  # nothing to connect with: the data channel cannot open, frames go through the server
        os.environ.update(DCS_TURN_URLS="", DCS_TURN_SECRET="", DCS_ICE_TRANSPORT_POLICY="relay")
    os.environ["DCS_LOG_LEVEL"] = "WARNING"
    # the customer's site for (4), on an origin of its own that DCS allows
    data_dir = tempfile.mkdtemp(prefix="dcs-bench-")
    urls = {"dcs": "", "third": ""}
    from signaling_server.auth import ensure_demo_key

    third = TestServer(third_party_app(), host="127.0.0.1")
    site = TestServer(
        site_app(
            dcs_url=lambda: urls["dcs"],
            third_url=lambda: urls["third"],
            key=lambda: ensure_demo_key(data_dir),
        ),
        host="127.0.0.1",
    )
    await third.start_server(access_log=None)
    await site.start_server(access_log=None)
    urls["third"] = str(third.make_url("")).rstrip("/")
    site_url = str(site.make_url("")).rstrip("/")
    os.environ["DCS_ALLOWED_ORIGINS"] = site_url
    shop = TestServer(build_app(data_dir=data_dir), host="127.0.0.1")
    await shop.start_server()
    urls["dcs"] = str(shop.make_url("")).rstrip("/")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            try:
                shop_url = str(shop.make_url("")).rstrip("/")
                customer, agent = await start_cobrowse(browser, shop_url)
                used = await transport_of(customer, transport)
                if used != transport:
                    raise SystemExit(f"wanted the {transport} transport, the widget uses {used!r}")
                first_snapshot = int(await customer.evaluate(SENT_JS))
                lat = await latency(customer, agent, changes)
                traffic = await scripted_minute(customer, shop_url, minute)
                await customer.context.close()
                await agent.context.close()
                return {
                    "transport": used,
                    "first_snapshot_bytes": first_snapshot,
                    "latency": summary(lat),
                    "traffic": traffic,
                    "fidelity": await fidelity(browser, shop_url, site_url),
                }
            finally:
                await browser.close()
    finally:
        await shop.close()
        await site.close()
        await third.close()


async def run(changes: int, minute: float, transports: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"weights_on_the_wire": await weights(), "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for transport in transports:
            if transport == "peer":
                async with coturn(Path(tmp)):
                    out["runs"][transport] = await run_transport(transport, changes, minute)
            else:
                out["runs"][transport] = await run_transport(transport, changes, minute)
    return out


def report(result: dict[str, Any]) -> None:
    print("\nCo-browse on the demo shop (Chromium, private network namespace)\n")
    heads = ("changes", "p50 ms", "p95 ms", "max ms", "kbit/s")
    print(f"{'transport':<10} " + " ".join(f"{h:>8}" for h in heads) + f" {'1st snapshot B':>15}")
    for name, r in result["runs"].items():
        lat, traffic = r["latency"], r["traffic"]
        print(
            f"{name:<10} {lat['n']:>8} {lat['p50_ms']:>8} {lat['p95_ms']:>8} {lat['max_ms']:>8} "
            f"{traffic['kbit_per_s']:>8} {r['first_snapshot_bytes']:>15}"
        )
    runs = result["runs"]
    if "peer" in runs and "relay" in runs:
        peer, relay = runs["peer"]["traffic"]["kbit_per_s"], runs["relay"]["traffic"]["kbit_per_s"]
        ratio = round(100 * relay / peer)
        print(f"\nrelay / peer bandwidth: {relay} / {peer} kbit/s = {ratio}%  (aim <= 110%)")
    print("\nfidelity on the customer's site (another origin):")
    for name, r in runs.items():
        fid = r["fidelity"]
        print(
            f"  {name:<8} consent -> first view of 10,000 nodes: median {fid['first_view_median_ms']} ms,"
            f" p95 {fid['first_view_p95_ms']} ms, max {fid['first_view_max_ms']} ms {fid['first_view_ms']}"
            "  (aim: median <= 500 ms)"
        )
        pages = " ".join(f"{p.rsplit('/', 1)[-1]} {v}" for p, v in fid["differing_pixels_pct"].items())
        print(f"  {'':<8} differing pixels %: mean {fid['mean_differing_pixels_pct']}  ({pages})  (aim < 5)")
    print("\nwidget weight, as the browser downloads it:")
    for name, got in result["weights_on_the_wire"].items():
        print(f"  {name:<26} {got['bytes']:>7} B  {got['encoding']:<8} {got['cache_control']}")
    print("\naims: latency p50 <= 50 ms, p95 <= 100 ms; < 15 kbit/s; first script <= 30 KB on the wire")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--minute", type=float, default=60.0, help="seconds of scripted browsing")
    parser.add_argument("--transports", default="peer,relay")
    args = parser.parse_args()
    if not (STATIC / "widget" / "dcs-cobrowse.js").exists():
        sys.exit("the widget is not built: run `make build`")
    if not in_namespace():
        sys.exit(reexec_in_namespace())
    result = asyncio.run(run(args.changes, args.minute, [t for t in args.transports.split(",") if t]))
    result["args"] = vars(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cobrowse.json").write_text(json.dumps(result, indent=2))
    report(result)
    print(f"\nwrote {RESULTS / 'cobrowse.json'}")


if __name__ == "__main__":
    main()
