"""Persistence for sessions, messages, transitions and page views (SQLAlchemy Core, async).

SQLite (``sqlite+aiosqlite:///path``) is the embedded default; PostgreSQL
(``postgresql+asyncpg://user@host/db``) is the choice for scale. Every state change is
written with its transition row in one transaction, so metrics come from the record.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import Index, case, event, func, insert, inspect, select, text, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.schema import CreateColumn

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.protocol import HISTORY_PAGE, SessionState

from . import schema
from .changes import Change, Changes, timed
from .errors import AtCapacity, OpenSessionExists, SessionGone, UnstorableMessage
from .records import MessageRecord, SessionRecord, firsts
from .sqlite_hot_writes import SQLITE_PRAGMAS, SqliteHotWrites

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _is_unstorable(exc: BaseException) -> bool:
    """Whether the database refused the data itself (NUL on PostgreSQL, a lone surrogate
    anywhere: SQLSTATE class 22, or the driver could not encode it), not the moment."""
    if isinstance(exc, DataError | UnicodeError):
        return True
    if isinstance(exc, DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or getattr(exc.orig, "pgcode", "") or "")
        cause = exc.orig.__cause__ if exc.orig is not None else None
        return sqlstate.startswith("22") or isinstance(exc.orig, ValueError) or isinstance(cause, ValueError)
    return False


# An agent holds a session from accepting it until its wrap-up is done (routing's seats).
HELD_STATES = (SessionState.LIVE.value, SessionState.WRAP_UP.value)

# A new session's statements, built once: SQLAlchemy then reuses their compiled form, where
# insert(...).values(...) per call cost more than the database (a lone start's hot spot).
_INSERT_SESSION = insert(schema.sessions)
_INSERT_TRANSITION = insert(schema.transitions)
_INSERT_PAGE_VIEW = insert(schema.page_views)
_INSERT_MESSAGE = insert(schema.messages)


def _shallow(record: Any) -> dict[str, Any]:
    """A dataclass's fields as a dict, without asdict's deep copy of every nested value."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _message_row(message: MessageRecord) -> dict[str, Any]:
    values = _shallow(message)
    values["role"] = message.role.value
    values["suggestions"] = list(message.suggestions)
    values["attachment"] = dict(message.attachment) if message.attachment else None
    values["line"] = dict(message.line) if message.line else None
    return values


async def _ensure_index(engine: AsyncEngine, index: Index) -> bool:
    """Add an index that a database made by an older version lacks (create_all adds
    indexes only with their tables); whether it is there now."""
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: index.create(sync, checkfirst=True))
    except IntegrityError as exc:  # rows from before the rule break it: say so, carry on
        log.warning("cannot add %s to an existing database: %s", index.name, exc)
        return False
    return True


def _add_missing_columns(sync: Any) -> None:
    """Add the columns a database made by an older version lacks (create_all adds none to
    an existing table); each new column is nullable or has a server default."""
    existing = {
        table: {c["name"] for c in inspect(sync).get_columns(table)}
        for table in ("dcs_sessions", "dcs_messages")
    }
    for name, have in existing.items():
        table = schema.metadata.tables[name]
        for column in table.columns:
            if column.name not in have:
                ddl = CreateColumn(column).compile(dialect=sync.dialect)
                sync.execute(text(f"ALTER TABLE {name} ADD COLUMN {ddl}"))
                log.info("added column %s.%s to an existing database", name, column.name)


# How long a closing store waits for aiosqlite's threads to finish the call they are in.
CLOSE_WAIT_S = 2.0


def _thread_tracker(threads: weakref.WeakSet[threading.Thread]) -> Callable[[Any, Any], None]:
    """A connect listener noting each new connection's aiosqlite thread in ``threads``."""

    def remember(dbapi_conn: Any, _record: Any) -> None:
        thread = getattr(getattr(dbapi_conn, "_connection", None), "_thread", None)
        if isinstance(thread, threading.Thread):
            threads.add(thread)

    return remember


async def _threads_done(threads: weakref.WeakSet[threading.Thread], within_s: float) -> None:
    """Wait until aiosqlite's threads have finished the call each was in: SQLAlchemy stops a
    connection whose task was cancelled without waiting, and a thread that finishes its
    call after the event loop closed fails on its way back (a traceback in any process
    that shuts down, an error in the next test of a suite)."""
    deadline = time.monotonic() + within_s
    for thread in list(threads):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if thread.is_alive() and thread is not threading.current_thread():
            await asyncio.to_thread(thread.join, left)


