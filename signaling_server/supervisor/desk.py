"""What a supervisor does: watch the wall, step into sessions, move work, manage agents.

Every event is checked here, on the server, whatever the console shows: the sender is a
supervisor (protocol.ALLOWED_ROLES), and the session's queue, or one of the agent's
queues, is one they oversee (their token's ``skills``; ``"*"`` = every queue). Every
action is written to the audit log (store/audit.py) before it is acknowledged.

- observe: the transcript (and staff notes) in the ack, then live messages and states
  through a room of its own (``observe:<id>``), never the session's room, so the customer's
  side sees nothing of it and the observer gets none of the call's or co-browse's traffic.
  The session service emits each message and state to its room and the observe room at
  once (``SessionService.also_to``): a socket.io room, so with several processes (Redis)
  an observer on one gets what is sent through any other;
- whisper: a staff note to the agent holding the session (``staff.note``), never a chat
  message: it is not in the customer's history and never reaches the widget;
- barge: the supervisor joins the session's room and the chat says "<name> (supervisor)
  joined the chat."; only then may they chat.send in it; leave undoes either. Who has
  joined which chat is told to the other processes (``on_barge``: cluster/), so it holds
  wherever the supervisor's next connection lands.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dcs_sdk.protocol import (
    ErrorCode,
    Event,
    Presence,
    SessionRef,
    SessionState,
    StaffNoteSend,
    SupervisorAgent,
    SupervisorMove,
    SupervisorReassign,
    SupervisorWall,
    ok,
)
from dcs_sdk.tokens import Claims

from ..departures import HANDED_ON, Departures
from ..events import Handler
from ..sessions import SessionService, agent_room, fail, session_room, system_line
from ..store import SessionRecord
from ..store.staff_notes import StaffNotes
from ..transfers import Transfers
from .wall import Wall, visible

S = SessionState


def observe_room(session_id: str) -> str:
    return f"observe:{session_id}"


class SupervisorDesk:
    def __init__(
        self,
        service: SessionService,
        wall: Wall,
        notes: StaffNotes,
        transfers: Transfers,
        departures: Departures,
    ) -> None:
        self.service = service
        self.wall = wall
        self.notes = notes
        self.transfers = transfers
        self.departures = departures
        self._barged: dict[str, set[str]] = {}  # session -> supervisor ids in its chat
        # told of every barge and leave here (cluster/: the other processes apply them)
        self.on_barge: Callable[[str, str, bool], None] | None = None
        service.watchers.append(wall)
        service.also_to.append(observe_room)
        service.barged = lambda session_id, supervisor_id: supervisor_id in self._barged.get(session_id, ())
        service.handoff_extras["notes"] = self._notes_of

    def handlers(self) -> dict[Any, Handler]:
        return {
            Event.SUPERVISOR_WALL: self.wall_now,
            Event.SUPERVISOR_OBSERVE: self.observe,
            Event.SUPERVISOR_WHISPER: self.whisper,
            Event.SUPERVISOR_BARGE: self.barge,
            Event.SUPERVISOR_LEAVE: self.leave,
            Event.SUPERVISOR_MOVE: self.move,
            Event.SUPERVISOR_REASSIGN: self.reassign,
            Event.SUPERVISOR_AGENT: self.agent,
        }

    # connections

    async def connected(self, sid: str, claims: Claims) -> None:
        snapshot = await self.wall.add_viewer(sid, claims)
        await self.service.notifier.emit(Event.WALL_SNAPSHOT, snapshot, room=sid)

    async def disconnected(self, sid: str) -> None:
        self.wall.remove_viewer(sid)  # socket.io drops them from the observe rooms

    def barge_changed(self, session_id: str, supervisor_id: str, joined: bool, *, tell: bool = True) -> None:
        """A supervisor joined or left a session's chat (here, or on another process)."""
        if joined:
            self._barged.setdefault(session_id, set()).add(supervisor_id)
        else:
            left = self._barged.get(session_id, set())
            left.discard(supervisor_id)
            if not left:
                self._barged.pop(session_id, None)
        if tell and self.on_barge is not None:
            self.on_barge(session_id, supervisor_id, joined)

    async def _notes_of(self, record: SessionRecord) -> list[dict[str, Any]]:
        return [n.to_wire() for n in await self.notes.of_session(record.id)]

    # events

    async def wall_now(self, sid: str, claims: Claims, p: SupervisorWall) -> dict[str, Any]:
        await self.wall.flush()
        return ok(**self.wall.snapshot(claims))

    async def _overseen(self, claims: Claims, session_id: str) -> SessionRecord:
        record = await self.service.store.get_session(session_id)
        if record is None:
            raise fail(ErrorCode.NOT_FOUND, "There is no such session.")
        if not claims.serves(record.queue):  # as auth.may_act_on decides for supervisors
            raise fail(ErrorCode.FORBIDDEN, f"You do not oversee the {record.queue!r} queue.")
        return record

    async def observe(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        record = await self._overseen(claims, p.session_id)
        await self.service.notifier.enter_room(sid, observe_room(record.id))
        await self.service.audited(
            claims, "observe", record.id, target=record.agent_id or "", state=record.state.value
        )
        return ok(handoff=await self.service.handoff(record))

    async def whisper(self, sid: str, claims: Claims, p: StaffNoteSend) -> dict[str, Any]:
        record = await self._overseen(claims, p.session_id)
        if record.state is not S.LIVE or not record.agent_id:
            raise fail(ErrorCode.WRONG_STATE, "You can whisper to the agent of a live session only.")
        note = await self.notes.add(
            record.id,
            "whisper",
            author_id=claims.sub,
            author_role=claims.role.value,
            author_name=claims.name or claims.sub,
            text=p.text,
        )
        await self.service.notifier.emit(Event.STAFF_NOTE, note.to_wire(), room=agent_room(record.agent_id))
        await self.service.notifier.emit(
            Event.STAFF_NOTE, note.to_wire(), room=observe_room(record.id), skip_sid=sid
        )
        await self.service.audited(claims, "whisper", record.id, target=record.agent_id, text=p.text)
        return ok(note=note.to_wire())

    async def barge(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        record = await self._overseen(claims, p.session_id)
        if record.state is not S.LIVE:
            raise fail(ErrorCode.WRONG_STATE, "You can join a live chat only.")
        first = claims.sub not in self._barged.get(record.id, ())
        if first:
            self.barge_changed(record.id, claims.sub, True)
        # in the chat now: its room carries the messages
        await self.service.notifier.leave_room(sid, observe_room(record.id))
        await self.service.notifier.enter_room(sid, session_room(record.id))
        if first:
            who = claims.name or claims.sub
            joined = system_line("supervisor_joined", name=who)
            await self.service._system(record, f"{who} (supervisor) joined the chat.", joined)
            await self.service.audited(claims, "barge", record.id, target=record.agent_id or "")
        return ok(handoff=await self.service.handoff(record))

    async def leave(self, sid: str, claims: Claims, p: SessionRef) -> dict[str, Any]:
        record = await self._overseen(claims, p.session_id)
        await self.service.notifier.leave_room(sid, observe_room(record.id))
        was_in = claims.sub in self._barged.get(record.id, ())
        if was_in:
            self.barge_changed(record.id, claims.sub, False)
            await self.service.notifier.leave_room(sid, session_room(record.id))
            if record.state is S.LIVE:
                who = claims.name or claims.sub
                left = system_line("supervisor_left", name=who)
                await self.service._system(record, f"{who} (supervisor) left the chat.", left)
        await self.service.audited(claims, "leave", record.id, barged=was_in)
        return ok()

    async def move(self, sid: str, claims: Claims, p: SupervisorMove) -> dict[str, Any]:
        record = await self._overseen(claims, p.session_id)
        if p.queue is None and not p.front:
            raise fail(ErrorCode.BAD_PAYLOAD, "Name a queue to move the session to, or front: true.")
        if record.state is not S.QUEUED:
            raise fail(ErrorCode.WRONG_STATE, "Only a waiting session can be moved; reassign a live one.")
        queue = p.queue or record.queue
        if not claims.serves(queue):
            raise fail(ErrorCode.FORBIDDEN, f"You do not oversee the {queue!r} queue.")
        who = claims.name or claims.sub
        waiting = self.service.router.dequeue(record.id)
        front = p.front or bool(waiting and waiting.priority)
        # a move to the front is stored as a hand-on, so it keeps its place after a restart
        why = f"moved to the front by {who}" if p.front else f"moved to {queue} by {who}"
        moved = await self.service.store.transition(
            record.id,
            allowed_from=[S.QUEUED],
            to=S.QUEUED,
            at=time.time(),
            actor=claims.sub,
            detail=(HANDED_ON + why) if front else why,
            queue=queue,
        )
        if moved is None:
            if waiting is not None:
                self.service.router.enqueue(waiting)
            raise fail(ErrorCode.WRONG_STATE, "The session was taken or closed meanwhile.")
        self.service.router.enqueue(replace(self.service._waiting(moved), priority=front))
        if queue != record.queue:
            await self.service._system(
                moved,
                f"You've been moved to the {queue} team's queue; you keep your place in the conversation.",
                system_line("moved_queue", queue=queue),
            )
        await self.service._queue_changed()
        await self.service.audited(
            claims, "move", record.id, target=queue, from_queue=record.queue, front=p.front
        )
        return ok(session=self.service._wire(moved))

    async def reassign(self, sid: str, claims: Claims, p: SupervisorReassign) -> dict[str, Any]:
        record = await self._overseen(claims, p.session_id)
        if (p.agent_id is None) == (p.queue is None):
            raise fail(ErrorCode.BAD_PAYLOAD, "Reassign to either an agent or a queue.")
        if record.state is not S.LIVE:
            raise fail(ErrorCode.WRONG_STATE, "Only a live session can be reassigned; move a waiting one.")
        who = claims.name or claims.sub
        reason = f"reassigned by {who} (supervisor)" + (f": {p.note}" if p.note else "")
        if p.queue is not None:
            if not claims.serves(p.queue):
                raise fail(ErrorCode.FORBIDDEN, f"You do not oversee the {p.queue!r} queue.")
            await self.transfers.to_queue(record, claims, p.queue, note=p.note, reason=reason)
            target = p.queue
        else:
            seat = self.transfers.receiver(record, p.agent_id or "", sender=record.agent_id or "")
            if p.note:
                await self.notes.add(
                    record.id,
                    "transfer",
                    author_id=claims.sub,
                    author_role=claims.role.value,
                    author_name=who,
                    text=p.note,
                )
            moved = await self.transfers.to_agent(
                record,
                seat,
                actor=claims.sub,
                reason=reason,
                told=f"{who} (supervisor) has passed you to {seat.name}, who can see this whole conversation",
                line=system_line("reassigned_agent", name=who, to=seat.name),
            )
            if moved is None:
                raise fail(ErrorCode.WRONG_STATE, "The session ended or moved meanwhile.")
            target = seat.id
        await self.service.audited(
            claims, "reassign", record.id, target=target, from_agent=record.agent_id or "", note=p.note
        )
        fresh = await self.service.store.get_session(record.id) or record
        return ok(session=self.service._wire(fresh))

    async def agent(self, sid: str, claims: Claims, p: SupervisorAgent) -> dict[str, Any]:
        seat = self.service.router.agents.get(p.agent_id)
        if seat is None:
            raise fail(ErrorCode.NOT_FOUND, f"There is no agent {p.agent_id!r} on the floor.")
        if not visible(claims, {"kind": "agent", "skills": list(seat.skills)}):
            raise fail(ErrorCode.FORBIDDEN, f"{seat.name} serves no queue you oversee.")
        who = claims.name or claims.sub
        if p.action == "away":
            self.service.router.set_presence(seat.id, Presence.AWAY)
            await self.service._push_agent(seat)
            await self.service._queue_changed(agents=False)
            await self.service.audited(claims, "set_away", None, target=seat.id)
            return ok(agent=seat.to_wire())
        self.departures.agent_back(seat.id)  # no grace timer runs on top of this
        handed, closed = await self.departures.hand_on(seat, why=f"{who} (supervisor) signed {seat.name} out")
        seat.presence, seat.chosen = Presence.OFFLINE, Presence.AWAY  # back as away if they return
        await self.service._push_agent(seat)
        await self.service._queue_changed(agents=False)
        await self.service.notifier.emit(
            Event.AGENT_SIGNED_OUT,
            {"by": {"id": claims.sub, "name": who}, "handed_on": handed, "closed": closed},
            room=agent_room(seat.id),
        )
        await self.service.audited(claims, "sign_out", None, target=seat.id, handed_on=handed, closed=closed)
        return ok(agent=seat.to_wire(), handed_on=handed, closed=closed)
