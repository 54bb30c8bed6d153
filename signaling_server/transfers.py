"""Transfers: an agent (or a supervisor) passes a live session on, history and all.

To a queue (``session.transfer`` with ``queue``): the session goes back to ``queued`` in
that queue at once, the next agent's queue card and handoff say "transferred by Alice:
<note>". To a named agent (``agent_id``) it is **warm**: the session stays with the sender
while the receiver sees the note, the reason and the whole history (``transfer.state``
``offered``, with a Handoff); both may write in a **consult** (``transfer.consult``, staff
notes the customer never sees) until the receiver answers. Accepted: the session moves to
the receiver and the customer is told who has them now. Declined, timed out or cancelled:
it stays with the sender, who is told why. A call or co-browse under way ends politely,
with a line in the chat; the new agent can start their own.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from dcs_sdk.protocol import (
    ErrorCode,
    Event,
    Role,
    SessionRef,
    SessionState,
    SessionTransfer,
    TransferAnswer,
    TransferConsult,
    TransferRef,
    ok,
)
from dcs_sdk.tokens import Claims

from .events import Handler
from .reasons import transferred_by
from .routing import AgentSeat
from .sessions import SessionService, agent_room, fail, session_room
from .store import SessionRecord
from .store.staff_notes import StaffNote, StaffNotes

log = logging.getLogger(__name__)

S = SessionState
# what ends with the agent's part of a session, as the customer is told: companion -> words
ENDS_WITH_IT = {"call": "the call", "cobrowse": "screen sharing"}

TransferOutcome = Literal["accepted", "declined", "timed_out", "cancelled", "failed"]


@dataclass
class PendingTransfer:
    id: str
    session_id: str
    from_id: str
    from_name: str
    to_id: str
    to_name: str
    note: str
    reason: str
    created_at: float = field(default_factory=time.time)
    timer: asyncio.Task[None] | None = None

    def to_wire(self, state: str, message: str = "") -> dict[str, Any]:
        return {
            "transfer_id": self.id,
            "session_id": self.session_id,
            "state": state,
            "from": {"id": self.from_id, "name": self.from_name},
            "to": {"id": self.to_id, "name": self.to_name},
            "note": self.note,
            "reason": self.reason,
            "created_at": int(self.created_at * 1000),
            "message": message,
        }


class Transfers:
    def __init__(self, service: SessionService, notes: StaffNotes, *, timeout_s: float) -> None:
        self.service = service
        self.notes = notes
        self.timeout_s = timeout_s
        self.pending: dict[str, PendingTransfer] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def handlers(self) -> dict[Event, Handler]:
        return {
            Event.SESSION_TRANSFER: self.transfer,
            Event.TRANSFER_ANSWER: self.answer,
            Event.TRANSFER_CONSULT: self.consult,
            Event.TRANSFER_CANCEL: self.cancel,
            Event.TRANSFER_TARGETS: self.targets,
        }

    async def targets(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        """The queues a session can go to, and the agents who could take it now."""
        session = await self.service._session_for(claims, p.session_id)
        seats = self.service.router.agents.values()
        queues = {self.service.default_queue, session.queue}
        queues.update(q for seat in seats for q in seat.skills if q != "*")
        agents = [
            {"id": seat.id, "name": seat.name, "free": seat.free_slots, "presence": seat.presence.value}
            for seat in seats
            if seat.id != claims.sub and seat.sids and seat.serves(session.queue) and seat.free_slots > 0
        ]
        return ok(queues=sorted(queues), agents=sorted(agents, key=lambda a: str(a["name"])))

    def pending_for(self, session_id: str) -> PendingTransfer | None:
        return next((t for t in self.pending.values() if t.session_id == session_id), None)

    # the agent's events

    async def transfer(self, sid: str, claims: Claims, p: SessionTransfer) -> dict[str, Any]:
        if (p.queue is None) == (p.agent_id is None):
            raise fail(ErrorCode.BAD_PAYLOAD, "A transfer names either a queue or an agent.")
        session = await self.service._session_for(claims, p.session_id)
        if session.state is not S.LIVE:
            raise fail(ErrorCode.WRONG_STATE, "Only a live session can be transferred.")
        if self.pending_for(session.id) is not None:
            raise fail(ErrorCode.WRONG_STATE, "A transfer of this session is already waiting for an answer.")
        name = claims.name or claims.sub
        if p.queue is not None:
            await self.to_queue(session, claims, p.queue, note=p.note, reason=transferred_by(name, p.note))
            await self.service.audited(claims, "transfer", session.id, target=p.queue, note=p.note)
            return ok(session=self.service._wire(await self.service.store.get_session(session.id) or session))
        seat = self.receiver(session, str(p.agent_id), sender=claims.sub)
        transfer = PendingTransfer(
            id=f"tr_{secrets.token_urlsafe(12)}",
            session_id=session.id,
            from_id=claims.sub,
            from_name=name,
            to_id=seat.id,
            to_name=seat.name,
            note=p.note,
            reason=transferred_by(name, p.note),
        )
        self.pending[transfer.id] = transfer
        if p.note:
            await self._note(session.id, "transfer", claims, p.note, notify=False)
        handoff = await self.service.handoff(session)
        offer = {**transfer.to_wire("offered"), "handoff": handoff}
        await self.service.notifier.emit(Event.TRANSFER_STATE, offer, room=agent_room(seat.id))
        await self._tell_sender(transfer, "offered")
        transfer.timer = self._spawn(self._expire(transfer.id))
        await self.service.audited(
            claims, "transfer", session.id, target=seat.id, note=p.note, warm=True, transfer_id=transfer.id
        )
        return ok(transfer=transfer.to_wire("offered"))

    async def consult(self, sid: str, claims: Claims, p: TransferConsult) -> dict[str, Any]:
        transfer = self._mine(p.transfer_id, claims, sides=("from", "to"))
        note = await self._note(transfer.session_id, "consult", claims, p.text, notify=False)
        payload = {**note.to_wire(), "transfer_id": transfer.id}
        for agent_id in (transfer.from_id, transfer.to_id):
            await self.service.notifier.emit(Event.STAFF_NOTE, payload, room=agent_room(agent_id))
        return ok(note=payload)

    async def answer(self, sid: str, claims: Claims, p: TransferAnswer) -> dict[str, Any]:
        transfer = self._mine(p.transfer_id, claims, sides=("to",))
        if not p.accept:
            words = f"{transfer.to_name} declined the transfer" + (f": {p.message}" if p.message else ".")
            await self._finish(transfer, "declined", words)
            await self.service.audited(
                claims, "transfer.decline", transfer.session_id, target=transfer.from_id, message=p.message
            )
            return ok(transfer=transfer.to_wire("declined", words))
        session = await self.service.store.get_session(transfer.session_id)
        if session is None or session.state is not S.LIVE or session.agent_id != transfer.from_id:
            await self._finish(transfer, "failed", "The conversation ended or moved before the transfer.")
            raise fail(ErrorCode.WRONG_STATE, "This conversation is no longer with the agent who offered it.")
        seat = self.receiver(session, claims.sub, sender=transfer.from_id)
        self._take(transfer)  # answered: no timer, and the move below does not cancel it
        moved = await self.to_agent(
            session,
            seat,
            actor=claims.sub,
            reason=transfer.reason,
            told=f"{transfer.from_name} has passed you to {seat.name}, who can see this whole conversation",
        )
        if moved is None:
            await self._announce(transfer, "failed", "The conversation changed before the transfer.")
            raise fail(ErrorCode.WRONG_STATE, "The conversation changed meanwhile.")
        await self._announce(transfer, "accepted", f"{seat.name} took over the conversation.")
        await self.service.audited(claims, "transfer.accept", session.id, target=transfer.from_id)
        return ok(handoff=await self.service.handoff(moved))

    async def cancel(self, sid: str, claims: Claims, p: TransferRef) -> dict[str, Any]:
        transfer = self._mine(p.transfer_id, claims, sides=("from",))
        await self._finish(transfer, "cancelled", f"{transfer.from_name} took the transfer back.")
        return ok()

    # the moves, shared with supervisors (supervisor/actions.py)

    def receiver(self, session: SessionRecord, agent_id: str, *, sender: str) -> AgentSeat:
        """The seat of a connected agent who serves the session's queue and has room."""
        if agent_id == sender:
            raise fail(ErrorCode.BAD_PAYLOAD, "Choose another agent than the one who has the chat.")
        seat = self.service.router.agents.get(agent_id)
        if seat is None or not seat.sids:
            raise fail(ErrorCode.NOT_FOUND, f"{agent_id!r} is not signed in to the console now.")
        if not seat.serves(session.queue):
            raise fail(ErrorCode.FORBIDDEN, f"{seat.name} does not serve the {session.queue!r} queue.")
        if seat.free_slots == 0:
            raise fail(ErrorCode.AT_CAPACITY, f"{seat.name} has no room for another chat just now.")
        return seat

    async def to_queue(
        self, session: SessionRecord, actor: Claims, queue: str, *, note: str, reason: str
    ) -> SessionRecord:
        service = self.service
        ending = self._ending(session.id)
        now = time.time()
        moved = await service.store.transition(
            session.id,
            allowed_from=[S.LIVE],
            to=S.QUEUED,
            at=now,
            actor=actor.sub,
            detail=reason,
            queue=queue,
            queued_at=now,
            reason=reason,
            agent_id=None,
            agent_name=None,
            accepted_at=None,
        )
        if moved is None:
            raise fail(ErrorCode.WRONG_STATE, "Only a live session can be transferred.")
        await self._drop_pending(session.id, "The conversation was passed on another way.")
        if note:
            await self._note(session.id, "transfer", actor, note, notify=False)
        await service._left_live(moved.id, "transferred")
        await service._release(session, reason="transferred")
        service.router.enqueue(service._waiting(moved))
        who = actor.name or actor.sub
        await service._system(
            moved,
            f"{who} is passing you to the {queue} team{ending}. The next agent there will see "
            "this whole conversation.",
        )
        await service._push_state(moved)
        await service._queue_changed()
        return moved

    async def to_agent(
        self, session: SessionRecord, seat: AgentSeat, *, actor: str, reason: str, told: str
    ) -> SessionRecord | None:
        """Move a live session straight to ``seat`` (capacity checked under its lock)."""
        service = self.service
        ending = self._ending(session.id)
        async with service._lock(service._agent_locks, seat.id):
            if seat.free_slots == 0:
                raise fail(ErrorCode.AT_CAPACITY, f"{seat.name} has no room for another chat just now.")
            moved = await service.store.transition(
                session.id,
                allowed_from=[S.LIVE],
                to=S.LIVE,
                at=time.time(),
                actor=actor,
                detail=reason,
                reason=reason,
                agent_id=seat.id,
                agent_name=seat.name,
            )
            if moved is None:
                return None
            await service._left_live(moved.id, "transferred")
            await service._release(session, reason="transferred")
            service.router.assign(seat.id, moved.id)
        await self._drop_pending(session.id, "The conversation was passed on another way.")
        for agent_sid in list(seat.sids):
            await service.notifier.enter_room(agent_sid, session_room(moved.id))
        await service._system(moved, f"{told}{ending}.")
        await service._push_state(moved)
        await service.notifier.emit(
            Event.SESSION_HANDOFF, await service.handoff(moved), room=agent_room(seat.id)
        )
        await service._push_agent(seat)
        await service._queue_changed()
        return moved

    # helpers

    def _ending(self, session_id: str) -> str:
        companions = self.service.companions
        words = [
            w for key, w in ENDS_WITH_IT.items() if key in companions and companions[key].current(session_id)
        ]
        return f", so {' and '.join(words)} ended" if words else ""

    def _mine(self, transfer_id: str, claims: Claims, *, sides: tuple[str, ...]) -> PendingTransfer:
        transfer = self.pending.get(transfer_id)
        if transfer is None:
            raise fail(
                ErrorCode.NOT_FOUND, "This transfer is no longer waiting (answered, timed out or taken back)."
            )
        allowed = {"from": transfer.from_id, "to": transfer.to_id}
        if claims.sub not in {allowed[side] for side in sides}:
            raise fail(ErrorCode.FORBIDDEN, "This transfer is between other agents.")
        return transfer

    async def _note(
        self,
        session_id: str,
        kind: Literal["whisper", "consult", "transfer"],
        claims: Claims,
        text: str,
        *,
        notify: bool,
    ) -> StaffNote:
        note = await self.notes.add(
            session_id,
            kind,
            author_id=claims.sub,
            author_role=claims.role.value,
            author_name=claims.name or claims.sub,
            text=text,
        )
        if notify:
            await self.service.notifier.emit(Event.STAFF_NOTE, note.to_wire(), room=session_room(session_id))
        return note

    async def _tell_sender(self, transfer: PendingTransfer, state: str, message: str = "") -> None:
        await self.service.notifier.emit(
            Event.TRANSFER_STATE, transfer.to_wire(state, message), room=agent_room(transfer.from_id)
        )

    def _take(self, transfer: PendingTransfer) -> bool:
        """No longer pending (False if it was not); its timer stops."""
        if self.pending.pop(transfer.id, None) is None:
            return False
        if transfer.timer is not None and transfer.timer is not asyncio.current_task():
            transfer.timer.cancel()
        return True

    async def _finish(self, transfer: PendingTransfer, outcome: TransferOutcome, message: str) -> None:
        if self._take(transfer):
            await self._announce(transfer, outcome, message)

    async def _announce(self, transfer: PendingTransfer, outcome: TransferOutcome, message: str) -> None:
        payload = transfer.to_wire(outcome, message)
        for agent_id in {transfer.from_id, transfer.to_id}:
            await self.service.notifier.emit(Event.TRANSFER_STATE, payload, room=agent_room(agent_id))

    async def _drop_pending(self, session_id: str, message: str) -> None:
        transfer = self.pending_for(session_id)
        if transfer is not None:
            await self._finish(transfer, "cancelled", message)

    async def _expire(self, transfer_id: str) -> None:
        await asyncio.sleep(self.timeout_s)
        transfer = self.pending.get(transfer_id)
        if transfer is None:
            return
        words = f"{transfer.to_name} did not answer the transfer in time."
        await self._finish(transfer, "timed_out", words)
        if self.service.audit is not None:
            await self.service.audit.record(
                actor_id=transfer.to_id,
                actor_role=Role.AGENT.value,
                action="transfer.decline",
                session_id=transfer.session_id,
                target=transfer.from_id,
                detail={"timeout": True},
            )

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        async def run() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("transfer timer failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
