"""The delivery worker: one loop per endpoint, posting due outbox rows, signed.

A loop claims what is due (one row per session, so a session's events never overtake each
other), posts them side by side, settles each (delivered on a 2xx; otherwise retried after
an exponential backoff with jitter, ``webhook_retry_base_s`` doubling up to
``webhook_retry_max_s``, until ``webhook_give_up_after_s`` after the event), and goes on.
With nothing due it sleeps until the next retry falls due, a row is left for it (a row
written behind an earlier one of its session, in this process or found behind a finished
chain), or ``POLL_S`` passes (rows written by another process).

Delivery is at least once: an endpoint that took an event but whose answer was lost (or a
process killed mid-post) gets it again, with the same ``webhook-id``, so receivers dedupe by
event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from dcs_sdk.webhooks import signed_headers

from ..metrics import Metrics
from .endpoints import Endpoint
from .outbox import DELIVERED, FAILED, Chain, Outbox, OutboxRow

log = logging.getLogger(__name__)

POLL_S = 5.0
# at most this often while retries fall due one after the other
MIN_PAUSE_S = 0.02
BATCH = 32
LOG_EVERY_S = 30.0
USER_AGENT = "DCS-Webhooks/1"


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 1.0
    max_s: float = 300.0
    give_up_after_s: float = 3 * 24 * 3600.0
    timeout_s: float = 10.0

    def delay(self, attempt: int) -> float:
        """The pause after failed attempt number ``attempt`` (1, 2, ...): exponential, capped,
        with jitter (between half and all of it) so that retries spread out."""
        full = min(self.max_s, self.base_s * 2.0 ** min(attempt - 1, 30))
        return full * random.uniform(0.5, 1.0)


class DeliveryWorker:
    """Delivers each session's rows one after the other (a chain per endpoint and session),
    different sessions side by side. Chains start from fresh rows handed over after their
    commit (outbox.py: they go out at once) and from rows the claim loop finds due (retries,
    rows of other processes, rows left from before a restart)."""

    def __init__(
        self,
        outbox: Outbox,
        endpoints: Sequence[Endpoint],
        policy: RetryPolicy,
        metrics: Metrics | None = None,
    ) -> None:
        self.outbox = outbox
        self.endpoints = {e.name: e for e in endpoints}
        self.policy = policy
        self.metrics = metrics
        # A claim outlives an attempt (and its settling); a process killed mid-delivery
        # leaves its claims to lapse, so the next start delivers them after this long.
        self.lease_s = 2 * policy.timeout_s + 1
        self._wake = {name: asyncio.Event() for name in self.endpoints}
        self._loops: list[asyncio.Task[None]] = []
        self._chains: dict[tuple[str, str], Chain] = {}  # (endpoint, session) -> rows in hand
        self._drains: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._stopping = False
        self._logged_at: dict[str, float] = {}

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    def chain_of(self, endpoint: str, session_id: str) -> Chain | None:
        """The rows of that session this worker is delivering to that endpoint now."""
        return self._chains.get((endpoint, session_id))

    def hand_over(self, rows: list[OutboxRow], behind: list[Chain | None]) -> None:
        """Rows claimed for this worker by their own transaction: deliver them now, after
        the chain they were written behind (None: a new chain). When that chain is gone
        because it failed, or another took its place, the row goes back to the outbox, where
        the claim loop keeps it behind any earlier row of its session."""
        back = []
        for row, chain in zip(rows, behind, strict=True):
            key = (row.endpoint, row.session_id)
            current = self._chains.get(key)
            if chain is not None and current is chain:
                chain.append(row)
            elif (chain is None or not chain.failed) and current is None and self._http is not None:
                # nothing was pending before it, or all that was has been delivered since
                self._chains[key] = Chain([row])
                self._spawn(self._drain(key))
            else:
                back.append(row.id)
        if back:
            self._spawn(self._release(back))

    async def _release(self, ids: list[int]) -> None:
        await self.outbox.release(ids)
        self.wake()

    def _claimed(self, row: OutboxRow) -> None:
        """A row the claim loop claimed: the head of its session (its earlier rows are
        delivered), so no chain of that session is under way."""
        key = (row.endpoint, row.session_id)
        if key in self._chains or self._http is None:  # cannot happen; never deliver twice
            self._spawn(self._release([row.id]))
            return
        self._chains[key] = Chain([row])
        self._spawn(self._drain(key))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._drains.add(task)
        task.add_done_callback(self._drains.discard)

    def start(self) -> None:
        if self._loops or not self.endpoints:
            return
        self._stopping = False
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.policy.timeout_s),
            headers={"User-Agent": USER_AGENT},
        )
        loop = asyncio.get_running_loop()
        self._loops = [
            loop.create_task(self._claim_loop(e), name=f"dcs-webhooks-{e.name}")
            for e in self.endpoints.values()
        ]

    async def close(self) -> None:
        """Stop; rows in hand are released for the next start (or another process). Safe twice."""
        self._stopping = True
        tasks = [*self._loops, *self._drains]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loops = []
        held = [row.id for chain in self._chains.values() for row in chain]
        self._chains.clear()
        try:
            await self.outbox.release(held)
        except Exception:  # the database is gone: the claims lapse after their lease
            log.warning("could not release %d webhook rows at shutdown", len(held))
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _claim_loop(self, endpoint: Endpoint) -> None:
        wake = self._wake[endpoint.name]
        while not self._stopping:
            try:
                wake.clear()
                rows = await self.outbox.claim_due(endpoint.name, limit=BATCH, lease_s=self.lease_s)
                for row in rows:
                    self._claimed(row)
                due = await self.outbox.next_due_in(endpoint.name)
                pause = POLL_S if due is None else min(POLL_S, max(due, MIN_PAUSE_S))
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: say so, try again shortly
                log.exception("webhook delivery to %s could not read the outbox", endpoint.name)
                pause = POLL_S
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # comes as the wake-up does, and the loop would outlive close() (which then waits
            # for it forever, claiming and releasing rows it may no longer post)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await wake.wait()

    async def _drain(self, key: tuple[str, str]) -> None:
        chain = self._chains[key]
        try:
            await self._deliver_chain(key, chain)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database failed us: the claims lapse, the claim loop retries
            log.exception("webhook delivery to %s stopped for session %s", key[0], key[1])
            chain.failed = True
            if self._chains.get(key) is chain:
                del self._chains[key]

    async def _deliver_chain(self, key: tuple[str, str], chain: Chain) -> None:
        endpoint = self.endpoints[key[0]]
        while chain:
            row = chain[0]
            status, error, duration = await self._post(endpoint, row)
            delivered = status is not None and 200 <= status < 300
            if delivered:
                await self._settle(endpoint, row, status, error, duration)
                chain.popleft()
                continue
            # Failed: the session's later rows must wait for this one's retry. Drop the
            # chain before anything awaits, so new rows of the session queue in the outbox.
            chain.failed = True
            del self._chains[key]
            await self._settle(endpoint, row, status, error, duration)
            await self.outbox.release([r.id for r in list(chain)[1:]])
            self._wake[endpoint.name].set()
            return
        del self._chains[key]
        # Rows of the session written behind the chain but not into it (by another process,
        # or while its head was not ours) wait in the outbox for the claim loop: wake it
        # for them, and only then (a claim is a query over every pending row).
        if await self.outbox.waiting(*key):
            self._wake[endpoint.name].set()

    async def _post(self, endpoint: Endpoint, row: OutboxRow) -> tuple[int | None, str, float]:
        """One attempt: (HTTP status or None, what went wrong, seconds)."""
        assert self._http is not None
        body = row.body.encode()
        headers = {"Content-Type": "application/json", **signed_headers(row.event_id, body, endpoint.secret)}
        status: int | None = None
        error = ""
        started = time.perf_counter()
        try:
            async with self._http.post(
                endpoint.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status = resp.status
                if not 200 <= status < 300:
                    error = f"HTTP {status}: {(await resp.text(errors='replace'))[:200]}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        return status, error, time.perf_counter() - started

    async def _settle(
        self, endpoint: Endpoint, row: OutboxRow, status: int | None, error: str, duration: float
    ) -> None:
        attempt = row.attempts + 1
        delivered = status is not None and 200 <= status < 300
        retry_at = None
        if not delivered and time.time() - row.created_at < self.policy.give_up_after_s:
            retry_at = time.time() + self.policy.delay(attempt)
        state = await self.outbox.settle(
            row, status=status, error=error, duration_s=duration, retry_at=retry_at
        )
        if self.metrics is not None:
            result = "delivered" if state == DELIVERED else "gave_up" if state == FAILED else "failed"
            self.metrics.webhook_deliveries.labels(endpoint.name, result).inc()
            if delivered:
                self.metrics.webhook_lag.observe(max(0.0, time.time() - row.created_at))
        if state == FAILED:
            log.warning(
                "gave up on webhook %s to %s after %d attempts: %s",
                row.event_id,
                endpoint.name,
                attempt,
                error,
            )
        elif not delivered:
            # an endpoint that is down fails every row: say so now and then, not per attempt
            now = time.monotonic()
            if now - self._logged_at.get(endpoint.name, -LOG_EVERY_S) >= LOG_EVERY_S:
                self._logged_at[endpoint.name] = now
                log.warning(
                    "webhook delivery to %s failing (event %s, attempt %d): %s",
                    endpoint.name,
                    row.event_id,
                    attempt,
                    error,
                )
