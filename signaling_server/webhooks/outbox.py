"""The persisted outbox: rows written with the change they report, claimed and settled by
the delivery worker, listed and re-sent for supervisors.

Writing: ``OutboxWriter`` is a store listener (store/changes.py). In the change's own
transaction it inserts one row per event and subscribed endpoint, so an event exists if and
only if its change committed; after the commit it hands the rows that may go out at once to
the worker, and wakes the worker's claim loop only for rows left in the outbox (behind an
earlier row of their session): a change that made no row, or only rows handed over, costs
the claim loop no query.

Order: a row is due only when no earlier row of the same session and endpoint is still
pending, so each endpoint sees a session's events in the order they happened, while
different sessions go out side by side. Claims are leases (``locked_until``), taken by a
conditional UPDATE, so several processes can run workers on one database.
"""

from __future__ import annotations

import json
import secrets
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ..store import schema
from ..store.changes import Change, ChangeKind
from .endpoints import Endpoint
from .payloads import events_for

o = schema.webhook_outbox.c
d = schema.webhook_deliveries.c

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def new_event_id() -> str:
    return f"evt_{secrets.token_urlsafe(16)}"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    event_id: str
    endpoint: str
    type: str
    session_id: str
    body: str
    created_at: float
    attempts: int

    @classmethod
    def from_row(cls, row: Any) -> OutboxRow:
        return cls(
            row["id"],
            row["event_id"],
            row["endpoint"],
            row["type"],
            row["session_id"],
            row["body"],
            row["created_at"],
            row["attempts"],
        )


class Chain(deque[OutboxRow]):
    """The rows of one session a worker is delivering to one endpoint, in order; ``failed``
    once one of them failed (the rest then went back to the outbox)."""

    failed = False


class Chains(Protocol):
    """What the writer asks the delivery worker (delivery.py)."""

    lease_s: float

    def chain_of(self, endpoint: str, session_id: str) -> Chain | None: ...

    def hand_over(self, rows: list[OutboxRow], chains: list[Chain | None]) -> None: ...

    def wake(self) -> None: ...


