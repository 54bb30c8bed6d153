"""Left messages: when no one can serve the queue, the customer leaves a message instead.

``session.leave_message`` stores the text as an ordinary customer message of the same
session (so it has its seq, and a retried ``client_id`` is stored once) and marks the
session as a follow-up (``left_message_at``, ``left_message``). The session stays in its
queue: agents see it in ``queue.snapshot`` as "left a message" with the text when they come
back, accept it like any other and reply in the same session; the customer sees the reply
when they next open the widget (the session id stays in their browser). A follow-up's wait
is no measurement of the queue (availability.py).

A customer still with the assistant is put in the queue first; one whom an agent took
meanwhile simply sends the message into the live chat.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from dcs_sdk.protocol import ChatSend, ErrorCode, LeaveMessage, Role, SessionState, ok
from dcs_sdk.tokens import Claims

from .sessions import SessionService, fail, system_line
from .store import SessionRecord

S = SessionState
REASON = "left a message"
SAVED = (
    "Thanks, your message is saved. We'll reply in this chat: you'll see the answer here "
    "when you come back, even if you close this page."
)


class Followups:
    def __init__(self, service: SessionService) -> None:
        self.service = service

    async def leave_message(self, sid: str, claims: Claims, p: LeaveMessage) -> dict[str, Any]:
        service = self.service
        session = await service._session_for(claims, p.session_id)
        if session.state is S.VIRTUAL:
            queue = str(session.assistant_state.get("queue") or service.default_queue)
            session = await service._escalate(session, REASON, queue, actor=claims.sub)
        if session.state is S.LIVE:  # an agent took it meanwhile: it is just a message now
            sent = await service.send(
                sid, claims, ChatSend(session_id=p.session_id, client_id=p.client_id, text=p.text)
            )
            return {**sent, "session": service._wire(session)}
        if session.state is not S.QUEUED:
            raise fail(ErrorCode.WRONG_STATE, "This conversation has ended; start a new one.")
        stored, created = await service._append(
            session, Role.CUSTOMER, claims.sub, claims.name, p.text, client_id=p.client_id, sender_sid=sid
        )
        if created:
            await service._after_message(session, stored)
        fresh = await service.store.get_session(session.id) or session
        if fresh.state is S.QUEUED and fresh.left_message_at is None:
            fresh = await self._mark(fresh, p.text)
        return ok(seq=stored.seq, message=stored.to_wire(), session=service._wire(fresh))

    async def _mark(self, session: SessionRecord, text: str) -> SessionRecord:
        """Flag the session as a follow-up, show it to the agents, tell the customer."""
        service = self.service
        now = time.time()
        marked = await service.store.update_session(session.id, left_message_at=now, left_message=text[:500])
        marked = marked or await service.store.get_session(session.id) or session
        waiting = service.router.dequeue(session.id)
        if waiting is not None:
            service.router.enqueue(replace(waiting, left_message=text[:500], left_message_at=now))
        await service._system(marked, SAVED, system_line("message_saved"))
        await service._queue_changed()
        return marked
