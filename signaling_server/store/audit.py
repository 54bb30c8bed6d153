"""The audit log: an append-only record of what staff did to which session, and when.

One row per staff action (``dcs_audit``, store/schema.py). The API is two calls:

- ``await audit.record(actor_id=..., actor_role=..., action=..., session_id=..., target=...,
  detail={...})`` appends a row and returns its id;
- ``await audit.entries(session_id=..., actor_id=..., action=..., since=..., until=...,
  after_id=..., limit=...)`` reads rows back, oldest first (page on with ``after_id``).

There is no update or delete: a correction is a new row. ``action`` is one of ``ACTIONS``
(a name outside it is refused, so readers can rely on the vocabulary); ``target`` is the
other party acted on (an agent id, a queue name), ``detail`` a small JSON object (a note,
a reason, a position). Times are epoch seconds, as everywhere in the store.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import schema

# The vocabulary of staff actions; docs/protocol.md ("Audit log") says when each is written.
ACTIONS = frozenset(
    {
        "accept",  # an agent took a queued session
        "transfer",  # an agent passed a live session to a queue or an agent
        "transfer.accept",  # the receiver of a warm transfer took it
        "transfer.decline",  # ... declined it (or it timed out: detail.timeout)
        "observe",  # a supervisor opened a session read-only
        "whisper",  # a supervisor wrote a note only the agent sees
        "barge",  # a supervisor joined the chat visibly
        "leave",  # a supervisor left a session they observed or joined
        "move",  # a supervisor moved a queued session (queue, or to the front)
        "reassign",  # a supervisor took a live session from its agent
        "set_away",  # a supervisor set an agent away
        "sign_out",  # a supervisor signed an agent out
        "history.view",  # staff read a session's history
        "note.add",  # a service or supervisor added a note to a session (REST API)
        "customer.export",  # a customer's data was exported (REST API; target: their digest)
        "customer.erase",  # a customer's data was erased: the tombstone (target: their digest)
    }
)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor_id: str
    actor_role: str
    action: str
    session_id: str | None
    target: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> AuditEntry:
        return cls(
            id=int(row["id"]),
            at=float(row["at"]),
            actor_id=row["actor_id"],
            actor_role=row["actor_role"],
            action=row["action"],
            session_id=row["session_id"],
            target=row["target"] or "",
            detail=dict(row["detail"] or {}),
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": int(self.at * 1000),
            "actor": {"id": self.actor_id, "role": self.actor_role},
            "action": self.action,
            "session_id": self.session_id,
            "target": self.target,
            "detail": dict(self.detail),
        }


class AuditLog:
    """Append and read audit rows on the store's engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(
        self,
        *,
        actor_id: str,
        actor_role: str,
        action: str,
        session_id: str | None = None,
        target: str = "",
        detail: Mapping[str, Any] | None = None,
        at: float | None = None,
    ) -> int:
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        values = {
            "at": time.time() if at is None else at,
            "actor_id": actor_id[:128],
            "actor_role": actor_role[:16],
            "action": action,
            "session_id": session_id,
            "target": target[:200],
            "detail": dict(detail or {}),
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(insert(schema.audit).values(**values).returning(schema.audit.c.id))
            return int(result.scalar_one())

    async def entries(
        self,
        *,
        session_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        a = schema.audit.c
        query = select(schema.audit).where(a.id > after_id)
        if session_id is not None:
            query = query.where(a.session_id == session_id)
        if actor_id is not None:
            query = query.where(a.actor_id == actor_id)
        if action is not None:
            query = query.where(a.action == action)
        if since is not None:
            query = query.where(a.at >= since)
        if until is not None:
            query = query.where(a.at < until)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(a.id).limit(limit))).mappings().all()
        return [AuditEntry.from_row(r) for r in rows]
