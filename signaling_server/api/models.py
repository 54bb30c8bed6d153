"""The REST API's request and response shapes; the OpenAPI document is generated from them.

Times in responses are epoch milliseconds (as on the socket protocol); ``since`` and
``until`` in queries are RFC 3339 date-times with a time zone.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from dcs_sdk.protocol import AgentId, QueueName, SessionId, SessionState

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")


def _rfc3339(value: object) -> object:
    # pydantic would also read "1700000000" as a time; the API takes date-times only
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise ValueError("must be an RFC 3339 date-time with a time zone, e.g. 2026-01-31T00:00:00Z")
    return value


DateTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Cursor = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,200}$")]
NoteText = Annotated[str, StringConstraints(min_length=1, max_length=2000)]

# the audit vocabulary, for the query filter
AuditAction = Annotated[str, StringConstraints(pattern=r"^[a-z_.]{1,40}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# errors


class Error(BaseModel):
    code: str = Field(description="Machine-readable, e.g. forbidden, rate_limited, bad_payload.")
    message: str = Field(description="One sentence for a person.")


# sessions


class SessionsQuery(Strict):
    state: SessionState | None = Field(None, description="Only sessions in this state now.")
    queue: QueueName | None = Field(None, description="Only sessions of this queue (their last one).")
    agent_id: AgentId | None = Field(None, description="Only sessions this agent holds or held last.")
    customer_id: CustomerId | None = Field(None, description="Only this customer's sessions.")
    since: DateTime | None = Field(None, description="Started at or after this time.")
    until: DateTime | None = Field(None, description="Started before this time.")
    limit: int = Field(50, ge=1, le=200, description="Page size.")
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page.")


class SessionSummary(BaseModel):
    id: str
    state: SessionState
    queue: str
    customer_id: str
    customer_name: str
    agent_id: str | None
    agent_name: str | None
    reason: str
    created_at: int
    queued_at: int | None
    accepted_at: int | None
    first_agent_reply_at: int | None
    wrap_up_at: int | None
    ended_at: int | None
    csat_score: int | None
    csat_comment: str | None
    left_message_at: int | None


class SessionPage(BaseModel):
    items: list[SessionSummary]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last.")


class SessionPath(Strict):
    session_id: SessionId


class Sender(BaseModel):
    role: str
    id: str
    name: str


class Message(BaseModel):
    seq: int
    client_id: str
    sender: Sender
    text: str
    ts: int
    suggestions: list[str] = []


class PageVisit(BaseModel):
    url: str
    title: str
    ts: int


class Understanding(BaseModel):
    intent: str | None
    slots: dict[str, Any]
    confidence: float
    unmatched: int


class Customer(BaseModel):
    id: str
    name: str
    attributes: dict[str, Any]


class Handoff(BaseModel):
    customer: Customer
    reason: str
    page: PageVisit
    pages: list[PageVisit]
    understanding: Understanding
    first_message: str
    wrap_up_notes: str
    left_message: str


class Transition(BaseModel):
    from_state: str | None
    to_state: str
    actor: str
    detail: str
    at: int


class NoteIn(Strict):
    text: NoteText = Field(description="The note, plain text.")


class Note(BaseModel):
    id: int
    session_id: str
    author: Sender
    text: str
    at: int


class SessionDetail(BaseModel):
    session: SessionSummary
    handoff: Handoff
    transcript: list[Message]
    transitions: list[Transition]
    notes: list[Note]


# reports


class ReportsQuery(Strict):
    since: DateTime | None = Field(None, description="Start of the period; default: 7 days before until.")
    until: DateTime | None = Field(None, description="End of the period (exclusive); default: now.")
    queue: QueueName | None = None
    agent_id: AgentId | None = None
    bucket: Literal["hour", "day"] = Field("day", description="Volumes per hour or per day (UTC).")


# customers


class CustomerRef(Strict):
    customer_id: CustomerId = Field(description="The customer's identity: their tokens' sub.")


class CustomerExport(BaseModel):
    customer_id: str
    exported_at: int
    sessions: list[dict[str, Any]] = Field(
        description="Every session row, each with `related`: its rows in every other table, by table."
    )
    other: dict[str, list[dict[str, Any]]] = Field(description="Rows of tables keyed by the customer id.")


class ErasureResult(BaseModel):
    customer_digest: str = Field(description="sha256:<hex> of the customer id, as in the tombstone.")
    sessions: int = Field(description="Sessions whose personal data was removed.")
    deleted: dict[str, int] = Field(description="Rows deleted, by table.")
    ended: list[str] = Field(description="Open sessions (with the assistant or queued) ended first.")
    tombstone_id: int = Field(description="The audit row recording the erasure.")


# audit


class AuditQuery(Strict):
    session_id: SessionId | None = None
    actor_id: AgentId | None = None
    action: AuditAction | None = None
    since: DateTime | None = None
    until: DateTime | None = None
    limit: int = Field(100, ge=1, le=500)
    cursor: Cursor | None = Field(None, description="next_cursor of the previous page.")


class AuditActor(BaseModel):
    id: str
    role: str


class AuditEntry(BaseModel):
    id: int
    at: int
    actor: AuditActor
    action: str
    session_id: str | None
    target: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None
