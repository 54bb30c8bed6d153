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
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dcs_sdk.exceptions import ProtocolError
from dcs_sdk.protocol import (
    CallAnswer,
    CallInvite,
    CallMedia,
    CallRef,
    CallState,
    ErrorCode,
    Event,
    Role,
    RtcConfig,
    RtcSignal,
    SessionState,
    ok,
)
from dcs_sdk.tokens import Claims, turn_credentials

from .config import Config
from .sessions import Notifier, session_room
from .store import SessionRecord
from .store.cached import CachedStore


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


def _fail(code: ErrorCode, message: str) -> ProtocolError:
    return ProtocolError(code.value, message)


def _who(claims: Claims) -> dict[str, str]:
    return {"role": claims.role.value, "id": claims.sub, "name": claims.name}


class SignalingService:
    def __init__(self, store: CachedStore, notifier: Notifier, config: Config) -> None:
        self.store = store
        self.notifier = notifier
        self.config = config
        self.calls: dict[str, Call] = {}  # by session id: one call at a time per session

    async def _live_session(self, claims: Claims, session_id: str) -> SessionRecord:
        """The session, if this sender is its customer or the agent holding it, and it is live."""
        record = await self.store.get_session(session_id)
        if record is None:
            raise _fail(ErrorCode.NOT_FOUND, "There is no such session.")
        member = (claims.role is Role.CUSTOMER and record.customer_id == claims.sub) or (
            claims.role is Role.AGENT and record.agent_id == claims.sub
        )
        if not member:
            raise _fail(ErrorCode.FORBIDDEN, "Only the customer and the agent of a session can call.")
        if record.state is not SessionState.LIVE:
            raise _fail(ErrorCode.WRONG_STATE, "Calls need a live session with an agent.")
        return record

    def _call(self, session_id: str, call_id: str) -> Call:
        call = self.calls.get(session_id)
        if call is None or call.call_id != call_id or call.state is CallState.ENDED:
            raise _fail(ErrorCode.NOT_FOUND, "There is no such call in this session.")
        return call

    async def _push(self, call: Call) -> None:
        await self.notifier.emit(Event.CALL_STATE, call.to_wire(), room=session_room(call.session_id))

    def current(self, session_id: str) -> dict[str, Any] | None:
        call = self.calls.get(session_id)
        return call.to_wire() if call and call.state is not CallState.ENDED else None

    async def config_for(self, sid: str, claims: Claims, p: RtcConfig) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
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
            raise _fail(ErrorCode.WRONG_STATE, "A call is already under way in this session.")
        call = Call(
            call_id=f"call_{secrets.token_urlsafe(12)}",
            session_id=p.session_id,
            video=p.video,
            inviter=_who(claims),
        )
        self.calls[p.session_id] = call
        await self._push(call)
        return ok(call=call.to_wire())

    async def answer(self, sid: str, claims: Claims, p: CallAnswer) -> dict[str, Any]:
        await self._live_session(claims, p.session_id)
        call = self._call(p.session_id, p.call_id)
        if call.state is not CallState.RINGING:
            raise _fail(ErrorCode.WRONG_STATE, "This call is not ringing any more.")
        if call.inviter["id"] == claims.sub and call.inviter["role"] == claims.role.value:
            raise _fail(ErrorCode.FORBIDDEN, "The other side answers a call, not its caller.")
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
            raise _fail(ErrorCode.WRONG_STATE, "The call has not been answered yet.")
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
            raise _fail(ErrorCode.WRONG_STATE, "Signal after the call is answered.")
        if (p.description is None) == (p.candidate is None):
            raise _fail(ErrorCode.BAD_PAYLOAD, "A signal carries either a description or a candidate.")
        payload: dict[str, Any] = {
            "session_id": p.session_id,
            "call_id": p.call_id,
            "pc_id": p.pc_id,
            "from": _who(claims),
        }
        if p.description is not None:
            payload["description"] = p.description.model_dump()
        if p.candidate is not None:
            payload["candidate"] = p.candidate.model_dump()
        await self.notifier.emit(Event.RTC_SIGNAL, payload, room=session_room(p.session_id), skip_sid=sid)
        return ok()

    def _end(self, call: Call, reason: str) -> None:
        call.state = CallState.ENDED
        call.ended_at = time.time()
        call.reason = reason

    async def session_left_live(self, session_id: str) -> None:
        """The session was ended, transferred or closed: its call ends with it."""
        call = self.calls.pop(session_id, None)
        if call is not None and call.state is not CallState.ENDED:
            self._end(call, "session ended")
            await self._push(call)
