"""The server freezes what start-up made and collects the young generation less often."""

from __future__ import annotations

import gc

from aiohttp import web
from aiohttp.test_utils import TestServer

from signaling_server.gc_tuning import GEN0_THRESHOLD, tune_for_server


async def test_start_up_objects_are_frozen_and_thresholds_raised() -> None:
    before = gc.get_threshold()
    app = web.Application()
    tune_for_server(app)
    server = TestServer(app, host="127.0.0.1")
    try:
        await server.start_server()
        assert gc.get_freeze_count() > 1000
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
    finally:
        await server.close()
        gc.unfreeze()
        gc.set_threshold(*before)
