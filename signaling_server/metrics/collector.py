"""Gauges computed at scrape time from what the server holds, so they cannot drift.

Queue depth, the oldest wait and agents by presence come from the router; connected sockets
from the event gateway's connections; sessions by state from the counts the session
listener keeps (sessions.py's transitions all pass through it, and it starts from the
database's own count).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dcs_sdk.protocol import Presence, Role

from ..routing import Router

# The states a session stays in; ended sessions are counted by dcs_sessions_ended_total.
GAUGED_STATES = ("virtual", "queued", "live", "wrap_up")
CONNECTING_ROLES = (Role.CUSTOMER.value, Role.AGENT.value, Role.SUPERVISOR.value)


class LiveCollector(Collector):
    def __init__(
        self,
        router: Router,
        connections: Callable[[], Iterable[Any]],
        states: Callable[[], Mapping[str, int]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.router = router
        self.connections = connections  # the gateway's Connection objects (claims.role)
        self.states = states
        self.clock = clock

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = self.clock()
        depth = GaugeMetricFamily("dcs_queue_depth", "Sessions waiting in each queue.", labels=["queue"])
        oldest = GaugeMetricFamily(
            "dcs_queue_oldest_wait_seconds",
            "How long the oldest waiting session of each queue has waited.",
            labels=["queue"],
        )
        by_queue: dict[str, list[float]] = {}
        for item in self.router.waiting():
            by_queue.setdefault(item.queue, []).append(item.queued_at)
        for queue, since in sorted(by_queue.items()):
            depth.add_metric([queue], len(since))
            oldest.add_metric([queue], max(0.0, now - min(since)))
        yield depth
        yield oldest
        sessions = GaugeMetricFamily("dcs_sessions", "Sessions in each state but ended.", labels=["state"])
        counts = self.states()
        for state in GAUGED_STATES:
            sessions.add_metric([state], max(0, counts.get(state, 0)))
        yield sessions
        sockets = GaugeMetricFamily(
            "dcs_connected_sockets", "Signed-in socket.io connections, by role.", labels=["role"]
        )
        roles = Counter(conn.claims.role.value for conn in list(self.connections()))
        for role in sorted({*CONNECTING_ROLES, *roles}):
            sockets.add_metric([role], roles.get(role, 0))
        yield sockets
        agents = GaugeMetricFamily(
            "dcs_agents", "Agents known to the router, by presence.", labels=["presence"]
        )
        presence = Counter(seat.presence.value for seat in self.router.agents.values())
        for p in Presence:
            agents.add_metric([p.value], presence.get(p.value, 0))
        yield agents
