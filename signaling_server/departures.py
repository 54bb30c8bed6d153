"""An agent who leaves hands their customers on.

An agent leaves by signing out (``agent.signout``, which the console sends before it
disconnects) or by having no console connected for ``agent_grace_s``; a reconnect within
the grace cancels it. Then each of their live sessions goes back to the front of its
queue (ahead of everyone who was already waiting) with its whole history, so the next
agent gets the full handoff; the customer is told in words, the next agent sees why in the
queue item's and the handoff's ``reason``, and a call or co-browse under way ends. Their
sessions in wrap-up are closed with a note. The seat is released and the queue pushed.

A requeue is one store transition whose detail starts with ``HANDED_ON``: that is how the
router finds the handed-on sessions again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from dcs_sdk.protocol import AgentSignout, Presence, SessionState, ok
from dcs_sdk.tokens import Claims

from .routing import AgentSeat
from .sessions import SessionService, system_line
from .store import SessionRecord


async def _always(_agent_id: str) -> bool:
    return True


log = logging.getLogger(__name__)

S = SessionState
HANDED_ON = "handed on: "  # the detail of the transition that requeues a session at the front
# what ends with the session, as the customer is told: companion key -> words
ENDS_WITH_IT = {"call": "the call", "cobrowse": "screen sharing"}


class Departures:
    def __init__(self, service: SessionService, *, grace_s: float) -> None:
        self.service = service
        self.grace_s = grace_s
        self._timers: dict[str, asyncio.Task[None]] = {}  # agent id -> grace timer, still waiting
        self._tasks: set[asyncio.Task[None]] = set()  # every timer, waiting or handing on
        self._closed = False
        # Whether this process hands the agent's sessions on (cluster/: one process of all
        # those whose grace ran out takes it; alone, always this one).
        self.claim: Callable[[str], Awaitable[bool]] = _always

    # lifecycle

    async def restore(self) -> None:
        """After a start: handed-on sessions keep their place, and nobody is connected yet,
        so the grace begins for every agent who holds sessions."""
        router = self.service.router
        for item in router.waiting():
            history = await self.service.store.store.transitions_of(item.session_id)
            last = history[-1] if history else {}
            if last.get("to_state") == S.QUEUED.value and str(last.get("detail", "")).startswith(HANDED_ON):
                router.enqueue(replace(item, priority=True))
        for agent_id in list(router.agents):
            self.agent_gone(agent_id)

    async def shutdown(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # the gateway's hooks

    def agent_back(self, agent_id: str) -> None:
        """A console of this agent connected: whatever grace was running is over."""
        timer = self._timers.pop(agent_id, None)
        if timer is not None:
            timer.cancel()

    def agent_gone(self, agent_id: str) -> None:
        """A console of this agent disconnected: if it was the last one and they hold
        sessions, hand them on once the grace is over."""
        seat = self.service.router.agents.get(agent_id)
        if self._closed or seat is None or seat.sids or not seat.sessions or agent_id in self._timers:
            return
        # (seat.sids counts the agent's connections on every server process: cluster/)
        task = asyncio.get_running_loop().create_task(self._after_grace(agent_id))
        self._timers[agent_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_grace(self, agent_id: str) -> None:
        await asyncio.sleep(self.grace_s)
        if self._timers.get(agent_id) is not asyncio.current_task():
            return
        del self._timers[agent_id]  # from here on a reconnect no longer stops it
        seat = self.service.router.agents.get(agent_id)
        if seat is None or seat.sids or not await self.claim(agent_id):
            return
        try:
            await self.hand_on(seat, why=f"{seat.name} lost connection")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handing on the sessions of %s failed", agent_id)

    # the use case

    async def signout(self, sid: str, claims: Claims, p: AgentSignout) -> dict[str, Any]:
        seat = self.service.router.agents.get(claims.sub)
        if seat is None:  # a connected agent always has a seat; nothing is held without one
            return ok(handed_on=[], closed=[])
        self.agent_back(seat.id)
        seat.presence = Presence.OFFLINE  # not their choice: the next sign-in restores it
        handed, closed = await self.hand_on(seat, why=f"{seat.name} signed out")
        return ok(handed_on=handed, closed=closed)

    async def hand_on(self, seat: AgentSeat, *, why: str) -> tuple[list[str], list[str]]:
        """Requeue the agent's live sessions at the front, close their wrap-ups: (requeued,
        closed) session ids. ``why`` is what the next agent reads ("Alice signed out")."""
        service = self.service
        handed: list[str] = []
        closed: list[str] = []
        async with service._lock(service._agent_locks, seat.id):  # no accept meanwhile
            for record in await service.store.sessions_of_agent(seat.id):
                if record.state is S.LIVE and await self._requeue(record, seat, why):
                    handed.append(record.id)
                elif record.state is S.WRAP_UP and await self._close(record, seat, why):
                    closed.append(record.id)
            seat.sessions.difference_update(handed + closed)
        if handed or closed:
            log.info("%s: %d session(s) handed on, %d closed (%s)", seat.id, len(handed), len(closed), why)
        await service._push_agent(seat)
        await service._queue_changed()
        return handed, closed

    async def _requeue(self, record: SessionRecord, seat: AgentSeat, why: str) -> bool:
        service = self.service
        ended = [
            key
            for key in ENDS_WITH_IT
            if key in service.companions and service.companions[key].current(record.id)
        ]
        ending = [ENDS_WITH_IT[key] for key in ended]
        now = time.time()
        moved = await service.store.transition(
            record.id,
            allowed_from=[S.LIVE],
            to=S.QUEUED,
            at=now,
            actor=seat.id,
            detail=HANDED_ON + why,
            queued_at=now,
            reason=why,
            agent_id=None,
            agent_name=None,
            accepted_at=None,
        )
        if moved is None:  # ended or moved meanwhile
            return False
        await service._left_live(moved.id, "agent left")
        await service._release(record, reason="handed_on")
        service.router.enqueue(replace(service._waiting(moved), priority=True))
        so = f", so {' and '.join(ending)} ended" if ending else ""
        await service._system(
            moved,
            f"{seat.name} had to leave{so}. You're first in line for the next agent, "
            "who will see this whole conversation.",
            system_line("agent_left", name=seat.name, ended=ended),
        )
        return True

    async def _close(self, record: SessionRecord, seat: AgentSeat, why: str) -> bool:
        service = self.service
        now = time.time()
        moved = await service.store.transition(
            record.id,
            allowed_from=[S.WRAP_UP],
            to=S.ENDED,
            at=now,
            actor=seat.id,
            detail=f"closed: {why}",
            ended_at=now,
            wrap_up_notes=record.wrap_up_notes or f"Closed without wrap-up notes: {why}.",
        )
        if moved is None:
            return False
        await service._push_state(moved)
        await service._release(moved, reason="ended")
        service._forget(moved.id)
        return True
