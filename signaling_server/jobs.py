"""Periodic background jobs owned by the app (the report rollup, retention).

A job runs a pass at start and then every ``interval_s``. At stop it is asked to stop
rather than cancelled mid-pass. A pass cancelled inside a database call leaves the
driver's thread finishing that call (with aiosqlite, opening a connection) after the event
loop has closed. The pass sees ``stopping()`` between its transactions and returns. Only a
pass still running after ``grace_s`` is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

GRACE_S = 10.0
Pass = Callable[[Callable[[], bool]], Awaitable[None]]


def periodic_job(name: str, interval_s: float, run_pass: Pass, *, grace_s: float = GRACE_S) -> Any:
    """An aiohttp cleanup context running ``run_pass(stopping)`` now and every ``interval_s``."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                try:
                    await run_pass(stop.is_set)
                except Exception:
                    log.exception("%s failed; it runs again in %.0f s", name, interval_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval_s)

        task = asyncio.create_task(loop(), name=name)
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), grace_s)
            except TimeoutError:
                log.warning("%s still running after %.0f s at stop: cancelled", name, grace_s)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    return ctx
