"""Garbage collection tuned for a long-lived server.

Everything made at start-up (modules, the app, the router's view, caches) lives as long as
the process, yet CPython's collector walks it again in every full collection: with many
connections that paused the event loop for 0.2-1.9 s every few seconds and freed nothing.
After start-up those objects are frozen (moved out of the collector's sight), and the young
generation is collected less often, since a busy server makes many short-lived objects
that reference counting frees anyway.
"""

from __future__ import annotations

import gc
import logging

from aiohttp import web

log = logging.getLogger(__name__)

# gen0 collects after this many net allocations of container objects (CPython: 700).
GEN0_THRESHOLD = 50_000
GEN1_THRESHOLD = 20
GEN2_THRESHOLD = 100


def tune_for_server(app: web.Application) -> None:
    """Freeze what start-up made once the app has started; raise the thresholds."""
    app.on_startup.append(_freeze_startup_objects)


async def _freeze_startup_objects(app: web.Application) -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
    log.debug("gc: %d start-up objects frozen; thresholds %s", gc.get_freeze_count(), gc.get_threshold())
