"""Calls inside a live session: ringing, answer, hang-up, and the WebRTC signaling relay.

Media never passes through the server: it only relays SDP descriptions and ICE candidates
between the two participants of one live session (the customer and the agent holding it)
and hands out ICE servers with time-limited TURN credentials. The call's state lives in
memory beside the session; a participant who reloads finds it again in ``session.start``'s
ack (``call``) and re-negotiates, while the other side sees ``reconnecting``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dcs_sdk.protocol import (
    CallAnswer,
    CallInvite,
    CallMedia,
    CallRef,
    CallState,
    ErrorCode,
    Event,
    RtcConfig,
    RtcSignal,
    ok,
)
from dcs_sdk.tokens import Claims, turn_credentials

from .config import Config
from .participants import live_member, signal_payload, to_other_side, who
from .sessions import Notifier, fail, session_room
from .store import SessionRecord
from .store.cached import CachedStore
from .transcript_lines import TranscriptLines


@dataclass
class Call:
    call_id: str
    session_id: str
    video: bool
    inviter: dict[str, str]
    state: CallState = CallState.RINGING
    started_at: float = field(default_factory=time.time)
    connected_at: float | None = None
    ended_at: float | None = None
    reason: str = ""
    media: dict[str, dict[str, Any]] = field(default_factory=dict)  # role -> {state, audio, video}

    def to_wire(self) -> dict[str, Any]:
        end = self.ended_at or time.time()
        return {
            "session_id": self.session_id,
            "call_id": self.call_id,
            "state": self.state.value,
            "video": self.video,
            "inviter": self.inviter,
            "started_at": int(self.started_at * 1000),
            "connected_at": int(self.connected_at * 1000) if self.connected_at else None,
            "duration_s": round(end - self.connected_at, 1) if self.connected_at else 0,
            "reason": self.reason,
            "media": self.media,
        }


class SignalingService:
    def __init__(self, store: CachedStore, notifier: Notifier, config: Config) -> None:
        self.store = store
        self.notifier = notifier
        self.config = config
        self.calls: dict[str, Call] = {}  # by session id: one call at a time per session
        # "Call started." / "Call ended after 3:12." in the transcript (set by app.py)
        self.lines: TranscriptLines | None = None
        # told every change before it is pushed (cluster/: the other processes keep a copy)
        self.on_change: Callable[[Call], Awaitable[None]] | None = None

    async def _live_session(self, claims: Claims, session_id: str) -> SessionRecord:
        return await live_member(self.store, claims, session_id, doing="call")

    def _call(self, session_id: str, call_id: str) -> Call:
        call = self.calls.get(session_id)
        if call is None or call.call_id != call_id or call.state is CallState.ENDED:
            raise fail(ErrorCode.NOT_FOUND, "There is no such call in this session.")
        return call

    async def _push(self, call: Call) -> None:
        if self.on_change is not None:
            await self.on_change(call)
        await self.notifier.emit(Event.CALL_STATE, call.to_wire(), room=session_room(call.session_id))
        if self.lines is not None:
            await self.lines.call(call)

    def current(self, session_id: str) -> dict[str, Any] | None:
        call = self.calls.get(session_id)
        return call.to_wire() if call and call.state is not CallState.ENDED else None

    async def config_for(self, sid: str, claims: Claims, p: RtcConfig) -> dict[str, Any]:
        # calls and co-browse's data channel both connect with these
        await live_member(self.store, claims, p.session_id, doing="connect peer to peer")
        servers: list[dict[str, Any]] = []
        if self.config.stun_urls:
            servers.append({"urls": list(self.config.stun_urls)})
        if self.config.turn_urls and self.config.turn_secret:
            username, credential = turn_credentials(
                self.config.turn_secret, claims.sub, timedelta(seconds=self.config.turn_ttl_s)
            )
            servers.append(
                {"urls": list(self.config.turn_urls), "username": username, "credential": credential}
            )
        return ok(
            ice_servers=servers,
            ice_transport_policy=self.config.ice_transport_policy,
            ttl_s=self.config.turn_ttl_s,
        )

    async def invite(self, sid: str, claims: Claims, p: CallInvite) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
        existing = self.calls.get(p.session_id)
        if existing is not None and existing.state is not CallState.ENDED:
            raise fail(ErrorCode.WRONG_STATE, "A call is already under way in this session.")
        call = Call(
            call_id=f"call_{secrets.token_urlsafe(12)}",
            session_id=p.session_id,
            video=p.video,
            inviter=who(claims),
        )
        self.calls[p.session_id] = call
        await self._push(call)
        return ok(call=call.to_wire())

    async def answer(self, sid: str, claims: Claims, p: CallAnswer) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
        call = self._call(p.session_id, p.call_id)
        if call.state is not CallState.RINGING:
            raise fail(ErrorCode.WRONG_STATE, "This call is not ringing any more.")
        if call.inviter["id"] == claims.sub and call.inviter["role"] == claims.role.value:
            raise fail(ErrorCode.FORBIDDEN, "The other side answers a call, not its caller.")
        if p.accept:
            call.state = CallState.CONNECTING
        else:
            self._end(call, "declined")
        await self._push(call)
        return ok(call=call.to_wire())

    async def media(self, sid: str, claims: Claims, p: CallMedia) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
        call = self._call(p.session_id, p.call_id)
        if call.state is CallState.RINGING:
            raise fail(ErrorCode.WRONG_STATE, "The call has not been answered yet.")
        call.media[claims.role.value] = {"state": p.state.value, "audio": p.audio, "video": p.video}
        states = {m["state"] for m in call.media.values()}
        if CallState.RECONNECTING.value in states:
            call.state = CallState.RECONNECTING
        elif states == {CallState.CONNECTED.value} and len(call.media) == 2:
            call.state = CallState.CONNECTED
            call.connected_at = call.connected_at or time.time()
        await self._push(call)
        return ok(call=call.to_wire())

    async def hangup(self, sid: str, claims: Claims, p: CallRef) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
        call = self._call(p.session_id, p.call_id)
        self._end(call, f"hung up by {claims.role.value}")
        await self._push(call)
        return ok(call=call.to_wire())

    async def relay(self, sid: str, claims: Claims, p: RtcSignal) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
        call = self._call(p.session_id, p.call_id)
        if call.state is CallState.RINGING:
            raise fail(ErrorCode.WRONG_STATE, "Signal after the call is answered.")
        payload = signal_payload(p, claims, session_id=p.session_id, call_id=p.call_id)
        await to_other_side(self.notifier, Event.RTC_SIGNAL, payload, sid)
        return ok()

    def _end(self, call: Call, reason: str) -> None:
        call.state = CallState.ENDED
        call.ended_at = time.time()
        call.reason = reason

    async def session_left_live(self, session_id: str, reason: str = "session ended") -> None:
        """The session was ended, transferred or closed: its call ends with it."""
        call = self.calls.pop(session_id, None)
        if call is not None and call.state is not CallState.ENDED:
            self._end(call, reason)
            await self._push(call)
