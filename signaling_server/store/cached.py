"""The store as the session service sees it: session rows cached, messages group-committed.

Every change to a session goes through this object, so the cache stays exact while one
process serves a deployment (the store's conditional transitions stay the authority: a
transition always reads and writes the database). Reading a session on every chat event
is then free, and message writes are batched by the MessageWriter, which allocates seqs in
the database (the cached row's ``last_seq`` is not kept current).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from dcs_sdk.protocol import SessionState

from .records import MessageRecord, SessionRecord
from .store import Store
from .writer import MessageWriter

CACHE_SIZE = 10_000


class CachedStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.writer = MessageWriter(store)
        self._sessions: OrderedDict[str, SessionRecord] = OrderedDict()

    async def close(self) -> None:
        await self.writer.close()

    def _remember(self, record: SessionRecord) -> SessionRecord:
        self._sessions[record.id] = record
        self._sessions.move_to_end(record.id)
        while len(self._sessions) > CACHE_SIZE:
            self._sessions.popitem(last=False)
        return record

    # sessions

    async def get_session(self, session_id: str) -> SessionRecord | None:
        cached = self._sessions.get(session_id)
        if cached is not None:
            return cached
        record = await self.store.get_session(session_id)
        return self._remember(record) if record else None

    async def create_session(self, record: SessionRecord, *, actor: str, first_page: bool = False) -> None:
        await self.store.create_session(record, actor=actor, first_page=first_page)
        self._remember(record)

    async def transition(
        self,
        session_id: str,
        *,
        allowed_from: Iterable[SessionState],
        to: SessionState,
        at: float,
        actor: str,
        detail: str = "",
        **fields: Any,
    ) -> SessionRecord | None:
        moved = await self.store.transition(
            session_id, allowed_from=allowed_from, to=to, at=at, actor=actor, detail=detail, **fields
        )
        if moved is None:
            self._sessions.pop(session_id, None)  # someone else moved it: read afresh next time
            return None
        return self._remember(moved)

    async def update_session(self, session_id: str, **fields: Any) -> SessionRecord | None:
        await self.store.update_session(session_id, **fields)
        cached = self._sessions.get(session_id)
        return self._remember(replace(cached, **fields)) if cached else await self.get_session(session_id)

    async def add_page_view(self, session_id: str, url: str, title: str, ts: float) -> None:
        await self.store.add_page_view(session_id, url, title, ts)
        cached = self._sessions.get(session_id)
        if cached is not None:
            self._remember(replace(cached, page_url=url, page_title=title))

    async def latest_open_session(self, customer_id: str) -> SessionRecord | None:
        record = await self.store.latest_open_session(customer_id)
        return self._remember(record) if record else None

    async def sessions_in(self, states: Iterable[SessionState]) -> list[SessionRecord]:
        return [self._remember(r) for r in await self.store.sessions_in(states)]

    async def sessions_of_agent(self, agent_id: str) -> list[SessionRecord]:
        return [self._remember(r) for r in await self.store.sessions_of_agent(agent_id)]

    async def page_views(self, session_id: str) -> Sequence[dict[str, Any]]:
        return await self.store.page_views(session_id)

    # messages

    async def append_message(self, message: MessageRecord) -> tuple[MessageRecord, bool]:
        """Queue for the next group commit and wait for it: (stored with its seq, created).

        Raises UnstorableMessage / SessionGone (the message's fault), or the database's
        error after retries (send again with the same client_id)."""
        return await self.writer.write(message)

    async def messages_after(self, session_id: str, after_seq: int = 0) -> list[MessageRecord]:
        await self.writer.drain(session_id)
        return await self.store.messages_after(session_id, after_seq)
