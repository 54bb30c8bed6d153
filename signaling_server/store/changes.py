"""What the store tells its listeners: each session change, inside its transaction and
after its commit, and how long each write took.

Metrics and webhooks hang off these instead of off the session service: every state change
already goes through ``Store.create_session`` / ``transition`` / ``update_session``, so a
listener here misses none and the use cases stay unaware of it. ``within`` runs in the
change's own transaction (the webhook outbox row commits or rolls back with the change);
``committed`` runs after the commit (counters, waking the delivery worker) and must not
block or raise.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from dcs_sdk.protocol import SessionState

from .records import SessionRecord

log = logging.getLogger(__name__)

ChangeKind = Literal["created", "transition", "updated"]

# update_session fields someone listens for (CSAT, a left message); other updates (the
# assistant's state, a page) are not told, and cost no extra read.
NOTABLE_FIELDS = frozenset({"csat_score", "left_message_at"})


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    session: SessionRecord  # the row as the change left it
    previous: SessionRecord | None  # the row before a transition (None: created, updated)
    at: float
    actor: str = ""
    detail: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def before(self) -> SessionState | None:
        return self.previous.state if self.previous is not None else None


class ChangeListener(Protocol):
    # the kinds of change whose transaction ``within`` writes in; for the others the store
    # may commit without an engine connection to hand it (SQLite's inline creations)
    within_kinds: frozenset[ChangeKind]

    async def within(self, conn: AsyncConnection, change: Change) -> None: ...

    def committed(self, change: Change) -> None: ...


class Changes:
    """The store's listeners, and a write timer (the metrics' store write latency)."""

    def __init__(self) -> None:
        self.listeners: list[ChangeListener] = []
        self.timer: Callable[[str, float], None] | None = None

    def __bool__(self) -> bool:
        return bool(self.listeners)

    def within_wanted(self, kind: ChangeKind) -> bool:
        """Whether any listener writes in the transaction of a change of this kind."""
        return any(kind in listener.within_kinds for listener in self.listeners)

    def notable(self, fields: Mapping[str, Any]) -> bool:
        return bool(self.listeners) and not NOTABLE_FIELDS.isdisjoint(fields)

    async def within(self, conn: AsyncConnection, change: Change) -> None:
        for listener in self.listeners:
            if change.kind in listener.within_kinds:
                await listener.within(conn, change)

    def committed(self, change: Change | None) -> None:
        if change is None:
            return
        for listener in self.listeners:
            try:
                listener.committed(change)
            except Exception:  # a listener's bug must not fail a committed change
                log.exception("a store listener failed on %s of %s", change.kind, change.session.id)


P = ParamSpec("P")
R = TypeVar("R")


def timed(kind: str) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    """Report how long each call of a store write method took to its store's
    ``changes.timer`` (if any), as ``kind``."""

    def decorate(method: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(method)
        async def run(*args: P.args, **kwargs: P.kwargs) -> R:
            timer = args[0].changes.timer  # type: ignore[attr-defined]  # args[0] is the store
            if timer is None:
                return await method(*args, **kwargs)
            started = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                timer(kind, time.perf_counter() - started)

        return run

    return decorate
