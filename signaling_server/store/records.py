"""Rows as typed values, and their wire shapes (docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dcs_sdk.protocol import Role, SessionState


@dataclass(frozen=True, slots=True)
class MessageRecord:
    session_id: str
    seq: int
    client_id: str
    role: Role
    sender_id: str
    sender_name: str
    text: str
    ts: float
    suggestions: tuple[str, ...] = ()
    # a file the message carries (attachments/): {id, name, content_type, size}
    attachment: Mapping[str, Any] | None = None
    # a system line's code and arguments ({code, args}, sessions.system_line), so each
    # client can show it in its own language; ``text`` is the English
    line: Mapping[str, Any] | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "session_id": self.session_id,
            "seq": self.seq,
            "client_id": self.client_id,
            "sender": {"role": self.role.value, "id": self.sender_id, "name": self.sender_name},
            "text": self.text,
            "ts": int(self.ts * 1000),
        }
        if self.suggestions:
            wire["suggestions"] = list(self.suggestions)
        if self.attachment:
            wire["kind"] = "attachment"
            wire["attachment"] = dict(self.attachment)
        if self.line:
            wire["line"] = dict(self.line)
        return wire

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> MessageRecord:
        return cls(
            session_id=row["session_id"],
            seq=row["seq"],
            client_id=row["client_id"],
            role=Role(row["role"]),
            sender_id=row["sender_id"],
            sender_name=row["sender_name"],
            text=row["text"],
            ts=row["ts"],
            suggestions=tuple(row["suggestions"] or ()),
            attachment=row.get("attachment"),
            line=row.get("line"),
        )


# The session's first customer message (its text, as agents see it in the queue) and the
# first reply of a person (for FRT): set by the transaction that stores those messages.
FIRST_MESSAGE_CHARS = 500
STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR)


def firsts(messages: Iterable[MessageRecord]) -> tuple[str, float | None]:
    """(the first customer text, the first staff reply's ts) among ``messages`` of one
    session, in order: what the session row gets if it has neither yet."""
    text, replied_at = "", None
    for m in messages:
        if not text and m.role is Role.CUSTOMER:
            text = m.text[:FIRST_MESSAGE_CHARS]
        elif replied_at is None and m.role in STAFF_ROLES:
            replied_at = m.ts
    return text, replied_at


@dataclass(frozen=True, slots=True)  # one per open session, in the cache: kept small
class SessionRecord:
    id: str
    customer_id: str
    state: SessionState
    created_at: float
    customer_name: str = ""
    customer_attrs: Mapping[str, Any] = field(default_factory=dict)
    queue: str = "general"
    reason: str = ""
    first_message: str = ""
    page_url: str = ""
    page_title: str = ""
    assistant_state: Mapping[str, Any] = field(default_factory=dict)
    understanding: Mapping[str, Any] = field(default_factory=dict)
    agent_id: str | None = None
    agent_name: str | None = None
    last_seq: int = 0
    queued_at: float | None = None
    accepted_at: float | None = None
    first_agent_reply_at: float | None = None
    wrap_up_at: float | None = None
    ended_at: float | None = None
    wrap_up_notes: str = ""
    wrap_up_disposition: str = ""
    csat_score: int | None = None
    csat_comment: str | None = None
    left_message_at: float | None = None
    left_message: str = ""

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> SessionRecord:
        values = dict(row)
        values["state"] = SessionState(values["state"])
        return cls(**values)

    @property
    def page(self) -> dict[str, str]:
        return {"url": self.page_url, "title": self.page_title}

    def to_wire(
        self,
        *,
        position: int | None = None,
        estimated_wait_s: int | None = None,
        availability: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The ``Session`` shape of docs/protocol.md."""
        queued = self.state is SessionState.QUEUED
        return {
            "session_id": self.id,
            "state": self.state.value,
            "queue": self.queue,
            "position": position if queued else None,
            "estimated_wait_s": estimated_wait_s if queued else None,
            "availability": dict(availability) if queued and availability is not None else None,
            "left_message_at": int(self.left_message_at * 1000) if self.left_message_at else None,
            "agent": {"id": self.agent_id, "name": self.agent_name or self.agent_id}
            if self.agent_id
            else None,
            "csat": {"score": self.csat_score, "comment": self.csat_comment or ""}
            if self.csat_score is not None
            else None,
        }