class OutboxWriter:
    """The store listener that turns session changes into outbox rows.

    A row whose session has nothing pending for its endpoint, or only rows this process is
    delivering right now (all of them: its chain), is written already claimed and handed to
    the worker after the commit, to go out at once after them; any other row waits for the
    worker's claim loop, behind its session's earlier rows.
    """

    # a creation makes no webhook event (payloads.events_for): its commit needs no row here
    within_kinds: frozenset[ChangeKind] = frozenset({"transition", "updated"})

    def __init__(self, endpoints: Sequence[Endpoint], worker: Chains) -> None:
        self.endpoints = tuple(endpoints)
        self.worker = worker
        # by id(change): the rows to hand over, the chains they follow, and how many rows
        # were left in the outbox for the claim loop
        self._fresh: dict[int, tuple[Change, list[OutboxRow], list[Chain | None], int]] = {}

    async def _at_once(
        self, conn: AsyncConnection, endpoint: str, session_id: str
    ) -> tuple[bool, Chain | None]:
        """Whether a new row of this session may go out at once, and behind which chain."""
        query = select(o.id).where(o.endpoint == endpoint, o.session_id == session_id, o.state == PENDING)
        pending = {i for (i,) in (await conn.execute(query)).all()}
        chain = self.worker.chain_of(endpoint, session_id)
        return pending <= ({r.id for r in chain} if chain is not None else set()), chain

    async def within(self, conn: AsyncConnection, change: Change) -> None:
        session = change.session
        fresh: list[OutboxRow] = []
        behind: list[Chain | None] = []  # per fresh row: the chain it is to follow
        left = 0  # rows left in the outbox, behind an earlier row of their session
        for event_type, data in await events_for(conn, change):
            event_id = new_event_id()
            body = json.dumps(
                {
                    "id": event_id,
                    "type": event_type,
                    "created_at": int(change.at * 1000),
                    "session_id": session.id,
                    "data": data,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            )
            for endpoint in self.endpoints:
                if not endpoint.wants(event_type):
                    continue
                now = time.time()
                at_once, chain = await self._at_once(conn, endpoint.name, session.id)
                row_id = (
                    await conn.execute(
                        insert(schema.webhook_outbox)
                        .values(
                            event_id=event_id,
                            endpoint=endpoint.name,
                            type=event_type,
                            session_id=session.id,
                            customer_id=session.customer_id,
                            body=body,
                            created_at=now,
                            state=PENDING,
                            attempts=0,
                            next_attempt_at=now,
                            locked_until=now + self.worker.lease_s if at_once else None,
                        )
                        .returning(o.id)
                    )
                ).scalar_one()
                if at_once:
                    fresh.append(
                        OutboxRow(row_id, event_id, endpoint.name, event_type, session.id, body, now, 0)
                    )
                    behind.append(chain)
                else:
                    left += 1
        if fresh or left:
            if len(self._fresh) > 1000:  # changes rolled back after within(): their claims lapse
                self._fresh.clear()
            self._fresh[id(change)] = (change, fresh, behind, left)

    def committed(self, change: Change) -> None:
        stashed = self._fresh.pop(id(change), None)
        if stashed is None or stashed[0] is not change:
            return  # no row: nothing for the worker
        _, fresh, behind, left = stashed
        if fresh:
            self.worker.hand_over(fresh, behind)
        if left:
            # the earlier row it waits for may have been settled while this change was being
            # committed (by this process or another): the claim loop looks once more
            self.worker.wake()


class Outbox:
    """The outbox's queries (the worker's and the supervisors')."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim_due(self, endpoint: str, *, limit: int, lease_s: float) -> list[OutboxRow]:
        """Up to ``limit`` due rows of this endpoint, at most one per session (its oldest
        pending one), claimed for ``lease_s``."""
        now = time.time()
        earlier = schema.webhook_outbox.alias("earlier")
        e = earlier.c
        blocked = (
            select(e.id)
            .where(e.endpoint == o.endpoint, e.session_id == o.session_id, e.state == PENDING, e.id < o.id)
            .exists()
        )
        query = (
            select(o.id)
            .where(o.endpoint == endpoint, o.state == PENDING, o.next_attempt_at <= now)
            .where(or_(o.locked_until.is_(None), o.locked_until < now))
            .where(~blocked)
            .order_by(o.id)
            .limit(limit)
        )
        async with self.engine.begin() as conn:
            ids = [i for (i,) in (await conn.execute(query)).all()]
            if not ids:
                return []
            claimed = (
                (
                    await conn.execute(
                        update(schema.webhook_outbox)
                        .where(o.id.in_(ids), o.state == PENDING)
                        .where(or_(o.locked_until.is_(None), o.locked_until < now))
                        .values(locked_until=now + lease_s)
                        .returning(*schema.webhook_outbox.c)
                    )
                )
                .mappings()
                .all()
            )
        return sorted((OutboxRow.from_row(r) for r in claimed), key=lambda r: r.id)

    async def next_due_in(self, endpoint: str) -> float | None:
        """Seconds until this endpoint's next claimable row falls due (0: now), None if none.

        Rows claimed by a worker count from their lease's end; rows behind an earlier row
        of their session wait for it, so they do not count."""
        earlier = schema.webhook_outbox.alias("earlier")
        e = earlier.c
        blocked = (
            select(e.id)
            .where(e.endpoint == o.endpoint, e.session_id == o.session_id, e.state == PENDING, e.id < o.id)
            .exists()
        )
        # the later of the two: SQLite's two-argument max(), PostgreSQL's greatest()
        later = func.greatest if self.engine.dialect.name == "postgresql" else func.max
        due = later(o.next_attempt_at, func.coalesce(o.locked_until, 0))
        query = select(func.min(due)).where(o.endpoint == endpoint, o.state == PENDING).where(~blocked)
        async with self.engine.connect() as conn:
            at = (await conn.execute(query)).scalar()
        return None if at is None else max(0.0, float(at) - time.time())

    async def waiting(self, endpoint: str, session_id: str) -> bool:
        """Whether rows of this session wait in the outbox for this endpoint, unclaimed
        (written behind a row that was being delivered, by this process or another; rows
        a worker holds are under way)."""
        query = (
            select(o.id)
            .where(o.endpoint == endpoint, o.session_id == session_id, o.state == PENDING)
            .where(or_(o.locked_until.is_(None), o.locked_until < time.time()))
            .limit(1)
        )
        async with self.engine.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def release(self, ids: Sequence[int]) -> None:
        """Give up the claim on rows not attempted (another worker, or our claim loop, may
        take them at once)."""
        if ids:
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(schema.webhook_outbox)
                    .where(o.id.in_(list(ids)), o.state == PENDING)
                    .values(locked_until=None)
                )

    async def settle(
        self,
        row: OutboxRow,
        *,
        status: int | None,
        error: str,
        duration_s: float,
        retry_at: float | None,
    ) -> str:
        """Record one attempt and its outcome: delivered (2xx), retried at ``retry_at``, or
        given up (``retry_at`` None after a failure). Returns the row's new state."""
        now = time.time()
        ok = status is not None and 200 <= status < 300
        state = DELIVERED if ok else PENDING if retry_at is not None else FAILED
        values: dict[str, Any] = {"attempts": o.attempts + 1, "locked_until": None, "state": state}
        if ok:
            values["delivered_at"] = now
        else:
            values["last_error"] = error[:300]
            values["next_attempt_at"] = retry_at if retry_at is not None else now
        async with self.engine.begin() as conn:
            await conn.execute(update(schema.webhook_outbox).where(o.id == row.id).values(**values))
            await conn.execute(
                insert(schema.webhook_deliveries).values(
                    outbox_id=row.id,
                    event_id=row.event_id,
                    endpoint=row.endpoint,
                    attempt=row.attempts + 1,
                    at=now,
                    status=status,
                    error=error[:300],
                    duration_ms=round(duration_s * 1000, 2),
                    kind="attempt",
                )
            )
        return state

    # what supervisors see and do

    async def events(
        self,
        *,
        session_id: str | None = None,
        state: str | None = None,
        endpoint: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Outbox rows (without bodies), oldest first; page on with ``after_id``."""
        query = select(*(c for c in schema.webhook_outbox.c if c.name != "body")).where(o.id > after_id)
        if session_id is not None:
            query = query.where(o.session_id == session_id)
        if state is not None:
            query = query.where(o.state == state)
        if endpoint is not None:
            query = query.where(o.endpoint == endpoint)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(o.id).limit(min(limit, 1000)))).mappings().all()
        return [dict(r) for r in rows]

    async def event(self, event_id: str) -> dict[str, Any] | None:
        """One event: its body and, per endpoint, its state and every attempt."""
        async with self.engine.connect() as conn:
            rows = (
                (
                    await conn.execute(
                        select(schema.webhook_outbox).where(o.event_id == event_id).order_by(o.id)
                    )
                )
                .mappings()
                .all()
            )
            if not rows:
                return None
            log = (
                (
                    await conn.execute(
                        select(schema.webhook_deliveries).where(d.event_id == event_id).order_by(d.id)
                    )
                )
                .mappings()
                .all()
            )
        first = rows[0]
        return {
            "event_id": event_id,
            "type": first["type"],
            "session_id": first["session_id"],
            "body": json.loads(first["body"]),
            "endpoints": [
                {
                    k: r[k]
                    for k in (
                        "endpoint",
                        "state",
                        "attempts",
                        "next_attempt_at",
                        "delivered_at",
                        "last_error",
                    )
                }
                for r in rows
            ],
            "deliveries": [
                {k: r[k] for k in ("endpoint", "attempt", "at", "status", "error", "duration_ms", "kind")}
                for r in log
            ],
        }

    async def resend(self, event_id: str, *, endpoint: str | None = None, actor: str = "") -> int:
        """Deliver an event again (to one endpoint, or to every endpoint it went to), even if
        it was delivered or given up; logged as a ``resend`` row. Returns how many rows."""
        now = time.time()
        where = [o.event_id == event_id]
        if endpoint is not None:
            where.append(o.endpoint == endpoint)
        async with self.engine.begin() as conn:
            rows = (await conn.execute(select(o.id, o.endpoint, o.attempts).where(*where))).all()
            if not rows:
                return 0
            await conn.execute(
                update(schema.webhook_outbox)
                .where(*where)
                .values(state=PENDING, next_attempt_at=now, locked_until=None, delivered_at=None)
            )
            await conn.execute(
                insert(schema.webhook_deliveries),
                [
                    {
                        "outbox_id": row_id,
                        "event_id": event_id,
                        "endpoint": name,
                        "attempt": attempts,
                        "at": now,
                        "status": None,
                        "error": f"re-send asked by {actor}"[:300] if actor else "re-send asked",
                        "duration_ms": 0.0,
                        "kind": "resend",
                    }
                    for row_id, name, attempts in rows
                ],
            )
        return len(rows)
