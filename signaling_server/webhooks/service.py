"""Webhooks as the app sees them: install on a store, start, stop; the delivery log and
re-send for supervisors (``list_events``, ``event``, ``resend``: the admin listener routes
them, webhooks/admin.py, and the REST API can too)."""

from __future__ import annotations

from typing import Any

from ..config import Config
from ..metrics import Metrics
from ..store import Store
from .delivery import DeliveryWorker, RetryPolicy
from .endpoints import Endpoint, parse_endpoints
from .outbox import FAILED, PENDING, Outbox, OutboxWriter

STATES = (PENDING, "delivered", FAILED)


class Webhooks:
    def __init__(
        self, store: Store, endpoints: tuple[Endpoint, ...], policy: RetryPolicy, metrics: Metrics | None
    ):
        self.endpoints = endpoints
        self.outbox = Outbox(store.engine)
        self.worker = DeliveryWorker(self.outbox, endpoints, policy, metrics)
        if endpoints:  # no endpoint, no outbox rows: nothing to listen for
            store.changes.listeners.append(OutboxWriter(endpoints, self.worker))

    @classmethod
    def from_config(cls, store: Store, config: Config, metrics: Metrics | None = None) -> Webhooks:
        policy = RetryPolicy(
            base_s=config.webhook_retry_base_s,
            max_s=config.webhook_retry_max_s,
            give_up_after_s=config.webhook_give_up_after_s,
            timeout_s=config.webhook_timeout_s,
        )
        return cls(store, parse_endpoints(config.webhooks), policy, metrics)

    def start(self) -> None:
        self.worker.start()

    async def close(self) -> None:
        await self.worker.close()

    async def list_events(
        self,
        *,
        session_id: str | None = None,
        state: str | None = None,
        endpoint: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The outbox, oldest first (each row: an event for one endpoint, its state and
        attempts); filter by session, state (pending, delivered, failed) or endpoint."""
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}.")
        return await self.outbox.events(
            session_id=session_id, state=state, endpoint=endpoint, after_id=after_id, limit=limit
        )

    async def event(self, event_id: str) -> dict[str, Any] | None:
        """One event: its body, its state per endpoint, and its delivery log."""
        return await self.outbox.event(event_id)

    async def resend(self, event_id: str, *, endpoint: str | None = None, actor: str = "") -> int:
        """Send an event again (to ``endpoint``, or to all it was for); how many rows."""
        count = await self.outbox.resend(event_id, endpoint=endpoint, actor=actor)
        if count:
            self.worker.wake()
        return count
