"""Several server processes serving one deployment: on, when ``redis_url`` is set.

What is shared, and where its truth lives (docs/architecture.md, "Several processes"):

- **Sessions, messages, seqs, transitions**: PostgreSQL, as with one process. Every state
  change is a conditional UPDATE, so an accept race across processes has one winner, and
  seqs are allocated in the messages' own transaction.
- **socket.io rooms**: python-socketio's Redis manager (``<prefix>:sio``): an emit to a
  session's room reaches its participants on every process; a process enters a socket of
  another process into a room through it.
- **The queue** (who waits, in which order): the ``queued`` session rows. Each process
  keeps the router's sorted view of them; a change made by one is told to all the others
  (the bus, ``<prefix>:bus``) and applied there in the order sent. A dequeue leaves a
  tombstone, so a late "enqueued" from before it is not applied; a resubscribe, and every
  ``RESYNC_S``, reconciles the view with the rows.
- **Agent seats**: each process tells the others its connections of each agent and any
  change of presence or held sessions; ``ALIVE_S`` heartbeats carry the connections
  again, and a process not heard of for ``DEAD_S`` is dropped (its sockets are gone).
  When an agent's last connection anywhere is gone, one process (a Redis ``SET NX``)
  hands their sessions on after the grace.
- **The session cache**: a process that changes a session tells the others to read it
  afresh; messages are always read from the database on resume (another process may have
  stored some since).
- **The supervisor floor** (``share_floor``): each process builds the wall of its own
  supervisors from the router and the rows above; a session changed elsewhere is also a
  floor change here (its row rebuilt from the store), and the agents' reply times come
  over the bus (``replies``, coalesced). Observe rooms are socket.io rooms (above), and
  who barged into which chat is told to all (``barge``).
- **Pending transfers**: rows (``dcs_transfers``, transfers.py), answered or timed out by
  whichever process gets there first, once.

Each process tells its own agents and waiting customers what changed in the queue
(queue_feed.py with a local notifier): all of them compute the same view, so nobody is told
twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import redis.asyncio as redis
import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.protocol import CallState, CobrowseState, ControlState, Presence, Role, SessionState

from ..cobrowse import Cobrowse, CobrowseService
from ..config import Config
from ..departures import Departures
from ..rooms import IndexedRooms
from ..routing import Dequeued, Enqueued, Replaced, RoutingEvent, SeatChanged, Waiting, WaitMeasured
from ..sessions import SessionService
from ..signaling import Call, SignalingService
from .bus import Bus

if TYPE_CHECKING:
    from ..supervisor import SupervisorDesk, Wall

log = logging.getLogger(__name__)

ALIVE_S = 1.0
DEAD_S = 4.0
RESYNC_S = 15.0
# a dequeue's tombstone is kept this long: an enqueue from before it is stale
TOMBSTONE_S = 300.0
CLAIM_MS = 30_000
PUBLISH_BATCH = 500
# staff reply times are sent to the other processes' walls at most this often
REPLIES_S = 0.02


class IndexedRedisManager(IndexedRooms, socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager (rooms across processes), rooms indexed by socket,
    and its publishes pipelined: python-socketio awaits one PUBLISH per emit, each on a
    connection of its own while others are in flight, so a busy process opened thousands
    of connections and crawled. Here one sender sends what is queued, in order, as one
    pipeline per round trip."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: asyncio.Queue[str] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._publisher: redis.Redis | None = None

    async def _publish(self, data: Any) -> None:
        self._outgoing.put_nowait(self.json.dumps(data))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send(), name="dcs-sio-publish")

    async def _send(self) -> None:
        while True:
            batch = [await self._outgoing.get()]
            while not self._outgoing.empty() and len(batch) < PUBLISH_BATCH:
                batch.append(self._outgoing.get_nowait())
            for pause in (0.0, 0.1, 0.5, 1.0):
                if pause:
                    await asyncio.sleep(pause)
                try:
                    if self._publisher is None:
                        self._publisher = redis.from_url(self.redis_url)
                    pipe = self._publisher.pipeline(transaction=False)
                    for message in batch:
                        pipe.publish(self.channel, message)
                    await pipe.execute()
                    break
                except (redis.RedisError, OSError) as exc:
                    log.warning("publishing %d socket.io messages to Redis failed: %r", len(batch), exc)
                    self._publisher = None


def check(config: Config) -> None:
    if not config.redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            f"redis_url {config.redis_url.split('://')[0]!r} is not a Redis URL: use redis://host:6379/0."
        )
    if not config.resolved_database_url.startswith("postgresql"):
        raise ConfigError(
            "Several processes (redis_url) share one PostgreSQL database: set database_url to "
            "postgresql+asyncpg://user@host/db."
        )


def client_manager(config: Config) -> IndexedRedisManager:
    check(config)
    return IndexedRedisManager(config.redis_url, channel=f"{config.redis_prefix}:sio")


class LocalNotifier:
    """Emits to the sockets of this process only: what every process tells its own."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def emit(
        self, event: str, data: Any, *, room: str | list[str], skip_sid: str | None = None
    ) -> None:
        recipients = [e for s, e in self.sio.manager.get_participants("/", room) if s != skip_sid]
        if not recipients:
            return
        encoded = self.sio.packet_class(sio_packet.EVENT, namespace="/", data=[event, data]).encode()
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        for eio_sid in recipients:
            await self.sio.eio.send_packet(eio_sid, pkt)

    async def enter_room(self, sid: str, room: str) -> None:
        await self.sio.enter_room(sid, room)

    async def leave_room(self, sid: str, room: str) -> None:
        await self.sio.leave_room(sid, room)


