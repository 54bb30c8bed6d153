"""The supervisor wall at 50 agents and 500 waiting: how soon a change reaches the
supervisor, and how many bytes it costs.

The server runs in its own process (SQLite). 550 customers escalate, 50 agents connect and
each accepts one, so 500 wait and 50 are live; then a supervisor connects and takes the
wall's snapshot. Each measured change is made by a real client and timed until the
supervisor's socket.io client has the ``wall.changes`` row that shows it, one at a time:
an agent replies (session row: last reply), an agent goes away and back (agent and queue
rows), a new customer escalates (a new session row, the queue's count).

    python bench/supervisor.py [--agents 50] [--waiting 500] [--changes 40]

Prints the figures and writes bench/results/supervisor.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from processes import dcs_env, free_port, wait_up  # noqa: E402

from dcs_sdk import AccessToken, DcsClient, Event, Presence, SigningKey  # noqa: E402

RESULTS = ROOT / "bench" / "results"
ISSUER, AUDIENCE = "bench", "dcs"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


class Watch:
    """The supervisor's wall.changes as they arrive, with arrival time and size."""

    def __init__(self, client: DcsClient) -> None:
        self.waiters: list[tuple[Callable[[dict[str, Any]], bool], asyncio.Future[tuple[float, int]]]] = []
        self.sizes: list[int] = []
        client.on(Event.WALL_CHANGES, self._arrived)

    def _arrived(self, payload: dict[str, Any]) -> None:
        now = time.perf_counter()
        size = len(json.dumps(payload, separators=(",", ":")))
        self.sizes.append(size)
        for predicate, fut in list(self.waiters):
            if not fut.done() and any(predicate(r) for r in payload["rows"]):
                fut.set_result((now, size))

    async def until(self, predicate: Callable[[dict[str, Any]], bool]) -> tuple[float, int]:
        fut: asyncio.Future[tuple[float, int]] = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, fut))
        try:
            return await asyncio.wait_for(fut, 10)
        finally:
            self.waiters.remove((predicate, fut))


async def run(agents: int, waiting: int, changes: int) -> dict[str, Any]:
    key = SigningKey.generate("bench")
    tmp = Path(tempfile.mkdtemp(prefix="dcs-bench-sup-"))
    port = free_port()
    env = dcs_env(key, tmp, issuer=ISSUER, audience=AUDIENCE, rate_burst="100000", rate_per_s="100000")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "signaling_server", "--port", str(port), env=env, cwd=ROOT
    )
    url = f"http://127.0.0.1:{port}"
    clients: list[DcsClient] = []

    def token(role: str, sub: str) -> str:
        t = AccessToken(key, issuer=ISSUER, audience=AUDIENCE).with_identity(sub, name=sub)
        if role == "customer":
            return t.as_customer().to_jwt()
        if role == "agent":
            return t.as_agent(skills=["general"], max_sessions=3).to_jwt()
        return t.as_supervisor().to_jwt()

    async def escalated(i: int) -> str:
        customer = DcsClient(url, token("customer", f"c{i}"))
        await customer.connect()
        try:
            started = await customer.start_session()
            await customer.escalate(started.session_id)
            return started.session_id
        finally:
            await customer.close()

    try:
        await wait_up(port, proc)
        sessions: list[str] = []
        total = waiting + agents
        for start in range(0, total, 50):  # 50 at a time: the escalations, then they leave
            sessions += await asyncio.gather(*(escalated(i) for i in range(start, min(total, start + 50))))
        staff = [DcsClient(url, token("agent", f"agent{i:02d}")) for i in range(agents)]
        for agent in staff:
            await agent.connect()
        clients += staff
        held: list[str] = []
        for agent, session_id in zip(staff, sessions, strict=False):
            await agent.accept(session_id)
            held.append(session_id)
        sup = DcsClient(url, token("supervisor", "sue"))
        clients.append(sup)
        t0 = time.perf_counter()
        await sup.connect()
        snapshot = await sup.wait_for(Event.WALL_SNAPSHOT, timeout=30)
        snapshot_ms = (time.perf_counter() - t0) * 1000
        snapshot_rows = len(snapshot["rows"])
        snapshot_bytes = len(json.dumps(snapshot, separators=(",", ":")))
        watch = Watch(sup)
        await asyncio.sleep(0.5)

        latencies: dict[str, list[float]] = {"reply": [], "presence": [], "escalation": []}
        sizes: list[int] = []
        for n in range(changes):
            i = n % agents
            agent, session_id = staff[i], held[i]
            began = time.perf_counter()
            pending = asyncio.ensure_future(watch.until(lambda r, s=session_id: r["key"] == f"s:{s}"))
            await agent.send(session_id, f"reply {n}")
            at, size = await pending
            latencies["reply"].append((at - began) * 1000)
            sizes.append(size)

            for status in (Presence.AWAY, Presence.AVAILABLE):  # away and back
                began = time.perf_counter()
                pending = asyncio.ensure_future(
                    watch.until(
                        lambda r, a=f"a:agent{i:02d}", p=status.value: r["key"] == a and r["presence"] == p
                    )
                )
                await agent.set_presence(status)
                at, size = await pending
                latencies["presence"].append((at - began) * 1000)
                sizes.append(size)

            customer = DcsClient(url, token("customer", f"c{total + n}"))
            clients.append(customer)
            await customer.connect()
            started = await customer.start_session()
            fresh = asyncio.ensure_future(watch.until(lambda r, s=started.session_id: r["key"] == f"s:{s}"))
            began = time.perf_counter()
            await customer.escalate(started.session_id)
            at, size = await fresh
            latencies["escalation"].append((at - began) * 1000)
            sizes.append(size)
        every = [ms for values in latencies.values() for ms in values]
        return {
            "agents": agents,
            "waiting": waiting,
            "live": len(held),
            "changes_measured": len(every),
            "change_to_supervisor_ms": {
                "p50": round(statistics.median(every), 2),
                "p95": round(percentile(every, 95), 2),
                **{f"p50_{kind}": round(statistics.median(v), 2) for kind, v in latencies.items()},
            },
            "bytes_per_change": {
                "p50": int(statistics.median(sizes)),
                "max": max(sizes),
                "mean_all_pushes": round(statistics.fmean(watch.sizes), 1),
            },
            "snapshot": {"rows": snapshot_rows, "bytes": snapshot_bytes, "ms": round(snapshot_ms, 1)},
            "target": {"p50_ms": 50},
        }
    finally:
        for client in clients:
            await client.close()
        if proc.returncode is None:
            proc.terminate()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--waiting", type=int, default=500)
    parser.add_argument("--changes", type=int, default=40)
    args = parser.parse_args()
    result = asyncio.run(run(args.agents, args.waiting, args.changes))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "supervisor.json").write_text(json.dumps(result, indent=2) + "\n")
    lat, size, snap = result["change_to_supervisor_ms"], result["bytes_per_change"], result["snapshot"]
    print(f"wall: {args.agents} agents, {args.waiting} waiting, {result['live']} live")
    print(f"change -> supervisor: p50 {lat['p50']} ms, p95 {lat['p95']} ms (target p50 <= 50 ms)")
    by_kind = ", ".join(f"{k} {lat[f'p50_{k}']} ms" for k in ("reply", "presence", "escalation"))
    print(f"  p50 by change: {by_kind}")
    print(f"bytes per change: p50 {size['p50']}, max {size['max']}")
    print(f"snapshot: {snap['rows']} rows, {snap['bytes']} bytes, {snap['ms']} ms")


if __name__ == "__main__":
    main()
