"""Call set-up time, browser to browser, against a hand-written reference page pair.

Inside a private network namespace (re-executes itself under ``unshare -n`` with a veth
pair, as the WebRTC tests do), two real Chromium pages with fake audio:

* DCS: the agent clicks "Call" in the console, the customer clicks "Accept" in the widget
  (t0), and each side reports when its first audio is decoded (inbound-rtp
  ``totalSamplesReceived`` > 0); the figure is the later of the two, minus t0.
* reference: the same two browsers, a minimal page pair with no product code: the caller
  has its microphone, the callee takes its microphone at t0, then offer/answer are handed
  across directly (no server; complete SDPs, which with host candidates only costs
  nothing). Both pairs of pages are kept across calls, so neither pays page loads.

Also: after a customer page reload mid-call, the time from the reload to audio decoded
again on both ends.

    python bench/call_setup.py [--calls 20]

Prints a table and writes bench/results/call_setup.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import LAUNCH_ARGS as E2E_LAUNCH_ARGS  # noqa: E402
from tests.netns import SETUP as NETNS_SETUP  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHROMIUM = os.environ.get("DCS_CHROMIUM", "/usr/bin/chromium")
# The pages autoplay the remote audio: "first decoded audio" needs a playing sink.
LAUNCH_ARGS = [*E2E_LAUNCH_ARGS, "--autoplay-policy=no-user-gesture-required"]

# Resolves with Date.now() when the page's peer connection has decoded audio.
FIRST_AUDIO_JS = """async (getPc) => {
  const pcOf = new Function("return (" + getPc + ")")();
  for (;;) {
    const pc = pcOf();
    if (pc) {
      const report = await pc.getStats();
      for (const s of report.values()) {
        const decoded = s.type === "inbound-rtp" && s.kind === "audio" && (s.totalSamplesReceived || 0) > 0;
        if (decoded) return Date.now();
      }
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}"""

REFERENCE_PAGE = """<!doctype html><meta charset="utf-8"><title>ref</title>
<audio id="remote" autoplay></audio><script>
window.pc = null;
function play(pc) {
  pc.ontrack = (e) => { const a = document.getElementById("remote"); a.srcObject = e.streams[0]; a.play(); };
}
async function prepare() {
  window.stream = await navigator.mediaDevices.getUserMedia({audio: true});
}
function gathered(pc) {
  return new Promise((r) => { if (pc.iceGatheringState === "complete") r();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && r(); });
}
async function offer() {
  window.pc = new RTCPeerConnection({iceServers: []});
  play(window.pc);
  for (const t of window.stream.getTracks()) window.pc.addTrack(t, window.stream);
  await window.pc.setLocalDescription(await window.pc.createOffer());
  await gathered(window.pc);
  return window.pc.localDescription.toJSON();
}
async function answer(desc) {
  window.pc = new RTCPeerConnection({iceServers: []});
  play(window.pc);
  for (const t of window.stream.getTracks()) window.pc.addTrack(t, window.stream);
  await window.pc.setRemoteDescription(desc);
  await window.pc.setLocalDescription(await window.pc.createAnswer());
  await gathered(window.pc);
  return window.pc.localDescription.toJSON();
}
async function finish(desc) { await window.pc.setRemoteDescription(desc); }
function hangup() {
  window.pc.close(); window.pc = null;
  for (const t of window.stream.getTracks()) t.stop();
}
</script>"""


def in_namespace() -> bool:
    return os.environ.get("DCS_IN_NETNS") == "1"


def reexec_in_namespace() -> int:
    if not shutil.which("unshare"):
        sys.exit("bench/call_setup.py needs unshare (util-linux) to make a private network namespace")
    command = [
        "unshare",
        "-n",
        "bash",
        "-c",
        f'{NETNS_SETUP}; exec "$@"',
        "dcs-netns",
        sys.executable,
        *sys.argv,
    ]
    return subprocess.call(command, env={**os.environ, "DCS_IN_NETNS": "1"})


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "runs": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(p95, 1),
        "min_ms": round(ordered[0], 1),
        "max_ms": round(ordered[-1], 1),
    }


async def reference_pages(browser: Any, url: str) -> tuple[Any, Any]:
    """The reference caller and callee, each in its own context, kept for every call (as DCS's are)."""
    pages = []
    for _ in range(2):
        page = await (await browser.new_context()).new_page()
        await page.goto(url)
        pages.append(page)
    return pages[0], pages[1]


async def reference_call(caller: Any, callee: Any) -> float:
    await caller.evaluate("prepare()")  # the caller already has its microphone
    t0 = time.time() * 1000
    await callee.evaluate("prepare()")
    offer = await caller.evaluate("offer()")
    answer = await callee.evaluate("(d) => answer(d)", offer)
    await caller.evaluate("(d) => finish(d)", answer)
    ends = await asyncio.gather(*(p.evaluate(FIRST_AUDIO_JS, "() => window.pc") for p in (caller, callee)))
    for page in (caller, callee):
        await page.evaluate("hangup()")
    return max(ends) - t0


async def live_session(browser: Any, shop: str) -> tuple[Any, Any, Any, Any]:
    customer_ctx, agent_ctx = await browser.new_context(), await browser.new_context()
    customer, agent = await customer_ctx.new_page(), await agent_ctx.new_page()
    await customer.goto(f"{shop}/")
    await customer.click("[data-part='launcher']")
    await customer.click("[data-part='escalate']")
    await agent.goto(f"{shop}/console")
    await agent.click("[data-part='agent-option'][data-agent-id='alice']")
    await agent.click("[data-part='queue-item'] [data-part='accept']")
    await customer.wait_for_selector("[data-part='status']:has-text('Alice')")
    return customer_ctx, agent_ctx, customer, agent


PRODUCT_PC = "() => window.__dcsCall && window.__dcsCall.pc"


async def product_call(customer: Any, agent: Any) -> float:
    await agent.click("[data-part='call-start']")
    await customer.wait_for_selector("[data-part='call-accept']")
    t0 = time.time() * 1000
    await customer.click("[data-part='call-accept']")
    ends = await asyncio.gather(*(p.evaluate(FIRST_AUDIO_JS, PRODUCT_PC) for p in (customer, agent)))
    elapsed = max(ends) - t0
    await agent.click("[data-part='call-hangup']")
    await customer.wait_for_selector("[data-part='call-start']")
    await agent.wait_for_selector("[data-part='call-start']")
    return elapsed


async def reload_reconnect(customer: Any, agent: Any) -> float:
    await agent.click("[data-part='call-start']")
    await customer.click("[data-part='call-accept']")
    await asyncio.gather(*(p.evaluate(FIRST_AUDIO_JS, PRODUCT_PC) for p in (customer, agent)))
    # the agent's current pc will be replaced; wait for audio on the new one
    old_pc_id = await agent.evaluate("() => window.__dcsCall && window.__dcsCall.pcId")
    t0 = time.time() * 1000
    await customer.reload()
    await agent.wait_for_function(
        f"() => window.__dcsCall && window.__dcsCall.pcId !== {json.dumps(old_pc_id)}"
    )
    ends = await asyncio.gather(*(p.evaluate(FIRST_AUDIO_JS, PRODUCT_PC) for p in (customer, agent)))
    elapsed = max(ends) - t0
    await agent.click("[data-part='call-hangup']")
    await agent.wait_for_selector("[data-part='call-start']")
    return elapsed


async def run(calls: int) -> dict[str, Any]:
    from aiohttp import web
    from aiohttp.test_utils import TestServer
    from playwright.async_api import async_playwright

    from examples.demo_shop.__main__ import build_app

    os.environ.setdefault("DCS_LOG_LEVEL", "WARNING")

    ref_app = web.Application()
    ref_app.router.add_get("/ref.html", _page)
    ref = TestServer(ref_app, host="127.0.0.1")
    shop = TestServer(build_app(data_dir=tempfile.mkdtemp(prefix="dcs-bench-")), host="127.0.0.1")
    await ref.start_server()
    await shop.start_server()
    results: dict[str, list[float]] = {"dcs": [], "reference": [], "reload": []}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            ref_url = str(ref.make_url("/ref.html"))
            shop_url = str(shop.make_url("")).rstrip("/")
            customer_ctx, agent_ctx, customer, agent = await live_session(browser, shop_url)
            caller, callee = await reference_pages(browser, ref_url)
            await reference_call(caller, callee)  # warm-up, not counted
            for _ in range(calls):  # alternate, so both see the same machine
                results["reference"].append(await reference_call(caller, callee))
                results["dcs"].append(await product_call(customer, agent))
            for _ in range(max(3, calls // 4)):
                results["reload"].append(await reload_reconnect(customer, agent))
            await customer_ctx.close()
            await agent_ctx.close()
            await browser.close()
    finally:
        await shop.close()
        await ref.close()
    return {name: stats(values) for name, values in results.items()}


async def _page(_request: Any) -> Any:
    from aiohttp import web

    return web.Response(text=REFERENCE_PAGE, content_type="text/html")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    if not in_namespace():
        sys.exit(reexec_in_namespace())
    figures = asyncio.run(run(args.calls))
    ratio = round(figures["dcs"]["p50_ms"] / figures["reference"]["p50_ms"], 2)
    result = {
        **figures,
        "p50_ratio_dcs_to_reference": ratio,
        "aims": {"p50_ms_max": 150, "p50_ratio_max": 1.5},
        "machine": {"cpus": os.cpu_count()},
    }
    print(f"\ncall set-up (accept click -> first decoded audio on both ends), {args.calls} calls each")
    print(f"{'':28}{'runs':>6}{'p50 ms':>9}{'p95 ms':>9}{'min':>8}{'max':>8}")
    for name, label in (
        ("dcs", "DCS (widget <-> console)"),
        ("reference", "reference page pair"),
        ("reload", "reload -> audio again"),
    ):
        row = figures[name]
        print(
            f"{label:28}{row['runs']:>6}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['min_ms']:>8}{row['max_ms']:>8}"
        )
    print(
        f"p50 ratio DCS / reference: {ratio} (aim <= 1.5); DCS p50 {figures['dcs']['p50_ms']} ms (aim <= 150)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "call_setup.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
