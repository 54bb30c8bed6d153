"""The REST API's endpoints (docs/api.md): each one a handler and its row in the table."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import and_, or_, select, true

from dcs_sdk.protocol import ErrorCode, SessionState

from ..config import Config
from ..external_notes import ExternalNotes
from ..reports import MAX_BUCKETS, Report, ReportQuery, Reports, bucket_count, report_csv
from ..reports.figures import MAX_HOURLY_S
from ..sessions import SessionService
from ..store import SessionRecord, Store, schema
from ..store.audit import AuditLog
from ..store.notes import Notes
from ..store.privacy import CustomerData, customer_digest
from . import models as m
from .framework import Api, ApiError, Call, Endpoint

DEFAULT_PERIOD_S = 7 * 86400
MAX_PERIOD_S = 400 * 86400


@dataclass(frozen=True)
class Deps:
    """Where the handlers find the running server's parts (set when the app starts)."""

    config: Config
    store: Callable[[], Store]
    service: Callable[[], SessionService]


def _ms(value: float | None) -> int | None:
    return None if value is None else int(value * 1000)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _summary(r: SessionRecord) -> m.SessionSummary:
    return m.SessionSummary(
        id=r.id,
        state=r.state,
        queue=r.queue,
        customer_id=r.customer_id,
        customer_name=r.customer_name,
        agent_id=r.agent_id,
        agent_name=r.agent_name,
        reason=r.reason,
        created_at=int(r.created_at * 1000),
        queued_at=_ms(r.queued_at),
        accepted_at=_ms(r.accepted_at),
        first_agent_reply_at=_ms(r.first_agent_reply_at),
        wrap_up_at=_ms(r.wrap_up_at),
        ended_at=_ms(r.ended_at),
        csat_score=r.csat_score,
        csat_comment=r.csat_comment,
        left_message_at=_ms(r.left_message_at),
    )


def _encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, shape: tuple[type, ...]) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    ok = isinstance(values, list) and len(values) == len(shape)
    if not ok or not all(
        isinstance(v, t) and not isinstance(v, bool) for v, t in zip(values, shape, strict=False)
    ):
        raise ApiError(
            400, ErrorCode.BAD_PAYLOAD, "The cursor is not one this API gave out; start over without it."
        )
    return values  # type: ignore[no-any-return]


def _sees(call: Call, queue: str) -> bool:
    queues = call.visible_queues()
    return queues is None or queue in queues


