"""bench/scale.py's last part: the journey load through HAProxy on 1, 2 and 3 DCS processes.

Each run: a fresh PostgreSQL database, a Redis key prefix of its own, N server processes
(``redis_url`` set, so the processes share rooms, queue and seats) behind Debian's HAProxy
(round-robin, WebSocket), and the same client processes as the rest of the bench: the
pairs' customers start, escalate and are accepted by agents (connections spread over the
processes by the balancer, so a customer and their agent are mostly on different ones),
then every pair sends a message every ``--cluster-interval`` s for ``--cluster-seconds``
and the agent echoes it. Throughput is the echoed round trips per second times two (each
is two stored, relayed messages); CPU per message is the server processes' CPU (and
HAProxy's, apart) over those messages. On a 2-core machine more processes mostly share the
same two cores: the figure says what a process costs, not what more cores would give.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import redis.asyncio as redis
from chat_latency import cpu_seconds
from processes import free_port, wait_up

# after the last send, how long the echoes still queued at the server may take to come back
BACK_WITHIN_S = 60.0
ADMIN_URL = os.environ.get("DCS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("DCS_BENCH_REDIS", "redis://127.0.0.1:6379/0")
HAPROXY = """\
global
    maxconn 4096
defaults
    mode http
    option redispatch
    retries 3
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend dcs
    bind 127.0.0.1:{port}
    default_backend dcs
backend dcs
    balance roundrobin
{servers}
"""


async def _database() -> tuple[str, str]:
    name = f"dcs_bench_{secrets.token_hex(5)}"
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return name, f"{base}/{name}"


async def _drop(name: str, prefix: str) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    client = redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def run_processes(
    count: int,
    key: Any,
    args: argparse.Namespace,
    worker_cls: Any,
    env_base: dict[str, str],
    code: str,
    root: Path,
) -> dict[str, Any]:
    """One run on ``count`` processes: the figures, or why there are none."""
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
    if haproxy is None:
        return {"processes": count, "error": "haproxy is not installed (make system-deps)"}
    tmp = Path(tempfile.mkdtemp(prefix=f"dcs-scale-cluster{count}-"))
    name, database_url = await _database()
    prefix = f"dcs_bench_{secrets.token_hex(4)}"
    servers: list[Any] = []
    lb: Any = None
    workers: list[Any] = []
    out: dict[str, Any] = {"processes": count}
    try:
        for n in range(count):
            port = free_port()
            env = {
                **env_base,
                "DCS_DATA_DIR": str(tmp / f"node{n}"),
                "DCS_DATABASE_URL": database_url,
                "DCS_REDIS_URL": REDIS_URL,
                "DCS_REDIS_PREFIX": prefix,
            }
            (tmp / f"node{n}").mkdir()
            fd = os.open(tmp / f"node{n}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", code, "--port", str(port), env=env, cwd=root, stderr=fd
            )
            os.close(fd)
            await wait_up(port, proc)  # the first makes the schema before the next starts
            servers.append((proc, port))
        lb_port = free_port()
        lines = "\n".join(f"    server s{n} 127.0.0.1:{p}" for n, (_, p) in enumerate(servers))
        (tmp / "haproxy.cfg").write_text(HAPROXY.format(port=lb_port, servers=lines))
        fd = os.open(tmp / "haproxy.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        lb = await asyncio.create_subprocess_exec(haproxy, "-db", "-f", str(tmp / "haproxy.cfg"), stderr=fd)
        os.close(fd)
        await wait_up(lb_port, lb)
        pairs_w = worker_cls("cluster-pairs", "127.0.0.20")
        agents_w = worker_cls("cluster-agents", "127.0.0.21")
        workers = [pairs_w, agents_w]
        await asyncio.gather(*(w.start() for w in workers))
        init = {
            "url": f"http://127.0.0.1:{lb_port}",
            "kind": "dcs",
            "key_pem": key.to_pem().decode(),
            "kid": key.kid,
            "issuer": env_base["DCS_ISSUER"],
            "audience": env_base["DCS_AUDIENCE"],
        }
        await asyncio.gather(*(w.request("init", 30, addr=w.addr, **init) for w in workers))
        await agents_w.request(
            "agents", 60, count=-(-args.pairs // args.agent_capacity), capacity=args.agent_capacity
        )
        sessions = (await pairs_w.request("pairs", 180, count=args.pairs))["sessions"]
        await agents_w.request("accept", 180, session_ids=sessions)
        await asyncio.sleep(args.settle)
        pids = [p.pid for p, _ in servers]
        cpu0, lb0, t0 = sum(cpu_seconds(p) for p in pids), cpu_seconds(lb.pid), time.monotonic()
        rtt = await pairs_w.request(
            "rtt",
            args.cluster_seconds + BACK_WITHIN_S + 30,
            duration_s=args.cluster_seconds,
            interval_s=args.cluster_interval,
            tag=f"c{count}",
            wait_s=BACK_WITHIN_S,
        )
        wall = time.monotonic() - t0
        cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        messages = 2 * len(rtt["rtt_ms"])
        out.update(
            pairs=args.pairs,
            offered_messages_per_s=round(2 * args.pairs / args.cluster_interval, 1),
            messages=messages,
            # the load is above what the machine takes: the echoes queue up, and those not
            # back within BACK_WITHIN_S of the last send are counted here (none is refused)
            not_back_within_s={"s": BACK_WITHIN_S, "count": rtt["lost"]},
            refused_sends=rtt["refused"],
            messages_per_s=round(messages / wall, 1),
            server_cpu_ms_per_message=round(cpu * 1000 / max(1, messages), 3),
            server_cpu_share=round(cpu / wall, 2),
            haproxy_cpu_ms_per_message=round((cpu_seconds(lb.pid) - lb0) * 1000 / max(1, messages), 3),
            rtt_ms=_stats(rtt["rtt_ms"]),
        )
    except Exception as exc:  # one failed run is reported, not the whole bench lost
        out["error"] = repr(exc)
    finally:
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        for proc in [lb, *(p for p, _ in servers)]:
            if proc is not None and proc.returncode is None:
                proc.terminate()
                await proc.wait()
        await _drop(name, prefix)
    return out


def _stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    at = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)  # noqa: E731
    return {"count": len(values), "p50": at(0.5), "p99": at(0.99), "max": round(ordered[-1], 2)}


def summary(runs: list[dict[str, Any]]) -> str:
    rows = [
        f"{'processes':>9} {'msg/s':>8} {'cpu ms/msg':>11} {'server cpu':>10} {'rtt p50':>8} {'rtt p99':>8}"
    ]
    for r in runs:
        if "error" in r:
            rows.append(f"{r['processes']:>9}  {r['error']}")
            continue
        rows.append(
            f"{r['processes']:>9} {r['messages_per_s']:>8} {r['server_cpu_ms_per_message']:>11}"
            f" {r['server_cpu_share']:>10} {r['rtt_ms'].get('p50', '-'):>8} {r['rtt_ms'].get('p99', '-'):>8}"
        )
    return "\n".join(rows)


if __name__ == "__main__":
    print(json.dumps({"see": "run bench/scale.py --processes 1,2,3"}))
