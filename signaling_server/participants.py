"""Who may take part in what happens inside a live session (calls, co-browse).

Only the session's customer and the agent holding it, and only while it is live: anyone
else (another customer, another agent, a supervisor) is refused with ``forbidden``.
"""

from __future__ import annotations

from typing import Any

from dcs_sdk.protocol import ErrorCode, Event, Role, SessionState, SignalBody
from dcs_sdk.tokens import Claims

from .sessions import Notifier, fail, session_room
from .store import SessionRecord
from .store.cached import CachedStore


def who(claims: Claims) -> dict[str, str]:
    return {"role": claims.role.value, "id": claims.sub, "name": claims.name}


async def live_member(store: CachedStore, claims: Claims, session_id: str, *, doing: str) -> SessionRecord:
    """The session, if the sender is its customer or the agent holding it, and it is live.

    ``doing`` completes the refusals: "Only the customer and the agent of a session can {doing}."
    """
    record = await store.get_session(session_id)
    if record is None:
        raise fail(ErrorCode.NOT_FOUND, "There is no such session.")
    member = (claims.role is Role.CUSTOMER and record.customer_id == claims.sub) or (
        claims.role is Role.AGENT and record.agent_id == claims.sub
    )
    if not member:
        raise fail(ErrorCode.FORBIDDEN, f"Only the customer and the agent of a session can {doing}.")
    if record.state is not SessionState.LIVE:
        raise fail(ErrorCode.WRONG_STATE, f"To {doing}, the session must be live with an agent.")
    return record


def signal_payload(p: SignalBody, claims: Claims, **ids: str) -> dict[str, Any]:
    """What the other side receives of a WebRTC signal: exactly one description or candidate."""
    if (p.description is None) == (p.candidate is None):
        raise fail(ErrorCode.BAD_PAYLOAD, "A signal carries either a description or a candidate.")
    payload: dict[str, Any] = {**ids, "pc_id": p.pc_id, "from": who(claims)}
    if p.description is not None:
        payload["description"] = p.description.model_dump()
    if p.candidate is not None:
        payload["candidate"] = p.candidate.model_dump()
    return payload


async def to_other_side(notifier: Notifier, event: Event, payload: dict[str, Any], sid: str) -> None:
    """Relay to the session's other participant(s): everyone in its room but the sender."""
    await notifier.emit(event, payload, room=session_room(payload["session_id"]), skip_sid=sid)