class Handlers:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    @property
    def store(self) -> Store:
        return self.deps.store()

    async def _session(self, call: Call) -> SessionRecord:
        record = await self.store.get_session(call.path.session_id)
        if record is None or not _sees(call, record.queue):
            raise ApiError(404, ErrorCode.NOT_FOUND, "There is no such session.")
        return record

    async def _audit(
        self, call: Call, action: str, session_id: str | None, target: str = "", **detail: Any
    ) -> int:
        return await AuditLog(self.store.engine).record(
            actor_id=call.claims.sub,
            actor_role=call.claims.role.value,
            action=action,
            session_id=session_id,
            target=target,
            detail=detail,
        )

    # sessions

    async def list_sessions(self, call: Call) -> m.SessionPage:
        q: m.SessionsQuery = call.query
        s = schema.sessions.c
        conds: list[Any] = []
        for column, value in (
            (s.state, q.state),
            (s.queue, q.queue),
            (s.agent_id, q.agent_id),
            (s.customer_id, q.customer_id),
        ):
            if value is not None:
                conds.append(column == (value.value if isinstance(value, SessionState) else value))
        if q.since is not None:
            conds.append(s.created_at >= q.since.timestamp())
        if q.until is not None:
            conds.append(s.created_at < q.until.timestamp())
        if (queues := call.visible_queues()) is not None:
            conds.append(s.queue.in_(queues))
        if q.cursor is not None:
            at, sid = _decode_cursor(q.cursor, (float | int, str))  # type: ignore[arg-type]
            conds.append(or_(s.created_at < at, and_(s.created_at == at, s.id < sid)))
        query = (
            select(schema.sessions)
            .where(and_(true(), *conds))
            .order_by(s.created_at.desc(), s.id.desc())
            .limit(q.limit + 1)
        )
        async with self.store.engine.connect() as conn:
            rows = [SessionRecord.from_row(r) for r in (await conn.execute(query)).mappings().all()]
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        cursor = _encode_cursor([rows[-1].created_at, rows[-1].id]) if more else None
        return m.SessionPage(items=[_summary(r) for r in rows], next_cursor=cursor)

    async def get_session(self, call: Call) -> m.SessionDetail:
        record = await self._session(call)
        messages = await self.store.messages_after(record.id, 0, limit=100_000)
        pages = await self.store.page_views(record.id, limit=1000)
        transitions = await self.store.transitions_of(record.id)
        notes = await Notes(self.store.engine).of_session(record.id)
        await self._audit(call, "history.view", record.id, via="api")
        u = record.understanding
        return m.SessionDetail(
            session=_summary(record),
            handoff=m.Handoff(
                customer=m.Customer(
                    id=record.customer_id, name=record.customer_name, attributes=dict(record.customer_attrs)
                ),
                reason=record.reason,
                page=m.PageVisit(
                    url=record.page_url, title=record.page_title, ts=int(record.created_at * 1000)
                ),
                pages=[m.PageVisit(url=p["url"], title=p["title"], ts=int(p["ts"] * 1000)) for p in pages],
                understanding=m.Understanding(
                    intent=u.get("intent"),
                    slots=dict(u.get("slots") or {}),
                    confidence=float(u.get("confidence") or 0.0),
                    unmatched=int(u.get("unmatched") or 0),
                ),
                first_message=record.first_message,
                wrap_up_notes=record.wrap_up_notes,
                left_message=record.left_message,
            ),
            transcript=[m.Message.model_validate(msg.to_wire()) for msg in messages],
            transitions=[
                m.Transition(
                    from_state=t["from_state"],
                    to_state=t["to_state"],
                    actor=t["actor"],
                    detail=t["detail"],
                    at=int(t["at"] * 1000),
                )
                for t in transitions
            ],
            notes=[_note(n) for n in notes],
        )

    async def add_note(self, call: Call) -> m.Note:
        record = await self._session(call)
        body: m.NoteIn = call.body
        note = await Notes(self.store.engine).add(
            record.id, author_id=call.claims.sub, author_role=call.claims.role.value, text=body.text
        )
        await self._audit(call, "note.add", record.id, note_id=note["id"])
        await ExternalNotes(self.deps.service()).added(record)  # the agent holding it sees it
        return _note(note)

    # reports

    def _report_query(self, call: Call) -> ReportQuery:
        q: m.ReportsQuery = call.query
        until = _ts(q.until) or time.time()
        since = _ts(q.since) or until - DEFAULT_PERIOD_S
        if since >= until:
            raise ApiError(400, ErrorCode.BAD_PAYLOAD, "The period is empty: since must be before until.")
        if until - since > MAX_PERIOD_S:
            raise ApiError(
                400, ErrorCode.BAD_PAYLOAD, "A report covers at most 400 days; choose a shorter period."
            )
        if q.bucket == "hour" and until - since > MAX_HOURLY_S:
            raise ApiError(400, ErrorCode.BAD_PAYLOAD, "Volumes per hour cover at most 31 days; use per day.")
        if bucket_count(since, until, q.bucket) > MAX_BUCKETS:
            raise ApiError(
                400,
                ErrorCode.BAD_PAYLOAD,
                f"That is more than {MAX_BUCKETS:,} {q.bucket}s; use a coarser bucket.",
            )
        if q.queue is not None and not _sees(call, q.queue):
            raise ApiError(403, ErrorCode.FORBIDDEN, f"You do not oversee the {q.queue!r} queue.")
        return ReportQuery(
            since=since,
            until=until,
            queue=q.queue,
            agent_id=q.agent_id,
            bucket=q.bucket,
            service_level_s=self.deps.config.service_level_s,
            queues=call.visible_queues(),
        )

    async def report(self, call: Call) -> Report:
        return await Reports(self.store.engine).report(self._report_query(call))

    async def report_csv(self, call: Call) -> web.Response:
        q = self._report_query(call)
        report = await Reports(self.store.engine).report(q)
        day = time.strftime("%Y%m%d", time.gmtime(q.since))
        return web.Response(
            text=report_csv(report),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="dcs-report-{day}.csv"'},
        )

    # customers

    async def export_customer(self, call: Call) -> m.CustomerExport:
        body: m.CustomerRef = call.body
        data = await CustomerData(self.store.engine).export(body.customer_id)
        if (files := _attachments(call)) is not None:  # a signed link to each file's bytes
            files.export_links(data)
        await self._audit(
            call,
            "customer.export",
            None,
            target=customer_digest(body.customer_id),
            sessions=len(data["sessions"]),
        )
        return m.CustomerExport.model_validate(data)

    async def erase_customer(self, call: Call) -> m.ErasureResult:
        body: m.CustomerRef = call.body
        data = CustomerData(self.store.engine)
        service = self.deps.service()
        ended = []
        for session_id, state in await data.open_sessions(body.customer_id):
            if state in ("live", "wrap_up"):
                raise ApiError(
                    409,
                    ErrorCode.WRONG_STATE,
                    "This customer is in a conversation with an agent; erase once it has ended.",
                )
            if await _end_for_erasure(service, session_id, call.claims.sub):
                ended.append(session_id)
        erased = await data.erase(body.customer_id)
        if (files := _attachments(call)) is not None:  # the bytes of their files (attachments/)
            await files.erased(erased.sessions)
        for session_id in erased.sessions:
            service.store.forget(session_id)
        digest = customer_digest(body.customer_id)
        tombstone = await self._audit(
            call, "customer.erase", None, target=digest, sessions=len(erased.sessions), deleted=erased.deleted
        )
        return m.ErasureResult(
            customer_digest=digest,
            sessions=len(erased.sessions),
            deleted=erased.deleted,
            ended=ended,
            tombstone_id=tombstone,
        )

    # audit

    async def audit(self, call: Call) -> m.AuditPage:
        q: m.AuditQuery = call.query
        if call.visible_queues() is not None:
            raise ApiError(403, ErrorCode.FORBIDDEN, "The audit log is for supervisors of every queue.")
        after = int(_decode_cursor(q.cursor, (int,))[0]) if q.cursor else 0
        rows = await AuditLog(self.store.engine).entries(
            session_id=q.session_id,
            actor_id=q.actor_id,
            action=q.action,
            since=_ts(q.since),
            until=_ts(q.until),
            after_id=after,
            limit=q.limit + 1,
        )
        more = len(rows) > q.limit
        rows = rows[: q.limit]
        return m.AuditPage(
            items=[m.AuditEntry.model_validate(r.to_wire()) for r in rows],
            next_cursor=_encode_cursor([rows[-1].id]) if more else None,
        )


