"""SQLite's WAL stays bounded under steady chat traffic (store/sqlite_hot_writes.py).

A PASSIVE checkpoint beside steady commits never lets SQLite rewind the WAL, so the file
grew by every commit for as long as traffic lasted. Real SQLite, the real sink, messages
spaced as a busy server's are."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from dcs_sdk.protocol import Role, SessionState
from signaling_server.store import MessageRecord, SessionRecord, Store
from signaling_server.store.sqlite_hot_writes import SqliteHotWrites

MESSAGES = 2500
# Without the rewind the WAL passed 40 MB here (about 17 KB per commit); with it, it holds a
# checkpoint interval's worth of commits.
WAL_BOUND_BYTES = 4 * 1024 * 1024


async def test_the_wal_is_rewound_while_messages_keep_coming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SqliteHotWrites, "CHECKPOINT_EVERY_S", 0.05)
    db = tmp_path / "dcs.sqlite3"
    wal = tmp_path / "dcs.sqlite3-wal"
    store = await Store.open(f"sqlite+aiosqlite:///{db}")
    try:
        await store.create_session(
            SessionRecord(id="s_wal", customer_id="v1", state=SessionState.LIVE, created_at=time.time()),
            actor="v1",
        )
        largest = 0
        for i in range(MESSAGES):
            draft = MessageRecord("s_wal", 0, f"c{i}", Role.CUSTOMER, "v1", "", f"message {i}", time.time())
            await store.insert_messages([draft])
            await asyncio.sleep(0.001)  # a busy server's spacing: the checkpoints run between
            if i % 50 == 0:
                largest = max(largest, wal.stat().st_size)
        seqs: list[int] = []
        while page := await store.messages_after("s_wal", seqs[-1] if seqs else 0):
            seqs.extend(m.seq for m in page)
    finally:
        await store.close()
    assert seqs == list(range(1, MESSAGES + 1))
    assert largest < WAL_BOUND_BYTES, f"the WAL grew to {largest:,} bytes"
