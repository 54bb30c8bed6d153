"""Where the metrics are counted: small listeners beside the code that does the work.

- ``SessionMetrics``: a store listener (store/changes.py); every session change passes
  through it after its commit, so waits, escalations, outcomes and CSAT are counted from
  the record, and it keeps the sessions-by-state counts the collector reports.
- ``EventObserver``: wraps the gateway's one dispatch function: events and errors by name
  and code, chat.send's relay latency, and the log context of the event.
- ``ObservingNotifier``: the notifier of the call and co-browse services; both push every
  change of theirs, so call set-up and co-browse paths are read off what they push.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from dcs_sdk.protocol import CallState, CobrowseState, Event, SessionState

from ..logs import bind_event
from ..sessions import Notifier
from ..store import schema
from ..store.changes import Change, ChangeKind
from .collector import GAUGED_STATES
from .registry import CSAT_SCORES, Metrics

log = logging.getLogger(__name__)

S = SessionState
Dispatch = Callable[..., Awaitable[dict[str, Any]]]


class SessionMetrics:
    within_kinds: frozenset[ChangeKind] = frozenset()  # counts after commits only

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.states: Counter[str] = Counter()

    async def load(self, engine: AsyncEngine) -> None:
        """Start the sessions-by-state counts from the database (sessions from before)."""
        s = schema.sessions.c
        query = select(s.state, func.count()).where(s.state.in_(GAUGED_STATES)).group_by(s.state)
        async with engine.connect() as conn:
            self.states = Counter({str(state): int(n) for state, n in (await conn.execute(query)).all()})

    async def resync(self, engine: AsyncEngine, every_s: float) -> None:
        """With several processes, each sees only its own changes: read the counts again
        from the database every ``every_s`` (the task runs until cancelled)."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.load(engine)
            except Exception as exc:  # the database is away: keep the counts, try later
                log.warning("could not read the sessions by state for the metrics: %r", exc)

    async def within(self, conn: AsyncConnection, change: Change) -> None:
        return None

    def committed(self, change: Change) -> None:
        m, session = self.metrics, change.session
        if change.kind == "created":
            self.states[session.state.value] += 1
            return
        if change.kind == "updated":
            score = str(session.csat_score)
            if "csat_score" in change.fields and score in CSAT_SCORES:
                m.csat.labels(score).inc()
            return
        before, after = change.before, session.state
        if before is None:
            return
        if before is after:  # a warm transfer (live, to a named agent), a queued session moved
            if after is S.LIVE and change.previous and change.previous.agent_id != session.agent_id:
                m.transfers.inc()
            return
        self.states[before.value] -= 1
        if after is not S.ENDED:
            self.states[after.value] += 1
        if before is S.VIRTUAL and after is S.QUEUED:
            m.escalated(change.detail)  # the reason's code (session.reason is in words)
        elif before is S.QUEUED and after is S.LIVE and session.accepted_at and session.queued_at:
            m.queue_wait.observe(max(0.0, session.accepted_at - session.queued_at))
        if before is S.LIVE:
            # The first agent's first reply: after a transfer, accepted_at is the next
            # agent's and lies after it, so a session counts once.
            replied, accepted = session.first_agent_reply_at, session.accepted_at
            if replied is not None and accepted is not None and replied >= accepted:
                m.first_response.observe(replied - accepted)
            if after is S.QUEUED:
                m.transfers.inc()
        if after is S.ENDED:
            outcome = {S.VIRTUAL: "contained", S.QUEUED: "abandoned"}.get(before, "handled")
            m.ended.labels(outcome).inc()
            if session.accepted_at is not None and session.ended_at is not None:
                m.handle_time.observe(max(0.0, session.ended_at - session.accepted_at))


