"""The retention job: every ``retention_interval_s`` (and once at start), personal data of
sessions older than ``retention_days`` is removed, in batches (store/privacy.py).
Owned by the app (a cleanup_ctx): created before the server serves, cancelled at stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from .store import Store
from .store.cached import CachedStore
from .store.privacy import CustomerData

log = logging.getLogger(__name__)


async def run_retention(store: Store, days: int, cache: CachedStore | None = None) -> dict[str, int]:
    """One full pass: every session past the cutoff; returns rows removed by table
    (``dcs_sessions``: sessions scrubbed)."""
    cutoff = time.time() - days * 86400
    data = CustomerData(store.engine)
    totals: dict[str, int] = {}
    while True:
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


def retention_job(
    days: int, interval_s: float, store: Callable[[], Store], cache: Callable[[], CachedStore | None]
) -> Any:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    removed = await run_retention(store(), days, cache())
                    if removed:
                        log.info("retention (%d days) removed %s", days, removed)
                except Exception:
                    log.exception("the retention job failed; it runs again in %.0f s", interval_s)
                await asyncio.sleep(interval_s)

        task = asyncio.create_task(loop(), name="dcs-retention")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return ctx
