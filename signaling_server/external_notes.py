"""Notes other systems add to a session through the REST API (``POST /api/v1/sessions/{id}
/notes``: a CRM's "VIP, refund approved"), shown to the agent holding the session: in the
handoff's context panel, and pushed again (a fresh handoff) when one is added. Stored by
store/notes.py as customer data (erased and exported with the customer)."""

from __future__ import annotations

from typing import Any

from dcs_sdk.protocol import Event, SessionState

from .sessions import SessionService, agent_room
from .store import SessionRecord
from .store.notes import Notes

# where an agent holds the session and sees its context
HELD = (SessionState.LIVE, SessionState.WRAP_UP)


def note_wire(note: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": note["id"],
        "author": {"role": note["author_role"], "id": note["author_id"]},
        "text": note["text"],
        "ts": int(note["at"] * 1000),
    }


class ExternalNotes:
    def __init__(self, service: SessionService) -> None:
        self.service = service

    @property
    def notes(self) -> Notes:
        return Notes(self.service.store.store.engine)

    def install(self) -> None:
        self.service.handoff_extras["external_notes"] = self.of_session

    async def of_session(self, record: SessionRecord) -> list[dict[str, Any]]:
        return [note_wire(n) for n in await self.notes.of_session(record.id)]

    async def added(self, record: SessionRecord) -> None:
        """A note was added: the agent holding the session gets its context again."""
        if record.agent_id and record.state in HELD:
            handoff = await self.service.handoff(record)
            await self.service.notifier.emit(Event.SESSION_HANDOFF, handoff, room=agent_room(record.agent_id))
