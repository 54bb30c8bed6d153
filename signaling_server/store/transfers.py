"""Warm transfers waiting for an answer (``dcs_transfers``): the truth every process reads.

A transfer is offered by one process, may be answered through another and may time out
in a third (or after a restart): each of them reads it here, and it leaves ``pending`` by
one conditional UPDATE (:meth:`TransferStore.finish`), so exactly one of them announces
its outcome. At most one transfer of a session is pending (a partial unique index).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from . import schema

PENDING = "pending"


@dataclass(frozen=True)
class PendingTransfer:
    id: str
    session_id: str
    from_id: str
    from_name: str
    to_id: str
    to_name: str
    note: str
    reason: str
    deadline: float
    created_at: float = field(default_factory=time.time)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> PendingTransfer:
        return cls(
            id=row["id"],
            session_id=row["session_id"],
            from_id=row["from_id"],
            from_name=row["from_name"],
            to_id=row["to_id"],
            to_name=row["to_name"],
            note=row["note"],
            reason=row["reason"],
            deadline=float(row["deadline"]),
            created_at=float(row["created_at"]),
        )

    def to_wire(self, state: str, message: str = "") -> dict[str, Any]:
        return {
            "transfer_id": self.id,
            "session_id": self.session_id,
            "state": state,
            "from": {"id": self.from_id, "name": self.from_name},
            "to": {"id": self.to_id, "name": self.to_name},
            "note": self.note,
            "reason": self.reason,
            "created_at": int(self.created_at * 1000),
            "message": message,
        }


class TransferStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, transfer: PendingTransfer) -> bool:
        """Store a pending transfer; False if one of its session is pending already."""
        values = {
            "id": transfer.id,
            "session_id": transfer.session_id,
            "from_id": transfer.from_id[:128],
            "from_name": transfer.from_name[:200],
            "to_id": transfer.to_id[:128],
            "to_name": transfer.to_name[:200],
            "note": transfer.note,
            "reason": transfer.reason[:300],
            "created_at": transfer.created_at,
            "deadline": transfer.deadline,
            "state": PENDING,
        }
        try:
            async with self.engine.begin() as conn:
                await conn.execute(insert(schema.transfers).values(**values))
        except IntegrityError:
            return False
        return True

    async def get(self, transfer_id: str) -> PendingTransfer | None:
        """The transfer, while it is pending."""
        t = schema.transfers.c
        return await self._one(select(schema.transfers).where(t.id == transfer_id, t.state == PENDING))

    async def pending_for(self, session_id: str) -> PendingTransfer | None:
        t = schema.transfers.c
        return await self._one(select(schema.transfers).where(t.session_id == session_id, t.state == PENDING))

    async def offered_to(self, agent_id: str) -> list[PendingTransfer]:
        """Pending transfers waiting for this agent's answer."""
        t = schema.transfers.c
        return await self._all(select(schema.transfers).where(t.to_id == agent_id, t.state == PENDING))

    async def offered_by(self, agent_id: str) -> list[PendingTransfer]:
        """Pending transfers this agent offered."""
        t = schema.transfers.c
        return await self._all(select(schema.transfers).where(t.from_id == agent_id, t.state == PENDING))

    async def _all(self, query: Any) -> list[PendingTransfer]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(schema.transfers.c.created_at))).mappings().all()
        return [PendingTransfer.from_row(r) for r in rows]

    async def due(self, now: float) -> list[PendingTransfer]:
        """Pending transfers whose deadline has passed (whoever offered them)."""
        t = schema.transfers.c
        query = select(schema.transfers).where(t.state == PENDING, t.deadline <= now).order_by(t.deadline)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [PendingTransfer.from_row(r) for r in rows]

    async def finish(self, transfer_id: str, outcome: str, *, at: float | None = None) -> bool:
        """Take a transfer out of ``pending`` (True for the one caller who did)."""
        t = schema.transfers.c
        query = (
            update(schema.transfers)
            .where(t.id == transfer_id, t.state == PENDING)
            .values(state=outcome, finished_at=at or time.time())
        )
        async with self.engine.begin() as conn:
            return bool((await conn.execute(query)).rowcount == 1)

    async def settle(self, transfer_id: str, outcome: str) -> None:
        """Record what became of a transfer already taken out of ``pending``."""
        t = schema.transfers.c
        async with self.engine.begin() as conn:
            await conn.execute(update(schema.transfers).where(t.id == transfer_id).values(state=outcome))

    async def _one(self, query: Any) -> PendingTransfer | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(query.limit(1))).mappings().first()
        return PendingTransfer.from_row(row) if row is not None else None
