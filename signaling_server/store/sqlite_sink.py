"""A dedicated thread that writes message batches to SQLite with the stdlib driver.

Chat messages are the one hot write path. Through SQLAlchemy + aiosqlite a batch costs
several thread hand-offs and statement compilations; here a whole batch is one hand-off
and one transaction of two prepared statements. Everything else keeps using the engine.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from .records import MessageRecord

INSERT = (
    "INSERT INTO dcs_messages"
    " (session_id, seq, client_id, role, sender_id, sender_name, text, suggestions, ts)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
BUMP_SEQ = "UPDATE dcs_sessions SET last_seq = ? WHERE id = ? AND last_seq < ?"


class SqliteMessageSink:
    def __init__(self, path: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dcs-sqlite-writer")
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
                conn.execute(f"PRAGMA {pragma}")
            self._conn = conn
        return self._conn

    def _write(self, batch: Sequence[MessageRecord]) -> None:
        conn = self._connection()
        rows = [
            (
                m.session_id,
                m.seq,
                m.client_id,
                m.role.value,
                m.sender_id,
                m.sender_name,
                m.text,
                json.dumps(list(m.suggestions)),
                m.ts,
            )
            for m in batch
        ]
        last: dict[str, int] = {}
        for m in batch:
            last[m.session_id] = max(last.get(m.session_id, 0), m.seq)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(INSERT, rows)
            conn.executemany(BUMP_SEQ, [(seq, sid, seq) for sid, seq in last.items()])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    async def write(self, batch: Sequence[MessageRecord]) -> None:
        """One transaction for the batch; sqlite3.IntegrityError if any message collides."""
        await asyncio.get_running_loop().run_in_executor(self._executor, self._write, list(batch))

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)
