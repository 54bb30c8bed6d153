"""The reports' SQL building blocks, shared by the live figures (figures.py) and the daily
rollups (rollup.py), so both count the same way on SQLite and PostgreSQL.

``per_session(where)`` is one row per session with what the figures need (its day, queue,
agent, 0/1 flags, durations, transfers); ``facts()``, ``bins()`` and ``reasons()`` group
it by day, queue and agent, exactly as ``dcs_report_daily``, ``dcs_report_bins`` and
``dcs_report_reasons`` hold it, so a report can add the rolled-up days to the raw ones.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, String, and_, case, cast, func, literal, select
from sqlalchemy.sql import Select

from ..departures import HANDED_ON
from ..store import schema

DAY = 86400
# Abandonment by how long the customer had waited: upper edges in seconds (the last is open).
ABANDON_EDGES = (30, 60, 120, 300, 600)
METRICS = ("wait", "frt", "handle")

s = schema.sessions.c
t = schema.transitions.c

wait_s = s.accepted_at - s.queued_at
frt_s = s.first_agent_reply_at - s.accepted_at
handle_s = s.ended_at - s.accepted_at
waited_s = s.ended_at - s.queued_at
ENDED = s.state == "ended"
CONTAINED = and_(ENDED, s.queued_at.is_(None))
ESCALATED = s.queued_at.is_not(None)
ANSWERED = s.accepted_at.is_not(None)
ABANDONED = and_(ENDED, s.queued_at.is_not(None), s.accepted_at.is_(None))
RESOLVED = and_(ENDED, s.accepted_at.is_not(None))
HAS_FRT = and_(ANSWERED, s.first_agent_reply_at >= s.accepted_at)
HAS_HANDLE = and_(ANSWERED, s.ended_at.is_not(None))


def floor_to(expr: Any, step: int, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.floor(expr / step) * step
    return cast(expr / step, Integer) * step  # epoch seconds are positive: truncation floors


# Duration bins (upper edges, seconds): whole seconds where waits are told apart, coarser
# where they are long; the usual service-level targets (10, 15, 20, 30, 45, 60, 90, 120,
# 180, 300 s) are edges. Percentiles and the service level are counted in these bins.
BIN_EDGES = (
    1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 45, 50, 60, 75, 90, 105, 120, 150, 180,
    210, 240, 300, 360, 420, 480, 600, 720, 900, 1200, 1500, 1800, 2400, 3000, 3600, 5400,
    7200, 10800, 14400, 21600, 28800, 43200, 86400, 604800,
)  # fmt: skip


def bin_of(expr: Any, dialect: str) -> Any:
    """A duration's bin: the first edge at or above it (the last bin holds everything longer)."""
    return case(*((expr <= edge, edge) for edge in BIN_EDGES[:-1]), else_=BIN_EDGES[-1])


def _flag(condition: ColumnElement[bool]) -> Any:
    return case((condition, 1), else_=0)


def reason_code(detail: Any) -> Any:
    """An escalation's reason as a code ("customer_request", "unmatched"); free text a
    client sent is "other", so no customer's words reach the rollups."""
    return case(
        (and_(func.length(detail) <= 40, func.length(detail) > 0, ~detail.contains(" ")), detail),
        else_=literal("other", String),
    )


def per_session(
    where: ColumnElement[bool], dialect: str, *, cte: bool = False, with_transfers: bool = True
) -> Any:
    """One row per session matching ``where`` (a subquery; a CTE with ``cte``, for a query
    that reads it more than once: computed once); without ``with_transfers``, no
    ``transfers`` column (a look-up in the transitions per session, which bins() need not)."""
    transfers = (
        select(func.count())
        .where(
            t.session_id == s.id,
            # to a queue (live -> queued) or warm to an agent (live -> live); a hand-on
            # after an agent left is not a transfer
            t.from_state == "live",
            t.to_state.in_(("queued", "live")),
            ~t.detail.startswith(HANDED_ON),
        )
        .scalar_subquery()
    )
    query = select(
        floor_to(s.created_at, DAY, dialect).label("day"),
        s.queue.label("queue"),
        func.coalesce(s.agent_id, "").label("agent_id"),
        func.coalesce(s.agent_name, "").label("agent_name"),
        _flag(CONTAINED).label("contained"),
        _flag(ESCALATED).label("escalated"),
        _flag(ANSWERED).label("answered"),
        _flag(ABANDONED).label("abandoned"),
        _flag(RESOLVED).label("resolved"),
        _flag(s.left_message_at.is_not(None)).label("left_message"),
        s.csat_score.label("csat"),
        case((ANSWERED, wait_s)).label("wait"),
        case((HAS_FRT, frt_s)).label("frt"),
        case((HAS_HANDLE, handle_s)).label("handle"),
        case((ABANDONED, waited_s)).label("waited"),
        *([transfers.label("transfers")] if with_transfers else []),
    ).where(where)
    return query.cte("per_session") if cte else query.subquery("per_session")


