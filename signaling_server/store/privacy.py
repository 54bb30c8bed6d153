"""Data rights over the store: export a customer's data, erase it, and retention.

Which tables hold whose data is read from the schema, not listed by hand, so a table
added later (the webhook outbox, say) is covered as soon as it has a ``session_id`` or a
``customer_id`` column:

- rows of a *session-owned* table (every table with a ``session_id`` column but the
  transitions and the audit log: messages, page views, notes, outbox, ...) are deleted;
- the session row is kept without personal data (``scrub``): its timestamps, state, queue,
  agent and score stay for the reports; the customer id becomes ``anon:<session id>``,
  names, attributes, texts, pages, notes and comments are emptied;
- its transitions stay (the reports count escalations and transfers) with the customer as
  actor renamed ``customer``; erasure also empties their details (a reason the customer
  typed), retention keeps escalation reasons (the reports group by them);
- audit rows stay (who did what, when: staff accountability), but erasure empties their
  details and replaces a target naming the customer with the customer's digest.

Erasure leaves a tombstone in the audit log: ``customer.erase`` with the SHA-256 digest
of the customer id (``customer_digest``), so one who knows the id can confirm it was
erased, and nobody can read it back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import schema

BATCH = 500
KEPT_TABLES = ("dcs_sessions", "dcs_transitions", "dcs_audit")
OPEN_STATES = ("virtual", "queued", "live", "wrap_up")
ANON_PREFIX = "anon:"

s = schema.sessions.c

# The session columns that hold no personal data are kept; these are emptied.
SCRUBBED: dict[str, Any] = {
    "customer_name": "",
    "customer_attrs": {},
    "reason": "",
    "first_message": "",
    "page_url": "",
    "page_title": "",
    "assistant_state": {},
    "understanding": {},
    "wrap_up_notes": "",
    "csat_comment": None,
    "left_message": "",
}


def customer_digest(customer_id: str) -> str:
    return "sha256:" + hashlib.sha256(customer_id.encode()).hexdigest()


def session_owned_tables() -> list[Table]:
    """Tables whose rows belong to a session and go with its personal data."""
    return [
        table
        for table in schema.metadata.sorted_tables
        if "session_id" in table.c and table.name not in KEPT_TABLES
    ]


def customer_tables() -> list[Table]:
    """Other tables keyed by the customer id itself."""
    return [
        table
        for table in schema.metadata.sorted_tables
        if "customer_id" in table.c and "session_id" not in table.c and table.name not in KEPT_TABLES
    ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _rows(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [{k: _jsonable(v) for k, v in dict(r).items()} for r in rows]


@dataclass
class Erasure:
    sessions: list[str] = field(default_factory=list)
    deleted: dict[str, int] = field(default_factory=dict)


class CustomerData:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def session_ids(self, customer_id: str) -> list[str]:
        query = select(s.id).where(s.customer_id == customer_id).order_by(s.created_at, s.id)
        async with self.engine.connect() as conn:
            return [sid for (sid,) in (await conn.execute(query)).all()]

    async def open_sessions(self, customer_id: str) -> list[tuple[str, str]]:
        """(id, state) of the customer's sessions that are not ended."""
        query = select(s.id, s.state).where(s.customer_id == customer_id, s.state.in_(OPEN_STATES))
        async with self.engine.connect() as conn:
            return [(sid, state) for sid, state in (await conn.execute(query)).all()]

    async def export(self, customer_id: str) -> dict[str, Any]:
        """Everything held about the customer: each session with every row that hangs off
        it in any table, and the rows of tables keyed by the customer id."""
        async with self.engine.connect() as conn:
            sessions = _rows(
                (
                    await conn.execute(
                        select(schema.sessions)
                        .where(s.customer_id == customer_id)
                        .order_by(s.created_at, s.id)
                    )
                ).mappings()
            )
            ids = [row["id"] for row in sessions]
            related: dict[str, dict[str, list[dict[str, Any]]]] = {sid: {} for sid in ids}
            tables = [t for t in schema.metadata.sorted_tables if "session_id" in t.c]
            for table in tables:
                for chunk in _chunks(ids):
                    order = [table.c[c] for c in ("id", "seq") if c in table.c]
                    query = select(table).where(table.c.session_id.in_(chunk)).order_by(*order)
                    for row in _rows((await conn.execute(query)).mappings()):
                        related[row["session_id"]].setdefault(table.name, []).append(row)
            others = {}
            for table in customer_tables():
                query = select(table).where(table.c.customer_id == customer_id)
                others[table.name] = _rows((await conn.execute(query)).mappings())
        for row in sessions:
            row["related"] = related[row["id"]]
        return {
            "customer_id": customer_id,
            "exported_at": int(time.time() * 1000),
            "sessions": sessions,
            "other": others,
        }

    async def erase(self, customer_id: str) -> Erasure:
        """Remove the customer's personal data from every table (their sessions must be
        closed first: the caller ends or refuses open ones)."""
        result = Erasure(sessions=await self.session_ids(customer_id))
        async with self.engine.begin() as conn:
            for chunk in _chunks(result.sessions):
                await self._scrub(conn, chunk, result=result, erase=True)
            for table in customer_tables():
                gone = await conn.execute(delete(table).where(table.c.customer_id == customer_id))
                result.deleted[table.name] = result.deleted.get(table.name, 0) + gone.rowcount
            a = schema.audit.c
            digest = customer_digest(customer_id)
            await conn.execute(update(schema.audit).where(a.target == customer_id).values(target=digest))
            await conn.execute(
                update(schema.audit).where(a.actor_id == customer_id).values(actor_id="customer")
            )
        return result

    async def retain(self, cutoff: float, *, batch: int = BATCH) -> tuple[list[str], dict[str, int]]:
        """One batch of retention: sessions that ended before ``cutoff``, and assistant
        conversations with nothing said since it (which are ended now), lose their personal
        data; returns ([their ids], deleted rows by table). Run it until it returns no ids."""
        m = schema.messages.c
        recent = select(m.seq).where(m.session_id == s.id, m.ts >= cutoff).exists()
        ended = and_(s.state == "ended", func.coalesce(s.ended_at, s.created_at) < cutoff)
        idle = and_(s.state == "virtual", s.created_at < cutoff, ~recent)
        query = (
            select(s.id, s.state)
            .where(or_(ended, idle), ~s.customer_id.startswith(ANON_PREFIX))
            .order_by(s.created_at)
            .limit(batch)
        )
        result = Erasure()
        now = time.time()
        async with self.engine.begin() as conn:
            rows = (await conn.execute(query)).all()
            ids = [sid for sid, _ in rows]
            idle_ids = [sid for sid, state in rows if state == "virtual"]
            if idle_ids:
                await conn.execute(
                    update(schema.sessions)
                    .where(s.id.in_(idle_ids), s.state == "virtual")
                    .values(state="ended", ended_at=now)
                )
                await conn.execute(
                    insert(schema.transitions),
                    [
                        {
                            "session_id": sid,
                            "from_state": "virtual",
                            "to_state": "ended",
                            "actor": "system",
                            "detail": "retention",
                            "at": now,
                        }
                        for sid in idle_ids
                    ],
                )
            if ids:
                await self._scrub(conn, ids, result=result, erase=False)
        return ids, result.deleted

    async def _scrub(
        self,
        conn: AsyncConnection,
        ids: Sequence[str],
        *,
        result: Erasure,
        erase: bool,
    ) -> None:
        for table in session_owned_tables():
            owned = table.c.session_id.in_(ids)
            # rows of other tables that point at these (the outbox's delivery log) go first
            for child, fk in _referrers(table):
                keys = select(fk.column).where(owned)
                gone = await conn.execute(delete(child).where(fk.parent.in_(keys)))
                result.deleted[child.name] = result.deleted.get(child.name, 0) + gone.rowcount
            gone = await conn.execute(delete(table).where(owned))
            result.deleted[table.name] = result.deleted.get(table.name, 0) + gone.rowcount
        t = schema.transitions.c
        # The customer as actor: by the session's own (old) customer id, read before the
        # session row is anonymised.
        owner = select(s.customer_id).where(s.id == t.session_id).scalar_subquery()
        values: dict[str, Any] = {"actor": case((t.actor == owner, literal("customer")), else_=t.actor)}
        if erase:
            values["detail"] = ""
        else:  # keep the escalation reasons the reports group by; transfer notes go
            values["detail"] = case(
                (and_(t.from_state == "virtual", t.to_state == "queued"), t.detail), else_=literal("")
            )
        await conn.execute(update(schema.transitions).where(t.session_id.in_(ids)).values(**values))
        if erase:
            a = schema.audit.c
            await conn.execute(update(schema.audit).where(a.session_id.in_(ids)).values(detail={}))
        await conn.execute(
            update(schema.sessions)
            .where(s.id.in_(ids))
            .values(customer_id=literal(ANON_PREFIX) + s.id, **SCRUBBED)
        )


def _referrers(table: Table) -> list[tuple[Table, Any]]:
    """(table, foreign key) of the tables without a session_id of their own that point at
    ``table``."""
    return [
        (other, fk)
        for other in schema.metadata.sorted_tables
        if "session_id" not in other.c
        for fk in other.foreign_keys
        if fk.column.table is table
    ]


def _chunks(ids: Sequence[str], size: int = BATCH) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
