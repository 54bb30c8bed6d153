"""Read receipts: how far each participant has read (``chat.read``), both ways.

A participant (the customer, the agent holding the session) says "I have read up to seq
N"; the mark only moves forward, is stored per participant (``dcs_read_marks``) so a
reload shows it again (session.start's ack and the agent's handoff carry ``reads``), and is
pushed to the session's room as ``chat.read``. Marks are coalesced: a reader's marks that
come within ``every_s`` of the last one written are held and the newest written once
that time is up, so scrolling through a long history costs one write a second at most.

While this process is the only writer (``CachedStore.exact``), the marks of the sessions it
has seen are kept in memory: a new session has none, and a hot session's resume then
reads nothing from the database for them (issue 10: a hot resume needs no read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from dcs_sdk.protocol import ChatRead, ErrorCode, Event, Role, ok
from dcs_sdk.tokens import Claims

from .sessions import SessionService, fail, session_room
from .store import SessionRecord, schema
from .store.changes import Change, ChangeKind

r = schema.read_marks.c
MAX_TRACKED = 10_000
MAX_CACHED_SESSIONS = 20_000

Mark = dict[str, Any]


class Receipts:
    within_kinds: frozenset[ChangeKind] = frozenset()  # told after commits only

    def __init__(self, service: SessionService, *, every_s: float = 1.0) -> None:
        self.service = service
        self.every_s = every_s
        self._written: dict[tuple[str, str], float] = {}  # (session, reader) -> when
        self._pending: dict[tuple[str, str], tuple[Claims, int]] = {}
        self._timers: dict[tuple[str, str], asyncio.Task[None]] = {}
        # session -> its marks, while exact (replaced whole, never changed in place)
        self._marks: dict[str, Sequence[Mark]] = {}

    @property
    def engine(self) -> Any:
        return self.service.store.store.engine

    def install(self) -> None:
        self.service.start_extras["reads"] = self.reads_wire
        self.service.handoff_extras["reads"] = self.reads_wire
        self.service.store.store.changes.listeners.append(self)

    @property
    def _exact(self) -> bool:
        return bool(self.service.store.exact)

    def _cache(self, session_id: str, marks: Sequence[Mark]) -> None:
        if len(self._marks) >= MAX_CACHED_SESSIONS:
            self._marks.clear()
        self._marks[session_id] = marks

    # a store change listener: a session created here has no marks yet

    async def within(self, conn: Any, change: Change) -> None:
        return None

    def committed(self, change: Change) -> None:
        if change.kind == "created" and self._exact:
            self._cache(change.session.id, ())  # the empty tuple: no list per new session

    async def read(self, sid: str, claims: Claims, p: ChatRead) -> dict[str, Any]:
        session = await self.service._session_for(claims, p.session_id)
        if claims.role not in (Role.CUSTOMER, Role.AGENT):
            raise fail(ErrorCode.FORBIDDEN, "Only the customer and the agent send read receipts.")
        if p.seq > session.last_seq and p.seq > await self._last_seq(session):
            raise fail(ErrorCode.BAD_PAYLOAD, f"There is no message {p.seq} in this session yet.")
        key = (session.id, claims.sub)
        if len(self._written) > MAX_TRACKED:  # only the last second matters: forget the rest
            cutoff = time.monotonic() - self.every_s
            self._written = {k: at for k, at in self._written.items() if at > cutoff}
        since = time.monotonic() - self._written.get(key, float("-inf"))
        if since >= self.every_s and key not in self._timers:
            await self._write(claims, session.id, p.seq)
            return ok(seq=p.seq)
        held = self._pending.get(key)
        if held is None or held[1] < p.seq:
            self._pending[key] = (claims, p.seq)
        if key not in self._timers:
            task = asyncio.get_running_loop().create_task(self._flush_later(key, self.every_s - since))
            self._timers[key] = task
        return ok(seq=p.seq, held=True)

    async def _last_seq(self, session: SessionRecord) -> int:
        fresh = await self.service.store.store.get_session(session.id)
        return fresh.last_seq if fresh else 0

    async def _flush_later(self, key: tuple[str, str], delay: float) -> None:
        try:
            await asyncio.sleep(max(0.0, delay))
            held = self._pending.pop(key, None)
            if held is not None:
                await self._write(held[0], key[0], held[1])
        finally:
            self._timers.pop(key, None)

    async def _write(self, claims: Claims, session_id: str, seq: int) -> None:
        """Move the reader's mark to ``seq`` if that is forward; tell the room if it moved."""
        self._written[(session_id, claims.sub)] = time.monotonic()
        now = time.time()
        forward = (
            update(schema.read_marks)
            .where(r.session_id == session_id, r.reader_id == claims.sub, r.seq < seq)
            .values(seq=seq, at=now, reader_name=claims.name)
        )
        async with self.engine.begin() as conn:
            moved = (await conn.execute(forward)).rowcount == 1
            if not moved:
                mark = select(r.seq).where(r.session_id == session_id, r.reader_id == claims.sub)
                absent = (await conn.execute(mark)).first() is None
        if not moved and absent:
            row = {
                "session_id": session_id,
                "reader_id": claims.sub,
                "reader_role": claims.role.value,
                "reader_name": claims.name,
                "seq": seq,
                "at": now,
            }
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(insert(schema.read_marks).values(**row))
                moved = True
            except IntegrityError:  # another process inserted it meanwhile: move it on
                async with self.engine.begin() as conn:
                    moved = (await conn.execute(forward)).rowcount == 1
        if moved:
            self._remember(session_id, claims, seq, now)
            payload = {
                "session_id": session_id,
                "reader": self._reader(claims),
                "seq": seq,
                "ts": int(now * 1000),
            }
            await self.service.notifier.emit(Event.CHAT_READ, payload, room=session_room(session_id))

    @staticmethod
    def _reader(claims: Claims) -> dict[str, str]:
        return {"role": claims.role.value, "id": claims.sub, "name": claims.name}

    def _remember(self, session_id: str, claims: Claims, seq: int, at: float) -> None:
        marks = self._marks.get(session_id)
        if marks is None or not self._exact:
            return
        mark = {"reader": self._reader(claims), "seq": seq, "ts": int(at * 1000)}
        kept = [m for m in marks if m["reader"]["id"] != claims.sub]
        self._marks[session_id] = sorted([*kept, mark], key=lambda m: str(m["reader"]["id"]))

    async def reads(self, session_id: str) -> list[Mark]:
        if self._exact and (cached := self._marks.get(session_id)) is not None:
            return [dict(m) for m in cached]
        query = select(schema.read_marks).where(r.session_id == session_id).order_by(r.reader_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        marks = [
            {
                "reader": {"role": row["reader_role"], "id": row["reader_id"], "name": row["reader_name"]},
                "seq": row["seq"],
                "ts": int(row["at"] * 1000),
            }
            for row in rows
        ]
        if self._exact:
            self._cache(session_id, marks)
        return [dict(m) for m in marks]

    async def reads_wire(self, record: SessionRecord) -> list[dict[str, Any]]:
        return await self.reads(record.id)

    async def shutdown(self) -> None:
        for task in list(self._timers.values()):
            task.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
