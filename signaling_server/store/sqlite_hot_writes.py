"""The hot writes on SQLite, with the stdlib driver, on the event loop's thread.

Chat message batches and new sessions are the hot write paths. Through SQLAlchemy +
aiosqlite each costs several thread hand-offs (a GIL exchange each way, a wake-up of the
loop) and statement executions: a new session's transaction was most of what a lone
session.start cost. Here a batch is one transaction of two prepared statements, a new
session one of its three or four rows, run inline: in WAL mode with synchronous=NORMAL a commit only
appends to the WAL file (tens of microseconds for a batch), which is cheaper than handing
it to a thread. What can block — checkpointing the WAL into the database, which syncs —
is taken off the commit path (wal_autocheckpoint=0) and run in a worker thread instead.
Everything else keeps using the engine.

A checkpoint beside steady writes never lets the WAL start over: it copies the frames that
were there when it began, the commits meanwhile add more, and SQLite rewinds the WAL only
when a writer finds every frame copied, so the file grew by every commit (17 KB per
message, 200 MB in a minute of the chat benchmark) and every page lookup slowed with it.
So the worker follows each PASSIVE checkpoint (the long copy, writers carry on) with a
RESTART one: it copies the few frames written meanwhile and holds new writers off for
that moment, after which the next commit starts the WAL from the beginning. A commit that
finds it under way goes to the waiting connection, as for any other lock.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Table

from . import schema
from .errors import SessionGone
from .records import MessageRecord, firsts
from .sqlite_rows import SqliteInserts

INSERT = (
    "INSERT INTO dcs_messages"
    " (session_id, seq, client_id, role, sender_id, sender_name, text, suggestions, ts, attachment, line)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Every SQLite connection of the store: WAL lets readers run beside the writer, and NORMAL
# syncs at checkpoints rather than at each commit.
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000")
# Seqs are allocated in the same transaction as the rows, from the session row; the same
# statement sets the session's first customer message and first staff reply if unset.
ALLOCATE = (
    "UPDATE dcs_sessions SET last_seq = last_seq + ?,"
    " first_message = CASE WHEN first_message = '' THEN ? ELSE first_message END,"
    " first_agent_reply_at = COALESCE(first_agent_reply_at, ?)"
    " WHERE id = ? RETURNING last_seq"
)


def _row(m: MessageRecord, seq: int) -> tuple[Any, ...]:
    return (
        m.session_id,
        seq,
        m.client_id,
        m.role.value,
        m.sender_id,
        m.sender_name,
        m.text,
        json.dumps(list(m.suggestions)) if m.suggestions else "[]",
        m.ts,
        json.dumps(dict(m.attachment)) if m.attachment else None,
        json.dumps(dict(m.line)) if m.line else None,
    )


RESTART_WAIT_MS = 50
T = TypeVar("T")


class SqliteHotWrites:
    CHECKPOINT_EVERY_S = 2.0

    def __init__(self, path: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dcs-sqlite-checkpoint")
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._waiting: sqlite3.Connection | None = None
        self._checkpoint: asyncio.Future[None] | None = None
        self._last_checkpoint = 0.0
        self._inserts = SqliteInserts()

    def _open(self, *pragmas: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        for pragma in (*SQLITE_PRAGMAS, *pragmas):
            conn.execute(f"PRAGMA {pragma}")
        return conn

    def _connection(self) -> sqlite3.Connection:
        """The loop thread's connection: it never waits for the file lock (busy_timeout=0),
        and skips the foreign-key lookup per row, since the same transaction's seq
        allocation has just found the session row (or raised SessionGone)."""
        if self._conn is None:
            self._conn = self._open("wal_autocheckpoint=0", "busy_timeout=0", "foreign_keys=OFF")
        return self._conn

    def _waiting_connection(self) -> sqlite3.Connection:
        """The worker thread's connection, for a batch that found the lock taken: it waits."""
        if self._waiting is None:
            self._waiting = self._open("wal_autocheckpoint=0", "foreign_keys=OFF")
        return self._waiting

    def _run_checkpoint(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            # Brief: it only waits this long for a reader or writer under way (then the
            # next round tries again), and copies what the PASSIVE one left.
            conn.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
            conn.execute("PRAGMA wal_checkpoint(RESTART)")
        finally:
            conn.close()

    def _maybe_checkpoint(self) -> None:
        loop = asyncio.get_running_loop()
        if self._checkpoint is not None and not self._checkpoint.done():
            return
        if loop.time() - self._last_checkpoint < self.CHECKPOINT_EVERY_S:
            return
        self._last_checkpoint = loop.time()
        self._checkpoint = loop.run_in_executor(self._executor, self._run_checkpoint)

    def _write(self, batch: Sequence[MessageRecord], conn: sqlite3.Connection) -> list[MessageRecord]:
        by_session: dict[str, list[MessageRecord]] = defaultdict(list)
        for m in batch:
            by_session[m.session_id].append(m)
        conn.execute("BEGIN IMMEDIATE")
        try:
            last: dict[str, int] = {}
            for sid in sorted(by_session):
                count = len(by_session[sid])
                text, replied_at = firsts(by_session[sid])
                rows = conn.execute(ALLOCATE, (count, text, replied_at, sid)).fetchall()
                if not rows:
                    raise SessionGone(sid)
                last[sid] = int(rows[0][0]) - count
            seqs = []
            for m in batch:
                last[m.session_id] += 1
                seqs.append(last[m.session_id])
            if len(batch) == 1:
                conn.execute(INSERT, _row(batch[0], seqs[0]))
            else:
                conn.executemany(INSERT, [_row(m, seq) for m, seq in zip(batch, seqs, strict=True)])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return [replace(m, seq=seq) for m, seq in zip(batch, seqs, strict=True)]

    async def write(self, batch: Sequence[MessageRecord]) -> list[MessageRecord]:
        """One transaction for the batch, seqs allocated inside it: the stored messages.

        Raises (sqlite3.IntegrityError on a collision, SessionGone, UnicodeEncodeError for
        text SQLite cannot take) and stores nothing when any message fails.
        """
        return await self._run(lambda conn: self._write(list(batch), conn))

    async def create_session(
        self,
        session: dict[str, Any],
        transition: dict[str, Any],
        page: dict[str, Any] | None,
        messages: Sequence[MessageRecord],
    ) -> None:
        """A new session's rows (as Store.create_session gives them) in one transaction;
        sqlite3.IntegrityError when the database refuses the session (another open one)."""
        rows: list[tuple[Table, dict[str, Any]]] = [
            (schema.sessions, session),
            (schema.transitions, transition),
        ]
        if page is not None:
            rows.append((schema.page_views, page))
        await self._run(lambda conn: self._insert(rows, messages, conn))

    def _insert(
        self,
        rows: list[tuple[Table, dict[str, Any]]],
        messages: Sequence[MessageRecord],
        conn: sqlite3.Connection,
    ) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table, row in rows:
                conn.execute(*self._inserts.of(table, row))
            if messages:
                conn.executemany(INSERT, [_row(m, m.seq) for m in messages])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in a transaction on the loop's connection; when the engine holds the
        write lock (a state transition), on the waiting connection in a thread instead."""
        try:
            done = work(self._connection())
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            done = await asyncio.get_running_loop().run_in_executor(
                self._executor, lambda: work(self._waiting_connection())
            )
        self._maybe_checkpoint()
        return done

    async def close(self) -> None:
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        self._executor.shutdown(wait=True)
        if self._waiting is not None:
            self._waiting.close()
            self._waiting = None
        if self._conn is not None:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._conn.close()
            self._conn = None