class Store:
    def __init__(
        self,
        engine: AsyncEngine,
        sqlite_path: str | None = None,
        threads: weakref.WeakSet[threading.Thread] | None = None,
    ) -> None:
        # aiosqlite's threads of this store's connections (SQLite), awaited on close
        self._threads = threads if threads is not None else weakref.WeakSet()
        self.engine = engine
        # SQLite: the hot writes (message batches, new sessions) with the stdlib driver on the
        # loop (sqlite_hot_writes.py); everything else through the engine.
        self._hot = SqliteHotWrites(sqlite_path) if sqlite_path else None
        # Listeners of session changes and a write timer (metrics, webhooks: changes.py).
        self.changes = Changes()
        # The database itself refuses a customer's second open session (its partial unique
        # index), so a new session can be inserted without looking for an open one first.
        self.one_open_per_customer = False

    @classmethod
    async def open(cls, url: str) -> Store:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ConfigError(
                f"Unsupported database URL {url.split('://')[0]!r}: use "
                "sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db."
            )
        if url.startswith("sqlite"):
            # SQLite has one writer at a time; several pooled connections would only fight
            # over the file lock (and sleep in its busy handler). One connection, queued.
            engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=30)
        else:
            engine = create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
        threads: weakref.WeakSet[threading.Thread] = weakref.WeakSet()
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(engine.sync_engine, "connect", _thread_tracker(threads))
        async with engine.begin() as conn:
            await conn.run_sync(schema.metadata.create_all)
            await conn.run_sync(_add_missing_columns)
        one_open = await _ensure_index(engine, schema.open_session_per_customer)
        for index in schema.report_indexes:
            await _ensure_index(engine, index)
        sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
        store = cls(engine, sqlite_path if sqlite_path not in (None, "", ":memory:") else None, threads)
        store.one_open_per_customer = one_open
        return store

    async def close(self) -> None:
        if self._hot is not None:
            await self._hot.close()
        await self.engine.dispose()
        await _threads_done(self._threads, CLOSE_WAIT_S)

    # sessions

    @timed("create_session")
    async def create_session(
        self,
        record: SessionRecord,
        *,
        actor: str,
        first_page: bool = False,
        messages: Sequence[MessageRecord] = (),
    ) -> None:
        """Insert a new session (and, with ``first_page``, its page as the first page view,
        and its first ``messages``, seqs 1.. as ``record.last_seq`` says: the greeting) in
        one transaction; OpenSessionExists when the customer has an open one already."""
        values = _shallow(record)
        values["state"] = record.state.value
        transition = {
            "session_id": record.id,
            "from_state": None,
            "to_state": record.state.value,
            "actor": actor,
            "at": record.created_at,
        }
        created = Change("created", record, None, record.created_at, actor)
        page = {
            "session_id": record.id,
            "url": record.page_url,
            "title": record.page_title,
            "ts": record.created_at,
        }
        if self._hot is not None and not self.changes.within_wanted("created"):
            try:  # SQLite, and no listener writes in a creation's transaction: one inline
                await self._hot.create_session(values, transition, page if first_page else None, messages)
            except sqlite3.IntegrityError as exc:
                if await self.latest_open_session(record.customer_id):
                    raise OpenSessionExists(record.customer_id) from exc
                raise
            self.changes.committed(created)
            return
        try:
            async with self.engine.begin() as conn:
                await conn.execute(_INSERT_SESSION, values)
                await conn.execute(_INSERT_TRANSITION, transition)
                if first_page:
                    await conn.execute(_INSERT_PAGE_VIEW, page)
                if messages:
                    await conn.execute(_INSERT_MESSAGE, [_message_row(m) for m in messages])
                await self.changes.within(conn, created)
            self.changes.committed(created)
        except IntegrityError as exc:
            if record.state.value in schema.OPEN_STATES and await self.latest_open_session(
                record.customer_id
            ):
                raise OpenSessionExists(record.customer_id) from exc
            raise

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self.engine.connect() as conn:
            return await self._get_session(conn, session_id)

    async def _get_session(self, conn: Any, session_id: str) -> SessionRecord | None:
        row = (
            (await conn.execute(select(schema.sessions).where(schema.sessions.c.id == session_id)))
            .mappings()
            .first()
        )
        return SessionRecord.from_row(row) if row else None

    async def latest_open_session(self, customer_id: str) -> SessionRecord | None:
        query = (
            select(schema.sessions)
            .where(schema.sessions.c.customer_id == customer_id)
            .where(schema.sessions.c.state.in_(schema.OPEN_STATES))
            .order_by(schema.sessions.c.created_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return SessionRecord.from_row(row) if row else None

    async def sessions_in(self, states: Iterable[SessionState]) -> list[SessionRecord]:
        query = (
            select(schema.sessions)
            .where(schema.sessions.c.state.in_([s.value for s in states]))
            .order_by(schema.sessions.c.queued_at, schema.sessions.c.created_at)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [SessionRecord.from_row(r) for r in rows]

    async def sessions_of_agent(self, agent_id: str) -> list[SessionRecord]:
        """Sessions an agent holds (live or in wrap-up)."""
        s = schema.sessions.c
        held = [SessionState.LIVE.value, SessionState.WRAP_UP.value]
        query = select(schema.sessions).where(s.agent_id == agent_id, s.state.in_(held))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query.order_by(s.accepted_at))).mappings().all()
        return [SessionRecord.from_row(r) for r in rows]

    @timed("update_session")
    async def update_session(self, session_id: str, **fields: Any) -> None:
        changed = None
        async with self.engine.begin() as conn:
            await conn.execute(
                update(schema.sessions).where(schema.sessions.c.id == session_id).values(**fields)
            )
            if self.changes.notable(fields) and (row := await self._get_session(conn, session_id)):
                changed = Change("updated", row, None, time.time(), fields=fields)
                await self.changes.within(conn, changed)
        self.changes.committed(changed)

    @timed("transition")
    async def transition(
        self,
        session_id: str,
        *,
        allowed_from: Iterable[SessionState],
        to: SessionState,
        at: float,
        actor: str,
        detail: str = "",
        agent_holds_below: int | None = None,
        lines: Sequence[MessageRecord] = (),
        **fields: Any,
    ) -> SessionRecord | None:
        """Move a session to ``to`` if it is in one of ``allowed_from``; None if it was not.

        ``lines`` (messages of this session, seq 0) are stored in the same transaction and
        take its last seqs: the moved session's ``last_seq`` is the last line's. So a line
        that says why the session moved is there exactly when it moved, and in what a
        webhook built from the change reads.

        The conditional UPDATE makes races (two agents accepting at once) safe even across
        server processes: exactly one UPDATE matches. With ``agent_holds_below`` (the
        ``agent_id`` it gives the session to may hold fewer than that many), AtCapacity when
        they hold that many already, counted in the same transaction while their other
        assignments wait (PostgreSQL: a lock per agent; SQLite has one writer).
        """
        allowed = [s.value for s in allowed_from]
        async with self.engine.begin() as conn:
            current = await self._get_session(conn, session_id)
            if current is None or current.state.value not in allowed:
                return None
            if agent_holds_below is not None:
                await self._check_capacity(conn, str(fields["agent_id"]), agent_holds_below)
            result = await conn.execute(
                update(schema.sessions)
                .where(schema.sessions.c.id == session_id)
                .where(schema.sessions.c.state == current.state.value)
                .values(state=to.value, **fields)
            )
            if result.rowcount != 1:
                return None
            await conn.execute(
                insert(schema.transitions).values(
                    session_id=session_id,
                    from_state=current.state.value,
                    to_state=to.value,
                    actor=actor,
                    detail=detail[:300],
                    at=at,
                )
            )
            if lines:
                last = await self._allocate(conn, lines)
                rows = [_message_row(replace(m, seq=last + i)) for i, m in enumerate(lines, 1)]
                await conn.execute(insert(schema.messages), rows)
            moved = await self._get_session(conn, session_id)
            changed = (
                None if moved is None else Change("transition", moved, current, at, actor, detail, fields)
            )
            if changed is not None and self.changes:
                await self.changes.within(conn, changed)
        self.changes.committed(changed)
        return moved

    async def _check_capacity(self, conn: Any, agent_id: str, limit: int) -> None:
        if conn.dialect.name == "postgresql":  # the agent's other assignments wait for this one
            await conn.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(agent_id, 0))))
        s = schema.sessions.c
        held = await conn.scalar(
            select(func.count())
            .select_from(schema.sessions)
            .where(s.agent_id == agent_id, s.state.in_(HELD_STATES))
        )
        if int(held or 0) >= limit:
            raise AtCapacity(agent_id)

    async def transitions_of(self, session_id: str) -> list[dict[str, Any]]:
        query = (
            select(schema.transitions)
            .where(schema.transitions.c.session_id == session_id)
            .order_by(schema.transitions.c.id)
        )
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings().all()]

    async def recent_waits(self, limit: int = 20) -> list[float]:
        """Queue waits (seconds) of the most recently accepted sessions, newest first."""
        s = schema.sessions.c
        query = (
            select((s.accepted_at - s.queued_at).label("wait"))
            .where(s.accepted_at.is_not(None), s.queued_at.is_not(None))
            .order_by(s.accepted_at.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            return [float(w) for (w,) in (await conn.execute(query)).all()]

    # messages

    async def append_message(self, message: MessageRecord) -> tuple[MessageRecord, bool]:
        """Store one message in a transaction of its own, with the next seq of its session.

        A ``client_id`` the session already holds is answered with the message stored the
        first time, (it, False), and allocates nothing; otherwise (stored, True).
        """
        m = schema.messages.c
        existing_query = select(schema.messages).where(
            m.session_id == message.session_id, m.client_id == message.client_id
        )
        try:
            async with self.engine.begin() as conn:
                row = (await conn.execute(existing_query)).mappings().first()
                if row is not None:
                    return MessageRecord.from_row(row), False
                last = await self._allocate(conn, [message])
                stored = replace(message, seq=last + 1)
                await conn.execute(insert(schema.messages).values(**_message_row(stored)))
        except IntegrityError:  # the same client_id, stored meanwhile by another process
            existing = await self.message_by_client_id(message.session_id, message.client_id)
            if existing is None:
                raise
            return existing, False
        except Exception as exc:
            if _is_unstorable(exc):
                raise UnstorableMessage(str(exc).split("\n", 1)[0]) from exc
            raise
        return stored, True

    @timed("messages")
    async def insert_messages(self, batch: Sequence[MessageRecord]) -> list[MessageRecord]:
        """Store a batch in one transaction, each message with the next seq of its session.

        The seqs are allocated by the same transaction (``last_seq`` of the session row), so
        a batch that fails leaves no gap and a restart continues where the database is.
        Raises if any message cannot be stored (a collision, a missing session, bad text):
        the caller then stores them one by one.
        """
        if self._hot is not None:
            return await self._hot.write(batch)
        by_session: dict[str, list[MessageRecord]] = defaultdict(list)
        for message in batch:
            by_session[message.session_id].append(message)
        async with self.engine.begin() as conn:
            last = {sid: await self._allocate(conn, by_session[sid]) for sid in sorted(by_session)}
            stored = []
            for message in batch:
                last[message.session_id] += 1
                stored.append(replace(message, seq=last[message.session_id]))
            await conn.execute(insert(schema.messages), [_message_row(m) for m in stored])
        return stored

    async def _allocate(self, conn: Any, messages: Sequence[MessageRecord]) -> int:
        """Reserve seqs for ``messages`` (of one session) in its row, locked until the
        transaction ends, and set its first customer message and first staff reply if
        unset; returns the last seq before them."""
        s = schema.sessions.c
        session_id, count = messages[0].session_id, len(messages)
        text, replied_at = firsts(messages)
        row = (
            await conn.execute(
                update(schema.sessions)
                .where(s.id == session_id)
                .values(
                    last_seq=s.last_seq + count,
                    first_message=case((s.first_message == "", text), else_=s.first_message),
                    first_agent_reply_at=func.coalesce(s.first_agent_reply_at, replied_at),
                )
                .returning(s.last_seq)
            )
        ).first()
        if row is None:
            raise SessionGone(session_id)
        return int(row[0]) - count

    async def message_by_client_id(self, session_id: str, client_id: str) -> MessageRecord | None:
        m = schema.messages.c
        query = select(schema.messages).where(m.session_id == session_id, m.client_id == client_id)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).mappings().first()
        return MessageRecord.from_row(row) if row else None

    async def messages_after(
        self, session_id: str, after_seq: int = 0, limit: int | None = HISTORY_PAGE
    ) -> list[MessageRecord]:
        """The session's messages after ``after_seq``, in order: a page of ``limit`` (None:
        all of them, for a transcript)."""
        m = schema.messages.c
        query = (
            select(schema.messages)
            .where(m.session_id == session_id, m.seq > after_seq)
            .order_by(m.seq)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [MessageRecord.from_row(r) for r in rows]

    # page views

    async def add_page_view(self, session_id: str, url: str, title: str, ts: float) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(schema.page_views).values(session_id=session_id, url=url, title=title, ts=ts)
            )
            await conn.execute(
                update(schema.sessions)
                .where(schema.sessions.c.id == session_id)
                .values(page_url=url, page_title=title)
            )

    async def page_views(self, session_id: str, limit: int = 50) -> Sequence[dict[str, Any]]:
        p = schema.page_views.c
        query = (
            select(p.url, p.title, p.ts).where(p.session_id == session_id).order_by(p.id.desc()).limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [dict(r) for r in reversed(rows)]
