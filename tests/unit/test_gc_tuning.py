"""The server freezes what start-up made, then what survives the middle generation."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import generate_latest

from dcs_sdk.exceptions import ConfigError
from signaling_server import gc_tuning
from signaling_server.gc_tuning import GEN0_THRESHOLD, SurvivorFreezer, tune_for_server
from signaling_server.metrics.registry import Metrics


@contextlib.asynccontextmanager
async def tuned_app(metrics: Metrics | None = None, thaw_every_s: float = 3600.0) -> AsyncIterator[None]:
    """An app tuned as dcs-server tunes it, started; the collector as it was, after."""
    before = gc.get_threshold()
    app = web.Application()
    tune_for_server(app, pauses=metrics.gc_pause if metrics else None, thaw_every_s=thaw_every_s)
    server = TestServer(app, host="127.0.0.1")
    try:
        await server.start_server()
        yield
    finally:
        await server.close()
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_start_up_objects_are_frozen_and_thresholds_set() -> None:
    async with tuned_app():
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold()[0] == GEN0_THRESHOLD


async def test_what_survives_a_middle_collection_is_frozen_and_thawed_again() -> None:
    """So no collection walks an object more than twice (gc_tuning.py)."""
    async with tuned_app():
        frozen = gc.get_freeze_count()
        survivors = [[i] for i in range(20_000)]  # lists: always tracked by the collector
        gc.collect(1)  # the middle generation: its survivors are frozen right after, on the loop
        await asyncio.sleep(0)
        assert gc.get_freeze_count() >= frozen + len(survivors)
        # the thaw: a full collection over everything, which frees a cycle among frozen objects
        cyclic = _Cyclic()
        alive = weakref.ref(cyclic)
        gc.freeze()
        del cyclic
        gc.collect()
        assert alive() is not None  # frozen: not collected
        freezer = SurvivorFreezer(asyncio.get_running_loop())
        thawing = asyncio.create_task(freezer.thaw_every(0.01))
        await asyncio.sleep(0.05)
        thawing.cancel()
        assert alive() is None
        assert gc.get_freeze_count() > len(survivors)  # frozen again after it
    assert _freezing_callbacks() == []  # the app's cleanup took its callback away


def _freezing_callbacks() -> list[object]:
    return [cb for cb in gc.callbacks if getattr(cb, "__self__", None).__class__ is SurvivorFreezer]


class _Cyclic:
    """An object in a reference cycle of its own, weakly referenceable."""

    def __init__(self) -> None:
        self.me = self


async def test_each_pause_is_measured_by_generation_and_the_thaw_on_its_own() -> None:
    metrics = Metrics()
    async with tuned_app(metrics, thaw_every_s=0.05):
        series = metrics.gc_pause.series
        before = sum(series["1"].counts)
        survivors = [[i] for i in range(20_000)]
        gc.collect(1)
        assert sum(series["1"].counts) >= before + 1 and series["1"].sum > 0
        assert len(survivors) == 20_000
        for _ in range(100):  # the thaw: its full collection counted as thaw, not as gen 2
            if sum(series["thaw"].counts):
                break
            await asyncio.sleep(0.02)
        gen2 = sum(series["2"].counts)
        assert sum(series["thaw"].counts) >= 1 and series["thaw"].sum > 0
        exposed = generate_latest(metrics.registry).decode()
        assert 'dcs_gc_pause_seconds_count{generation="thaw"}' in exposed
        assert 'dcs_gc_pause_seconds_bucket{generation="0",le="0.0005"}' in exposed
        gc.collect()
        assert sum(series["2"].counts) >= gen2 + 1


def test_a_thaw_interval_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ConfigError, match="gc_thaw_interval_s"):
        tune_for_server(web.Application(), thaw_every_s=0)


async def test_thaws_that_free_nothing_come_less_often_until_one_frees_something(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    freed = iter([0, 0, 0, 5, 0, 0, 0, 0, 0, 0])

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 10:
            raise asyncio.CancelledError

    freezer = SurvivorFreezer(asyncio.get_running_loop())
    monkeypatch.setattr(freezer, "thaw", lambda: next(freed))
    monkeypatch.setattr(gc_tuning.asyncio, "sleep", sleep)
    with contextlib.suppress(asyncio.CancelledError):
        await freezer.thaw_every(10)
    # doubled after each empty thaw, back to the setting after one that freed something,
    # and never beyond THAW_BACKOFF times the setting
    assert waits[:8] == [10, 20, 40, 80, 10, 20, 40, 80]
    assert max(waits) == 10 * gc_tuning.THAW_BACKOFF
