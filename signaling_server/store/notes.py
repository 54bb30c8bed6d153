"""Notes on a session from outside the chat (``dcs_notes``), added through the REST API:
a CRM's or an order system's remark. Customer data: erasure and retention remove them
(store/privacy.py). Staff notes (whispers, consults) are store/staff_notes.py."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from . import schema


class Notes:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, session_id: str, *, author_id: str, author_role: str, text: str) -> dict[str, Any]:
        values: dict[str, Any] = {
            "session_id": session_id,
            "author_id": author_id[:128],
            "author_role": author_role[:16],
            "text": text,
            "at": time.time(),
        }
        async with self.engine.begin() as conn:
            result = await conn.execute(insert(schema.notes).values(**values).returning(schema.notes.c.id))
            return {"id": int(result.scalar_one()), **values}

    async def of_session(self, session_id: str) -> list[dict[str, Any]]:
        n = schema.notes.c
        query = select(schema.notes).where(n.session_id == session_id).order_by(n.id)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings().all()]
