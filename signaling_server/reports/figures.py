"""The report figures, in SQL over the stored record (SQLite and PostgreSQL alike).

A report covers the sessions that *started* in a period ``[since, until)``, optionally
of one queue and/or one agent (the session's last queue and agent). Whole days that are
rolled up (rollup.py) are read from the daily rollups, the rest from the sessions
themselves, with the same SQL (sql.py), and added up: a year's report reads a few
thousand rows. Definitions (docs/api.md, "Reports"):

- contained: ended without ever being queued (the assistant handled it);
- escalated: queued at least once; abandoned: ended while queued, before any agent took it;
- wait: ``accepted_at - queued_at`` of the last queue stint of each answered session;
  service level: answered within ``service_level_s`` / (answered + abandoned);
- first response: the agent's first reply after accepting (``first_agent_reply_at -
  accepted_at``); handle time: ``ended_at - accepted_at`` (chat and wrap-up);
- escalation reasons and transfers: those of the period's sessions, whenever they happened;
- averages are exact; percentiles and the service level are counted in duration bins
  (``sql.BIN_EDGES``: 1 s steps to 6 s, then 8, 10, 12, 15, 20, 25, 30, 40, 45, 50, 60,
  75, 90 s, ... ): a percentile is the upper edge of the bin holding the nearest-rank value
  (the smallest with at least that share of values at or below it).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Float,
    String,
    and_,
    bindparam,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store import schema
from . import sql
from .rollup import rolled_until
from .sql import ABANDON_EDGES, DAY, s

Bucket = Literal["hour", "day"]
BUCKET_SECONDS: dict[str, int] = {"hour": 3600, "day": 86400}
MAX_BUCKETS = 2000
MAX_HOURLY_S = 31 * DAY  # hourly volumes come from the sessions themselves: a month at most
PERCENTILES = (0.5, 0.9)
COMMENTS_SHOWN = 20
FunnelName = Literal["assistant", "queue", "agent", "resolved"]
FUNNEL: tuple[FunnelName, ...] = ("assistant", "queue", "agent", "resolved")


@dataclass(frozen=True)
class ReportQuery:
    since: float
    until: float
    queue: str | None = None
    agent_id: str | None = None
    bucket: Bucket = "day"
    service_level_s: float = 60.0
    # A supervisor who oversees some queues only sees those (None: every queue).
    queues: tuple[str, ...] | None = None


class Percentiles(BaseModel):
    p50: float | None = Field(description="Median, seconds (nearest rank).")
    p90: float | None = Field(description="90th percentile, seconds (nearest rank).")
    avg: float | None = Field(description="Mean, seconds.")
    count: int = Field(description="How many sessions the figure is measured over.")


class VolumePoint(BaseModel):
    start: int = Field(description="Start of the bucket, epoch milliseconds (UTC).")
    sessions: int
    contained: int
    escalated: int
    abandoned: int


class ReasonCount(BaseModel):
    reason: str
    count: int


class AbandonBucket(BaseModel):
    label: str = Field(description='How long they had waited, e.g. "30-60 s".')
    min_s: int
    max_s: int | None
    count: int


class FunnelStep(BaseModel):
    step: FunnelName
    count: int
    drop: int = Field(description="How many of the previous step's sessions did not get here.")


class CsatComment(BaseModel):
    session_id: str
    score: int
    comment: str
    at: int | None = Field(description="When the session ended, epoch milliseconds.")


class Csat(BaseModel):
    count: int
    average: float | None
    distribution: dict[str, int] = Field(description='Ratings by score, "1" to "5".')
    comments: list[CsatComment] = Field(description=f"The latest {COMMENTS_SHOWN} comments.")


class QueueRow(BaseModel):
    queue: str
    sessions: int
    escalated: int
    answered: int
    abandoned: int
    avg_wait_s: float | None
    service_level: float | None


class AgentRow(BaseModel):
    agent_id: str
    agent_name: str
    handled: int
    avg_first_response_s: float | None
    avg_handle_s: float | None
    csat_average: float | None


class Totals(BaseModel):
    sessions: int
    contained: int
    escalated: int
    answered: int
    abandoned: int
    resolved: int
    left_message: int = Field(description="Queued customers who left a message for follow-up.")
    transfers: int
    containment_rate: float | None
    escalation_rate: float | None
    abandonment_rate: float | None = Field(description="abandoned / escalated")
    service_level: float | None
    service_level_s: float


class Report(BaseModel):
    since: int = Field(description="Start of the period, epoch milliseconds.")
    until: int = Field(description="End of the period (exclusive), epoch milliseconds.")
    queue: str | None
    agent_id: str | None
    bucket: Bucket
    totals: Totals
    volumes: list[VolumePoint]
    escalation_reasons: list[ReasonCount]
    abandonment: list[AbandonBucket]
    wait: Percentiles
    first_response: Percentiles
    handle: Percentiles
    csat: Csat
    funnel: list[FunnelStep]
    by_queue: list[QueueRow]
    by_agent: list[AgentRow]


COUNTS = schema.REPORT_COUNTS
SUMS = schema.REPORT_SUMS
# what the per-queue and per-agent rows show
QUEUE_COLUMNS = ("escalated", "answered", "abandoned", "wait_sum", "wait_count")
AGENT_COLUMNS = ("sessions", "frt_sum", "frt_count", "handle_sum", "handle_count", "csat_sum", "csat_count")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


def _avg(total: float, count: int) -> float | None:
    return round(total / count, 3) if count else None


def _param(name: str, type_: Any = Float) -> Any:
    return bindparam(name, type_=type_)


@dataclass(frozen=True)
class _Plan:
    """A report's shape: which parts of the period come from the sessions and which from the
    rollups, and which filters apply. Its statements are built once per shape (``_built``)
    with bound parameters, and run with ``params``: building these large statements anew
    for each request cost more than running them."""

    rolled: bool  # whole days [first, end) are read from the rollups
    queue: bool
    agent: bool
    queues: bool  # a supervisor who sees some queues only
    hourly: bool

    @classmethod
    def of(cls, q: ReportQuery, rolled_until: float) -> tuple[_Plan, dict[str, Any]]:
        first = -(-q.since // DAY) * DAY  # the first whole day in the period
        end = min(q.until // DAY * DAY, rolled_until)
        params: dict[str, Any] = {"since": q.since, "until": q.until}
        if first < end:
            params.update(first=first, end=end)
        if q.queue is not None:
            params["queue"] = q.queue
        if q.agent_id is not None:
            params["agent_id"] = q.agent_id
        if q.queues is not None:
            params["queues"] = list(q.queues)
        plan = cls(
            rolled=first < end,
            queue=q.queue is not None,
            agent=q.agent_id is not None,
            queues=q.queues is not None,
            hourly=q.bucket == "hour",
        )
        return plan, params

    def filters(self) -> list[ColumnElement[bool]]:
        out = []
        if self.queue:
            out.append(s.queue == _param("queue", String))
        if self.agent:
            out.append(s.agent_id == _param("agent_id", String))
        if self.queues:
            out.append(s.queue.in_(bindparam("queues", expanding=True, type_=String)))
        return out

    def full(self) -> ColumnElement[bool]:
        """The whole period (with the filters)."""
        return and_(s.created_at >= _param("since"), s.created_at < _param("until"), *self.filters())

    def raw(self) -> ColumnElement[bool]:
        """The sessions read directly: the period outside the rolled-up days (with the filters)."""
        if not self.rolled:
            return self.full()
        outside = or_(
            and_(s.created_at >= _param("since"), s.created_at < _param("first")),
            and_(s.created_at >= _param("end"), s.created_at < _param("until")),
        )
        return and_(outside, *self.filters())

    def rollup_where(self, table: Any, column: str = "day") -> ColumnElement[bool]:
        assert self.rolled
        conds = [table.c[column] >= _param("first"), table.c[column] < _param("end")]
        if self.queue:
            conds.append(table.c.queue == _param("queue", String))
        if self.queues:
            conds.append(table.c.queue.in_(bindparam("queues", expanding=True, type_=String)))
        if "agent_id" in table.c and self.agent:
            conds.append(table.c.agent_id == _param("agent_id", String))
        return and_(*conds)


class Reports:
    """Computes reports on the store's engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.parallel = self.dialect == "postgresql"

    def queries(self, q: ReportQuery, rolled: float) -> tuple[dict[str, Any], dict[str, Any]]:
        """The report's statements and their parameters (bench/reports.py times them):
        ``facts`` (the counts and sums per day, per queue and per agent, in one query over
        the period's sessions and rollups), ``bins``, ``reasons``, ``comments`` and, hourly,
        ``by_hour``. The statements are built once per shape of report, then reused."""
        plan, params = _Plan.of(q, rolled)
        return _built(self.dialect, plan), params

    async def report(self, q: ReportQuery) -> Report:
        rolled = await rolled_until(self.engine, hourly=q.bucket == "hour")
        queries, params = self.queries(q, rolled)
        if self.parallel:  # PostgreSQL: each on a connection of its own: run in parallel
            results = await asyncio.gather(*(self._fetch(v, params) for v in queries.values()))
            fetched = dict(zip(queries, results, strict=True))
        else:  # SQLite: one connection, one query at a time
            async with self.engine.connect() as conn:
                fetched = {
                    k: [tuple(x) for x in (await conn.execute(v, params)).all()] for k, v in queries.items()
                }
        names = (*COUNTS, *SUMS)
        at = {name: i for i, name in enumerate(names)}
        n: dict[str, Any] = dict.fromkeys(names, 0)
        rows: dict[str, list[tuple[Any, ...]]] = {"by_day": [], "by_queue": [], "by_agent": []}
        for kind, day, key, agent_name, *values in fetched["facts"]:
            v = [0 if x is None else x for x in values]
            if kind == "day":
                for name, value in zip(names, v, strict=True):
                    n[name] += value
                volume = ("sessions", "contained", "escalated", "abandoned")
                rows["by_day"].append((day, *(v[at[c]] for c in volume)))
            elif kind == "queue":
                if v[at["escalated"]] > 0:
                    rows["by_queue"].append((key, *(v[at[c]] for c in QUEUE_COLUMNS)))
            else:
                rows["by_agent"].append((key, agent_name, *(v[at[c]] for c in AGENT_COLUMNS)))
        for name in rows:
            rows[name].sort(key=lambda row: row[0])
        rows["reasons"] = fetched["reasons"]
        rows["comments"] = fetched["comments"]
        if "by_hour" in fetched:
            rows["by_hour"] = fetched["by_hour"]
        bins: dict[str, dict[int, int]] = {m: {} for m in sql.METRICS}
        within: dict[str, int] = {}  # answered within the service level, per queue
        for queue, metric, bin_, count in fetched["bins"]:
            bins[metric][int(bin_)] = bins[metric].get(int(bin_), 0) + int(count)
            if metric == "wait" and bin_ <= q.service_level_s:
                within[queue] = within.get(queue, 0) + int(count)
        return self._assemble(q, n, rows, bins, within)

    def _assemble(
        self,
        q: ReportQuery,
        n: dict[str, Any],
        rows: dict[str, list[tuple[Any, ...]]],
        bins: dict[str, dict[int, int]],
        within: dict[str, int],
    ) -> Report:
        c = {k: int(n[k]) for k in COUNTS}
        served = c["answered"] + c["abandoned"]
        step = BUCKET_SECONDS[q.bucket]
        volumes = rows["by_hour"] if q.bucket == "hour" else rows["by_day"]
        return Report(
            since=int(q.since * 1000),
            until=int(q.until * 1000),
            queue=q.queue,
            agent_id=q.agent_id,
            bucket=q.bucket,
            totals=Totals(
                sessions=c["sessions"],
                contained=c["contained"],
                escalated=c["escalated"],
                answered=c["answered"],
                abandoned=c["abandoned"],
                resolved=c["resolved"],
                left_message=c["left_message"],
                transfers=c["transfers"],
                containment_rate=_rate(c["contained"], c["sessions"]),
                escalation_rate=_rate(c["escalated"], c["sessions"]),
                abandonment_rate=_rate(c["abandoned"], c["escalated"]),
                service_level=_rate(sum(within.values()), served),
                service_level_s=q.service_level_s,
            ),
            volumes=_fill_volumes(volumes, q.since, q.until, step),
            escalation_reasons=[ReasonCount(reason=str(r), count=int(k)) for r, k in rows["reasons"]],
            abandonment=_abandon_buckets(c),
            wait=_percentiles(bins["wait"], float(n["wait_sum"]), c["wait_count"]),
            first_response=_percentiles(bins["frt"], float(n["frt_sum"]), c["frt_count"]),
            handle=_percentiles(bins["handle"], float(n["handle_sum"]), c["handle_count"]),
            csat=Csat(
                count=c["csat_count"],
                average=_avg(float(n["csat_sum"]), c["csat_count"]),
                distribution={str(k): c[f"score_{k}"] for k in range(1, 6)},
                comments=[
                    CsatComment(
                        session_id=sid,
                        score=int(score),
                        comment=comment,
                        at=None if at is None else int(at * 1000),
                    )
                    for sid, score, comment, at in rows["comments"]
                ],
            ),
            funnel=_funnel(c),
            by_queue=[
                QueueRow(
                    queue=queue,
                    sessions=int(esc),
                    escalated=int(esc),
                    answered=int(ans),
                    abandoned=int(aban),
                    avg_wait_s=_avg(float(wsum or 0), int(wcount or 0)),
                    service_level=_rate(within.get(queue, 0), int(ans) + int(aban)),
                )
                for queue, esc, ans, aban, wsum, wcount in rows["by_queue"]
            ],
            by_agent=[
                AgentRow(
                    agent_id=agent,
                    agent_name=name or agent,
                    handled=int(handled),
                    avg_first_response_s=_avg(float(fsum or 0), int(fcount or 0)),
                    avg_handle_s=_avg(float(hsum or 0), int(hcount or 0)),
                    csat_average=_avg(float(csum or 0), int(ccount or 0)),
                )
                for agent, name, handled, fsum, fcount, hsum, hcount, csum, ccount in rows["by_agent"]
            ],
        )

    async def _fetch(self, query: Any, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        async with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                # Planned for this period and filter, not generically: a prepared statement
                # run a few times gets a generic plan, which guesses a range of a few rows
                # and, for one agent's year, read 20,000 rows scattered over the table for
                # the comments instead of the newest few (2 s instead of 1 ms).
                await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
            return [tuple(r) for r in (await conn.execute(query, params)).all()]


class _Builder:
    """Builds a report's statements for one shape (``_Plan``) on one dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def build(self, plan: _Plan) -> dict[str, Any]:
        # the period's own sessions, one row each, computed once per query (a CTE)
        ps = sql.per_session(plan.raw(), self.dialect, cte=True)
        durations = sql.per_session(plan.raw(), self.dialect, cte=True, with_transfers=False)
        queries = {
            "facts": self._facts_query(self._facts(plan, ps)),
            "bins": self._bins_query(self._bins(plan, durations)),
            "reasons": self._reasons_query(self._reasons(plan)),
            "comments": self._comments_query(plan),
        }
        if plan.hourly:
            queries["by_hour"] = self._hourly_query(plan)
        return queries

    def _facts_query(self, f: Any) -> Any:
        """Every count and sum per day (the volumes and, added up, the totals), per queue and
        per agent: one query, so the period's sessions are read once, not three times.
        Rows: (kind, day, queue or agent id, agent name, *counts, *sums)."""
        names = (*COUNTS, *SUMS)

        def values(wanted: Sequence[str]) -> list[Any]:
            # per queue and per agent only what their rows show is added up
            return [func.sum(f.c[c]) if c in wanted else null() for c in names]

        none = literal(None, String)
        no_day = literal(None, Float)
        return union_all(
            select(literal("day", String), f.c.day, none, none, *values(names)).group_by(f.c.day),
            select(literal("queue", String), no_day, f.c.queue, none, *values(QUEUE_COLUMNS)).group_by(
                f.c.queue
            ),
            select(
                literal("agent", String),
                no_day,
                f.c.agent_id,
                func.max(f.c.agent_name),
                *values(AGENT_COLUMNS),
            )
            .where(f.c.agent_id != "")
            .group_by(f.c.agent_id),
        )

    def _bins_query(self, b: Any) -> Any:
        return select(b.c.queue, b.c.metric, b.c.bin, func.sum(b.c.count)).group_by(
            b.c.queue, b.c.metric, b.c.bin
        )

    def _reasons_query(self, r: Any) -> Any:
        return (
            select(r.c.reason, func.sum(r.c.count).label("n"))
            .group_by(r.c.reason)
            .order_by(func.sum(r.c.count).desc(), r.c.reason)
            .limit(20)
        )

    def _facts(self, plan: _Plan, ps: Any) -> Any:
        # a subquery, read three times (per day, queue, agent), not a CTE: PostgreSQL would
        # write the CTE's rows (a year: 20,000 of 31 columns) to a temporary file first
        raw = sql.facts(ps)
        if not plan.rolled:
            return raw.subquery("f")
        d = schema.report_daily
        rolled = select(*(d.c[c] for c in ("day", "queue", "agent_id", "agent_name", *COUNTS, *SUMS))).where(
            plan.rollup_where(d)
        )
        return union_all(raw, rolled).subquery("f")

    def _bins(self, plan: _Plan, ps: Any) -> Any:
        raw = sql.bins(ps, self.dialect)
        if not plan.rolled:
            return union_all(*raw).subquery("b")
        # one agent's report reads their own bins
        b = schema.report_agent_bins if plan.agent else schema.report_bins
        rolled = select(b.c.day, b.c.queue, b.c.metric, b.c.bin, b.c.count).where(plan.rollup_where(b))
        return union_all(*raw, rolled).subquery("b")

    def _reasons(self, plan: _Plan) -> Any:
        raw = sql.reasons(plan.raw(), self.dialect)
        if not plan.rolled:
            return raw.subquery("r")
        r = schema.report_reasons
        rolled = select(r.c.day, r.c.queue, r.c.agent_id, r.c.reason, r.c.count).where(plan.rollup_where(r))
        return union_all(raw, rolled).subquery("r")

    def _comments_query(self, plan: _Plan) -> Any:
        # the newest sessions first: the period index read backwards, stopping at 20
        return (
            select(s.id, s.csat_score, s.csat_comment, s.ended_at)
            .where(plan.full(), s.csat_score.is_not(None), s.csat_comment.is_not(None), s.csat_comment != "")
            .order_by(s.created_at.desc(), s.id)
            .limit(COMMENTS_SHOWN)
        )

    def _hourly_query(self, plan: _Plan) -> Any:
        """The volumes per hour: the rolled-up days' from dcs_report_hourly, the rest's
        from the sessions."""
        raw = sql.hourly(plan.raw(), self.dialect)
        if plan.rolled:
            h = schema.report_hourly
            rolled = select(h.c.hour, h.c.queue, h.c.agent_id, *(h.c[n] for n in sql.HOURLY)).where(
                plan.rollup_where(h, "hour")
            )
            v = union_all(raw, rolled).subquery("v")
        else:
            v = raw.subquery("v")
        return select(v.c.hour, *(func.sum(v.c[n]) for n in sql.HOURLY)).group_by(v.c.hour).order_by(v.c.hour)


@functools.lru_cache(maxsize=128)
def _built(dialect: str, plan: _Plan) -> dict[str, Any]:
    """The statements of a report of this shape on this dialect, built once (32 shapes)."""
    return _Builder(dialect).build(plan)


def _percentiles(bins: dict[int, int], total: float, count: int) -> Percentiles:
    """Nearest-rank percentiles over the binned durations (the bins' upper edges)."""
    if not count:
        return Percentiles(p50=None, p90=None, avg=None, count=0)
    ordered = sorted(bins.items())
    n = sum(k for _, k in ordered)
    out: dict[float, float] = {}
    for p in PERCENTILES:
        seen = 0
        for value, k in ordered:
            seen += k
            if seen / n >= p:
                out[p] = float(value)
                break
    return Percentiles(p50=out.get(0.5), p90=out.get(0.9), avg=_avg(total, count), count=count)


def _fill_volumes(rows: Sequence[Any], since: float, until: float, step: int) -> list[VolumePoint]:
    """One point per bucket of the period, zeros where nothing started."""
    have = {int(round(float(b))): row for b, *row in rows}
    first = int(since // step) * step
    points = []
    for start in range(first, int(until), step):
        total, contained, escalated, abandoned = have.get(start, (0, 0, 0, 0))
        points.append(
            VolumePoint(
                start=start * 1000,
                sessions=int(total),
                contained=int(contained or 0),
                escalated=int(escalated or 0),
                abandoned=int(abandoned or 0),
            )
        )
    return points


def _abandon_buckets(c: dict[str, int]) -> list[AbandonBucket]:
    out = []
    low = 0
    for i, edge in enumerate((*ABANDON_EDGES, None)):
        label = f"{_fmt(low)}+" if edge is None else f"{_fmt(low)}-{_fmt(edge)}"
        out.append(AbandonBucket(label=label, min_s=low, max_s=edge, count=c[f"abandon_{i}"]))
        low = edge or low
    return out


def _fmt(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds} s"


def _funnel(c: dict[str, int]) -> list[FunnelStep]:
    counts = [c["sessions"], c["escalated"], c["answered"], c["resolved"]]
    return [
        FunnelStep(step=step, count=count, drop=counts[i - 1] - count if i else 0)
        for i, (step, count) in enumerate(zip(FUNNEL, counts, strict=True))
    ]


def bucket_count(since: float, until: float, bucket: str) -> int:
    return max(0, int((until - since) // BUCKET_SECONDS[bucket]) + 1)
