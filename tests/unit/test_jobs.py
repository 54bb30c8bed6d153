"""Periodic jobs (jobs.py) are asked to stop, not cancelled inside a pass: a pass
cancelled in a database call leaves the driver's thread finishing it after the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest
from aiohttp import web

from signaling_server.jobs import periodic_job


async def test_a_pass_under_way_at_stop_finishes_and_sees_stopping() -> None:
    in_call = asyncio.Event()
    release = asyncio.Event()
    seen: list[str] = []

    async def run_pass(stopping: Callable[[], bool]) -> None:
        seen.append("start")
        in_call.set()
        try:
            await release.wait()  # a database call under way
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        seen.append("stopping" if stopping() else "carry on")

    ctx = periodic_job("test-job", 3600, run_pass)(web.Application())
    await anext(ctx)
    await asyncio.wait_for(in_call.wait(), 5)
    stop = asyncio.create_task(anext(ctx, None))
    await asyncio.sleep(0.05)
    assert not stop.done()  # waits for the pass rather than cancelling it
    release.set()
    await asyncio.wait_for(stop, 5)
    assert seen == ["start", "stopping"]


async def test_passes_repeat_and_a_failing_pass_does_not_end_the_job(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def run_pass(stopping: Callable[[], bool]) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("database away")

    ctx = periodic_job("test-job", 0.01, run_pass)(web.Application())
    with caplog.at_level(logging.ERROR, logger="signaling_server.jobs"):
        await anext(ctx)
        for _ in range(200):
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.01)
        await anext(ctx, None)
    assert len(runs) >= 3
    assert "test-job failed" in caplog.text


async def test_a_pass_overrunning_the_grace_is_cancelled(caplog: pytest.LogCaptureFixture) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def run_pass(stopping: Callable[[], bool]) -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    ctx = periodic_job("test-job", 3600, run_pass, grace_s=0.05)(web.Application())
    await anext(ctx)
    await asyncio.wait_for(started.wait(), 5)
    with caplog.at_level(logging.WARNING, logger="signaling_server.jobs"):
        await asyncio.wait_for(anext(ctx, None), 5)
    assert cancelled.is_set()
    assert "still running" in caplog.text