def _plain(value: Any) -> dict[str, Any]:
    """A dataclass as JSON-able fields (its enums are str enums)."""
    return asdict(value)


def _waiting(data: dict[str, Any]) -> Waiting:
    return Waiting(**data)


def _seat_data(seat: Any, *, full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": seat.id,
        "name": seat.name,
        "skills": list(seat.skills),
        "capacity": seat.capacity,
        "sids": sorted(seat.local_sids),
    }
    if full:
        data.update(presence=seat.presence.value, chosen=seat.chosen.value, sessions=sorted(seat.sessions))
    return data


class Cluster:
    def __init__(
        self, config: Config, service: SessionService, departures: Departures, sio: socketio.AsyncServer
    ) -> None:
        check(config)
        self.service = service
        self.router = service.router
        self.departures = departures
        self.sio = sio
        self.bus = Bus(config.redis_url, config.redis_prefix)
        self._applying = False
        self._dequeued_at: dict[str, float] = {}
        self._seen: dict[str, float] = {}  # other process -> when last heard of
        self._tasks: list[asyncio.Task[None]] = []
        self._replies: dict[str, float] = {}  # session -> its last staff reply, to send
        self._replies_due: asyncio.TimerHandle | None = None

    @property
    def process(self) -> str:
        return self.bus.process

    async def start(self) -> None:
        store = self.service.store
        store.exact = False  # another process may store messages: read them on resume
        store.on_change = lambda sid: self.bus.publish("session", {"id": sid})
        self.service.queue_feed.notifier = LocalNotifier(self.sio)
        self.departures.claim = self._claim
        self.router.subscribe(self._local)
        self.bus.handlers.update(
            session=self._on_session,
            enq=self._on_enqueued,
            deq=self._on_dequeued,
            wait=self._on_wait,
            seat=self._on_seat,
            alive=self._on_alive,
            bye=self._on_bye,
        )
        self.bus.on_resync = self.resync
        await self.bus.start()
        self._alive()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._heartbeat(), name="dcs-cluster-alive"),
            loop.create_task(self._resyncing(), name="dcs-cluster-resync"),
        ]
        log.info("cluster: process %s on %s", self.process, self.bus.channel)

    def share_companions(self, signaling: SignalingService, cobrowse: CobrowseService) -> None:
        """Calls and co-browse: every process keeps a copy of each session's call and
        co-browse, told before the participants are, so the other side's answer, signals
        and frames are accepted by whichever process serves them."""

        async def call_changed(call: Call) -> None:
            await self.bus.publish_now("call", _plain(call))

        async def share_changed(share: Cobrowse) -> None:
            await self.bus.publish_now("cobrowse", _plain(share))

        def on_call(process: str, data: dict[str, Any]) -> None:
            call = Call(**{**data, "state": CallState(data["state"])})
            if call.state is CallState.ENDED:
                if (known := signaling.calls.get(call.session_id)) and known.call_id == call.call_id:
                    del signaling.calls[call.session_id]
            else:
                signaling.calls[call.session_id] = call

        def on_share(process: str, data: dict[str, Any]) -> None:
            share = Cobrowse(
                **{
                    **data,
                    "requested_by": Role(data["requested_by"]),
                    "state": CobrowseState(data["state"]),
                    "control": ControlState(data["control"]),
                }
            )
            if share.state is CobrowseState.ENDED:
                known = cobrowse.shares.get(share.session_id)
                if known is not None and known.cobrowse_id == share.cobrowse_id:
                    del cobrowse.shares[share.session_id]
            else:
                cobrowse.shares[share.session_id] = share

        signaling.on_change, cobrowse.on_change = call_changed, share_changed

        def on_call_noticed(process: str, data: dict[str, Any]) -> None:
            on_call(process, data)
            self.service._noticed(str(data["session_id"]))  # the wall's call flag

        def on_share_noticed(process: str, data: dict[str, Any]) -> None:
            on_share(process, data)
            self.service._noticed(str(data["session_id"]))

        self.bus.handlers.update(call=on_call_noticed, cobrowse=on_share_noticed)

    def share_floor(self, wall: Wall, desk: SupervisorDesk) -> None:
        """The supervisors' floor across processes: what the wall of each process needs
        beyond the router and the rows, and who has joined which chat."""

        def replied(session_id: str, ts: float) -> None:
            self._replies[session_id] = ts
            if self._replies_due is None:
                self._replies_due = asyncio.get_running_loop().call_later(REPLIES_S, send_replies)

        def send_replies() -> None:
            self._replies_due = None
            replies, self._replies = self._replies, {}
            if replies:
                self.bus.publish("replies", {"at": replies})

        def on_replies(process: str, data: dict[str, Any]) -> None:
            for session_id, ts in data["at"].items():
                wall.replied(str(session_id), float(ts))

        def barged(session_id: str, supervisor_id: str, joined: bool) -> None:
            self.bus.publish("barge", {"s": session_id, "u": supervisor_id, "on": joined})

        def on_barge(process: str, data: dict[str, Any]) -> None:
            desk.barge_changed(str(data["s"]), str(data["u"]), bool(data["on"]), tell=False)

        wall.on_reply = replied
        desk.on_barge = barged
        self.bus.handlers.update(replies=on_replies, barge=on_barge)

    async def close(self) -> None:
        if self._replies_due is not None:
            self._replies_due.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.bus.publish("bye", {})
        await self.bus.close()

    # what this process changed: told to the others

    def _local(self, event: RoutingEvent) -> None:
        if self._applying:
            return
        if isinstance(event, Enqueued | Replaced):
            self.bus.publish("enq", {"item": asdict(event.item)})
        elif isinstance(event, Dequeued):
            now = time.time()
            self._dequeued_at[event.item.session_id] = now
            self.bus.publish("deq", {"id": event.item.session_id, "at": now})
        elif isinstance(event, WaitMeasured):
            self.bus.publish("wait", {"queue": event.queue, "weighted": event.weighted})
        elif isinstance(event, SeatChanged):
            self.bus.publish("seat", _seat_data(event.seat, full=True))

    def _alive(self) -> None:
        seats = [_seat_data(s, full=False) for s in self.router.agents.values() if s.local_sids]
        self.bus.publish("alive", {"seats": seats})

    # what the others changed

    async def _on_session(self, process: str, data: dict[str, Any]) -> None:
        sid = str(data["id"])
        self.service.store.forget(sid)
        self.service._noticed(sid)  # the supervisors' wall here: its row read afresh

    async def _on_enqueued(self, process: str, data: dict[str, Any]) -> None:
        item = _waiting(data["item"])
        if item.queued_at <= self._dequeued_at.get(item.session_id, -1.0):
            return  # it left the queue after this was sent
        with self._applied():
            self.router.enqueue(item)
        await self.service._queue_changed()

    async def _on_dequeued(self, process: str, data: dict[str, Any]) -> None:
        sid = str(data["id"])
        self._dequeued_at[sid] = max(self._dequeued_at.get(sid, 0.0), float(data["at"]))
        with self._applied():
            gone = self.router.dequeue(sid)
        if gone is not None:
            self.service.store.forget(sid)
            await self.service._queue_changed()

    async def _on_wait(self, process: str, data: dict[str, Any]) -> None:
        with self._applied():
            self.router.record_weighted(str(data["queue"]), float(data["weighted"]))
        await self.service._queue_changed()

    async def _on_seat(self, process: str, data: dict[str, Any], *, full: bool = True) -> None:
        self._seen[process] = time.monotonic()
        before = self.router.agents.get(str(data["id"]))
        was = (before.presence, bool(before.sids)) if before is not None else (Presence.OFFLINE, False)
        with self._applied():
            seat = self.router.remote_seat(
                process,
                str(data["id"]),
                name=str(data["name"]),
                skills=tuple(data["skills"]),
                capacity=int(data["capacity"]),
                sids=set(data["sids"]),
                presence=Presence(data["presence"]) if full else None,
                chosen=Presence(data["chosen"]) if full else None,
                sessions=set(data["sessions"]) if full else None,
            )
        if seat.sids:
            self.departures.agent_back(seat.id)
        else:
            self.departures.agent_gone(seat.id)
        if (seat.presence, bool(seat.sids)) != was:
            await self.service._queue_changed(agents=False)
        elif full:
            self.service._noticed()  # the sessions they hold, on the wall

    async def _on_alive(self, process: str, data: dict[str, Any]) -> None:
        self._seen[process] = time.monotonic()
        told = set()
        for seat in data["seats"]:
            told.add(seat["id"])
            await self._on_seat(process, seat, full=False)
        for seat in list(self.router.agents.values()):  # its agents who left since
            if process in seat.remote_sids and seat.id not in told:
                await self._on_seat(process, {**_seat_data(seat, full=False), "sids": []}, full=False)

    async def _on_bye(self, process: str, data: dict[str, Any]) -> None:
        await self._drop(process)

    async def _drop(self, process: str) -> None:
        self._seen.pop(process, None)
        with self._applied():
            changed = self.router.process_gone(process)
        for seat in changed:
            if not seat.sids:
                self.departures.agent_gone(seat.id)
        if changed:
            log.info("cluster: process %s is gone (%d agents' connections with it)", process, len(changed))
            await self.service._queue_changed(agents=False)

    @contextlib.contextmanager
    def _applied(self) -> Any:
        self._applying = True
        try:
            yield
        finally:
            self._applying = False

    # upkeep

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(ALIVE_S)
            try:
                self._alive()
                now = time.monotonic()
                for process, seen in list(self._seen.items()):
                    if now - seen > DEAD_S:
                        await self._drop(process)
                cutoff = time.time() - TOMBSTONE_S
                for sid in [s for s, at in self._dequeued_at.items() if at < cutoff]:
                    del self._dequeued_at[sid]
            except Exception:
                log.exception("the cluster heartbeat failed")

    async def _resyncing(self) -> None:
        while True:
            await asyncio.sleep(RESYNC_S)
            try:
                await self.resync()
            except Exception:
                log.exception("reconciling the queue with the database failed")

    async def resync(self) -> None:
        """Make the router's queue the ``queued`` rows again (missed bus messages)."""
        rows = await self.service.store.store.sessions_in([SessionState.QUEUED])
        queued = {r.id: r for r in rows}
        changed = False
        with self._applied():
            for item in self.router.waiting():
                if item.session_id not in queued:
                    self.router.dequeue(item.session_id)
                    changed = True
            for sid, record in queued.items():
                if not self.router.is_waiting(sid):
                    self.router.enqueue(self.service._waiting(record))
                    changed = True
        if changed:
            await self.service._queue_changed()

    async def _claim(self, agent_id: str) -> bool:
        """Whether this process is the one to hand this agent's sessions on now."""
        key = self.bus.key("handon", agent_id)
        return bool(await self.bus.redis.set(key, self.process, nx=True, px=CLAIM_MS))
