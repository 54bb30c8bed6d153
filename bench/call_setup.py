"""Call set-up time, browser to browser, against a hand-written reference page pair.

Inside a private network namespace (re-executes itself under ``unshare -n`` with a veth
pair, as the WebRTC tests do), two real Chromium pages with fake audio:

* DCS: the agent clicks "Call" in the console, the customer clicks "Accept" in the widget
  (t0), and the figure is the time until both ends have decoded audio.
* reference: the same two browsers, a minimal page pair with no product code: the caller
  has its microphone; the callee's Accept button (t0) takes its microphone and says so
  through a bare WebSocket relay; the caller then makes a plain offer, the callee answers,
  and candidates trickle both ways over the relay.

One probe, injected into every page of both pairs (PROBE_JS), timestamps the click, the
microphone and each peer connection's steps up to the first decoded audio, so that both
figures are measured the same way and the JSON explains where the time goes: per call
each side's milestones (ms after t0; the product's own performance marks "dcs.call.*"
too), their medians, and phases that add up to the figure. Both pairs of pages are kept
across calls, so neither pays page loads; the servers (the DCS demo shop; the reference's
page and relay) run in processes of their own, not in this one's event loop.

Also: after a customer page reload mid-call, the time from the reload to audio decoded
again on both ends (with the same breakdown).

    python bench/call_setup.py [--calls 20]

Prints the breakdown and a table, and writes bench/results/call_setup.json.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from namespace import ROOT, in_namespace, reexec_in_namespace  # noqa: E402
from processes import free_port, wait_up  # noqa: E402

from tests.e2e.conftest import LAUNCH_ARGS as E2E_LAUNCH_ARGS  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CHROMIUM = os.environ.get("DCS_CHROMIUM", "/usr/bin/chromium")
# The pages autoplay the remote audio: "first decoded audio" needs a playing sink.
LAUNCH_ARGS = [*E2E_LAUNCH_ARGS, "--autoplay-policy=no-user-gesture-required"]

# Injected into every page of both pairs before its own scripts: one instrument for DCS and
# the reference alike, never looking at what either sends. It timestamps (epoch ms, sub-ms)
# the accept click (t0: the click event's own timeStamp), getUserMedia, and per
# RTCPeerConnection: descriptions set, the first local candidate and the end of gathering,
# ICE checking/connected, DTLS up (connectionState "connected"), the remote audio track's
# unmute (its first RTP packet arrived) and the first decoded audio: the first time the
# audio receiver's getSynchronizationSources() lists a source, which happens when a decoded
# frame is delivered to the track for playout (hence the autoplaying sink). It polls that
# synchronous call every POLL_MS from the track's arrival on. Not getStats(): Chromium
# serves getStats() from a cache for 50 ms, so polling it every few ms still sees a new
# report only every 50 ms, which added 0-50 ms (about 25 on average) to every figure.
PROBE_JS = r"""
(() => {
  if (window.__probe) return;
  const now = () => performance.timeOrigin + performance.now();
  const probe = (window.__probe = { t0: 0, gum: [], pcs: [] });
  window.addEventListener("click", (e) => {
    const target = e.composedPath()[0];
    if (target && target.getAttribute && target.getAttribute("data-part") === "call-accept") {
      probe.t0 = performance.timeOrigin + e.timeStamp;
    }
  }, true);
  const devices = navigator.mediaDevices;
  if (devices && devices.getUserMedia) {
    const gum = devices.getUserMedia.bind(devices);
    devices.getUserMedia = async (constraints) => {
      const rec = { start: now() };
      probe.gum.push(rec);
      const stream = await gum(constraints);
      rec.end = now();
      return stream;
    };
  }
  const POLL_MS = 2; // nested timers run every 4 ms at best
  const Base = window.RTCPeerConnection;
  class Probed extends Base {
    constructor(...args) {
      super(...args);
      const rec = { created: now() };
      const first = (key) => { if (!rec[key]) rec[key] = now(); };
      Object.defineProperty(this, "__probe", { value: rec });
      probe.pcs.push(rec);
      this.addEventListener("icecandidate", (e) => first(e.candidate ? "first_candidate" : "gathered"));
      this.addEventListener("iceconnectionstatechange", () => {
        const s = this.iceConnectionState;
        if (s === "checking") first("ice_checking");
        if (s === "connected" || s === "completed") first("ice_connected");
      });
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") first("dtls_connected");
      });
      this.addEventListener("track", (e) => {
        if (e.track.kind !== "audio") return;
        first("track");
        e.track.addEventListener("unmute", () => first("rtp"), { once: true });
        const poll = () => {
          if (this.connectionState === "closed") return;
          if (e.receiver.getSynchronizationSources().length) first("decoded");
          else setTimeout(poll, POLL_MS);
        };
        poll();
      });
    }
    async setLocalDescription(...args) {
      if (!this.__probe.set_local) this.__probe.set_local = now();
      const out = await super.setLocalDescription(...args);
      const t = this.localDescription && this.localDescription.type;
      if (t && !this.__probe["local_" + t]) this.__probe["local_" + t] = now();
      return out;
    }
    async setRemoteDescription(...args) {
      const at = now();
      const out = await super.setRemoteDescription(...args);
      const t = this.remoteDescription && this.remoteDescription.type;
      if (t && !this.__probe["remote_" + t]) {
        this.__probe["remote_" + t] = at;
        this.__probe["remote_" + t + "_set"] = now();
      }
      return out;
    }
  }
  window.RTCPeerConnection = Probed;
})();
"""

# Resolves with the current connection's record once it has decoded audio.
DECODED_JS = """async (getPc) => {
  const pcOf = new Function("return (" + getPc + ")")();
  for (;;) {
    const pc = pcOf();
    if (pc && pc.__probe && pc.__probe.decoded) return pc.__probe;
    await new Promise((r) => setTimeout(r, 5));
  }
}"""

# Everything the page's probe saw since reset (and the product's performance marks).
SNAPSHOT_JS = """() => ({
  t0: window.__probe.t0,
  gum: window.__probe.gum,
  page: performance.getEntriesByType("navigation").map((n) => [
    ["page_start", performance.timeOrigin],
    ["page_interactive", performance.timeOrigin + n.domInteractive],
    ["page_loaded", n.loadEventEnd ? performance.timeOrigin + n.loadEventEnd : 0],
  ])[0] || [],
  marks: performance.getEntriesByType("mark").filter((m) => m.name.startsWith("dcs.call."))
    .map((m) => [m.name.slice(9), performance.timeOrigin + m.startTime]),
})"""
RESET_JS = """() => { window.__probe.t0 = 0; window.__probe.gum = []; window.__probe.pcs = [];
  performance.clearMarks(); }"""

REFERENCE_PAGE = """<!doctype html><meta charset="utf-8"><title>ref</title>
<button data-part="call-accept" onclick="accept()">Accept</button>
<audio id="remote" autoplay></audio><script>
const ws = new WebSocket(`ws://${location.host}/relay`);
window.ready = new Promise((r) => (ws.onopen = r));
window.pc = null;
const send = (m) => ws.send(JSON.stringify(m));
function connect() {
  const pc = (window.pc = new RTCPeerConnection({iceServers: []}));
  pc.ontrack = (e) => { const a = document.getElementById("remote"); a.srcObject = e.streams[0]; a.play(); };
  pc.onicecandidate = (e) => e.candidate && send({candidate: e.candidate.toJSON()});
  for (const t of window.stream.getTracks()) pc.addTrack(t, window.stream);
  return pc;
}
async function prepare() { window.stream = await navigator.mediaDevices.getUserMedia({audio: true}); }
async function accept() { await prepare(); send({accept: true}); }
async function handle(m) {
  if (m.accept) {
    const pc = connect();
    await pc.setLocalDescription();
    send({description: pc.localDescription});
  } else if (m.description && m.description.type === "offer") {
    const pc = connect();
    await pc.setRemoteDescription(m.description);
    await pc.setLocalDescription();
    send({description: pc.localDescription});
  } else if (m.description) await window.pc.setRemoteDescription(m.description);
  else if (m.candidate) await window.pc.addIceCandidate(m.candidate);
}
let chain = Promise.resolve();
ws.onmessage = ({data}) => { chain = chain.then(() => handle(JSON.parse(data))); };
function hangup() {
  if (window.pc) window.pc.close();
  window.pc = null;
  for (const t of window.stream.getTracks()) t.stop();
}
</script>"""


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


def timeline(snapshot: dict[str, Any], pc: dict[str, Any], t0: float) -> dict[str, float]:
    """One side's milestones (and the product's performance marks), in ms after t0."""
    points: dict[str, float] = {}
    if snapshot["gum"]:
        gum = snapshot["gum"][-1]
        points["gum_start"] = gum["start"]
        if gum.get("end"):
            points["gum_end"] = gum["end"]
    points.update({k: v for k, v in pc.items() if isinstance(v, (int, float)) and v})
    for name, at in snapshot["marks"]:
        points.setdefault(f"mark:{name}", at)
    for name, at in snapshot["page"]:
        if at and at >= t0 > 0:  # a page loaded during this measurement (the reload)
            points[name] = at
    return dict(sorted(((k, round(v - t0, 1)) for k, v in points.items()), key=lambda kv: kv[1]))


async def sides(pages: dict[str, Any], get_pc: str, t0: float | None = None) -> dict[str, Any]:
    """Wait for decoded audio on every page; the call's record: total ms and each side's timeline."""
    records = await asyncio.gather(*(p.evaluate(DECODED_JS, get_pc) for p in pages.values()))
    snapshots = await asyncio.gather(*(p.evaluate(SNAPSHOT_JS) for p in pages.values()))
    if t0 is None:
        t0 = max(s["t0"] for s in snapshots)  # the callee's accept click (the other page has none)
    out: dict[str, Any] = {"total_ms": round(max(r["decoded"] for r in records) - t0, 1)}
    for (name, _), snapshot, record in zip(pages.items(), snapshots, records, strict=True):
        out[name] = timeline(snapshot, record, t0)
    return out


async def reset(*pages: Any) -> None:
    await asyncio.gather(*(p.evaluate(RESET_JS) for p in pages))


async def new_page(browser: Any) -> tuple[Any, Any]:
    context = await browser.new_context()
    await context.add_init_script(PROBE_JS)
    return context, await context.new_page()


async def reference_pages(browser: Any, url: str) -> tuple[Any, Any]:
    """The reference caller and callee, each in its own context, kept for every call (as DCS's are)."""
    pages = []
    for _ in range(2):
        _, page = await new_page(browser)
        await page.goto(url)
        await page.evaluate("window.ready")
        pages.append(page)
    return pages[0], pages[1]


REFERENCE_PC = "() => window.pc"


async def reference_call(caller: Any, callee: Any) -> dict[str, Any]:
    await reset(caller, callee)
    await caller.evaluate("prepare()")  # the caller already has its microphone
    await callee.click("[data-part='call-accept']")  # t0: the callee takes its microphone
    record = await sides({"callee": callee, "caller": caller}, REFERENCE_PC)
    for page in (caller, callee):
        await page.evaluate("hangup()")
    return record


async def live_session(browser: Any, shop: str) -> tuple[Any, Any, Any, Any]:
    customer_ctx, customer = await new_page(browser)
    agent_ctx, agent = await new_page(browser)
    await customer.goto(f"{shop}/")
    await customer.click("[data-part='launcher']")
    await customer.click("[data-part='escalate']")
    await agent.goto(f"{shop}/console")
    await agent.click("[data-part='agent-option'][data-agent-id='alice']")
    await agent.click("[data-part='queue-item'] [data-part='accept']")
    await customer.wait_for_selector("[data-part='status']:has-text('Alice')")
    return customer_ctx, agent_ctx, customer, agent


PRODUCT_PC = "() => window.__dcsCall && window.__dcsCall.pc"


async def product_call(customer: Any, agent: Any) -> dict[str, Any]:
    await reset(customer, agent)
    await agent.click("[data-part='call-start']")
    await customer.wait_for_selector("[data-part='call-accept']")
    await customer.click("[data-part='call-accept']")  # t0
    record = await sides({"customer": customer, "agent": agent}, PRODUCT_PC)
    await agent.click("[data-part='call-hangup']")
    await customer.wait_for_selector("[data-part='call-start']")
    await agent.wait_for_selector("[data-part='call-start']")
    return record


async def reload_reconnect(customer: Any, agent: Any) -> dict[str, Any]:
    await agent.click("[data-part='call-start']")
    await customer.click("[data-part='call-accept']")
    await sides({"customer": customer, "agent": agent}, PRODUCT_PC)
    old_pc_id = await agent.evaluate("() => window.__dcsCall && window.__dcsCall.pcId")
    await reset(agent)
    t0 = time.time() * 1000
    await customer.reload()
    # the agent's connection is replaced: wait for audio on the new one
    await agent.wait_for_function(
        f"() => window.__dcsCall && window.__dcsCall.pcId !== {json.dumps(old_pc_id)}"
    )
    record = await sides({"customer": customer, "agent": agent}, PRODUCT_PC, t0=t0)
    await agent.click("[data-part='call-hangup']")
    await agent.wait_for_selector("[data-part='call-start']")
    return record


# Where the time goes, for any pair of pages: consecutive phases of one call whose sum is
# the figure (t0 to the later side's first decoded audio). The answerer starts the ICE
# checks once its answer is made; the offerer's copy of the answer travels meanwhile.
PHASES = (
    ("offer_reaches_answerer", "answerer.remote_offer - t0"),
    ("answer_made", "answerer.local_answer - answerer.remote_offer"),
    ("ice", "max.ice_connected - answerer.local_answer"),
    ("dtls", "max.dtls_connected - max.ice_connected"),
    ("first_rtp", "max.rtp - max.dtls_connected"),
    ("first_decoded", "max.decoded - max.rtp"),
)
SIDE_PHASES = (("answer_reaches_offerer", "offerer.remote_answer - answerer.local_answer"),)


def phases(record: dict[str, Any]) -> dict[str, float]:
    sides = [v for k, v in record.items() if k != "total_ms"]
    offerer = next((s for s in sides if "local_offer" in s), None)
    answerer = next((s for s in sides if "local_answer" in s), None)
    if offerer is None or answerer is None:
        return {}

    def value(term: str) -> float:
        if term == "t0":
            return 0.0
        who, name = term.split(".")
        if who == "max":
            return max(s.get(name, float("nan")) for s in sides)
        side = offerer if who == "offerer" else answerer
        return float(side.get(name, float("nan")))

    out = {}
    for name, formula in PHASES + SIDE_PHASES:
        left, right = formula.split(" - ")
        out[name] = round(value(left) - value(right), 1)
    return out


def phase_medians(records: list[dict[str, Any]]) -> dict[str, float]:
    per_call = [phases(r) for r in records]
    names = [name for name, _ in PHASES + SIDE_PHASES]
    return {
        n: round(statistics.median(p[n] for p in per_call if n in p and p[n] == p[n]), 1)
        for n in names
        if any(n in p and p[n] == p[n] for p in per_call)
    }


def breakdown(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per side, each milestone's median (ms after t0) over the calls that have it."""
    out: dict[str, dict[str, float]] = {}
    for side in (k for k in records[0] if k != "total_ms"):
        names: list[str] = []
        for r in records:
            names += [n for n in r[side] if n not in names]
        medians = {n: round(statistics.median(r[side][n] for r in records if n in r[side]), 1) for n in names}
        out[side] = dict(sorted(medians.items(), key=lambda kv: kv[1]))
    return out


async def server(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    """A server in its own process (as in production: not sharing this process's event loop
    with Playwright), listening on 127.0.0.1; its base URL once it accepts connections."""
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, "--port", str(port), cwd=ROOT, stdout=subprocess.DEVNULL
    )
    await wait_up(port, proc)
    return proc, f"http://127.0.0.1:{port}"


async def run(calls: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    os.environ.setdefault("DCS_LOG_LEVEL", "WARNING")
    data_dir = tempfile.mkdtemp(prefix="dcs-bench-")
    procs = []
    records: dict[str, list[dict[str, Any]]] = {"dcs": [], "reference": [], "reload": []}
    try:
        shop_proc, shop_url = await server("-m", "examples.demo_shop", "--data-dir", data_dir)
        procs.append(shop_proc)
        ref_proc, ref_base = await server(__file__, "--serve-reference")
        procs.append(ref_proc)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            customer_ctx, agent_ctx, customer, agent = await live_session(browser, shop_url)
            caller, callee = await reference_pages(browser, f"{ref_base}/ref.html")
            await reference_call(caller, callee)  # warm-up, not counted
            await product_call(customer, agent)  # warm-up (the call chunk's first load), not counted
            for _ in range(calls):  # alternate, so both see the same machine
                records["reference"].append(await reference_call(caller, callee))
                records["dcs"].append(await product_call(customer, agent))
            for _ in range(max(5, calls // 2)):
                records["reload"].append(await reload_reconnect(customer, agent))
            await customer_ctx.close()
            await agent_ctx.close()
            await browser.close()
    finally:
        for proc in procs:
            proc.terminate()
            await proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "figures": {name: stats([r["total_ms"] for r in rs]) for name, rs in records.items()},
        "breakdown_p50_ms": {name: breakdown(rs) for name, rs in records.items()},
        "phases_p50_ms": {name: phase_medians(rs) for name, rs in records.items()},
        "calls": records,
    }


def serve_reference(port: int) -> None:
    """The reference pair's server (run in its own process): the page and the relay."""
    from aiohttp import WSMsgType, web

    sockets: set[web.WebSocketResponse] = set()

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=REFERENCE_PAGE, content_type="text/html")

    async def relay(request: web.Request) -> web.WebSocketResponse:
        """Hands each message to the other page."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.add(ws)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    for other in [s for s in sockets if s is not ws]:
                        await other.send_str(msg.data)
        finally:
            sockets.discard(ws)
        return ws

    app = web.Application()
    app.router.add_get("/ref.html", page)
    app.router.add_get("/relay", relay)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--serve-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_reference:
        serve_reference(args.port)
        return
    if not in_namespace():
        sys.exit(reexec_in_namespace())
    measured = asyncio.run(run(args.calls))
    figures = measured["figures"]
    ratio = round(figures["dcs"]["p50_ms"] / figures["reference"]["p50_ms"], 2)
    result = {
        **figures,
        "p50_ratio_dcs_to_reference": ratio,
        "aims": {"p50_ms_max": 150, "p50_ratio_max": 1.5},
        "machine": {"cpus": os.cpu_count(), "load_avg": os.getloadavg()},
        "phases_p50_ms": measured["phases_p50_ms"],
        "breakdown_p50_ms": measured["breakdown_p50_ms"],
        "calls": measured["calls"],
    }
    print("\nmilestones: median ms after t0 (the accept click; the reload for 'reload'), per side")
    for name in ("dcs", "reference", "reload"):
        for side, points in measured["breakdown_p50_ms"][name].items():
            print(f"  {name}/{side}: " + ", ".join(f"{k} {v}" for k, v in points.items()))
    print("\nwhere the time goes: median ms of each phase (the first six add up to the figure)")
    columns = ("dcs", "reference", "reload")
    print(f"{'':26}" + "".join(f"{c:>11}" for c in columns))
    for phase, _ in PHASES + SIDE_PHASES:
        cells = [measured["phases_p50_ms"][c].get(phase) for c in columns]
        print(f"{phase:26}" + "".join(f"{'' if v is None else v:>11}" for v in cells))
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
