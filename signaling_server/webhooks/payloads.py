"""What each webhook event says, built from a store change inside its transaction.

Every body is ``{"id", "type", "created_at" (ms), "session_id", "data"}``; ``data.session``
is the session's summary as the change left it. docs/deployment.md ("Webhooks") shows each
type's ``data``.

| change                                  | event                 |
|-----------------------------------------|-----------------------|
| virtual -> queued                       | session.escalated     |
| queued -> live                          | session.accepted      |
| live -> queued, or live with a new agent | session.transferred   |
| any -> ended                            | session.ended         |
| csat_score set                          | csat.submitted        |
| left_message_at set                     | message.left          |
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from dcs_sdk.protocol import SessionState

from ..store import MessageRecord, SessionRecord, schema
from ..store.changes import Change

S = SessionState
# A transcript in session.ended holds at most this many messages (the first ones).
MAX_TRANSCRIPT = 2000


def _ms(ts: float | None) -> int | None:
    return int(ts * 1000) if ts is not None else None


def summary(s: SessionRecord) -> dict[str, Any]:
    return {
        "id": s.id,
        "state": s.state.value,
        "queue": s.queue,
        "reason": s.reason,
        "customer": {"id": s.customer_id, "name": s.customer_name},
        "agent": {"id": s.agent_id, "name": s.agent_name or s.agent_id} if s.agent_id else None,
        "created_at": _ms(s.created_at),
        "queued_at": _ms(s.queued_at),
        "accepted_at": _ms(s.accepted_at),
        "first_agent_reply_at": _ms(s.first_agent_reply_at),
        "wrap_up_at": _ms(s.wrap_up_at),
        "ended_at": _ms(s.ended_at),
    }


def _agent(s: SessionRecord | None) -> dict[str, Any] | None:
    if s is None or not s.agent_id:
        return None
    return {"id": s.agent_id, "name": s.agent_name or s.agent_id}


async def _handoff(conn: AsyncConnection, s: SessionRecord) -> dict[str, Any]:
    """What the agent was handed: reason, customer, pages and the assistant's understanding."""
    p = schema.page_views.c
    rows = (
        await conn.execute(select(p.url, p.title, p.ts).where(p.session_id == s.id).order_by(p.id).limit(50))
    ).all()
    return {
        "reason": s.reason,
        "customer": {"id": s.customer_id, "name": s.customer_name, "attributes": dict(s.customer_attrs)},
        "page": s.page,
        "pages": [{"url": url, "title": title, "ts": _ms(ts)} for url, title, ts in rows],
        "understanding": {
            "intent": s.understanding.get("intent"),
            "slots": s.understanding.get("slots", {}),
            "confidence": s.understanding.get("confidence", 0.0),
        },
    }


async def _transcript(conn: AsyncConnection, session_id: str) -> list[dict[str, Any]]:
    m = schema.messages.c
    query = select(schema.messages).where(m.session_id == session_id).order_by(m.seq).limit(MAX_TRANSCRIPT)
    return [MessageRecord.from_row(r).to_wire() for r in (await conn.execute(query)).mappings().all()]


async def events_for(conn: AsyncConnection, change: Change) -> list[tuple[str, dict[str, Any]]]:
    """The (type, data) pairs this change makes, in order (usually none or one)."""
    s, before = change.session, change.before
    out: list[tuple[str, dict[str, Any]]] = []
    data: dict[str, Any]
    if change.kind == "updated":
        if "csat_score" in change.fields and s.csat_score is not None:
            out.append(
                (
                    "csat.submitted",
                    {"session": summary(s), "score": s.csat_score, "comment": s.csat_comment or ""},
                )
            )
        if "left_message_at" in change.fields and s.left_message_at is not None:
            out.append(
                (
                    "message.left",
                    {"session": summary(s), "text": s.left_message, "at": _ms(s.left_message_at)},
                )
            )
        return out
    if change.kind != "transition" or before is None:
        return out
    after = s.state
    if before is S.VIRTUAL and after is S.QUEUED:
        data = {"session": summary(s), "reason_code": change.detail, "handoff": await _handoff(conn, s)}
        out.append(("session.escalated", data))
    elif before is S.QUEUED and after is S.LIVE:
        wait = s.accepted_at - s.queued_at if s.accepted_at and s.queued_at else None
        out.append(("session.accepted", {"session": summary(s), "agent": _agent(s), "wait_s": wait}))
    elif before is S.LIVE and (
        after is S.QUEUED or (after is S.LIVE and change.previous and change.previous.agent_id != s.agent_id)
    ):
        data = {"session": summary(s), "from_agent": _agent(change.previous)}
        out.append(
            ("session.transferred", {**data, "to_agent": _agent(s), "queue": s.queue, "note": change.detail})
        )
    elif after is S.ENDED:
        outcome = {S.VIRTUAL: "contained", S.QUEUED: "abandoned"}.get(before, "handled")
        data = {
            "session": summary(s),
            "outcome": outcome,
            "wrap_up_notes": s.wrap_up_notes,
            "csat": {"score": s.csat_score, "comment": s.csat_comment or ""}
            if s.csat_score is not None
            else None,
            "handoff": await _handoff(conn, s),
            "transcript": await _transcript(conn, s.id),
        }
        out.append(("session.ended", data))
    return out
