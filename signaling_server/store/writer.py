"""Group commit for chat messages.

Messages are relayed to the session's participants as soon as they are sequenced, and
written here: whatever arrives while one commit runs goes into the next, so a busy server
pays for one transaction per batch instead of one per message. Senders are acked only
after their message's batch has committed, and readers of a session's history first wait
for that session's queued messages (``drain``), so history never misses a relayed message.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import defaultdict

from sqlalchemy.exc import IntegrityError

from .records import MessageRecord
from .store import Store

log = logging.getLogger(__name__)

MAX_BATCH = 500
LINGER_S = 0.005

_Item = tuple[MessageRecord, "asyncio.Future[tuple[MessageRecord, bool]]"]


class MessageWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._pending: dict[str, set[asyncio.Future[tuple[MessageRecord, bool]]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="dcs-message-writer")

    async def close(self) -> None:
        """Write what is queued, then stop; safe to call twice."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    def submit(self, message: MessageRecord) -> asyncio.Future[tuple[MessageRecord, bool]]:
        """Queue a message; the future gives (stored, created) once it is committed."""
        self.start()
        future: asyncio.Future[tuple[MessageRecord, bool]] = asyncio.get_running_loop().create_future()
        pending = self._pending[message.session_id]
        pending.add(future)
        future.add_done_callback(lambda f: self._done(message.session_id, f))
        self._queue.put_nowait((message, future))
        return future

    def _done(self, session_id: str, future: asyncio.Future[tuple[MessageRecord, bool]]) -> None:
        pending = self._pending.get(session_id)
        if pending is not None:
            pending.discard(future)
            if not pending:
                del self._pending[session_id]

    async def drain(self, session_id: str) -> None:
        """Wait until every message queued for this session so far is committed."""
        pending = list(self._pending.get(session_id, ()))
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # Linger briefly so a busy server commits a handful of messages at a time: the
            # relay does not wait for this, only the sender's ack does.
            await asyncio.sleep(LINGER_S)
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[_Item]) -> None:
        try:
            await self.store.insert_messages([m for m, _ in batch])
        except (IntegrityError, sqlite3.IntegrityError):
            # A retried client_id (or a seq taken by another process): sort it out row by row.
            for message, future in batch:
                await self._write_one(message, future)
            return
        except Exception as exc:
            log.exception("writing %d messages failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for message, future in batch:
            if not future.done():
                future.set_result((message, True))

    async def _write_one(
        self, message: MessageRecord, future: asyncio.Future[tuple[MessageRecord, bool]]
    ) -> None:
        try:
            result = await self.store.append_message(message)
        except Exception as exc:
            log.exception("writing message %s/%s failed", message.session_id, message.seq)
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)
