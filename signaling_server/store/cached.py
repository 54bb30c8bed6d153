"""The store as the session service sees it: session rows cached, messages group-committed.

Every change to a session goes through this object, so the cache stays exact while one
process serves a deployment (the store's conditional transitions stay the authority: a
transition always reads and writes the database). Reading a session on every chat event
is then free, and message writes are batched by the MessageWriter, which allocates seqs in
the database (the cached row's ``last_seq`` is not kept current).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from dcs_sdk.protocol import HISTORY_PAGE, SessionState

from .records import MessageRecord, SessionRecord, firsts
from .store import Store
from .writer import MessageWriter

# Sessions whose rows stay in memory: more than the connected customers of a busy
# process, so a reconnect burst finds every session hot.
CACHE_SIZE = 20_000


class CachedStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.writer = MessageWriter(store)
        self._sessions: OrderedDict[str, SessionRecord] = OrderedDict()
        # The last seq stored in each cached session: the row's when read, then every
        # message this process stored. While this process is the only writer (``exact``)
        # it is the database's, so a resume that missed nothing needs no read.
        self._last_seq: dict[str, int] = {}
        self.exact = True
        # Told the id of every session this process changed (cluster/: the other processes
        # then read it afresh).
        self.on_change: Callable[[str], None] | None = None

    async def close(self) -> None:
        await self.writer.close()

    def _remember(self, record: SessionRecord) -> SessionRecord:
        self._sessions[record.id] = record
        self._sessions.move_to_end(record.id)
        # a row read afresh carries the current last_seq; a cached one changed in memory an
        # older one: the larger is right
        self._last_seq[record.id] = max(self._last_seq.get(record.id, 0), record.last_seq)
        while len(self._sessions) > CACHE_SIZE:
            evicted, _ = self._sessions.popitem(last=False)
            self._last_seq.pop(evicted, None)
        return record

    def _note_seq(self, stored: MessageRecord) -> None:
        if stored.session_id in self._sessions:
            self._last_seq[stored.session_id] = max(self._last_seq.get(stored.session_id, 0), stored.seq)

    def forget(self, session_id: str) -> None:
        """Read this session afresh next time (another process changed it)."""
        self._sessions.pop(session_id, None)
        self._last_seq.pop(session_id, None)

    # sessions

    async def get_session(self, session_id: str) -> SessionRecord | None:
        cached = self._sessions.get(session_id)
        if cached is not None:
            return cached
        record = await self.store.get_session(session_id)
        return self._remember(record) if record else None

    async def create_session(
        self,
        record: SessionRecord,
        *,
        actor: str,
        first_page: bool = False,
        messages: Sequence[MessageRecord] = (),
    ) -> None:
        await self.store.create_session(record, actor=actor, first_page=first_page, messages=messages)
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
        lines: Sequence[MessageRecord] = (),
        **fields: Any,
    ) -> SessionRecord | None:
        if lines:  # the lines' seqs come after every message queued so far
            await self.writer.drain(session_id)
        moved = await self.store.transition(
            session_id,
            allowed_from=allowed_from,
            to=to,
            at=at,
            actor=actor,
            detail=detail,
            lines=lines,
            **fields,
        )
        if moved is None:
            self.forget(session_id)  # someone else moved it: read afresh next time
            return None
        self._changed(session_id)
        return self._remember(moved)  # its last_seq counts the lines

    def _changed(self, session_id: str) -> None:
        if self.on_change is not None:
            self.on_change(session_id)

    async def update_session(self, session_id: str, **fields: Any) -> SessionRecord | None:
        await self.store.update_session(session_id, **fields)
        self._changed(session_id)
        cached = self._sessions.get(session_id)
        return self._remember(replace(cached, **fields)) if cached else await self.get_session(session_id)

    async def add_page_view(self, session_id: str, url: str, title: str, ts: float) -> None:
        await self.store.add_page_view(session_id, url, title, ts)
        self._changed(session_id)
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
        error after retries (send again with the same client_id). The commit also set the
        session's first customer message / first staff reply if unset: so does the cache."""
        stored, created = await self.writer.write(message)
        cached = self._sessions.get(message.session_id)
        if created and cached is not None:
            self._note_seq(stored)
            text, replied_at = firsts([stored])
            if text and not cached.first_message:
                cached = self._remember(replace(cached, first_message=text))
            if replied_at is not None and cached.first_agent_reply_at is None:
                self._remember(replace(cached, first_agent_reply_at=replied_at))
        return stored, created

    async def transcript(self, session_id: str) -> list[MessageRecord]:
        """Every message of the session, however many (handoffs, transcripts, the assistant)."""
        return await self.messages_after(session_id, 0, limit=None)

    async def messages_after(
        self, session_id: str, after_seq: int = 0, limit: int | None = HISTORY_PAGE
    ) -> list[MessageRecord]:
        for result in await self.writer.drain(session_id):
            if isinstance(result, tuple):  # stored meanwhile: its sender may not have resumed yet
                self._note_seq(result[0])
        known = self._last_seq.get(session_id) if self.exact else None
        if known is not None and known <= after_seq:
            return []  # nothing after it: no read (a hot session resumed)
        return await self.store.messages_after(session_id, after_seq, limit)
