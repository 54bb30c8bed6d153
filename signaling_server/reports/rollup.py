"""Daily rollups of the report figures (``dcs_report_daily``, ``_bins``, ``_agent_bins``,
``_reasons``, and the hourly volumes ``dcs_report_hourly``).

``roll_up()`` (re)computes whole UTC days of session creation, from the first session's
day up to today (exclusive), one transaction per day; each run also redoes the last
``REDO_DAYS`` days, so late changes (a rating, a session ended the next day) land. A day
older than that is final. ``dcs_report_rollup.rolled_until`` marks where the rolled days
end; the report reads rolled days from the rollups and every other day from the sessions.
The hourly volumes have their own mark (row 2): a database rolled up before they existed
has them computed for its past days on the next run, and until then an hourly report
reads those days from the sessions. The server runs it every ``report_rollup_interval_s``
(``rollup_job``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..jobs import periodic_job
from ..store import Store, schema
from .sql import DAY, HOURLY, bins, facts, hourly, per_session, reasons, s

log = logging.getLogger(__name__)

REDO_DAYS = 7
DAILY_COLUMNS = ["day", "queue", "agent_id", "agent_name", *schema.REPORT_COUNTS, *schema.REPORT_SUMS]


DAILY, HOURLY_MARK = 1, 2  # dcs_report_rollup rows: the daily rollups, the hourly volumes


async def _marks(engine: AsyncEngine) -> dict[int, float]:
    r = schema.report_rollup.c
    async with engine.connect() as conn:
        return {i: float(v) for i, v in (await conn.execute(select(r.id, r.rolled_until))).all()}


async def rolled_until(engine: AsyncEngine, *, hourly: bool = False) -> float:
    """Where the rolled-up days end (those before are in the rollups); with ``hourly``,
    where the days end whose hourly volumes are rolled up too."""
    marks = await _marks(engine)
    done = marks.get(DAILY, 0.0)
    return min(done, marks.get(HOURLY_MARK, 0.0)) if hourly else done


async def roll_up(
    engine: AsyncEngine, now: float | None = None, *, stopping: Callable[[], bool] = lambda: False
) -> int:
    """Roll up every day that is due; returns how many days were (re)computed. When
    ``stopping()`` turns true it returns between two days, the marks left where they were
    (the next run computes those days again)."""
    dialect = engine.dialect.name
    today = float(int((time.time() if now is None else now) // DAY) * DAY)
    marks = await _marks(engine)
    done, done_hourly = marks.get(DAILY, 0.0), marks.get(HOURLY_MARK, 0.0)
    async with engine.connect() as conn:
        first = (await conn.execute(select(func.min(s.created_at)))).scalar()
    if first is None:
        return 0
    first_day = float(int(first // DAY) * DAY)
    start = max(first_day, done - REDO_DAYS * DAY) if done else first_day
    start_hourly = max(first_day, done_hourly - REDO_DAYS * DAY) if done_hourly else first_day
    days = 0
    day = min(start, start_hourly)
    while day < today:
        if stopping():
            return days
        # days before the daily redo window lack only their hourly volumes (an older database)
        await _roll_day(engine, day, dialect, daily=day >= start)
        days += 1
        day += DAY
        await asyncio.sleep(0)  # the server's own work goes on between days
    async with engine.begin() as conn:
        r = schema.report_rollup
        for mark, was in ((DAILY, done), (HOURLY_MARK, done_hourly)):
            values = {"rolled_until": max(today, was), "rolled_at": time.time()}
            if (await conn.execute(update(r).where(r.c.id == mark).values(**values))).rowcount == 0:
                await conn.execute(insert(r).values(id=mark, **values))
    return days


async def _roll_day(engine: AsyncEngine, day: float, dialect: str, *, daily: bool = True) -> None:
    where = and_(s.created_at >= day, s.created_at < day + DAY)
    ps = per_session(where, dialect)
    async with engine.begin() as conn:
        h = schema.report_hourly
        await conn.execute(delete(h).where(h.c.hour >= day, h.c.hour < day + DAY))
        await conn.execute(
            insert(h).from_select(["hour", "queue", "agent_id", *HOURLY], hourly(where, dialect))
        )
        if not daily:
            return
        for table in (
            schema.report_daily,
            schema.report_bins,
            schema.report_agent_bins,
            schema.report_reasons,
        ):
            await conn.execute(delete(table).where(table.c.day == day))
        await conn.execute(insert(schema.report_daily).from_select(DAILY_COLUMNS, facts(ps)))
        await conn.execute(
            insert(schema.report_bins).from_select(
                ["day", "queue", "metric", "bin", "count"], union_all(*bins(ps, dialect))
            )
        )
        await conn.execute(
            insert(schema.report_agent_bins).from_select(
                ["day", "queue", "agent_id", "metric", "bin", "count"],
                union_all(*bins(ps, dialect, per_agent=True)),
            )
        )
        await conn.execute(
            insert(schema.report_reasons).from_select(
                ["day", "queue", "agent_id", "reason", "count"], reasons(where, dialect)
            )
        )


def rollup_job(interval_s: float, store: Callable[[], Store]) -> Any:
    """The app's rollup loop: at start (catching up), then every ``interval_s``."""

    async def run_pass(stopping: Callable[[], bool]) -> None:
        days = await roll_up(store().engine, stopping=stopping)
        if days:
            log.debug("report rollups: %d days", days)

    return periodic_job("dcs-report-rollup", interval_s, run_pass)
