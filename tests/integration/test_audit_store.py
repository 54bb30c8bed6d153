"""The audit log module (store/audit.py) on SQLite and PostgreSQL: append, read back, filter."""

from __future__ import annotations

import pytest

from signaling_server.store import Store
from signaling_server.store.audit import AuditLog


async def test_audit_log_appends_and_filters(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        audit = AuditLog(store.engine)
        first = await audit.record(
            actor_id="sue", actor_role="supervisor", action="observe", session_id="s1", at=100.0
        )
        await audit.record(
            actor_id="sue",
            actor_role="supervisor",
            action="whisper",
            session_id="s1",
            target="alice",
            detail={"text": "offer the refund"},
            at=101.0,
        )
        await audit.record(actor_id="alice", actor_role="agent", action="accept", session_id="s2", at=102.0)

        everything = await audit.entries()
        assert [e.action for e in everything] == ["observe", "whisper", "accept"]
        assert everything[0].id == first
        whisper = everything[1]
        assert (whisper.target, dict(whisper.detail)) == ("alice", {"text": "offer the refund"})
        assert whisper.to_wire()["at"] == 101_000
        assert [e.action for e in await audit.entries(session_id="s1")] == ["observe", "whisper"]
        assert [e.session_id for e in await audit.entries(actor_id="alice")] == ["s2"]
        assert [e.at for e in await audit.entries(since=101.0, until=102.0)] == [101.0]
        assert [e.action for e in await audit.entries(after_id=first, limit=1)] == ["whisper"]
        with pytest.raises(ValueError, match="unknown audit action"):
            await audit.record(actor_id="sue", actor_role="supervisor", action="delete_everything")
    finally:
        await store.close()
