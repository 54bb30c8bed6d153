"""An agent's view of the queue: ``queue.snapshot`` (the first page and the total), then
``queue.changes`` applied in order (docs/protocol.md, "The queue")."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def apply_changes(page: list[dict[str, Any]], changes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The page after ``changes``: removes, adds (placed before the item they name, else at
    their index, so a page one item short still orders right), updates in place."""
    items = list(page)
    for change in changes:
        op = change.get("op")
        if op == "remove":
            items = [i for i in items if i["session_id"] != change.get("session_id")]
            continue
        session = change.get("session")
        if not isinstance(session, dict):
            continue
        sid = session.get("session_id")
        if op == "update":
            items = [session if i["session_id"] == sid else i for i in items]
        elif op == "add":
            items = [i for i in items if i["session_id"] != sid]
            before = change.get("before")
            at = next((n for n, i in enumerate(items) if i["session_id"] == before), None)
            if at is None:
                at = len(items) if before is None else min(int(change.get("index", len(items))), len(items))
            items.insert(at, session)
    return items


class QueueView:
    """What an agent's console holds of the queue."""

    def __init__(self) -> None:
        self.sessions: list[dict[str, Any]] = []
        self.total = 0

    def snapshot(self, data: dict[str, Any]) -> None:
        self.sessions = list(data.get("sessions") or [])
        self.total = int(data.get("total", len(self.sessions)))

    def changes(self, data: dict[str, Any]) -> None:
        self.sessions = apply_changes(self.sessions, data.get("changes") or [])
        self.total = int(data.get("total", self.total))

    def ids(self) -> list[str]:
        return [str(i["session_id"]) for i in self.sessions]
