"""Queues and agents: who is waiting, who may take them, and how long the wait looks.

Held in memory and rebuilt from the store at start (queued and live sessions are durable,
presence is not). The session service asks the router questions and tells it what
happened; the router never does I/O.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

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
    sids: set[str] = field(default_factory=set)
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


class Router:
    def __init__(self) -> None:
        self.agents: dict[str, AgentSeat] = {}
        self._waiting: dict[str, Waiting] = {}
        # queue -> the last 20 measured waits, each times the agents available then
        self._recent_waits: dict[str, deque[float]] = {}

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
        return seat

    def agent_disconnected(self, agent_id: str, sid: str) -> AgentSeat | None:
        seat = self.agents.get(agent_id)
        if seat is None:
            return None
        seat.sids.discard(sid)
        if not seat.sids:
            seat.presence = Presence.OFFLINE
        return seat

    def set_presence(self, agent_id: str, presence: Presence) -> AgentSeat | None:
        seat = self.agents.get(agent_id)
        if seat is not None:
            seat.presence = seat.chosen = presence
        return seat

    def assign(self, agent_id: str, session_id: str) -> None:
        seat = self.agents.get(agent_id)
        if seat is not None:
            seat.sessions.add(session_id)

    def release(self, session_id: str) -> AgentSeat | None:
        for seat in self.agents.values():
            if session_id in seat.sessions:
                seat.sessions.discard(session_id)
                return seat
        return None

    def restore_assignment(self, agent_id: str, name: str, session_id: str) -> None:
        """After a restart: an agent holds a live session before they reconnect."""
        seat = self.agents.setdefault(agent_id, AgentSeat(id=agent_id, name=name, skills=("*",), capacity=1))
        seat.sessions.add(session_id)

    # the queue

    def enqueue(self, item: Waiting) -> None:
        self._waiting[item.session_id] = item

    def dequeue(self, session_id: str) -> Waiting | None:
        return self._waiting.pop(session_id, None)

    def is_waiting(self, session_id: str) -> bool:
        return session_id in self._waiting

    def waiting(self) -> list[Waiting]:
        return sorted(self._waiting.values(), key=lambda w: w.rank)

    def waiting_for(self, seat: AgentSeat) -> list[Waiting]:
        return [w for w in self.waiting() if seat.serves(w.queue)]

    def position(self, session_id: str) -> int | None:
        item = self._waiting.get(session_id)
        if item is None:
            return None
        ahead = [w for w in self._waiting.values() if w.queue == item.queue and w.rank < item.rank]
        return len(ahead) + 1

    def serving(self, queue: str) -> int:
        """Agents available for ``queue`` now (connected, presence available, its skill)."""
        return sum(1 for a in self.agents.values() if a.presence is Presence.AVAILABLE and a.serves(queue))

    def record_wait(self, queue: str, seconds: float) -> None:
        """A measured wait (queued to accepted) in ``queue``, weighed by the agents available
        as it ended: the same wait with twice the agents means a queue twice as slow."""
        waits = self._recent_waits.setdefault(queue, deque(maxlen=20))
        waits.append(max(0.0, seconds) * max(1, self.serving(queue)))

    def estimated_wait_s(self, session_id: str) -> int | None:
        """Position x the queue's recent measured wait, shared among the agents available
        for it now; None without a measured wait in this queue or without an agent."""
        position = self.position(session_id)
        if position is None:
            return None
        queue = self._waiting[session_id].queue
        serving, waits = self.serving(queue), self._recent_waits.get(queue)
        if not waits or serving == 0:
            return None
        return max(1, math.ceil(position * statistics.fmean(waits) / serving))
