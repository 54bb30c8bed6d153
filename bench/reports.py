"""The Reports view's requests over a year of synthetic data on PostgreSQL, end to end.

Makes a database of its own (``dcs_bench_reports``, dropped at the end unless --keep),
creates the schema as the server does (``Store.open``: tables and the report indexes),
and fills it in SQL with ``INSERT ... SELECT ... FROM generate_series(1, N)`` (no rows
travel through Python): N sessions spread evenly over the 365 days up to now, each with
its transitions as the server writes them (created, escalated, accepted, transferred,
ended), in five queues and fifty agents:

- 40 % contained (ended with the assistant), 2 % still with it;
- 58 % escalated (reasons: four codes), of which 1 in 7 abandon (waits 5 s-15 min) and
  the rest are answered (waits 1 s-5 min), 8 % of those transferred once; CSAT on 40 %
  of the answered, a comment on a quarter of those.

It rolls the finished days up (reports/rollup.py ``roll_up``, as the server's job does:
every day before today), so today's sessions are read raw, as on a live server. Then it
starts a DCS server in a process of its own on that database, waits for its rollup job's
first run, and sends the requests the console's Reports view sends
(widget/console/reports/: ``GET /api/v1/reports`` with whole UTC days from ``since`` to
the end of ``until``'s day, a queue, an agent, per day or per hour; ``/reports.csv`` for
"Download CSV"), with a supervisor's token: the presets (today, 7, 30, 90 days), the whole
year, one queue, one agent, and a supervisor who oversees two queues only. Each request is
timed from sending it to the last byte of the answer, RUNS times after a warm-up; the
table gives the median and p95 of each. Target: p95 <= 500 ms for every request.

With --sql it also times, in this process, each SQL statement of a report (the rollup
mark, then ``Reports.queries()``: facts, bins, reasons, comments, by_hour), one at a time,
to tell which of them a slow request waits for.

    python bench/reports.py [--sessions 2000000] [--runs 40] [--keep] [--reuse] [--sql]

Prints a table and writes bench/results/reports.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from processes import free_port, wait_up  # noqa: E402

from dcs_sdk import AccessToken, KeySet, SigningKey  # noqa: E402
from signaling_server.reports import ReportQuery, Reports  # noqa: E402
from signaling_server.reports.rollup import roll_up, rolled_until  # noqa: E402
from signaling_server.store import Store  # noqa: E402

ADMIN = os.environ.get("DCS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
DB = "dcs_bench_reports"
RESULTS = ROOT / "bench" / "results" / "reports.json"
ISSUER, AUDIENCE = "bench", "dcs"
DAY = 86400.0
TARGET_P95_MS = 500.0
TWO_QUEUES = ("q1", "q2")  # the supervisor who oversees some queues only

# One row per session; random() with a fixed seed, so every run makes the same data.
SESSIONS_SQL = """
INSERT INTO dcs_sessions (id, customer_id, customer_name, customer_attrs, state, queue, reason,
    first_message, page_url, page_title, assistant_state, understanding, agent_id, agent_name,
    last_seq, created_at, queued_at, accepted_at, first_agent_reply_at, wrap_up_at, ended_at,
    wrap_up_notes, csat_score, csat_comment, left_message)
SELECT 's' || lpad(g::text, 9, '0'), 'c' || g, 'Customer', '{}', state, queue, reason,
    'hello', 'https://shop.test/', 'Shop', '{}', '{}', agent, agent, 6,
    created, queued, accepted, replied, wrapped, ended, '', csat,
    CASE WHEN csat IS NOT NULL AND r5 < 0.25 THEN 'comment ' || g END, ''
