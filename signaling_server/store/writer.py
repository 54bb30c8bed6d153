"""Group commit for chat messages: stored first, then relayed.

A message reaches the other participants only once it is committed with the seq they will
see, so nobody is ever shown what the store does not hold. A message that finds the writer
idle is committed at once by its sender; whatever arrives while a commit runs goes into
the next, so a busy server pays one transaction per batch instead of one per message, and
nothing waits on a timer. The transaction allocates the seqs itself
(from the session row), so a failed batch leaves no gap and nothing to undo in memory.

A batch that fails is written again message by message: one message the database cannot
hold fails alone (UnstorableMessage), a retried client_id gets its original message, and a
lost connection (a PostgreSQL backend terminated mid-write) is retried on a fresh one a few
times before the sender is told to send again (with the same client_id, which is safe).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

from .errors import SessionGone, UnstorableMessage
from .records import MessageRecord
from .store import Store

log = logging.getLogger(__name__)

MAX_BATCH = 500
# A single message's write is tried again after these pauses (seconds) when the failure
# was the database's, not the message's.
RETRY_PAUSES_S = (0.05, 0.2, 0.5)
LOG_EVERY_S = 10.0

Result = tuple[MessageRecord, bool]
_Item = tuple[MessageRecord, "asyncio.Future[Result]"]


class MessageWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._pending: dict[str, set[asyncio.Future[Result]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        # One commit at a time, the writer task's or a caller's own: the store's SQLite
        # connection (and the order of batches) is not to be shared by two at once.
        self._commit = asyncio.Lock()
        self._logged_at = 0.0

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

    async def write(self, message: MessageRecord) -> Result:
        """Store a message: (stored with its seq, created), or raise why it could not be.

        When no commit is under way and nothing waits, it is written at once by the caller
        (on SQLite without leaving the event loop's turn); otherwise it joins the next
        group commit."""
        if self._commit.locked() or not self._queue.empty():
            return await self.submit(message)
        future = self._track(message)
        async with self._commit:  # free: taken without waiting
            try:
                await self._write([(message, future)])
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
        return await future

    def submit(self, message: MessageRecord) -> asyncio.Future[Result]:
        """Queue a message (its seq is allocated on commit); the future gives
        (stored, created) once it is committed, or raises why it could not be."""
        self.start()
        future = self._track(message)
        self._queue.put_nowait((message, future))
        return future

    def _track(self, message: MessageRecord) -> asyncio.Future[Result]:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        pending = self._pending[message.session_id]
        pending.add(future)
        future.add_done_callback(lambda f: self._done(message.session_id, f))
        return future

    def _done(self, session_id: str, future: asyncio.Future[Result]) -> None:
        pending = self._pending.get(session_id)
        if pending is not None:
            pending.discard(future)
            if not pending:
                del self._pending[session_id]

    async def drain(self, session_id: str) -> list[Result | BaseException]:
        """Wait until every message queued for this session so far is written or failed:
        each one's result or exception."""
        pending = list(self._pending.get(session_id, ()))
        if not pending:
            return []
        return await asyncio.gather(*pending, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                async with self._commit:
                    await self._write(batch)
            except Exception:  # never let the writer die: fail what is left of the batch
                log.exception("the message writer failed on a batch of %d", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(RuntimeError("the message could not be written"))
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[_Item]) -> None:
        live = [(m, f) for m, f in batch if not f.cancelled()]
        if not live:
            return
        try:
            stored = await self.store.insert_messages([m for m, _ in live])
        except Exception as exc:
            if len(live) > 1:
                self._log("a batch of %d messages failed (%s); writing them one by one", len(live), exc)
            for message, future in live:
                await self._write_one(message, future)
            return
        for record, (_, future) in zip(stored, live, strict=True):
            if not future.done():
                future.set_result((record, True))

    async def _write_one(self, message: MessageRecord, future: asyncio.Future[Result]) -> None:
        failure: Exception | None = None
        for pause in (0.0, *RETRY_PAUSES_S):
            if pause:
                await asyncio.sleep(pause)
            try:
                result = await self.store.append_message(message)
            except (UnstorableMessage, SessionGone) as exc:
                failure = exc
                break
            except Exception as exc:
                failure = exc
                self._log("writing message %s/%s failed: %r", message.session_id, message.client_id, exc)
                continue
            if not future.done():
                future.set_result(result)
            return
        if not future.done() and failure is not None:
            future.set_exception(failure)

    def _log(self, fmt: str, *args: object) -> None:
        # A database that is down fails every write: say so every few seconds, not per message.
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY_S:
            self._logged_at = now
            log.warning(fmt, *args)
