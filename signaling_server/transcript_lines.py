"""Calls and co-browse leave a line in the transcript: a system message when a call
connects and when it ends (with its duration), and when a page starts and stops being
shared. Both sides see it live, the next agent sees it in the handoff, and history and
exports keep it with the conversation.

The services call :meth:`TranscriptLines.call` / :meth:`TranscriptLines.cobrowse` each time
they push a state; each line is written once per call or co-browse.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from dcs_sdk.protocol import CallState, CobrowseState

if TYPE_CHECKING:
    from .cobrowse import Cobrowse
    from .sessions import SessionService
    from .signaling import Call

log = logging.getLogger(__name__)


def duration_text(seconds: float) -> str:
    """``75.4`` -> ``"1:15"``; an hour or more: ``"1:02:03"``."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class TranscriptLines:
    def __init__(self, service: SessionService) -> None:
        self.service = service
        self._said: set[tuple[str, str]] = set()  # (call or co-browse id, "start" | "end")

    def _first(self, key: str, what: str) -> bool:
        if (key, what) in self._said:
            return False
        self._said.add((key, what))
        if what == "end":
            self._said.discard((key, "start"))
        return True

    async def _say(self, session_id: str, text: str, code: str, **args: Any) -> None:
        record = await self.service.store.get_session(session_id)
        if record is None:
            return
        try:
            await self.service._system(record, text, {"code": code, "args": args})  # system_line()
        except Exception as exc:  # a line the store refused must not break the call itself
            log.warning("could not add %r to the transcript of %s: %r", text, session_id, exc)

    async def call(self, call: Call) -> None:
        kind = "Video call" if call.video else "Call"
        code = "video" if call.video else "call"  # the line's code: video_started, call_ended, ...
        if call.state is CallState.CONNECTED and self._first(call.call_id, "start"):
            await self._say(call.session_id, f"{kind} started.", f"{code}_started")
        elif call.state is CallState.ENDED and self._first(call.call_id, "end"):
            if call.connected_at:
                took = duration_text((call.ended_at or time.time()) - call.connected_at)
                await self._say(
                    call.session_id, f"{kind} ended after {took}.", f"{code}_ended", duration=took
                )
            elif call.reason == "declined":
                await self._say(call.session_id, f"{kind} declined.", f"{code}_declined")
            elif call.reason.startswith("hung up"):  # cancelled while ringing, or failed to connect
                await self._say(
                    call.session_id, f"{kind} ended before it connected.", f"{code}_not_connected"
                )
            # else it ended with the session (ended, handed on): the session's own line says why

    async def cobrowse(self, share: Cobrowse) -> None:
        key = share.cobrowse_id
        if share.state is CobrowseState.ACTIVE and self._first(key, "start"):
            name = share.agent.get("name") or "the agent"
            text = f"The customer started sharing their page with {name}."
            if share.agent.get("name"):
                await self._say(share.session_id, text, "cobrowse_started", name=name)
            else:
                await self._say(share.session_id, text, "cobrowse_started_anon")
        elif share.state is CobrowseState.ENDED and share.started_at and self._first(key, "end"):
            took = duration_text(time.time() - share.started_at)
            await self._say(
                share.session_id, f"Page sharing ended after {took}.", "cobrowse_ended", duration=took
            )
