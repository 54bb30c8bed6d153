"""What agents and waiting customers are told when the queue changes: only the change.

- **Agents** get their first page (``QUEUE_PAGE`` items of what they may take, in queue
  order) and the total in ``queue.snapshot`` when they connect; after that
  ``queue.changes``: what left their page, what came into it (with where), what changed in
  place, and the new total. The feed remembers each agent's page, so a change costs the
  agents who serve its queue one small diff each, whatever the queue's length.
- **Waiting customers** get ``session.state`` only when their position, estimate or
  availability changed: a session that joins at the back moves nobody; one that leaves
  from the front moves everyone behind it (by one, computed in one pass along the queue).

The router tells the feed what changed (its events); ``flush()`` sends it. Callers change
the router first and flush once, so a use case that moves several sessions sends one diff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dcs_sdk.protocol import Event

from .availability import Availability
from .routing import (
    AgentSeat,
    Dequeued,
    Enqueued,
    Replaced,
    Router,
    RoutingEvent,
    Waiting,
    WaitMeasured,
)
from .sessions import Notifier, agent_room, session_room

# How many waiting sessions an agent's console holds (and is kept current on).
QUEUE_PAGE = 50


@dataclass
class _Page:
    """The page an agent was last told: ids in order, and the items as sent."""

    items: dict[str, Waiting] = field(default_factory=dict)
    total: int = 0


def diff(old: _Page, new: list[Waiting]) -> list[dict[str, Any]]:
    """The changes that turn ``old`` into ``new``: removes, then adds from the back (each
    says which item it goes before, so it lands right even in a list one item short), then
    updates in place. A session whose place changed is removed and added again."""
    new_ids = {w.session_id: w for w in new}
    changes: list[dict[str, Any]] = []
    kept: set[str] = set()
    for sid, was in old.items.items():
        now = new_ids.get(sid)
        if now is None or now.order_key != was.order_key:
            changes.append({"op": "remove", "session_id": sid})
        else:
            kept.add(sid)
    adds: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for index, item in enumerate(new):
        if item.session_id not in kept:
            before = new[index + 1].session_id if index + 1 < len(new) else None
            adds.append({"op": "add", "index": index, "before": before, "session": item.to_wire()})
        elif old.items[item.session_id] is not item:
            updates.append({"op": "update", "session": item.to_wire()})
    changes.extend(reversed(adds))
    changes.extend(updates)
    return changes


class QueueFeed:
    def __init__(self, router: Router, availability: Availability, notifier: Notifier) -> None:
        self.router = router
        self.availability = availability
        self.notifier = notifier
        self.page_size = QUEUE_PAGE
        self._pages: dict[str, _Page] = {}  # agent id -> what their consoles hold
        self._dirty: dict[str, int] = {}  # queue -> the first index (0-based) that changed
        self._told: dict[str, dict[str, Any]] = {}  # session id -> the state last pushed
        router.subscribe(self._on_event)

    def _on_event(self, event: RoutingEvent) -> None:
        if isinstance(event, Enqueued | Dequeued):
            self._mark(event.item.queue, event.position - 1)
            if isinstance(event, Dequeued):
                self._told.pop(event.item.session_id, None)
        elif isinstance(event, Replaced):
            self._mark(event.old.queue, event.old_position - 1)
            self._mark(event.item.queue, event.position - 1)
        elif isinstance(event, WaitMeasured):
            self._mark(event.queue, 0)  # the queue's mean wait changed: every estimate may

    def _mark(self, queue: str, index: int) -> None:
        known = self._dirty.get(queue)
        self._dirty[queue] = index if known is None else min(known, index)

    # agents

    def snapshot(self, seat: AgentSeat) -> dict[str, Any]:
        """``queue.snapshot`` for ``seat``: its first page and total (remembered as sent)."""
        items = self.router.waiting_for(seat, self.page_size)
        page = self._pages[seat.id] = _Page({w.session_id: w for w in items}, self.router.count_for(seat))
        return {"sessions": [w.to_wire() for w in items], "total": page.total}

    def agent_gone(self, agent_id: str) -> None:
        """No console of this agent is connected: nothing to keep current."""
        self._pages.pop(agent_id, None)

    async def _tell_agents(self, queues: set[str]) -> None:
        for seat in list(self.router.agents.values()):
            page = self._pages.get(seat.id)
            if page is None or not seat.sids or not any(seat.serves(q) for q in queues):
                continue
            items = self.router.waiting_for(seat, self.page_size)
            total = self.router.count_for(seat)
            changes = diff(page, items)
            if not changes and total == page.total:
                continue
            self._pages[seat.id] = _Page({w.session_id: w for w in items}, total)
            await self.notifier.emit(
                Event.QUEUE_CHANGES, {"changes": changes, "total": total}, room=agent_room(seat.id)
            )

    # customers

    async def _tell_customers(self, starts: dict[str, int]) -> None:
        for queue, start in starts.items():
            status = self.availability.status(queue)
            for position, item in enumerate(self.router.queue_line(queue, start), start + 1):
                state = self.availability.waiting_state(item, position=position, status=status)
                if self._told.get(item.session_id) != state:
                    self._told[item.session_id] = state
                    await self.notifier.emit(Event.SESSION_STATE, state, room=session_room(item.session_id))

    # sending

    async def flush(self, *, everyone: bool = False) -> None:
        """Send what changed since the last flush; ``everyone``: availability or estimates
        may have changed for every queue (an agent came, left or changed presence, the
        opening hours turned), so every waiting customer is checked (and told if changed)."""
        dirty, self._dirty = self._dirty, {}
        if dirty:
            await self._tell_agents(set(dirty))
        starts = {q: 0 for q in self.router.queues()} if everyone else dirty
        await self._tell_customers(starts)
