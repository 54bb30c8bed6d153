"""Garbage collection tuned for a long-lived server.

Everything made at start-up (modules, the app, the router's view, caches) lives as long as
the process, yet CPython's collector walks it again in every full collection: with many
connections that paused the event loop for 0.2-1.9 s every few seconds and freed nothing.
So:

- after start-up, those objects are frozen (moved out of the collector's sight);
- what survives a collection of the middle generation is frozen too, so no collection
  walks an object more than twice (once young, once middle-aged). Left to CPython, a full
  collection is due whenever a quarter more objects have survived, which a growing crowd
  of connections meets again and again, and each walked every live connection (0.5 s at
  5,000; 0.3-0.4 s for the middle generation alone with larger thresholds). Frozen objects
  are still freed by reference counting; only a reference cycle among them waits, for the
  hourly thaw (``THAW_EVERY_S``): one full collection over everything, logged, less often
  while it finds nothing to free (``THAW_BACKOFF``);
- nothing the server does all day leaves such cycles: closed connections (transport.py,
  and the stdlib's socket transport below), chat messages and sessions are freed as they
  go (tests/integration/test_connection_garbage.py);
- the young generation is collected about as often as CPython's default (700): with
  survivors frozen, how often it runs does not change how often an object is walked, only
  how long each pause is (at 10,000 connected: gen1 pauses of 5-50 ms with 1,000; up to
  190 ms with 10,000; 300-420 ms with 50,000 and gen1 every 20).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from asyncio import selector_events
from typing import Any, Protocol

from aiohttp import web

from dcs_sdk.exceptions import ConfigError

log = logging.getLogger(__name__)

# gen0 collects after this many net allocations of container objects (CPython: 700); gen1
# after this many gen0 collections, whose survivors it then holds until they are frozen;
# gen2 then has only what a thaw hands back.
GEN0_THRESHOLD = 1_000
GEN1_THRESHOLD = 10
GEN2_THRESHOLD = 10
# what survives a collection of this generation (or an older one) is frozen
FREEZE_AFTER_GENERATION = 1
# how often the frozen objects are handed back to the collector (see above);
# the gc_thaw_interval_s setting
THAW_EVERY_S = 3600.0
# The thaw is the one long pause left (1.6 s at 10,000 connected on a 2-core machine), and
# while nothing leaves cycles it frees nothing: a thaw that freed nothing doubles the wait for
# the next, up to this many times the setting (a day, by default).
THAW_BACKOFF = 24


class Pauses(Protocol):
    """Where each collection's pause goes (metrics/registry.py: dcs_gc_pause_seconds)."""

    def child(self, value: str) -> Observer: ...


class Observer(Protocol):
    def observe(self, value: float) -> None: ...


def tune_for_server(
    app: web.Application, *, pauses: Pauses | None = None, thaw_every_s: float = THAW_EVERY_S
) -> None:
    """Freeze what start-up made once the app has started; set the thresholds; freeze what
    survives each collection of the middle generation, thawed every ``thaw_every_s``;
    each collection's pause observed in ``pauses`` (by generation, and "thaw")."""
    if not thaw_every_s > 0:
        raise ConfigError(f"Setting 'gc_thaw_interval_s' must be more than 0 (seconds), not {thaw_every_s}.")
    _transports_release_their_sockets()

    async def freeze_startup_objects(app: web.Application) -> None:
        gc.collect()
        gc.freeze()
        gc.set_threshold(GEN0_THRESHOLD, GEN1_THRESHOLD, GEN2_THRESHOLD)
        log.debug("gc: %d start-up objects frozen; thresholds %s", gc.get_freeze_count(), gc.get_threshold())
        freezer = SurvivorFreezer(asyncio.get_running_loop(), pauses)
        gc.callbacks.append(freezer.collected)
        app[_FREEZER] = freezer
        app[_THAW] = asyncio.get_running_loop().create_task(freezer.thaw_every(thaw_every_s))

    app.on_startup.append(freeze_startup_objects)
    app.on_cleanup.append(_stop_freezing)


async def _stop_freezing(app: web.Application) -> None:
    freezer = app.get(_FREEZER)
    if freezer is not None and freezer.collected in gc.callbacks:
        gc.callbacks.remove(freezer.collected)
    task = app.get(_THAW)
    if task is not None:
        task.cancel()


class SurvivorFreezer:
    """Freezes what a collection of FREEZE_AFTER_GENERATION or older left, on the loop
    right after it (a collection can run in any thread, and in the middle of anything)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, pauses: Pauses | None = None) -> None:
        self.loop = loop
        self._due = False
        self._thawing = False
        self._started = 0.0
        # one series per generation, made up front: the callback only adds. It may run in
        # another thread (fast.py's series are the loop's), but collections never overlap,
        # so only a scrape can see a count one behind.
        self._pauses = [pauses.child(str(g)) for g in range(3)] if pauses is not None else None
        self._thaw_pauses = pauses.child("thaw") if pauses is not None else None

    def collected(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info.get("generation", 0)
        if self._pauses is not None and not self._thawing:
            self._pauses[generation].observe(time.perf_counter() - self._started)
        old_enough = generation >= FREEZE_AFTER_GENERATION
        if old_enough and not self._due and not self.loop.is_closed():
            self._due = True
            self.loop.call_soon_threadsafe(self._freeze)

    def _freeze(self) -> None:
        self._due = False
        gc.freeze()

    async def thaw_every(self, every_s: float) -> None:
        """A thaw every ``every_s``; after one that freed nothing the wait doubles, up to
        THAW_BACKOFF times ``every_s``, and one that freed anything brings it back."""
        wait = every_s
        while True:
            await asyncio.sleep(wait)
            freed = self.thaw()
            wait = every_s if freed else min(wait * 2, every_s * THAW_BACKOFF)

    def thaw(self) -> int:
        """One full collection over everything (a cycle among frozen objects is freed here
        only), then all of it frozen again: how many objects it freed."""
        frozen = gc.get_freeze_count()
        started = time.perf_counter()
        self._thawing = True
        try:
            gc.unfreeze()
            freed = gc.collect()
            gc.freeze()
        finally:
            self._thawing = False
        if self._thaw_pauses is not None:
            self._thaw_pauses.observe(time.perf_counter() - started)
        log.info(
            "gc: thawed %d objects for a full collection: %d freed in %.0f ms",
            frozen,
            freed,
            (time.perf_counter() - started) * 1000,
        )
        return freed


_FREEZER = web.AppKey("dcs_gc_freezer", SurvivorFreezer)
_THAW = web.AppKey("dcs_gc_thaw", asyncio.Task)


def _transports_release_their_sockets() -> None:
    """CPython 3.11's socket transport keeps a bound method of itself (its read callback)
    after the connection is lost: a cycle holding the closed socket, per connection. The
    callback is never called again once the connection is lost; drop it then."""
    transport: Any = getattr(selector_events, "_SelectorSocketTransport", None)
    if transport is None or getattr(transport, "_dcs_releases", False):
        return
    lost = transport._call_connection_lost

    def call_connection_lost(self: Any, exc: BaseException | None) -> None:
        try:
            lost(self, exc)
        finally:
            if "_read_ready_cb" in self.__dict__:
                self._read_ready_cb = None

    transport._call_connection_lost = call_connection_lost
    transport._dcs_releases = True