def facts(ps: Any) -> Select[Any]:
    """Counts and sums per day, queue and agent: the columns of dcs_report_daily."""
    counts: dict[str, Any] = {
        "sessions": func.count(),
        **{name: func.sum(ps.c[name]) for name in ("contained", "escalated", "answered", "abandoned")},
        "resolved": func.sum(ps.c.resolved),
        "left_message": func.sum(ps.c.left_message),
        "transfers": func.sum(ps.c.transfers),
        "csat_count": func.count(ps.c.csat),
        **{f"score_{k}": func.sum(_flag(ps.c.csat == k)) for k in range(1, 6)},
    }
    low = 0
    for i, edge in enumerate((*ABANDON_EDGES, None)):
        waited = ps.c.waited
        cond = waited >= low if edge is None else and_(waited >= low, waited < edge)
        counts[f"abandon_{i}"] = func.sum(_flag(cond))
        low = edge or low
    counts.update({f"{m}_count": func.count(ps.c[m]) for m in METRICS})
    sums = {"csat_sum": func.sum(ps.c.csat), **{f"{m}_sum": func.sum(ps.c[m]) for m in METRICS}}
    assert tuple(counts) == schema.REPORT_COUNTS and tuple(sums) == schema.REPORT_SUMS
    return select(
        ps.c.day,
        ps.c.queue,
        ps.c.agent_id,
        func.max(ps.c.agent_name).label("agent_name"),
        *(func.coalesce(v, 0).label(k) for k, v in counts.items()),
        *(func.coalesce(cast(v, Float), 0.0).label(k) for k, v in sums.items()),
    ).group_by(ps.c.day, ps.c.queue, ps.c.agent_id)


def bins(ps: Any, dialect: str, *, per_agent: bool = False) -> list[Select[Any]]:
    """Durations per day, queue (and agent), metric and bin, one select per metric (to
    UNION ALL: a union inside a union needs parentheses SQLite refuses): the rows of
    dcs_report_bins (dcs_report_agent_bins)."""
    keys = [ps.c.day, ps.c.queue, *([ps.c.agent_id] if per_agent else [])]
    parts = []
    for metric in METRICS:
        value = ps.c[metric]
        b = bin_of(value, dialect).label("bin")
        parts.append(
            select(*keys, literal(metric, String).label("metric"), b, func.count().label("count"))
            .where(value.is_not(None), *([ps.c.agent_id != ""] if per_agent else []))
            .group_by(*keys, b)
        )
    return parts


def reasons(where: ColumnElement[bool], dialect: str) -> Select[Any]:
    """Escalations per day, queue, agent and reason code (the sessions' escalations, whenever
    they happened): the rows of dcs_report_reasons."""
    day = floor_to(s.created_at, DAY, dialect).label("day")
    agent = func.coalesce(s.agent_id, "").label("agent_id")
    code = reason_code(t.detail).label("reason")
    return (
        select(day, s.queue, agent, code, func.count().label("count"))
        .select_from(schema.transitions.join(schema.sessions, s.id == t.session_id))
        .where(where, t.from_state == "virtual", t.to_state == "queued")
        .group_by(day, s.queue, agent, code)
    )


HOURLY = ("sessions", "contained", "escalated", "abandoned")


def hourly(where: ColumnElement[bool], dialect: str) -> Select[Any]:
    """Volumes per hour, queue and agent: the rows of dcs_report_hourly."""
    hour = floor_to(s.created_at, 3600, dialect).label("hour")
    agent = func.coalesce(s.agent_id, "").label("agent_id")
    return (
        select(
            hour,
            s.queue.label("queue"),
            agent,
            func.count().label("sessions"),
            *(
                func.sum(_flag(c)).label(n)
                for n, c in zip(HOURLY[1:], (CONTAINED, ESCALATED, ABANDONED), strict=True)
            ),
        )
        .where(where)
        .group_by(hour, s.queue, agent)
    )
