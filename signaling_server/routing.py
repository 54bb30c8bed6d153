"""Queues and agents: who is waiting, who may take them, and how long the wait looks.

Held in memory and rebuilt from the store at start (queued and live sessions are durable,
presence is not). The session service asks the router questions and tells it what
happened; the router never does I/O.

The waiting sessions are kept sorted (per queue and overall), so a position, an agent's
first page and where a change lands cost O(log n). Whoever needs to follow the queue and
the seats (queue_feed.py for agents and customers, a supervisor's wall) subscribes to the
router's events (``Router.subscribe``); they are told synchronously, after the change.
"""

from __future__ import annotations

import heapq
import itertools
import math
import statistics
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedKeyList

from dcs_sdk.protocol import Presence
from dcs_sdk.tokens import Claims


@dataclass
class AgentSeat:
    """One agent, however many console tabs they have open."""

    id: str
    name: str
    skills: tuple[str, ...]
    capacity: int
    presence: Presence = Presence.OFFLINE
    # What the agent last chose (available/away); restored when they reconnect.
    chosen: Presence = Presence.AVAILABLE
    # every connection of this agent, on any server process; those on this one; the others
    # by process (cluster/: told by the other processes)
    sids: set[str] = field(default_factory=set)
    local_sids: set[str] = field(default_factory=set)
    remote_sids: dict[str, set[str]] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)

    def serves(self, queue: str) -> bool:
        return "*" in self.skills or queue in self.skills

    @property
    def free_slots(self) -> int:
        return max(0, self.capacity - len(self.sessions))

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "skills": list(self.skills),
            "presence": self.presence.value,
            "capacity": self.capacity,
            "sessions": sorted(self.sessions),
        }


@dataclass(frozen=True)
class Waiting:
    """A queued session as agents see it in their queue list."""

    session_id: str
    queue: str
    queued_at: float
    reason: str
    first_message: str
    page_url: str
    page_title: str
    customer_id: str
    customer_name: str
    # Handed on by an agent who left (departures.py): ahead of everyone else in its queue.
    priority: bool = False
    # The customer left a message for follow-up (followups.py): its text and when.
    left_message: str = ""
    left_message_at: float | None = None

    @property
    def rank(self) -> tuple[bool, float]:
        """The queue order: handed-on sessions first, then oldest first."""
        return (not self.priority, self.queued_at)

    @property
    def order_key(self) -> tuple[bool, float, str]:
        """The rank made total (ties by id), the key of the sorted queues."""
        return (not self.priority, self.queued_at, self.session_id)

    def to_wire(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "queue": self.queue,
            "queued_at": int(self.queued_at * 1000),
            "reason": self.reason,
            "first_message": self.first_message,
            "page": {"url": self.page_url, "title": self.page_title},
            "customer": {"id": self.customer_id, "name": self.customer_name},
            "priority": self.priority,
            "left_message": {"text": self.left_message, "at": int(self.left_message_at * 1000)}
            if self.left_message_at
            else None,
        }


# What the router tells its subscribers. ``position`` is 1-based within the item's queue:
# where it now is (Enqueued, Replaced) or was (Dequeued).


@dataclass(frozen=True)
class Enqueued:
    item: Waiting
    position: int


@dataclass(frozen=True)
class Dequeued:
    item: Waiting
    position: int


@dataclass(frozen=True)
class Replaced:
    """A waiting session's item changed (a left message, a priority): old and new place."""

    old: Waiting
    old_position: int
    item: Waiting
    position: int


@dataclass(frozen=True)
class WaitMeasured:
    """An accepted session's wait was measured: the queue's estimates change."""

    queue: str
    weighted: float = 0.0  # the wait times the agents available then, as recorded


@dataclass(frozen=True)
class SeatChanged:
    """An agent connected or left, changed presence, took or let go of a session."""

    seat: AgentSeat


RoutingEvent = Enqueued | Dequeued | Replaced | WaitMeasured | SeatChanged
Listener = Callable[[RoutingEvent], None]


if TYPE_CHECKING:  # the stubs' generic; SortedKeyList takes no subscript at runtime
    Line = SortedKeyList[Waiting, tuple[bool, float, str]]


def _sorted() -> Line:
    return SortedKeyList(key=lambda w: w.order_key)


