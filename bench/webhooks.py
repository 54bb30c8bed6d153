"""Webhook delivery lag: from the change that makes an event to its arrival at a receiver.

A DCS server runs in its own process with one webhook endpoint: a receiver in this process
that verifies each delivery's signature. Customers (SDK clients, a few at a time) escalate
and close sessions, two events each (session.escalated, session.ended); the lag of an event
is its arrival time minus its ``created_at`` (one clock: the same machine). Then the
receiver goes down for a while, more sessions happen, and it comes back: how long until
everything arrived, and whether anything was lost or came twice.

    python bench/webhooks.py [--sessions 200] [--concurrency 8] [--down-s 5] [--database-url URL]

Prints a table and writes bench/results/webhooks.json.
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

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from processes import free_port, wait_up  # noqa: E402

from dcs_sdk import AccessToken, DcsClient, KeySet, SigningKey  # noqa: E402
from dcs_sdk.webhooks import generate_secret, verify  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ISSUER, AUDIENCE = "bench", "dcs"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Receiver:
    def __init__(self, secret: str, port: int) -> None:
        self.secret, self.port = secret, port
        self.arrivals: list[tuple[str, float, float]] = []  # (event id, created_at s, arrived s)
        self.types: dict[str, str] = {}  # event id -> type
        self.bad = 0
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        arrived = time.time()
        try:
            event = verify(body, request.headers, self.secret)
        except Exception:
            self.bad += 1
            return web.Response(status=400)
        self.arrivals.append((event["id"], event["created_at"] / 1000, arrived))
        self.types[event["id"]] = event["type"]
        self.arrived.set()
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, timeout_s: float = 120) -> float:
        """When the ``count``-th delivery arrived (or the timeout passed)."""
        deadline = time.monotonic() + timeout_s
        while len(self.arrivals) < count and time.monotonic() < deadline:
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), max(0.0, deadline - time.monotonic()))
        return self.arrivals[-1][2] if len(self.arrivals) >= count else time.time()


async def journeys(url: str, key: SigningKey, prefix: str, sessions: int, concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        async with gate:
            token = (
                AccessToken(key, issuer=ISSUER, audience=AUDIENCE).with_identity(f"{prefix}{n}").as_customer()
            )
            async with DcsClient(url, token.to_jwt()) as customer:
                sid = (await customer.start_session()).session_id
                await customer.escalate(sid)
                await customer.close_session(sid)

    await asyncio.gather(*(one(n) for n in range(sessions)))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--down-s", type=float, default=5.0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="dcs-bench-webhooks-"))
    key = SigningKey.generate("bench")
    (tmp / "jwks.json").write_text(json.dumps(KeySet([key.public()]).to_jwks()))
    secret, hook_port, port = generate_secret(), free_port(), free_port()
    receiver = Receiver(secret, hook_port)
    await receiver.start()
    env = {
        **os.environ,
        "DCS_PUBLIC_KEYS_FILE": str(tmp / "jwks.json"),
        "DCS_ISSUER": ISSUER,
        "DCS_AUDIENCE": AUDIENCE,
        "DCS_DATA_DIR": str(tmp),
        "DCS_LOG_LEVEL": "WARNING",
        "DCS_RATE_BURST": "1000",
        "DCS_RATE_PER_S": "1000",
        "DCS_WEBHOOKS": json.dumps(
            {"bench": {"url": f"http://127.0.0.1:{hook_port}/hooks", "secret": secret}}
        ),
        # a receiver back from an outage is found within a second
        "DCS_WEBHOOK_RETRY_MAX_S": "1",
    }
    if args.database_url:
        env["DCS_DATABASE_URL"] = args.database_url
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "signaling_server", "--port", str(port), env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"sessions": args.sessions, "concurrency": args.concurrency}
    try:
        await wait_up(port, proc)
        # receiver up: the lag of each event
        await journeys(url, key, "up", args.sessions, args.concurrency)
        await receiver.wait_for(2 * args.sessions)
        lags = [(arrived - created) * 1000 for _, created, arrived in receiver.arrivals]
        up_ids = [event_id for event_id, _, _ in receiver.arrivals]
        result["up"] = {
            "events": len(lags),
            "lag_ms_p50": round(statistics.median(lags), 1),
            "lag_ms_p95": round(percentile(lags, 95), 1),
            "lag_ms_max": round(max(lags), 1),
            # a session's second event waits for its first to be delivered (order per session)
            "lag_ms_p50_by_type": {
                kind: round(
                    statistics.median(
                        (arrived - created) * 1000
                        for event_id, created, arrived in receiver.arrivals
                        if receiver.types[event_id] == kind
                    ),
                    1,
                )
                for kind in ("session.escalated", "session.ended")
            },
        }
        # receiver down for a while, then back
        await receiver.stop()
        down_sessions = max(1, args.sessions // 4)
        await journeys(url, key, "down", down_sessions, args.concurrency)
        await asyncio.sleep(args.down_s)
        back = time.time()
        await receiver.start()
        done = await receiver.wait_for(2 * (args.sessions + down_sessions))
        ids = [event_id for event_id, _, _ in receiver.arrivals]
        result["outage"] = {
            "down_s": args.down_s,
            "events": len(ids) - len(up_ids),
            "expected": 2 * down_sessions,
            "all_arrived_s_after_back": round(done - back, 2),
            "duplicates": len(ids) - len(set(ids)),
        }
        result["bad_signatures"] = receiver.bad
    finally:
        proc.terminate()
        await proc.wait()
        await receiver.stop()

    up, outage = result["up"], result["outage"]
    print(f"webhooks: {args.sessions} sessions, {up['events']} events, receiver up")
    lag = f"p50 {up['lag_ms_p50']:.1f} ms   p95 {up['lag_ms_p95']:.1f} ms   max {up['lag_ms_max']:.1f} ms"
    print(f"  delivery lag  {lag}")
    by_type = "   ".join(f"{k} {v:.1f} ms" for k, v in up["lag_ms_p50_by_type"].items())
    print(f"  p50 by type   {by_type}")
    print(
        f"  receiver down {outage['down_s']:g} s: {outage['events']}/{outage['expected']} events arrived "
        f"{outage['all_arrived_s_after_back']} s after it came back, {outage['duplicates']} duplicates"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "webhooks.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
