"""Daily rollups of the report figures (``dcs_report_daily``, ``_bins``, ``_agent_bins``,
``_reasons``).

``roll_up()`` (re)computes whole UTC days of session creation, from the first session's
day up to today (exclusive), one transaction per day; each run also redoes the last
``REDO_DAYS`` days, so late changes (a rating, a session ended the next day) land. A day
older than that is final. ``dcs_report_rollup.rolled_until`` marks where the rolled days
end; the report reads rolled days from the rollups and every other day from the sessions.
The server runs it every ``report_rollup_interval_s`` (``rollup_job``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from sqlalchemy import and_, delete, func, insert, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..store import Store, schema
from .sql import DAY, bins, facts, per_session, reasons, s

log = logging.getLogger(__name__)

REDO_DAYS = 7
DAILY_COLUMNS = ["day", "queue", "agent_id", "agent_name", *schema.REPORT_COUNTS, *schema.REPORT_SUMS]


async def rolled_until(engine: AsyncEngine) -> float:
    async with engine.connect() as conn:
        value = (await conn.execute(select(schema.report_rollup.c.rolled_until))).scalar()
    return float(value or 0.0)


async def roll_up(engine: AsyncEngine, now: float | None = None) -> int:
    """Roll up every day that is due; returns how many days were (re)computed."""
    dialect = engine.dialect.name
    today = float(int((time.time() if now is None else now) // DAY) * DAY)
    done = await rolled_until(engine)
    async with engine.connect() as conn:
        first = (await conn.execute(select(func.min(s.created_at)))).scalar()
    if first is None:
        return 0
    start = (
        max(float(int(first // DAY) * DAY), done - REDO_DAYS * DAY)
        if done
        else float(int(first // DAY) * DAY)
    )
    days = 0
    day = start
    while day < today:
        await _roll_day(engine, day, dialect)
        days += 1
        day += DAY
        await asyncio.sleep(0)  # the server's own work goes on between days
    async with engine.begin() as conn:
        r = schema.report_rollup
        values = {"rolled_until": max(today, done), "rolled_at": time.time()}
        if (await conn.execute(update(r).where(r.c.id == 1).values(**values))).rowcount == 0:
            await conn.execute(insert(r).values(id=1, **values))
    return days


async def _roll_day(engine: AsyncEngine, day: float, dialect: str) -> None:
    where = and_(s.created_at >= day, s.created_at < day + DAY)
    ps = per_session(where, dialect)
    async with engine.begin() as conn:
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

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    days = await roll_up(store().engine)
                    if days:
                        log.debug("report rollups: %d days", days)
                except Exception:
                    log.exception("the report rollup failed; it runs again in %.0f s", interval_s)
                await asyncio.sleep(interval_s)

        task = asyncio.create_task(loop(), name="dcs-report-rollup")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ctx
