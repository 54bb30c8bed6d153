"""The supervisor's live wall: queues, agents and sessions, pushed as they change.

The wall is a set of rows (``q:<queue>``, ``a:<agent id>``, ``s:<session id>``) rebuilt
from the router and the session cache whenever the session service says the floor may
have changed (a FloorWatcher: sessions.py calls ``floor_changed`` without awaiting). The
rebuilds are coalesced (one per ``delay_s``) and diffed against the last one, so a
supervisor gets one ``wall.snapshot`` on connect and then only the rows that changed
(``wall.changes``), filtered to the queues their token lets them oversee. Durations
(wait, handle time, time since the agent's last reply, time in a presence) travel as
timestamps: the console's clock turns them into seconds, so time passing costs no pushes.

With several processes (cluster/) every process builds its own wall for the supervisors
connected to it, from the same truth: the router (its queue and seats are kept in step
through the bus), the session rows (read afresh once another process changed one), and
what the cluster tells ``floor_changed`` of changes made elsewhere; the times of the
agents' last replies come through ``on_reply`` / ``replied``.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select

from dcs_sdk.protocol import Event, Presence, Role, SessionState
from dcs_sdk.tokens import Claims

from ..sessions import Notifier, SessionService
from ..store import MessageRecord, SessionRecord, schema

log = logging.getLogger(__name__)

S = SessionState
Row = dict[str, Any]
# while nobody watches, the agents' last replies are pruned to the held sessions beyond this
PRUNE_AT = 5_000


def _ms(t: float | None) -> int | None:
    return int(t * 1000) if t else None


def _start_of_day(now: float) -> float:
    day = datetime.datetime.fromtimestamp(now).date()
    return datetime.datetime.combine(day, datetime.time()).timestamp()


def visible(claims: Claims, row: Row) -> bool:
    """Whether a supervisor with these claims oversees what the row shows."""
    if row["kind"] == "agent":
        skills = row["skills"]
        return "*" in skills or "*" in claims.skills or any(claims.serves(q) for q in skills)
    return claims.serves(row["queue"])


class Wall:
    def __init__(
        self,
        service: SessionService,
        notifier: Notifier,
        *,
        service_level_s: float,
        delay_s: float = 0.01,
    ) -> None:
        self.service = service
        self.notifier = notifier
        self.service_level_s = service_level_s
        self.delay_s = delay_s
        self.rows: dict[str, Row] = {}
        self.viewers: dict[str, Claims] = {}  # supervisor sid -> claims
        self._records: dict[str, SessionRecord] = {}  # held sessions (live, wrap_up)
        self._dirty: set[str] = set()
        self._last_reply: dict[str, float] = {}  # session -> its agent's last message
        self._since: dict[str, tuple[str, float]] = {}  # agent -> (presence, since)
        self._answered: dict[str, tuple[str, float]] = {}  # today: session -> (queue, wait)
        self._day = 0.0
        self._fresh = True  # rebuild everything (no viewer was watching meanwhile)
        self._scheduled = False
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.changes_sent = 0  # wall.changes pushes, for the bench
        # told the time of each staff reply stored here (cluster/: to the other processes)
        self.on_reply: Callable[[str, float], None] | None = None

    # the FloorWatcher hook

    def floor_changed(self, session_id: str | None = None, message: MessageRecord | None = None) -> None:
        if message is not None and message.role in (Role.AGENT, Role.SUPERVISOR):
            self._last_reply[message.session_id] = message.ts
            if self.on_reply is not None:
                self.on_reply(message.session_id, message.ts)
        self._changed(session_id)

    def replied(self, session_id: str, ts: float) -> None:
        """A staff reply stored by another process."""
        if ts > self._last_reply.get(session_id, 0.0):
            self._last_reply[session_id] = ts
            self._changed(session_id)

    def _changed(self, session_id: str | None) -> None:
        if not self.viewers:  # the next viewer's first build reads everything afresh
            if len(self._last_reply) > PRUNE_AT:
                held = {s for seat in self.service.router.agents.values() for s in seat.sessions}
                self._last_reply = {k: v for k, v in self._last_reply.items() if k in held}
            return
        if session_id is not None:
            self._dirty.add(session_id)
        if self._scheduled:
            return
        self._scheduled = True
        self._spawn(self._flush_soon())

    # viewers

    async def add_viewer(self, sid: str, claims: Claims) -> dict[str, Any]:
        """A supervisor connected: their first snapshot (the rows they oversee)."""
        self.viewers[sid] = claims
        await self.flush()
        return self.snapshot(claims)

    def remove_viewer(self, sid: str) -> None:
        self.viewers.pop(sid, None)
        if not self.viewers:
            self._fresh = True

    def snapshot(self, claims: Claims) -> dict[str, Any]:
        rows = [row for row in self.rows.values() if visible(claims, row)]
        return {"rows": rows, "target_s": self.service_level_s, "at": _ms(time.time())}

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # rebuilding

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self.delay_s)
        self._scheduled = False
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            old = self.rows
            new = await self._build()
            self.rows = new
            changed = [row for key, row in new.items() if old.get(key) != row]
            removed = [old[key] for key in old.keys() - new.keys()]
            if changed or removed:
                await self._send(changed, removed, old)

    async def _send(self, changed: list[Row], removed: list[Row], old: dict[str, Row]) -> None:
        by_grant: dict[tuple[str, ...], list[str]] = {}
        for sid, claims in self.viewers.items():
            by_grant.setdefault(claims.skills, []).append(sid)
        now = _ms(time.time())
        for sids in by_grant.values():
            claims = self.viewers[sids[0]]
            rows = [row for row in changed if visible(claims, row)]
            # a row that moved out of sight (a session moved to a queue they do not oversee)
            gone = [r["key"] for r in removed if visible(claims, r)]
            gone += [
                r["key"]
                for r in changed
                if not visible(claims, r) and r["key"] in old and visible(claims, old[r["key"]])
            ]
            if not rows and not gone:
                continue
            payload = {"rows": rows, "removed": gone, "at": now}
            for sid in sids:
                await self.notifier.emit(Event.WALL_CHANGES, payload, room=sid)
                self.changes_sent += 1

    async def _build(self) -> dict[str, Row]:
        now = time.time()
        router = self.service.router
        if self._fresh or _start_of_day(now) != self._day:
            await self._load_today(now)
            self._records.clear()
            self._fresh = False
        dirty, self._dirty = self._dirty, set()
        held: set[str] = set()
        for seat in router.agents.values():
            held |= seat.sessions
        for session_id in list(self._records):
            if session_id not in held:
                del self._records[session_id]
                self._last_reply.pop(session_id, None)
        for session_id in held:
            if session_id in dirty or session_id not in self._records:
                record = await self.service.store.get_session(session_id)
                if record is not None:
                    self._records[session_id] = record
                    self._count_answer(record)
        rows: dict[str, Row] = {}
        queues: set[str] = {self.service.default_queue}
        for claims in self.viewers.values():
            queues.update(q for q in claims.skills if q != "*")
        waiting = router.waiting()
        for item in waiting:
            queues.add(item.queue)
            rows[f"s:{item.session_id}"] = {
                "key": f"s:{item.session_id}",
                "kind": "session",
                "id": item.session_id,
                "state": S.QUEUED.value,
                "queue": item.queue,
                "customer": item.customer_name or item.customer_id,
                "reason": item.reason,
                "priority": item.priority,
                "queued_at": _ms(item.queued_at),
                "accepted_at": None,
                "agent": None,
                "last_reply_at": None,
                "call": False,
                "cobrowse": False,
            }
        companions = self.service.companions
        for record in self._records.values():
            queues.add(record.queue)
            rows[f"s:{record.id}"] = {
                "key": f"s:{record.id}",
                "kind": "session",
                "id": record.id,
                "state": record.state.value,
                "queue": record.queue,
                "customer": record.customer_name or record.customer_id,
                "reason": record.reason,
                "priority": False,
                "queued_at": _ms(record.queued_at),
                "accepted_at": _ms(record.accepted_at),
                "agent": {"id": record.agent_id, "name": record.agent_name} if record.agent_id else None,
                "last_reply_at": _ms(self._last_reply.get(record.id) or record.first_agent_reply_at),
                "call": bool("call" in companions and companions["call"].current(record.id)),
                "cobrowse": bool("cobrowse" in companions and companions["cobrowse"].current(record.id)),
            }
        for seat in router.agents.values():
            queues.update(q for q in seat.skills if q != "*")
            presence = seat.presence.value
            since = self._since.get(seat.id)
            if since is None or since[0] != presence:
                since = self._since[seat.id] = (presence, now)
            rows[f"a:{seat.id}"] = {
                "key": f"a:{seat.id}",
                "kind": "agent",
                "id": seat.id,
                "name": seat.name,
                "presence": presence,
                "since": _ms(since[1]),
                "held": len(seat.sessions),
                "capacity": seat.capacity,
                "skills": list(seat.skills),
                "sessions": sorted(seat.sessions),
            }
        for queue in queues:
            rows[f"q:{queue}"] = self._queue_row(queue, waiting, router.agents.values())
        return rows

    def _queue_row(self, queue: str, waiting: Iterable[Any], seats: Iterable[Any]) -> Row:
        in_queue = [w.queued_at for w in waiting if w.queue == queue]
        serving = [s for s in seats if s.presence is Presence.AVAILABLE and s.sids and s.serves(queue)]
        waits = [wait for q, wait in self._answered.values() if q == queue]
        within = sum(1 for wait in waits if wait <= self.service_level_s)
        return {
            "key": f"q:{queue}",
            "kind": "queue",
            "id": queue,
            "queue": queue,
            "waiting": len(in_queue),
            "oldest_queued_at": _ms(min(in_queue)) if in_queue else None,
            "answered_today": len(waits),
            "within_target": within,
            "service_level": round(within / len(waits), 4) if waits else None,
            "agents_serving": len(serving),
            "free_capacity": sum(s.free_slots for s in serving),
        }

    def _count_answer(self, record: SessionRecord) -> None:
        if record.accepted_at and record.queued_at and record.accepted_at >= self._day:
            self._answered[record.id] = (record.queue, max(0.0, record.accepted_at - record.queued_at))

    async def _load_today(self, now: float) -> None:
        """Today's answered sessions from the store (after a start, or a new day)."""
        self._day = _start_of_day(now)
        s = schema.sessions.c
        query = select(s.id, s.queue, s.queued_at, s.accepted_at).where(
            s.accepted_at >= self._day, s.queued_at.is_not(None)
        )
        async with self.service.store.store.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        self._answered = {r.id: (r.queue, max(0.0, r.accepted_at - r.queued_at)) for r in rows}

    def _spawn(self, coro: Any) -> None:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the supervisor wall failed to update")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