class EventObserver:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def wrap(self, dispatch: Dispatch) -> Dispatch:
        counts = self.metrics.events.counts
        relay, chat_send = self.metrics.relay_latency.series[""], Event.CHAT_SEND.value
        metrics = self.metrics

        async def observed(event: Any, sid: str, *args: Any) -> dict[str, Any]:
            name = event if isinstance(event, str) else "other"  # RefusedName: reserved/nameless
            bind_event(name, sid)
            started = time.perf_counter()
            reply = await dispatch(event, sid, *args)
            if name in counts:
                counts[name] += 1
            else:
                counts["other"] += 1
            if reply.get("ok"):
                if name == chat_send:
                    relay.observe(time.perf_counter() - started)
            else:
                metrics.event_error(name, str((reply.get("error") or {}).get("code")))
            return reply

        return observed


def _candidate_type(candidate: Any) -> str | None:
    """'host', 'srflx', 'prflx' or 'relay' from an ICE candidate line."""
    line = candidate.get("candidate") if isinstance(candidate, dict) else None
    parts = line.split() if isinstance(line, str) else []
    return parts[parts.index("typ") + 1] if "typ" in parts[:-1] else None


class ObservingNotifier:
    """Passes everything on; counts calls by set-up outcome and co-browse by path.

    The path of a co-browse share is what the server can see of it: ``relay`` if any frame
    came through the server (``cobrowse.data``); ``turn`` if every ICE candidate the two
    sides exchanged was a TURN relay candidate (or ``ice_transport_policy`` is "relay");
    otherwise ``peer``. (The server does not learn which candidate pair ICE chose, so a
    share that offered direct candidates but fell back to TURN counts as ``peer``.)
    """

    def __init__(self, inner: Notifier, metrics: Metrics, *, relay_only: bool = False) -> None:
        self.inner = inner
        self.metrics = metrics
        self.relay_only = relay_only
        self._connected_calls: set[str] = set()
        self._shares: dict[str, dict[str, Any]] = {}  # active co-browse id -> what was seen

    async def emit(
        self, event: str, data: Any, *, room: str | list[str], skip_sid: str | None = None
    ) -> None:
        await self.inner.emit(event, data, room=room, skip_sid=skip_sid)
        if not isinstance(data, dict):
            return
        if event == Event.CALL_STATE:
            self._call(data)
        elif event == Event.COBROWSE_STATE:
            self._cobrowse(data)
        elif event == Event.COBROWSE_DATA and (share := self._shares.get(str(data.get("cobrowse_id")))):
            share["relayed"] = True
        elif event == Event.COBROWSE_SIGNAL and (share := self._shares.get(str(data.get("cobrowse_id")))):
            kind = _candidate_type(data.get("candidate"))
            if kind is not None:
                share["candidates"].add(kind)

    async def enter_room(self, sid: str, room: str) -> None:
        await self.inner.enter_room(sid, room)

    async def leave_room(self, sid: str, room: str) -> None:
        await self.inner.leave_room(sid, room)

    def _call(self, call: dict[str, Any]) -> None:
        call_id, state = str(call.get("call_id")), call.get("state")
        if state == CallState.CONNECTED and call_id not in self._connected_calls:
            self._connected_calls.add(call_id)
            self.metrics.calls.labels("connected").inc()
            started, connected = call.get("started_at"), call.get("connected_at")
            if isinstance(started, int) and isinstance(connected, int):
                self.metrics.call_setup.observe(max(0, connected - started) / 1000)
        elif state == CallState.ENDED and call_id in self._connected_calls:
            self._connected_calls.discard(call_id)
        elif state == CallState.ENDED:
            reason = str(call.get("reason", ""))
            outcome = (
                "declined"
                if reason == "declined"
                else "cancelled"
                if reason.startswith("hung up")
                else "failed"
            )
            self.metrics.calls.labels(outcome).inc()

    def _cobrowse(self, share: dict[str, Any]) -> None:
        cobrowse_id, state = str(share.get("cobrowse_id")), share.get("state")
        if state == CobrowseState.ACTIVE:
            self._shares.setdefault(cobrowse_id, {"relayed": False, "candidates": set()})
        elif state == CobrowseState.ENDED and (seen := self._shares.pop(cobrowse_id, None)):
            if seen["relayed"]:
                path = "relay"
            elif self.relay_only or seen["candidates"] == {"relay"}:
                path = "turn"
            else:
                path = "peer"
            self.metrics.cobrowse.labels(path).inc()