class Router:
    def __init__(self) -> None:
        self.agents: dict[str, AgentSeat] = {}
        self._waiting: dict[str, Waiting] = {}
        self._order: Line = _sorted()  # every waiting session, in queue order
        self._by_queue: dict[str, Line] = {}
        # queue -> the last 20 measured waits, each times the agents available then
        self._recent_waits: dict[str, deque[float]] = {}
        self._listeners: list[Listener] = []

    # subscribers

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every RoutingEvent from now on; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _tell(self, event: RoutingEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # agents

    def agent_connected(self, claims: Claims, sid: str) -> AgentSeat:
        seat = self.agents.get(claims.sub)
        if seat is None:
            seat = self.agents[claims.sub] = AgentSeat(
                id=claims.sub,
                name=claims.name or claims.sub,
                skills=claims.skills or ("*",),
                capacity=claims.max_sessions,
            )
        else:  # a fresh token may carry new grants
            seat.name, seat.skills = claims.name or claims.sub, claims.skills or ("*",)
            seat.capacity = claims.max_sessions
        if seat.presence is Presence.OFFLINE:
            seat.presence = seat.chosen
        seat.sids.add(sid)
        seat.local_sids.add(sid)
        self._tell(SeatChanged(seat))
        return seat

    def agent_disconnected(self, agent_id: str, sid: str) -> AgentSeat | None:
        seat = self.agents.get(agent_id)
        if seat is None:
            return None
        seat.sids.discard(sid)
        seat.local_sids.discard(sid)
        if not seat.sids:
            seat.presence = Presence.OFFLINE
        self._tell(SeatChanged(seat))
        return seat

    def remote_seat(
        self,
        process: str,
        agent_id: str,
        *,
        name: str,
        skills: tuple[str, ...],
        capacity: int,
        sids: set[str],
        presence: Presence | None = None,
        chosen: Presence | None = None,
        sessions: set[str] | None = None,
    ) -> AgentSeat:
        """What another server process says of one of its agents (cluster/): its
        connections there and, when it changed them, the agent's presence and sessions."""
        seat = self.agents.get(agent_id)
        if seat is None:
            seat = self.agents[agent_id] = AgentSeat(id=agent_id, name=name, skills=skills, capacity=capacity)
        seat.name, seat.skills, seat.capacity = name, skills, capacity
        if sids:
            seat.remote_sids[process] = set(sids)
        else:
            seat.remote_sids.pop(process, None)
        seat.sids = seat.local_sids.union(*seat.remote_sids.values())
        if chosen is not None:
            seat.chosen = chosen
        if presence is not None:
            seat.presence = presence
        if not seat.sids:
            seat.presence = Presence.OFFLINE
        elif seat.presence is Presence.OFFLINE:
            seat.presence = seat.chosen
        if sessions is not None:
            seat.sessions = set(sessions)
        self._tell(SeatChanged(seat))
        return seat

    def process_gone(self, process: str) -> list[AgentSeat]:
        """Another server process stopped (or died): its connections are gone."""
        changed = []
        for seat in self.agents.values():
            if seat.remote_sids.pop(process, None) is not None:
                seat.sids = seat.local_sids.union(*seat.remote_sids.values())
                if not seat.sids:
                    seat.presence = Presence.OFFLINE
                changed.append(seat)
                self._tell(SeatChanged(seat))
        return changed

    def set_presence(self, agent_id: str, presence: Presence) -> AgentSeat | None:
        seat = self.agents.get(agent_id)
        if seat is not None:
            seat.presence = seat.chosen = presence
            self._tell(SeatChanged(seat))
        return seat

    def assign(self, agent_id: str, session_id: str) -> None:
        seat = self.agents.get(agent_id)
        if seat is not None and session_id not in seat.sessions:
            seat.sessions.add(session_id)
            self._tell(SeatChanged(seat))

    def release(self, session_id: str) -> AgentSeat | None:
        for seat in self.agents.values():
            if session_id in seat.sessions:
                seat.sessions.discard(session_id)
                self._tell(SeatChanged(seat))
                return seat
        return None

    def restore_assignment(self, agent_id: str, name: str, session_id: str) -> None:
        """After a restart: an agent holds a live session before they reconnect."""
        seat = self.agents.setdefault(agent_id, AgentSeat(id=agent_id, name=name, skills=("*",), capacity=1))
        seat.sessions.add(session_id)

    # the queue

    def enqueue(self, item: Waiting) -> None:
        """Add a waiting session, or replace its item (same id) with this one."""
        old = self._waiting.get(item.session_id)
        old_position = self._remove(old) if old is not None else 0
        self._waiting[item.session_id] = item
        self._order.add(item)
        line = self._by_queue.get(item.queue)
        if line is None:
            line = self._by_queue[item.queue] = _sorted()
        line.add(item)
        position = line.index(item) + 1
        if old is None:
            self._tell(Enqueued(item, position))
        else:
            self._tell(Replaced(old, old_position, item, position))

    def dequeue(self, session_id: str) -> Waiting | None:
        item = self._waiting.pop(session_id, None)
        if item is not None:
            self._tell(Dequeued(item, self._remove(item)))
        return item

    def _remove(self, item: Waiting) -> int:
        """Take ``item`` out of the sorted queues; the position it had."""
        self._order.remove(item)
        line = self._by_queue[item.queue]
        position = line.index(item) + 1
        line.remove(item)
        if not line:
            del self._by_queue[item.queue]
        return position

    def is_waiting(self, session_id: str) -> bool:
        return session_id in self._waiting

    def get_waiting(self, session_id: str) -> Waiting | None:
        return self._waiting.get(session_id)

    def waiting(self) -> list[Waiting]:
        return list(self._order)

    def _lines_of(self, seat: AgentSeat) -> list[Line]:
        if "*" in seat.skills:
            return [self._order]
        return [line for queue in set(seat.skills) if (line := self._by_queue.get(queue))]

    def waiting_for(self, seat: AgentSeat, limit: int | None = None) -> list[Waiting]:
        """What ``seat`` may take, in queue order: the first ``limit`` (all without)."""
        lines = self._lines_of(seat)
        merged: Iterator[Waiting] = (
            iter(lines[0]) if len(lines) == 1 else heapq.merge(*lines, key=lambda w: w.order_key)
        )
        return list(itertools.islice(merged, limit))

    def count_for(self, seat: AgentSeat) -> int:
        """How many sessions ``seat`` may take wait now."""
        return sum(len(line) for line in self._lines_of(seat))

    def queue_line(self, queue: str, start: int = 0) -> Iterator[Waiting]:
        """The sessions waiting in ``queue`` from index ``start`` (position ``start + 1``) on."""
        line = self._by_queue.get(queue)
        return iter(()) if line is None else line.islice(start)

    def queues(self) -> list[str]:
        return list(self._by_queue)

    def position(self, session_id: str) -> int | None:
        item = self._waiting.get(session_id)
        if item is None:
            return None
        return self._by_queue[item.queue].index(item) + 1

    def serving(self, queue: str) -> int:
        """Agents available for ``queue`` now (connected, presence available, its skill)."""
        return sum(1 for a in self.agents.values() if a.presence is Presence.AVAILABLE and a.serves(queue))

    def record_wait(self, queue: str, seconds: float) -> None:
        """A measured wait (queued to accepted) in ``queue``, weighed by the agents available
        as it ended: the same wait with twice the agents means a queue twice as slow."""
        self.record_weighted(queue, max(0.0, seconds) * max(1, self.serving(queue)))

    def record_weighted(self, queue: str, weighted: float) -> None:
        """A measured wait already weighed by the agents available (another process's)."""
        self._recent_waits.setdefault(queue, deque(maxlen=20)).append(weighted)
        self._tell(WaitMeasured(queue, weighted))

    def estimated_wait_s(self, session_id: str) -> int | None:
        """Position x the queue's recent measured wait, shared among the agents available
        for it now; None without a measured wait in this queue or without an agent."""
        position = self.position(session_id)
        if position is None:
            return None
        return self.estimate(self._waiting[session_id].queue, position)

    def estimate(self, queue: str, position: int) -> int | None:
        """The estimated wait (s) at ``position`` in ``queue``, as estimated_wait_s."""
        serving, waits = self.serving(queue), self._recent_waits.get(queue)
        if not waits or serving == 0:
            return None
        return max(1, math.ceil(position * statistics.fmean(waits) / serving))