FROM (
  SELECT g, r1, r5, created,
    CASE WHEN r1 < 0.40 THEN 'ended' WHEN r1 < 0.42 THEN 'virtual' ELSE 'ended' END AS state,
    'q' || (g % 5) AS queue,
    CASE WHEN r1 >= 0.42
      THEN (ARRAY['customer_request', 'unmatched', 'frustration', 'low_confidence'])[1 + (g % 4)]
      ELSE '' END AS reason,
    CASE WHEN r1 >= 0.42 THEN created + 20 + r2 * 60 END AS queued,
    CASE WHEN r1 >= 0.50 THEN 'agent' || (g % 50) END AS agent,
    CASE WHEN r1 >= 0.50 THEN created + 20 + r2 * 60 + 1 + r3 * 300 END AS accepted,
    CASE WHEN r1 >= 0.50 THEN created + 20 + r2 * 60 + 1 + r3 * 300 + 3 + r4 * 60 END AS replied,
    CASE WHEN r1 >= 0.50 THEN created + 20 + r2 * 60 + 1 + r3 * 300 + 60 + r4 * 900 END AS wrapped,
    CASE WHEN r1 < 0.40 THEN created + 30 + r2 * 300
         WHEN r1 < 0.42 THEN NULL
         WHEN r1 < 0.50 THEN created + 20 + r2 * 60 + 5 + r3 * 895
         ELSE created + 20 + r2 * 60 + 1 + r3 * 300 + 90 + r4 * 900 END AS ended,
    CASE WHEN r1 >= 0.50 AND r5 < 0.40 THEN 1 + (g % 5) END AS csat
  FROM (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
      {start} + (g::float8 / {n}) * 365 * 86400 AS created
    FROM generate_series(1, {n}) AS g
  ) AS draws
) AS s
"""

# The transitions the server writes for each session, derived from its timestamps.
TRANSITIONS_SQL = [
    """INSERT INTO dcs_transitions (session_id, from_state, to_state, actor, detail, at)
       SELECT id, NULL, 'virtual', customer_id, '', created_at FROM dcs_sessions""",
    """INSERT INTO dcs_transitions (session_id, from_state, to_state, actor, detail, at)
       SELECT id, 'virtual', 'queued', 'assistant', reason, queued_at FROM dcs_sessions
       WHERE queued_at IS NOT NULL""",
    """INSERT INTO dcs_transitions (session_id, from_state, to_state, actor, detail, at)
       SELECT id, 'queued', 'live', agent_id, '', accepted_at FROM dcs_sessions
       WHERE accepted_at IS NOT NULL""",
    # 8 % of the answered were transferred once, half-way through
    """INSERT INTO dcs_transitions (session_id, from_state, to_state, actor, detail, at)
       SELECT id, 'live', 'queued', agent_id, 'transfer to q1', (accepted_at + ended_at) / 2
       FROM dcs_sessions WHERE accepted_at IS NOT NULL AND hashtext(id) % 100 < 8""",
    """INSERT INTO dcs_transitions (session_id, from_state, to_state, actor, detail, at)
       SELECT id, CASE WHEN accepted_at IS NULL THEN 'queued' ELSE 'wrap_up' END, 'ended',
              coalesce(agent_id, customer_id), '', ended_at
       FROM dcs_sessions WHERE ended_at IS NOT NULL""",
]


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def scenarios(today: float) -> list[tuple[str, str, dict[str, str], str]]:
    """(name, path, query, token): what the Reports view asks for. Its pickers are whole
    UTC days, the "To" day included: since = the first day's start, until = the day after
    the last; the presets end today (widget/console/reports/index.js)."""

    def q(days: int, **kw: str) -> dict[str, str]:
        return {"since": iso(today - (days - 1) * DAY), "until": iso(today + DAY), "bucket": "day", **kw}

    return [
        ("today, per hour", "/reports", q(1, bucket="hour"), "all"),
        ("today", "/reports", q(1), "all"),
        ("last 7 days (the view's default)", "/reports", q(7), "all"),
        ("last 30 days", "/reports", q(30), "all"),
        ("last 30 days, one queue", "/reports", q(30, queue="q2"), "all"),
        ("last 30 days, one agent", "/reports", q(30, agent_id="agent7"), "all"),
        ("last 30 days, per hour", "/reports", q(30, bucket="hour"), "all"),
        ("last 90 days", "/reports", q(90), "all"),
        ("last 90 days, one queue", "/reports", q(90, queue="q2"), "all"),
        ("the whole year", "/reports", q(365), "all"),
        ("the whole year, one queue", "/reports", q(365, queue="q2"), "all"),
        ("the whole year, one agent", "/reports", q(365, agent_id="agent7"), "all"),
        ("the whole year, two queues' supervisor", "/reports", q(365), "two"),
        ("last 30 days, CSV", "/reports.csv", q(30), "all"),
        ("the whole year, CSV", "/reports.csv", q(365), "all"),
    ]


def pct(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered) + 0.5)) - 1))]


def summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(pct(times, 0.95), 1),
        "max_ms": round(max(times), 1),
    }


def store_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+asyncpg://")


async def fill(admin_url: str, n: int) -> tuple[str, dict[str, float]]:
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB}"')
    await admin.close()
    url = admin_url.rsplit("/", 1)[0] + f"/{DB}"
    store = await Store.open(store_url(url))  # the schema, as the server makes it
    await store.close()
    now = time.time()
    timings: dict[str, float] = {"data_until": now}
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT setseed(0.42)")
        t = time.perf_counter()
        sql = SESSIONS_SQL.replace("{n}", str(n)).replace("{start}", repr(now - 365 * DAY))
        await conn.execute(sql)
        timings["sessions_s"] = time.perf_counter() - t
        t = time.perf_counter()
        for statement in TRANSITIONS_SQL:
            await conn.execute(statement)
        timings["transitions_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await conn.execute("VACUUM ANALYZE dcs_sessions")
        await conn.execute("VACUUM ANALYZE dcs_transitions")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        # the daily rollups, as the server's rollup job makes them: every day before today
        store = await Store.open(store_url(url))
        t = time.perf_counter()
        timings["rolled_up_days"] = float(await roll_up(store.engine))
        timings["rollup_s"] = time.perf_counter() - t
        await store.close()
        await conn.execute("VACUUM ANALYZE")
        for table in ("dcs_sessions", "dcs_transitions"):
            timings[f"{table}_rows"] = float(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()
    return url, timings


async def wait_rollup(url: str, after: float, timeout_s: float = 600) -> float:
    """Wait for the server's rollup job to finish its first run (it starts with the
    server and redoes the last days); how long it took."""
    conn = await asyncpg.connect(url)
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            at = await conn.fetchval("SELECT rolled_at FROM dcs_report_rollup WHERE id = 1")
            if at is not None and at >= after:
                return at - after
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    raise RuntimeError("the server's rollup job did not finish its first run")


async def time_requests(base: str, tokens: dict[str, str], runs: int) -> list[dict[str, Any]]:
    today = float(int(time.time() // DAY) * DAY)
    rows = []
    async with aiohttp.ClientSession() as http:
        for name, path, query, who in scenarios(today):
            url = f"{base}/api/v1{path}?{urlencode(query)}"
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            times = []
            body = b""
            for i in range(runs + 1):  # the first warms the server's caches and the buffers
                t = time.perf_counter()
                async with http.get(url, headers=headers) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{name}: HTTP {resp.status}: {body[:300]!r}")
                if i:
                    times.append((time.perf_counter() - t) * 1000)
            sessions = json.loads(body)["totals"]["sessions"] if path == "/reports" else None
            rows.append(
                {"request": name, "path": path, "query": query, "sessions_in_period": sessions}
                | {"bytes": len(body)}
                | summary(times)
            )
            r = rows[-1]
            n = "" if sessions is None else f"{sessions:,}"
            print(f"{name:<40} {n:>10}  p50 {r['p50_ms']:>7.1f} ms  p95 {r['p95_ms']:>7.1f} ms", flush=True)
    return rows


async def time_statements(url: str, runs: int) -> list[dict[str, Any]]:
    """Each SQL statement of each report, alone, in this process."""
    store = await Store.open(store_url(url))
    reports = Reports(store.engine)
    out = []
    try:
        for name, path, query, who in scenarios(float(int(time.time() // DAY) * DAY)):
            if path != "/reports":
                continue
            q = ReportQuery(
                since=datetime.fromisoformat(query["since"]).timestamp(),
                until=datetime.fromisoformat(query["until"]).timestamp(),
                queue=query.get("queue"),
                agent_id=query.get("agent_id"),
                bucket="hour" if query["bucket"] == "hour" else "day",
                queues=TWO_QUEUES if who == "two" else None,
            )
            timings: dict[str, list[float]] = {"rolled_until": []}
            for i in range(runs + 1):
                t = time.perf_counter()
                rolled = await rolled_until(store.engine, hourly=q.bucket == "hour")
                if i:
                    timings["rolled_until"].append((time.perf_counter() - t) * 1000)
                statements, params = reports.queries(q, rolled)
                for key, statement in statements.items():
                    t = time.perf_counter()
                    await reports._fetch(statement, params)
                    if i:
                        timings.setdefault(key, []).append((time.perf_counter() - t) * 1000)
            figures = {k: summary(v) for k, v in timings.items()}
            out.append({"request": name, **figures})
            parts = "  ".join(f"{k} {v['p50_ms']:.1f}/{v['p95_ms']:.1f}" for k, v in figures.items())
            print(f"{name:<40} {parts}", flush=True)
    finally:
        await store.close()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="time an existing dcs_bench_reports")
    parser.add_argument("--sql", action="store_true", help="also time each SQL statement alone")
    args = parser.parse_args()

    if args.reuse:  # the fill's figures are the previous run's
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        url, fill_timings = ADMIN.rsplit("/", 1)[0] + f"/{DB}", previous.get("fill", {})
        args.sessions = previous.get("sessions", args.sessions)
    else:
        print(f"filling {args.sessions:,} sessions over the year up to now ...", flush=True)
        url, fill_timings = await fill(ADMIN, args.sessions)
        print("  " + ", ".join(f"{k} {v:,.1f}" for k, v in fill_timings.items()), flush=True)

    key = SigningKey.generate("bench")
    tmp = Path(tempfile.mkdtemp(prefix="dcs-bench-reports-"))
    (tmp / "jwks.json").write_text(json.dumps(KeySet([key.public()]).to_jwks()))
    port = free_port()
    env = {
        **os.environ,
        "DCS_PUBLIC_KEYS_FILE": str(tmp / "jwks.json"),
        "DCS_ISSUER": ISSUER,
        "DCS_AUDIENCE": AUDIENCE,
        "DCS_DATA_DIR": str(tmp),
        "DCS_DATABASE_URL": store_url(url),
        "DCS_LOG_LEVEL": "WARNING",
        # the bench asks more often than a supervisor would
        "DCS_API_RATE_BURST": "100000",
        "DCS_API_RATE_PER_S": "100000",
    }
    started = time.time()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "signaling_server", "--port", str(port), env=env, cwd=ROOT
    )
    rows: list[dict[str, Any]] = []
    statements: list[dict[str, Any]] = []
    try:
        await wait_up(port, proc, timeout_s=600)  # a new index is built at start
        rollup_s = await wait_rollup(url, started)
        print(f"server up; its first rollup run took {rollup_s:.1f} s", flush=True)

        def token(queues: tuple[str, ...]) -> str:
            t = AccessToken(key, issuer=ISSUER, audience=AUDIENCE).with_identity("sup1", name="Sue")
            return t.as_supervisor(queues=queues).to_jwt()

        tokens = {"all": token(("*",)), "two": token(TWO_QUEUES)}
        rows = await time_requests(f"http://127.0.0.1:{port}", tokens, args.runs)
    finally:
        proc.terminate()
        await proc.wait()
    try:
        if args.sql:
            print("each statement alone, p50/p95 ms:", flush=True)
            statements = await time_statements(url, args.runs)
    finally:
        if not args.keep and not args.reuse:
            admin = await asyncpg.connect(ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
            await admin.close()
    worst = max(r["p95_ms"] for r in rows)
    result = {
        "what": "the Reports view's requests (GET /api/v1/reports, /reports.csv), end to end over HTTP, "
        "against a DCS server process on PostgreSQL",
        "generated_with": "INSERT ... SELECT FROM generate_series (bench/reports.py), then VACUUM ANALYZE",
        "sessions": args.sessions,
        "runs": args.runs,
        "fill": fill_timings,
        "requests": rows,
        "statements": statements,
        # the machine is shared: its load while the reports were timed (1, 5, 15 min)
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "worst_p95_ms": worst,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": worst <= TARGET_P95_MS,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"worst p95 {worst:.1f} ms (target {TARGET_P95_MS:.0f} ms); wrote {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
