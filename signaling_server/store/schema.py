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
    UniqueConstraint("session_id", "client_id", name="uq_dcs_messages_client_id"),
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