def _note(n: dict[str, Any]) -> m.Note:
    return m.Note(
        id=n["id"],
        session_id=n["session_id"],
        author=m.Sender(role=n["author_role"], id=n["author_id"], name=""),
        text=n["text"],
        at=int(n["at"] * 1000),
    )


async def _end_for_erasure(service: SessionService, session_id: str, actor: str) -> bool:
    """End a session still with the assistant or waiting, so that its customer can be erased."""
    now = time.time()
    moved = await service.store.transition(
        session_id,
        allowed_from=[SessionState.VIRTUAL, SessionState.QUEUED],
        to=SessionState.ENDED,
        at=now,
        actor=actor,
        detail="erasure",
        ended_at=now,
    )
    if moved is None:
        return False
    if service.router.dequeue(session_id):
        await service._queue_changed()
    await service._push_state(moved)
    return True


def build(api: Api, deps: Deps) -> None:
    h = Handlers(deps)
    session_path = m.SessionPath
    for endpoint in (
        Endpoint(
            "GET",
            "/sessions",
            "listSessions",
            "List sessions, newest first",
            "sessions:read",
            h.list_sessions,
            "sessions",
            query=m.SessionsQuery,
            response=m.SessionPage,
            description="Filter by state, queue, agent, customer and start time; page on with next_cursor.",
            links={op: {"session_id": "$response.body#/items/0/id"} for op in ("getSession", "addNote")},
        ),
        Endpoint(
            "GET",
            "/sessions/{session_id}",
            "getSession",
            "A session with its transcript and handoff",
            "sessions:read",
            h.get_session,
            "sessions",
            path_model=session_path,
            response=m.SessionDetail,
            description="Reading a session is audited (history.view).",
        ),
        Endpoint(
            "POST",
            "/sessions/{session_id}/notes",
            "addNote",
            "Add a note to a session",
            "sessions:write",
            h.add_note,
            "sessions",
            path_model=session_path,
            body=m.NoteIn,
            response=m.Note,
            status=201,
        ),
        Endpoint(
            "GET",
            "/reports",
            "getReport",
            "Report figures for a period",
            "reports:read",
            h.report,
            "reports",
            query=m.ReportsQuery,
            response=Report,
            description="Sessions that started in [since, until), optionally of one queue and/or agent.",
        ),
        Endpoint(
            "GET",
            "/reports.csv",
            "getReportCsv",
            "The same report as CSV",
            "reports:read",
            h.report_csv,
            "reports",
            query=m.ReportsQuery,
            media_type="text/csv",
            description="One figure a row: section,key,metric,value.",
        ),
        Endpoint(
            "POST",
            "/customers/export",
            "exportCustomer",
            "Everything held about a customer",
            "customers:export",
            h.export_customer,
            "customers",
            body=m.CustomerRef,
            response=m.CustomerExport,
            description="The customer id goes in the body, so it stays out of access logs. Audited.",
        ),
        Endpoint(
            "POST",
            "/customers/erase",
            "eraseCustomer",
            "Erase a customer's personal data",
            "customers:erase",
            h.erase_customer,
            "customers",
            body=m.CustomerRef,
            response=m.ErasureResult,
            errors=(409,),
            description="Removes it from every table and leaves a tombstone in the audit log. Sessions "
            "with the assistant or waiting are ended first; 409 while an agent has one.",
        ),
        Endpoint(
            "GET",
            "/audit",
            "listAudit",
            "The audit log, oldest first",
            "audit:read",
            h.audit,
            "audit",
            query=m.AuditQuery,
            response=m.AuditPage,
        ),
    ):
        api.add(endpoint)


def _attachments(call: Call) -> Any:
    """The app's attachments (signaling_server/attachments/), once it has started."""
    from ..attachments import ATTACHMENTS

    return call.request.app.get(ATTACHMENTS)
