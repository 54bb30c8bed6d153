"""Co-browse inside a live session: consent, control, stop, and the relays.

The agent asks (``cobrowse.request``) or the customer offers; nothing is shared until the
customer consents (``cobrowse.consent``), and control of the page needs a second consent.
The page itself travels peer to peer over a data channel whose signaling this relays
(``cobrowse.signal``); only when no peer path exists do frames pass through here
(``cobrowse.data``). Frames are relayed as they come: never parsed, logged or stored, so
the server holds nothing of the customer's page. State lives in memory beside the session,
like calls: a customer page that reloads finds it in ``session.start``'s ack and resumes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dcs_sdk.protocol import (
    CobrowseConsent,
    CobrowseData,
    CobrowseRef,
    CobrowseRequest,
    CobrowseSignal,
    CobrowseState,
    ControlState,
    ErrorCode,
    Event,
    Role,
    ok,
)
from dcs_sdk.tokens import Claims

from .participants import live_member, signal_payload, to_other_side, who
from .sessions import Notifier, fail, session_room
from .store import SessionRecord
from .store.cached import CachedStore
from .transcript_lines import TranscriptLines


@dataclass
class Cobrowse:
    cobrowse_id: str
    session_id: str
    agent: dict[str, str]  # the agent who sees the page: {"id", "name"}
    requested_by: Role
    state: CobrowseState
    control: ControlState = ControlState.OFF
    started_at: float | None = None
    reason: str = ""

    def to_wire(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "cobrowse_id": self.cobrowse_id,
            "state": self.state.value,
            "agent": self.agent,
            "requested_by": self.requested_by.value,
            "control": self.control.value,
            "started_at": int(self.started_at * 1000) if self.started_at else None,
            "reason": self.reason,
        }


class CobrowseService:
    def __init__(self, store: CachedStore, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier
        self.shares: dict[str, Cobrowse] = {}  # by session id: one co-browse at a time
        # "The customer started sharing their page…" in the transcript (set by app.py)
        self.lines: TranscriptLines | None = None
        # told every change before it is pushed (cluster/: the other processes keep a copy)
        self.on_change: Callable[[Cobrowse], Awaitable[None]] | None = None

    async def _member(self, claims: Claims, session_id: str) -> SessionRecord:
        return await live_member(self.store, claims, session_id, doing="co-browse")

    def _open(self, session_id: str) -> Cobrowse | None:
        share = self.shares.get(session_id)
        return share if share is not None and share.state is not CobrowseState.ENDED else None

    def _named(self, session_id: str, cobrowse_id: str) -> Cobrowse:
        share = self._open(session_id)
        if share is None or share.cobrowse_id != cobrowse_id:
            raise fail(ErrorCode.NOT_FOUND, "There is no such co-browse in this session.")
        return share

    def _active(self, session_id: str, cobrowse_id: str) -> Cobrowse:
        share = self._named(session_id, cobrowse_id)
        if share.state is not CobrowseState.ACTIVE:
            raise fail(ErrorCode.WRONG_STATE, "The customer has not shared their page yet.")
        return share

    async def _push(self, share: Cobrowse) -> None:
        if self.on_change is not None:
            await self.on_change(share)
        await self.notifier.emit(Event.COBROWSE_STATE, share.to_wire(), room=session_room(share.session_id))
        if self.lines is not None:
            await self.lines.cobrowse(share)

    def _new(self, record: SessionRecord, requested_by: Role, state: CobrowseState) -> Cobrowse:
        share = Cobrowse(
            cobrowse_id=f"cob_{secrets.token_urlsafe(12)}",
            session_id=record.id,
            agent={"id": record.agent_id or "", "name": record.agent_name or "The agent"},
            requested_by=requested_by,
            state=state,
        )
        self.shares[record.id] = share
        return share

    def current(self, session_id: str) -> dict[str, Any] | None:
        share = self._open(session_id)
        return share.to_wire() if share else None

    async def request(self, sid: str, claims: Claims, p: CobrowseRequest) -> dict[str, Any]:
        record = await self._member(claims, p.session_id)
        share = self._open(p.session_id)
        if p.control:
            if share is None or share.state is not CobrowseState.ACTIVE:
                raise fail(ErrorCode.WRONG_STATE, "Ask for control once the customer shares their page.")
            if share.control is ControlState.GRANTED:
                raise fail(ErrorCode.WRONG_STATE, "You already have control of the customer's page.")
            share.control = ControlState.REQUESTED
        elif share is not None:
            raise fail(ErrorCode.WRONG_STATE, "Co-browse is already asked for or under way in this session.")
        else:
            share = self._new(record, Role.AGENT, CobrowseState.REQUESTED)
        await self._push(share)
        return ok(cobrowse=share.to_wire())

    async def consent(self, sid: str, claims: Claims, p: CobrowseConsent) -> dict[str, Any]:
        record = await self._member(claims, p.session_id)
        share = self._open(p.session_id)
        if p.scope == "view":
            if p.accept:
                if share is None:
                    share = self._new(record, Role.CUSTOMER, CobrowseState.ACTIVE)
                share.state = CobrowseState.ACTIVE
                share.started_at = share.started_at or time.time()
            elif share is None:
                raise fail(ErrorCode.NOT_FOUND, "Nobody asked to see this page.")
            else:
                asked = share.state is CobrowseState.REQUESTED
                self._end(share, "declined" if asked else "stopped by customer")
        else:
            if share is None or share.state is not CobrowseState.ACTIVE:
                raise fail(ErrorCode.WRONG_STATE, "Control needs a page that is being shared.")
            if p.accept and share.control is not ControlState.REQUESTED:
                raise fail(ErrorCode.WRONG_STATE, "The agent has not asked for control.")
            share.control = ControlState.GRANTED if p.accept else ControlState.OFF
        await self._push(share)
        return ok(cobrowse=share.to_wire())

    async def stop(self, sid: str, claims: Claims, p: CobrowseRef) -> dict[str, Any]:
        await self._member(claims, p.session_id)
        share = self._named(p.session_id, p.cobrowse_id)
        self._end(share, f"stopped by {claims.role.value}")
        await self._push(share)
        return ok(cobrowse=share.to_wire())

    async def relay_signal(self, sid: str, claims: Claims, p: CobrowseSignal) -> dict[str, Any]:
        await self._member(claims, p.session_id)
        self._active(p.session_id, p.cobrowse_id)
        payload = signal_payload(p, claims, session_id=p.session_id, cobrowse_id=p.cobrowse_id)
        await to_other_side(self.notifier, Event.COBROWSE_SIGNAL, payload, sid)
        return ok()

    async def relay_data(self, sid: str, claims: Claims, p: CobrowseData) -> dict[str, Any]:
        await self._member(claims, p.session_id)
        self._active(p.session_id, p.cobrowse_id)
        payload = {
            "session_id": p.session_id,
            "cobrowse_id": p.cobrowse_id,
            "frame": p.frame,
            "from": who(claims),
        }
        await to_other_side(self.notifier, Event.COBROWSE_DATA, payload, sid)
        return ok()

    def _end(self, share: Cobrowse, reason: str) -> None:
        share.state = CobrowseState.ENDED
        share.control = ControlState.OFF
        share.reason = reason

    async def session_left_live(self, session_id: str, reason: str = "session ended") -> None:
        """The session was ended, transferred or closed: co-browse stops with it."""
        share = self.shares.pop(session_id, None)
        if share is not None and share.state is not CobrowseState.ENDED:
            self._end(share, reason)
            await self._push(share)
