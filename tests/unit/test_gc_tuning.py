"""The server freezes what start-up made, then what survives the middle generation."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer

from signaling_server.gc_tuning import GEN0_THRESHOLD, SurvivorFreezer, tune_for_server


@contextlib.asynccontextmanager
async def tuned_app() -> AsyncIterator[None]:
    """An app tuned as dcs-server tunes it, started; the collector as it was, after."""
    before = gc.get_threshold()
    app = web.Application()
    tune_for_server(app)
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
