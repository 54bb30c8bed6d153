"""Past conversations for staff: search, a customer's other sessions, one transcript.

Who may read what: an agent the sessions of the queues they serve (the token's skills),
a supervisor those of the queues they oversee (the same claim), and anyone the sessions
they take part in. Every read is audited as ``history.view`` (store/audit.py): a search
with its filters, a transcript or a customer's list with the session it was read from.

The search runs the same SQL on SQLite and PostgreSQL: ``ILIKE`` (SQLite: ``lower() LIKE
lower()``) with ``%``, ``_`` and the escape character escaped, newest first, paged by
``created_at`` over the sessions' period index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, or_, select

from dcs_sdk.protocol import ErrorCode, HistorySearch, Role, SessionRef, ok
from dcs_sdk.tokens import Claims

from .auth import may_act_on
from .sessions import SessionService, fail
from .store import SessionRecord, schema
from .store.records import MessageRecord

s = schema.sessions.c
m = schema.messages.c
STAFF = (Role.AGENT, Role.SUPERVISOR)
CUSTOMER_SESSIONS = 20


def may_read_history(claims: Claims, session: SessionRecord) -> bool:
    """Whether ``claims`` may read this session's history (see the module's docstring)."""
    if may_act_on(claims, session):
        return True
    return claims.role in STAFF and claims.serves(session.queue)


def like(value: str) -> str:
    """A LIKE pattern matching ``value`` anywhere, its wildcards taken literally."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _ms(t: float | None) -> int | None:
    return int(t * 1000) if t else None


def summary(record: SessionRecord) -> dict[str, Any]:
    """One row of a history list."""
    return {
        "session_id": record.id,
        "state": record.state.value,
        "queue": record.queue,
        "customer": {"id": record.customer_id, "name": record.customer_name},
        "agent": {"id": record.agent_id, "name": record.agent_name or record.agent_id}
        if record.agent_id
        else None,
        "first_message": record.first_message,
        "created_at": _ms(record.created_at),
        "ended_at": _ms(record.ended_at),
        "disposition": record.wrap_up_disposition,
        "csat": record.csat_score,
    }


class History:
    def __init__(self, service: SessionService) -> None:
        self.service = service

    def handlers(self) -> dict[Any, Any]:
        from dcs_sdk.protocol import Event

        return {
            Event.HISTORY_SEARCH: self.search,
            Event.HISTORY_CUSTOMER: self.customer,
            Event.HISTORY_TRANSCRIPT: self.transcript,
        }

    @property
    def engine(self) -> Any:
        return self.service.store.store.engine

    def _scope(self, claims: Claims) -> Any:
        """The sessions ``claims`` may list: their queues (all with ``*``)."""
        if "*" in claims.skills:
            return None
        return s.queue.in_(claims.skills) if claims.skills else s.id.is_(None)

    async def _readable(self, claims: Claims, session_id: str) -> SessionRecord:
        record = await self.service.store.get_session(session_id)
        if record is None:
            raise fail(ErrorCode.NOT_FOUND, "There is no such session.")
        if not may_read_history(claims, record):
            raise fail(ErrorCode.FORBIDDEN, f"You do not serve the {record.queue!r} queue of this session.")
        return record

    async def search(self, sid: str, claims: Claims, p: HistorySearch) -> dict[str, Any]:
        where = [c for c in (self._scope(claims),) if c is not None]
        if p.text.strip():
            pattern = like(p.text.strip())
            said = exists().where(m.session_id == s.id, m.text.ilike(pattern, escape="\\"))
            where.append(or_(said, s.first_message.ilike(pattern, escape="\\")))
        if p.customer.strip():
            who = p.customer.strip()
            where.append(or_(s.customer_id == who, s.customer_name.ilike(like(who), escape="\\")))
        if p.agent.strip():
            who = p.agent.strip()
            where.append(or_(s.agent_id == who, s.agent_name.ilike(like(who), escape="\\")))
        if p.since is not None:
            where.append(s.created_at >= p.since / 1000)
        if p.until is not None:
            where.append(s.created_at < p.until / 1000)
        if p.before is not None:
            where.append(s.created_at < p.before / 1000)
        query = (
            select(schema.sessions)
            .where(and_(True, *where))
            .order_by(s.created_at.desc(), s.id.desc())
            .limit(p.limit + 1)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        found = [SessionRecord.from_row(r) for r in rows]
        more = len(found) > p.limit
        filters = p.model_dump(exclude_defaults=True, exclude={"limit"})
        await self.service.audited(
            claims, "history.view", None, search=filters, found=min(len(found), p.limit)
        )
        return ok(sessions=[summary(r) for r in found[: p.limit]], more=more)

    async def customer(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        """The other sessions of this session's customer (newest first) that ``claims`` may
        read: the context panel's "previous conversations"."""
        record = await self._readable(claims, p.session_id)
        where = [s.customer_id == record.customer_id, s.id != record.id]
        if (scope := self._scope(claims)) is not None:
            where.append(scope)
        query = (
            select(schema.sessions)
            .where(*where)
            .order_by(s.created_at.desc(), s.id.desc())
            .limit(CUSTOMER_SESSIONS)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        await self.service.audited(claims, "history.view", record.id, previous=len(rows))
        return ok(sessions=[summary(SessionRecord.from_row(r)) for r in rows])

    async def transcript(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        record = await self._readable(claims, p.session_id)
        messages: list[MessageRecord] = await self.service.store.transcript(record.id)
        await self.service.audited(claims, "history.view", record.id, transcript=True)
        return ok(
            session=summary(record),
            notes=record.wrap_up_notes,
            messages=[msg.to_wire() for msg in messages],
        )
