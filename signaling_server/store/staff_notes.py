"""Staff notes on a session: whispers, consult lines, transfer notes (``dcs_staff_notes``).

Kept apart from the chat (``dcs_messages``) so that nothing which reads a customer's
history can ever return them: they survive a console reload, never reach the widget.
(Notes added through the REST API are another table: store/notes.py.)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import schema

NoteKind = Literal["whisper", "consult", "transfer"]


@dataclass(frozen=True)
class StaffNote:
    id: int
    session_id: str
    kind: str
    author_id: str
    author_role: str
    author_name: str
    text: str
    ts: float

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> StaffNote:
        return cls(
            id=int(row["id"]),
            session_id=row["session_id"],
            kind=row["kind"],
            author_id=row["author_id"],
            author_role=row["author_role"],
            author_name=row["author_name"],
            text=row["text"],
            ts=float(row["ts"]),
        )

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "session_id": self.session_id,
            "kind": self.kind,
            "author": {"role": self.author_role, "id": self.author_id, "name": self.author_name},
            "text": self.text,
            "ts": int(self.ts * 1000),
        }


class StaffNotes:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(
        self,
        session_id: str,
        kind: NoteKind,
        *,
        author_id: str,
        author_role: str,
        author_name: str,
        text: str,
    ) -> StaffNote:
        ts = time.time()
        values = {
            "session_id": session_id,
            "kind": kind,
            "author_id": author_id[:128],
            "author_role": author_role[:16],
            "author_name": author_name[:200],
            "text": text,
            "ts": ts,
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(
                insert(schema.staff_notes).values(**values).returning(schema.staff_notes.c.id)
            )
            return StaffNote.from_row({"id": result.scalar_one(), **values})

    async def of_session(self, session_id: str, limit: int = 500) -> list[StaffNote]:
        n = schema.staff_notes.c
        query = select(schema.staff_notes).where(n.session_id == session_id).order_by(n.id).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [StaffNote.from_row(r) for r in rows]
