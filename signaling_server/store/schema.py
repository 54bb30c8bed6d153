"""Tables, as SQLAlchemy Core metadata; the same schema runs on SQLite and PostgreSQL.

Times are epoch seconds (floats), so that FRT, wait time and handle time are plain
subtractions in SQL on either database.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

sessions = Table(
    "dcs_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", String(128), nullable=False),
    Column("customer_name", String(200), nullable=False, default=""),
    Column("customer_attrs", JSON, nullable=False, default=dict),
    Column("state", String(16), nullable=False),
    Column("queue", String(40), nullable=False, default="general"),
    Column("reason", String(300), nullable=False, default=""),
    Column("first_message", Text, nullable=False, default=""),
    Column("page_url", Text, nullable=False, default=""),
    Column("page_title", String(300), nullable=False, default=""),
    Column("assistant_state", JSON, nullable=False, default=dict),
    Column("understanding", JSON, nullable=False, default=dict),
    Column("agent_id", String(128)),
    Column("agent_name", String(200)),
    Column("last_seq", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("queued_at", Float),
    Column("accepted_at", Float),
    Column("first_agent_reply_at", Float),
    Column("wrap_up_at", Float),
    Column("ended_at", Float),
    Column("wrap_up_notes", Text, nullable=False, default=""),
    # the disposition code the agent picked at wrap-up (workspace.py), "" when none is configured
    Column("wrap_up_disposition", String(40), nullable=False, default="", server_default=""),
    Column("csat_score", Integer),
    Column("csat_comment", Text),
    # A message left for follow-up while no one could serve the queue (followups.py).
    Column("left_message_at", Float),
    Column("left_message", Text, nullable=False, default="", server_default=""),
    Index("ix_dcs_sessions_customer", "customer_id", "created_at"),
    Index("ix_dcs_sessions_state", "state"),
)

# States in which a session is the customer's conversation (wrap_up is the agent's
# paperwork: the customer may already start a new one).
OPEN_STATES = ("virtual", "queued", "live")

# One open session per customer, whatever the concurrency and however many processes: a
# second insert fails here, and the caller resumes the open one.
open_session_per_customer = Index(
    "uq_dcs_sessions_open_customer",
    sessions.c.customer_id,
    unique=True,
    sqlite_where=text("state IN ('virtual', 'queued', 'live')"),
    postgresql_where=text("state IN ('virtual', 'queued', 'live')"),
)

messages = Table(
    "dcs_messages",
    metadata,
    Column("session_id", String(64), ForeignKey("dcs_sessions.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("sender_id", String(128), nullable=False),
    Column("sender_name", String(200), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("suggestions", JSON, nullable=False, default=list),
    Column("ts", Float, nullable=False),
    # a file the message carries (attachments/): {id, name, content_type, size}; else NULL
    Column("attachment", JSON(none_as_null=True)),
    # a system line's {code, args} for clients to show in their language; else NULL
    Column("line", JSON(none_as_null=True)),
    UniqueConstraint("session_id", "client_id", name="uq_dcs_messages_client_id"),
)

# Files sent in a session (signaling_server/attachments/): the bytes live in the attachment
# storage under ``storage_key``; a row without ``message_client_id`` is an upload not sent
# yet (swept after an hour). Session-owned, so erasure and retention remove the rows and
# export lists them (store/privacy.py); the sweep then deletes the bytes.
attachments = Table(
    "dcs_attachments",
    metadata,
    Column("id", String(48), primary_key=True),
    Column("session_id", String(64), ForeignKey("dcs_sessions.id"), nullable=False),
    Column("uploader_id", String(128), nullable=False),
    Column("uploader_role", String(16), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(200), nullable=False),
    # images: their size, and whether a thumbnail is stored at ``storage_key + "-thumb"``
    Column("width", Integer),
    Column("height", Integer),
    Column("has_thumb", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("message_client_id", String(64)),
    Index("ix_dcs_attachments_session", "session_id", "created_at"),
)

# Read receipts (receipts.py): the highest seq each participant has read in a session.
read_marks = Table(
    "dcs_read_marks",
    metadata,
    Column("session_id", String(64), ForeignKey("dcs_sessions.id"), primary_key=True),
    Column("reader_id", String(128), primary_key=True),
    Column("reader_role", String(16), nullable=False),
    Column("reader_name", String(200), nullable=False, default=""),
    Column("seq", Integer, nullable=False),
    Column("at", Float, nullable=False),
)

transitions = Table(
    "dcs_transitions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("dcs_sessions.id"), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(128), nullable=False, default=""),
    Column("detail", String(300), nullable=False, default=""),
    Column("at", Float, nullable=False),
    Index("ix_dcs_transitions_session", "session_id", "id"),
)

page_views = Table(
    "dcs_page_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("dcs_sessions.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("title", String(300), nullable=False, default=""),
    Column("ts", Float, nullable=False),
    Index("ix_dcs_page_views_session", "session_id", "id"),
)

# Who did what to which session, when: staff actions (accept, transfer, observe, whisper,
# barge, move, reassign, set-away, sign-out, ...). Append-only: store/audit.py is the one
# writer and offers no update or delete.
audit = Table(
    "dcs_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor_id", String(128), nullable=False),
    Column("actor_role", String(16), nullable=False),
    Column("action", String(40), nullable=False),
    Column("session_id", String(64)),
    Column("target", String(200), nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
    Index("ix_dcs_audit_session", "session_id", "id"),
    Index("ix_dcs_audit_actor", "actor_id", "id"),
    Index("ix_dcs_audit_at", "at"),
)

# Notes added to a session from outside the chat (the REST API: a CRM's or an order
# system's remark); customer data, so erasure and retention remove them (store/privacy.py).
notes = Table(
    "dcs_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("dcs_sessions.id"), nullable=False),
    Column("author_id", String(128), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_dcs_notes_session", "session_id", "id"),
)

# What the reports (signaling_server/reports/) read by period: sessions by creation time,
# transitions (escalations, transfers) by time. Also added to databases made before them.
# On PostgreSQL these indexes carry the columns the figures read, so the reports scan the
# index alone, not the rows scattered over the table (bench/reports.py): by period, by
# queue, by agent (one agent's report reads their sessions), and a session's transitions
# (its escalation reason, its transfers).
_REPORTED = (
    "id", "state", "queue", "agent_name", "queued_at", "accepted_at", "first_agent_reply_at",
    "ended_at", "csat_score", "left_message_at",
)  # fmt: skip
report_indexes: tuple[Index, ...] = (
    Index("ix_dcs_sessions_created", sessions.c.created_at, postgresql_include=[*_REPORTED, "agent_id"]),
    Index("ix_dcs_sessions_queue_created", sessions.c.queue, sessions.c.created_at),
    Index(
        "ix_dcs_sessions_agent_report",
        sessions.c.agent_id,
        sessions.c.created_at,
        postgresql_include=_REPORTED,
    ),
    Index(
        "ix_dcs_transitions_session_kind",
        transitions.c.session_id,
        transitions.c.from_state,
        transitions.c.to_state,
        postgresql_include=["detail"],
    ),
)

# Report rollups (signaling_server/reports/rollup.py): per day of creation (UTC), queue
# and agent ("" for none), the sessions' counts and sums, so a report over months reads a
# few thousand rows instead of every session. No personal data: staff ids, queue names,
# reason codes, numbers. Days before ``dcs_report_rollup.rolled_until`` are rolled up.
REPORT_COUNTS = (
    "sessions", "contained", "escalated", "answered", "abandoned", "resolved", "left_message",
    "transfers", "csat_count", "score_1", "score_2", "score_3", "score_4", "score_5",
    "abandon_0", "abandon_1", "abandon_2", "abandon_3", "abandon_4", "abandon_5",
    "wait_count", "frt_count", "handle_count",
)  # fmt: skip
REPORT_SUMS = ("csat_sum", "wait_sum", "frt_sum", "handle_sum")
report_daily = Table(
    "dcs_report_daily",
    metadata,
    Column("day", Float, primary_key=True),
    Column("queue", String(40), primary_key=True),
    Column("agent_id", String(128), primary_key=True),
    Column("agent_name", String(200), nullable=False, default=""),
    *(Column(name, Integer, nullable=False, default=0) for name in REPORT_COUNTS),
    *(Column(name, Float, nullable=False, default=0.0) for name in REPORT_SUMS),
)
# The volumes per hour (the Reports view's hourly chart, up to 31 days), per hour of
# creation (UTC), queue and agent: a month's hourly volumes read 40,000 rows, not 160,000
# sessions. Marked separately (``dcs_report_rollup`` row 2), as older databases have
# daily rollups without these.
report_hourly = Table(
    "dcs_report_hourly",
    metadata,
    Column("hour", Float, primary_key=True),
    Column("queue", String(40), primary_key=True),
    Column("agent_id", String(128), primary_key=True),
    *(
        Column(name, Integer, nullable=False, default=0)
        for name in ("sessions", "contained", "escalated", "abandoned")
    ),
)
# Durations in whole seconds (10 s bins past 10 min, 60 s past an hour), per day and queue:
# percentiles and the service level come from these.
report_bins = Table(
    "dcs_report_bins",
    metadata,
    Column("day", Float, primary_key=True),
    Column("queue", String(40), primary_key=True),
    Column("metric", String(8), primary_key=True),
    Column("bin", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)
# the same per agent too (one agent's report reads only theirs)
report_agent_bins = Table(
    "dcs_report_agent_bins",
    metadata,
    Column("day", Float, primary_key=True),
    Column("queue", String(40), primary_key=True),
    Column("agent_id", String(128), primary_key=True),
    Column("metric", String(8), primary_key=True),
    Column("bin", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)
# One agent's report reads their bins by agent, then day (the primary key leads with the
# day: a year of every agent's bins scanned for one agent's, bench/reports.py).
report_indexes = (
    *report_indexes,
    Index(
        "ix_dcs_report_agent_bins_agent",
        report_agent_bins.c.agent_id,
        report_agent_bins.c.day,
        postgresql_include=["queue", "metric", "bin", "count"],
    ),
)
report_reasons = Table(
    "dcs_report_reasons",
    metadata,
    Column("day", Float, primary_key=True),
    Column("queue", String(40), primary_key=True),
    Column("agent_id", String(128), primary_key=True),
    Column("reason", String(40), primary_key=True),
    Column("count", Integer, nullable=False),
)
report_rollup = Table(
    "dcs_report_rollup",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("rolled_until", Float, nullable=False),
    Column("rolled_at", Float, nullable=False),
)

# Notes between staff about a session: a supervisor's whisper to the agent, the consult
# between two agents on a transfer, a transfer's note. Never part of the customer's
# history (dcs_messages), never sent to the widget (store/notes.py).
staff_notes = Table(
    "dcs_staff_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("author_id", String(128), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("author_name", String(200), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("ts", Float, nullable=False),
    Index("ix_dcs_staff_notes_session", "session_id", "id"),
)

# Warm transfers waiting for the receiving agent (transfers.py): the truth for every
# process, so any of them can deliver, accept, decline or time out a transfer, and one
# survives the restart of the process that offered it. ``state`` leaves ``pending`` by one
# conditional UPDATE (to accepted, declined, timed_out, cancelled or failed): whoever makes
# it is the one who announces the outcome, exactly once.
transfers = Table(
    "dcs_transfers",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("session_id", String(64), nullable=False),
    Column("from_id", String(128), nullable=False),
    Column("from_name", String(200), nullable=False, default=""),
    Column("to_id", String(128), nullable=False),
    Column("to_name", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("reason", String(300), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("deadline", Float, nullable=False),
    Column("state", String(16), nullable=False, default="pending"),
    Column("finished_at", Float),
    Index("ix_dcs_transfers_session", "session_id", "state"),
    Index("ix_dcs_transfers_due", "state", "deadline"),
    # one transfer of a session waits at a time, whichever process offers it
    Index(
        "uq_dcs_transfers_pending",
        "session_id",
        unique=True,
        postgresql_where=text("state = 'pending'"),
        sqlite_where=text("state = 'pending'"),
    ),
)

# Webhooks (signaling_server/webhooks/): the outbox, one row per event and endpoint, written
# in the transaction of the change it reports; delivered in id order per session and
# endpoint, retried with backoff until a 2xx. ``body`` is the exact JSON sent (signed per
# attempt). Erasure and retention (store/privacy.py) delete them with their session's data.
webhook_outbox = Table(
    "dcs_webhook_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("session_id", String(64), nullable=False),
    Column("customer_id", String(128), nullable=False, default=""),
    Column("body", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    # pending -> delivered, or failed (gave up after webhook_give_up_after_s; re-sendable)
    Column("state", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    # a worker's claim while it delivers (another process skips the row until then)
    Column("locked_until", Float),
    Column("delivered_at", Float),
    Column("last_error", String(300), nullable=False, default=""),
    UniqueConstraint("event_id", "endpoint", name="uq_dcs_webhook_outbox_event_endpoint"),
    Index("ix_dcs_webhook_outbox_due", "endpoint", "state", "next_attempt_at"),
    Index("ix_dcs_webhook_outbox_session", "endpoint", "session_id", "id"),
    Index("ix_dcs_webhook_outbox_customer", "customer_id"),
)

# The delivery log: one row per attempt (what the endpoint answered, or why it failed).
webhook_deliveries = Table(
    "dcs_webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", Integer, ForeignKey("dcs_webhook_outbox.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("status", Integer),  # the HTTP status, None when no answer came
    Column("error", String(300), nullable=False, default=""),
    Column("duration_ms", Float, nullable=False),
    # "resend": a supervisor asked for it again (the row's other fields are then empty)
    Column("kind", String(16), nullable=False, default="attempt"),
    Index("ix_dcs_webhook_deliveries_outbox", "outbox_id", "id"),
    Index("ix_dcs_webhook_deliveries_event", "event_id", "id"),
)
