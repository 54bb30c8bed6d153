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

A pending transfer is a row (store/transfers.py), not this process's memory: with several
processes (cluster/) the offer reaches the receiver's sockets on any process through their
``agent:<id>`` room, and whichever process their answer, the sender's cancel or the
deadline reaches takes the row out of ``pending`` by one conditional UPDATE, so exactly one
of them announces the outcome. The offering process times it out on the dot; every process
also sweeps for transfers past their deadline every ``SWEEP_S`` (those of a process that
died or restarted).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Literal

from dcs_sdk.exceptions import ProtocolError
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
from .sessions import SessionService, agent_room, fail, session_room, system_line
from .store import SessionRecord
from .store.staff_notes import StaffNote, StaffNotes
from .store.transfers import PendingTransfer, TransferStore

log = logging.getLogger(__name__)

S = SessionState
# what ends with the agent's part of a session, as the customer is told: companion -> words
ENDS_WITH_IT = {"call": "the call", "cobrowse": "screen sharing"}

TransferOutcome = Literal["accepted", "declined", "timed_out", "cancelled", "failed"]
# how often every process looks for pending transfers past their deadline
SWEEP_S = 1.0

__all__ = ["PendingTransfer", "Transfers"]


class Transfers:
    def __init__(
        self,
        service: SessionService,
        notes: StaffNotes,
        store: TransferStore,
        *,
        timeout_s: float,
        sweep_s: float = SWEEP_S,
    ) -> None:
        self.service = service
        self.notes = notes
        self.store = store
        self.timeout_s = timeout_s
        self.sweep_s = sweep_s
        self._timers: dict[str, asyncio.Task[None]] = {}  # the transfers offered here
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Time out whatever is past its deadline, offered here or anywhere else."""
        self._sweeper = self._spawn(self._sweeping())
        self.service.agent_connect_hooks.append(self.resend)

    async def resend(self, sid: str, claims: Claims) -> None:
        """A connection of an agent (a reload, another tab): the offers still waiting for
        their answer, with the session's handoff, and those they made still waiting."""
        for transfer in await self.store.offered_to(claims.sub):
            session = await self.service.store.get_session(transfer.session_id)
            if session is None:
                continue
            offer = {**transfer.to_wire("offered"), "handoff": await self.service.handoff(session)}
            await self.service.notifier.emit(Event.TRANSFER_STATE, offer, room=sid)
        for transfer in await self.store.offered_by(claims.sub):
            await self.service.notifier.emit(Event.TRANSFER_STATE, transfer.to_wire("offered"), room=sid)

    async def shutdown(self) -> None:
        # The sweep is let finish its round rather than cancelled inside a query: a
        # cancelled aiosqlite call still completes in its thread, which then finds the
        # event loop closed.
        self._stopping.set()
        if self._sweeper is not None:
            await asyncio.gather(self._sweeper, return_exceptions=True)
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

    async def pending_for(self, session_id: str) -> PendingTransfer | None:
        return await self.store.pending_for(session_id)

    # the agent's events

    async def transfer(self, sid: str, claims: Claims, p: SessionTransfer) -> dict[str, Any]:
        if (p.queue is None) == (p.agent_id is None):
            raise fail(ErrorCode.BAD_PAYLOAD, "A transfer names either a queue or an agent.")
        session = await self.service._session_for(claims, p.session_id)
        if session.state is not S.LIVE:
            raise fail(ErrorCode.WRONG_STATE, "Only a live session can be transferred.")
        if await self.pending_for(session.id) is not None:
            raise fail(ErrorCode.WRONG_STATE, "A transfer of this session is already waiting for an answer.")
        name = claims.name or claims.sub
        if p.queue is not None:
            await self.to_queue(session, claims, p.queue, note=p.note, reason=transferred_by(name, p.note))
            await self.service.audited(claims, "transfer", session.id, target=p.queue, note=p.note)
            return ok(session=self.service._wire(await self.service.store.get_session(session.id) or session))
        seat = self.receiver(session, str(p.agent_id), sender=claims.sub)
        now = time.time()
        transfer = PendingTransfer(
            id=f"tr_{secrets.token_urlsafe(12)}",
            session_id=session.id,
            from_id=claims.sub,
            from_name=name,
            to_id=seat.id,
            to_name=seat.name,
            note=p.note,
            reason=transferred_by(name, p.note),
            deadline=now + self.timeout_s,
            created_at=now,
        )
        if not await self.store.add(transfer):
            raise fail(ErrorCode.WRONG_STATE, "A transfer of this session is already waiting for an answer.")
        if p.note:
            await self._note(session.id, "transfer", claims, p.note, notify=False)
        handoff = await self.service.handoff(session)
        offer = {**transfer.to_wire("offered"), "handoff": handoff}
        await self.service.notifier.emit(Event.TRANSFER_STATE, offer, room=agent_room(seat.id))
        await self._tell_sender(transfer, "offered")
        self._timers[transfer.id] = self._spawn(self._expire_at(transfer))
        await self.service.audited(
            claims, "transfer", session.id, target=seat.id, note=p.note, warm=True, transfer_id=transfer.id
        )
        return ok(transfer=transfer.to_wire("offered"))

    async def consult(self, sid: str, claims: Claims, p: TransferConsult) -> dict[str, Any]:
        transfer = await self._mine(p.transfer_id, claims, sides=("from", "to"))
        note = await self._note(transfer.session_id, "consult", claims, p.text, notify=False)
        payload = {**note.to_wire(), "transfer_id": transfer.id}
        for agent_id in (transfer.from_id, transfer.to_id):
            await self.service.notifier.emit(Event.STAFF_NOTE, payload, room=agent_room(agent_id))
        return ok(note=payload)

    async def answer(self, sid: str, claims: Claims, p: TransferAnswer) -> dict[str, Any]:
        transfer = await self._mine(p.transfer_id, claims, sides=("to",))
        if not p.accept:
            words = f"{transfer.to_name} declined the transfer" + (f": {p.message}" if p.message else ".")
            if not await self._finish(transfer, "declined", words):
                raise self._gone()
            await self.service.audited(
                claims, "transfer.decline", transfer.session_id, target=transfer.from_id, message=p.message
            )
            return ok(transfer=transfer.to_wire("declined", words))
        session = await self.service.store.get_session(transfer.session_id)
        if session is None or session.state is not S.LIVE or session.agent_id != transfer.from_id:
            await self._finish(transfer, "failed", "The conversation ended or moved before the transfer.")
            raise fail(ErrorCode.WRONG_STATE, "This conversation is no longer with the agent who offered it.")
        seat = self.receiver(session, claims.sub, sender=transfer.from_id)
        # answered: not pending any more (nor timed out by anyone), so the move below finds
        # nothing to cancel; a timeout or cancel that came first wins instead
        if not await self._take(transfer, "accepted"):
            raise self._gone()
        told = f"{transfer.from_name} has passed you to {seat.name}, who can see this whole conversation"
        line = system_line("transfer_agent", name=transfer.from_name, to=seat.name)
        try:
            moved = await self.to_agent(
                session, seat, actor=claims.sub, reason=transfer.reason, told=told, line=line
            )
        except ProtocolError as exc:  # no room after all: the sender keeps it, and is told
            await self.store.settle(transfer.id, "failed")
            await self._announce(transfer, "failed", exc.message)
            raise
        if moved is None:
            await self.store.settle(transfer.id, "failed")
            await self._announce(transfer, "failed", "The conversation changed before the transfer.")
            raise fail(ErrorCode.WRONG_STATE, "The conversation changed meanwhile.")
        await self._announce(transfer, "accepted", f"{seat.name} took over the conversation.")
        await self.service.audited(claims, "transfer.accept", session.id, target=transfer.from_id)
        return ok(handoff=await self.service.handoff(moved))

    async def cancel(self, sid: str, claims: Claims, p: TransferRef) -> dict[str, Any]:
        transfer = await self._mine(p.transfer_id, claims, sides=("from",))
        if not await self._finish(transfer, "cancelled", f"{transfer.from_name} took the transfer back."):
            raise self._gone()
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
        ending, ended = self._ending(session.id), self._ended(session.id)
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
            system_line("transfer_queue", name=who, queue=queue, ended=ended),
        )
        await service._push_state(moved)
        await service._queue_changed()
        return moved

    async def to_agent(
        self,
        session: SessionRecord,
        seat: AgentSeat,
        *,
        actor: str,
        reason: str,
        told: str,
        line: dict[str, Any],
    ) -> SessionRecord | None:
        """Move a live session straight to ``seat`` (capacity checked under its lock).
        ``told`` is what the customer is told (``line``: its system_line, without ``ended``)."""
        service = self.service
        ending, ended = self._ending(session.id), self._ended(session.id)
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
        said = {"code": line["code"], "args": {**line["args"], "ended": ended}}
        await service._system(moved, f"{told}{ending}.", said)
        await service._push_state(moved)
        await service.notifier.emit(
            Event.SESSION_HANDOFF, await service.handoff(moved), room=agent_room(seat.id)
        )
        await service._push_agent(seat)
        await service._queue_changed()
        return moved

    # helpers

    def _ended(self, session_id: str) -> list[str]:
        """What ends with the agent's part of the session (ENDS_WITH_IT's keys)."""
        companions = self.service.companions
        return [key for key in ENDS_WITH_IT if key in companions and companions[key].current(session_id)]

    def _ending(self, session_id: str) -> str:
        words = [ENDS_WITH_IT[key] for key in self._ended(session_id)]
        return f", so {' and '.join(words)} ended" if words else ""

    @staticmethod
    def _gone() -> Exception:
        return fail(
            ErrorCode.NOT_FOUND, "This transfer is no longer waiting (answered, timed out or taken back)."
        )

    async def _mine(self, transfer_id: str, claims: Claims, *, sides: tuple[str, ...]) -> PendingTransfer:
        transfer = await self.store.get(transfer_id)
        if transfer is None:
            raise self._gone()
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

    async def _take(self, transfer: PendingTransfer, outcome: TransferOutcome) -> bool:
        """No longer pending, as ``outcome`` (False if another process or event took it
        first); a timer of this process for it stops."""
        timer = self._timers.pop(transfer.id, None)
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
        return await self.store.finish(transfer.id, outcome)

    async def _finish(self, transfer: PendingTransfer, outcome: TransferOutcome, message: str) -> bool:
        if not await self._take(transfer, outcome):
            return False
        await self._announce(transfer, outcome, message)
        return True

    async def _announce(self, transfer: PendingTransfer, outcome: TransferOutcome, message: str) -> None:
        payload = transfer.to_wire(outcome, message)
        for agent_id in {transfer.from_id, transfer.to_id}:
            await self.service.notifier.emit(Event.TRANSFER_STATE, payload, room=agent_room(agent_id))

    async def _drop_pending(self, session_id: str, message: str) -> None:
        transfer = await self.pending_for(session_id)
        if transfer is not None:
            await self._finish(transfer, "cancelled", message)

    async def _expire_at(self, transfer: PendingTransfer) -> None:
        await asyncio.sleep(max(0.0, transfer.deadline - time.time()))
        # due: from here on an answer must not cancel this mid-claim (it would find the
        # row taken, and the timeout would go untold); the claim decides between them
        self._timers.pop(transfer.id, None)
        await self._expire(transfer)

    async def _sweeping(self) -> None:
        while not self._stopping.is_set():
            try:
                for transfer in await self.store.due(time.time()):
                    await self._expire(transfer)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timing out pending transfers failed")
            try:  # the next round, or the stop (asyncio.timeout: wait_for can lose a cancel)
                async with asyncio.timeout(self.sweep_s):
                    await self._stopping.wait()
            except TimeoutError:
                pass

    async def _expire(self, transfer: PendingTransfer) -> None:
        words = f"{transfer.to_name} did not answer the transfer in time."
        if not await self._finish(transfer, "timed_out", words):
            return  # answered, cancelled or timed out by another process meanwhile
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
