"""The retention job: every ``retention_interval_s`` (and once at start), personal data of
sessions older than ``retention_days`` is removed, in batches (store/privacy.py).
Owned by the app (a cleanup_ctx): created before the server serves, asked to stop at
stop (jobs.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from .jobs import periodic_job
from .store import Store
from .store.cached import CachedStore
from .store.privacy import CustomerData

log = logging.getLogger(__name__)


async def run_retention(
    store: Store,
    days: int,
    cache: CachedStore | None = None,
    *,
    stopping: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """One full pass: every session past the cutoff; returns rows removed by table
    (``dcs_sessions``: sessions scrubbed). When ``stopping()`` turns true it returns
    between two batches (the next pass goes on)."""
    cutoff = time.time() - days * 86400
    data = CustomerData(store.engine)
    totals: dict[str, int] = {}
    while not stopping():
        ids, deleted = await data.retain(cutoff)
        if not ids:
            return totals
        totals["dcs_sessions"] = totals.get("dcs_sessions", 0) + len(ids)
        for table, count in deleted.items():
            totals[table] = totals.get(table, 0) + count
        if cache is not None:
            for session_id in ids:
                cache.forget(session_id)
        await asyncio.sleep(0)  # let the server's own work in between batches
    return totals


def retention_job(
    days: int, interval_s: float, store: Callable[[], Store], cache: Callable[[], CachedStore | None]
) -> Any:
    async def run_pass(stopping: Callable[[], bool]) -> None:
        removed = await run_retention(store(), days, cache(), stopping=stopping)
        if removed:
            log.info("retention (%d days) removed %s", days, removed)

    return periodic_job("dcs-retention", interval_s, run_pass)
