"""The processes' own channel on Redis: what one process tells all the others.

One pub/sub channel (``<prefix>:bus``), JSON messages ``{"p": process, "k": kind, "d":
data}``, published in the order they were sent (one sender task) and delivered to every
other process in that order (a Redis channel keeps the publisher's order). Pub/sub is not
durable: a process that loses its subscription resubscribes and then calls ``on_resync``,
which rebuilds from PostgreSQL what it may have missed (the queue); presence is re-sent by
everyone every ``ALIVE_S`` anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as redis

log = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], Awaitable[None] | None]
RETRY_S = (0.1, 0.5, 1.0, 2.0)


class Bus:
    def __init__(self, url: str, prefix: str) -> None:
        self.redis: redis.Redis = redis.from_url(url)
        self.prefix = prefix
        self.channel = f"{prefix}:bus"
        self.process = f"p_{secrets.token_hex(6)}"
        self.handlers: dict[str, Handler] = {}
        self.on_resync: Callable[[], Awaitable[None]] | None = None
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(), name="dcs-bus-listen"),
            loop.create_task(self._send(), name="dcs-bus-send"),
        ]
        await asyncio.wait_for(self._subscribed.wait(), 10)

    async def close(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._outbox.join(), 2)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.redis.aclose()

    def publish(self, kind: str, data: dict[str, Any]) -> None:
        """Tell every other process (in order, without waiting)."""
        self._outbox.put_nowait(json.dumps({"p": self.process, "k": kind, "d": data}))

    async def publish_now(self, kind: str, data: dict[str, Any]) -> None:
        """Tell every other process, after what was sent before, and return once Redis has
        it: for state the others must hold before the clients hear of it (a call)."""
        await self._outbox.join()
        await self.redis.publish(self.channel, json.dumps({"p": self.process, "k": kind, "d": data}))

    async def _send(self) -> None:
        while True:
            message = await self._outbox.get()
            for pause in (0.0, *RETRY_S):
                if pause:
                    await asyncio.sleep(pause)
                try:
                    await self.redis.publish(self.channel, message)
                    break
                except (redis.RedisError, OSError) as exc:
                    log.warning("publishing to the cluster bus failed: %r", exc)
            self._outbox.task_done()

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if self._subscribed.is_set() and self.on_resync is not None:
                    await self.on_resync()  # what we may have missed while away
                self._subscribed.set()
                attempt = 0
                async for raw in pubsub.listen():
                    await self._dispatch(raw)
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as exc:
                log.warning("the cluster bus lost Redis (%r); resubscribing", exc)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call, unused-ignore]  # typed from redis 8
            await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
            attempt += 1

    async def _dispatch(self, raw: dict[str, Any]) -> None:
        try:
            message = json.loads(raw["data"])
            if message["p"] == self.process:
                return
            handler = self.handlers.get(message["k"])
            if handler is not None:
                result = handler(message["p"], message["d"])
                if result is not None:
                    await result
        except Exception:  # one bad message never stops the bus
            log.exception("a cluster bus message failed: %r", raw.get("data", b"")[:200])
