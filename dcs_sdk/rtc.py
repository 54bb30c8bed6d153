"""Voice and video calls for Python participants: an aiortc peer that joins a session's call.

    peer = CallPeer(client, session_id, player=MediaPlayer("hello.wav"), recorder=MediaRecorder("agent.wav"))
    call = await peer.wait_for_invite()   # the agent rings
    await peer.accept(call)
    await peer.wait_connected()
    ...
    await peer.hangup()

or, calling the other side: ``call_id = await peer.invite()`` then ``await peer.wait_connected()``.

Signaling travels through the DCS server (docs/protocol.md, "Calls"); media flows peer to peer.
One ``CallPeer`` handles one call of one session, as its customer or its agent:

* ICE servers come from ``rtc.config``. aiortc gathers every candidate before
  ``setLocalDescription`` returns, so this peer sends complete descriptions and never trickles;
  it applies the candidates a browser trickles.
* Offers: the side that invited makes the first offer once the call is accepted; the callee
  does not offer (aiortc cannot roll back, so it stays out of glare; browsers run "perfect
  negotiation" with the customer as the polite peer), except to rejoin a call already under
  way (``accept`` given a call that is no longer ringing). If offers still collide, an agent
  peer keeps its own and a customer peer answers the other one on a fresh connection.
  An offer that arrives mid-call is answered: on the same connection for a renegotiation, on
  a fresh ``RTCPeerConnection`` (same tracks) when the other side started over (a new
  ``pc_id``, an ICE restart, which aiortc cannot do in place, an offer after this connection
  failed or was closed, or one it cannot apply). When this side invited and its connection
  fails, it starts over with a fresh offer under a new ``pc_id``; answers carry the current
  ``pc_id``, which only changes with such an offer. Our offers always carry a data channel
  section, so either side can open data channels at any time.
* ``call.media`` reports ``connected`` when ICE and DTLS are up and ``reconnecting`` when the
  connection fails or the other side closes it; a ``call.state`` of ``ended`` (hang-up,
  decline, session left ``live``) closes the peer.
* The peer owns ``player`` and ``recorder``: ``close()`` stops them (which finishes the
  recorded file). The recorder gets one continuous track per kind, which keeps recording
  across fresh connections. Without a recorder and without ``on_track``, received media is
  discarded (``MediaBlackhole``) so it does not pile up in memory.

Handlers never raise into the caller: their exceptions are logged. Every task the peer starts
is kept and cancelled by ``close()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeAlias

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole, MediaPlayer, MediaRecorder, MediaRelay
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame
from av.frame import Frame
from av.packet import Packet

from .client import DcsClient
from .exceptions import DcsError
from .protocol import CallState, Event, Role

__all__ = ["CallPeer"]

log = logging.getLogger(__name__)

TrackHandler: TypeAlias = Callable[[MediaStreamTrack], Awaitable[None] | None]
ChannelHandler: TypeAlias = Callable[[RTCDataChannel], Awaitable[None] | None]
Recorder: TypeAlias = MediaRecorder | MediaBlackhole
Job: TypeAlias = Callable[[], Awaitable[None]]

_UFRAG = re.compile(r"^a=ice-ufrag:(\S+)", re.MULTILINE)
_VIDEO_TICKS_PER_FRAME = 3000  # aiortc's video clock is 90 kHz: one frame at 30 fps
_PLACEHOLDER_CHANNEL_ID = 1023  # far above the ids browsers and aiortc hand out (0, 1, 2, ...)


def _new_pc_id() -> str:
    return f"py{secrets.token_hex(8)}"


class _ContinuousTrack(MediaStreamTrack):
    """A received track that outlives its peer connection.

    The recorder reads this track; after a fresh connection the new remote track is attached
    and timestamps carry on from where the old one stopped.
    """

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._source: MediaStreamTrack | None = None
        self._attached = asyncio.Event()
        self._offset: int | None = None
        self._next_pts = 0

    def attach(self, source: MediaStreamTrack) -> None:
        self._source = source
        self._offset = None
        self._attached.set()

    async def recv(self) -> Frame | Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            source = self._source
            if source is None:
                self._attached.clear()
                await self._attached.wait()
                continue
            try:
                frame = await source.recv()
            except MediaStreamError:
                if self._source is source:
                    self._source = None
                continue
            return self._retime(frame)

    def _retime(self, frame: Frame | Packet[Any]) -> Frame | Packet[Any]:
        if frame.pts is None:
            return frame
        if self._offset is None:
            self._offset = self._next_pts - frame.pts
        frame.pts += self._offset
        step = frame.samples if isinstance(frame, AudioFrame) else _VIDEO_TICKS_PER_FRAME
        self._next_pts = frame.pts + step
        return frame

    def stop(self) -> None:
        super().stop()
        self._attached.set()


class CallPeer:
    """One participant's side of a call in one session, over aiortc.

    ``player`` provides the tracks to send (audio always, video with ``send_video``);
    ``recorder`` receives what the other side sends; ``on_track`` is called with each
    received track (again after a fresh connection) and ``on_datachannel`` with each data
    channel the other side opens. Do not read a track from ``on_track`` while a recorder also
    reads it: they would share its frames.
    """

    def __init__(
        self,
        client: DcsClient,
        session_id: str,
        *,
        player: MediaPlayer | None = None,
        recorder: Recorder | None = None,
        on_track: TrackHandler | None = None,
        on_datachannel: ChannelHandler | None = None,
        send_video: bool = False,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.player = player
        self._relay = MediaRelay()
        self.recorder: Recorder | None = (
            recorder if recorder is not None or on_track is not None else MediaBlackhole()
        )
        self.on_track = on_track
        self.on_datachannel = on_datachannel
        self.send_video = send_video
        self.role: Role | None = None  # own role in the call, known once invited or accepted

        self._call_id: str | None = None
        self._call: dict[str, Any] | None = None
        self._video = False
        self._inviter = False
        self._offered = False
        self._invited: set[str] = set()
        self._calls: dict[str, dict[str, Any]] = {}  # latest call.state of every call seen
        self._config = RTCConfiguration(iceServers=[])
        self._pc: RTCPeerConnection | None = None
        self._pc_id = _new_pc_id()
        self._remote_pc_id: str | None = None
        self._early_candidates: list[tuple[str | None, dict[str, Any]]] = []
        self._reported: str | None = None
        self._received: dict[str, _ContinuousTrack] = {}

        self._connected = asyncio.Event()
        self._ended = asyncio.Event()
        self._closed = asyncio.Event()
        self._closing = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._unsubscribe = [
            client.on(Event.CALL_STATE, self._on_call_state),
            client.on(Event.RTC_SIGNAL, self._on_signal),
        ]

    # public state

    @property
    def call_id(self) -> str | None:
        return self._call_id

    @property
    def call(self) -> dict[str, Any] | None:
        """The latest ``call.state`` of this peer's call."""
        return self._call

    @property
    def pc(self) -> RTCPeerConnection | None:
        """The current peer connection (for ``getStats()``); replaced on a fresh start."""
        return self._pc

    @property
    def connection_state(self) -> str:
        if self._pc is not None:
            return str(self._pc.connectionState)
        return "closed" if self._closing else "new"

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    # calling

    async def invite(self, *, video: bool = False) -> str:
        """Ring the other side; returns the call id. The offer follows once they accept."""
        self._require_open()
        if self._call_id is not None:
            raise DcsError("This peer already has a call; use a new CallPeer for another one.")
        await self._fetch_config()
        self._video = video
        self._inviter = True
        await self._in_order(lambda: self._fresh_pc(offering=True))
        ack = await self.client.request(Event.CALL_INVITE, {"session_id": self.session_id, "video": video})
        call = dict(ack["call"])
        self.role = Role(call["inviter"]["role"])
        self._invited.add(call["call_id"])
        self._call_id = call["call_id"]
        log.info("call %s: ringing the other side (video=%s)", self._call_id, video)
        # a call.state pushed before this ack was read counts too
        self._follow(self._calls.get(call["call_id"], call))
        return str(call["call_id"])

    async def wait_for_invite(self, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next call the other side rings this session with (its ``call.state``)."""

        def ringing(call: dict[str, Any]) -> bool:
            cid = call.get("call_id")
            return (
                call.get("session_id") == self.session_id
                and call.get("state") == CallState.RINGING
                and cid not in self._invited
                and self._calls.get(str(cid), call).get("state") == CallState.RINGING
            )

        return await self.client.wait_for(Event.CALL_STATE, ringing, timeout)

    async def accept(self, call: dict[str, Any] | None = None) -> None:
        """Answer a ringing call (default: the latest one) and take the caller's offer.

        Given a call that is already under way (this program restarted and found it again),
        the peer rejoins it: it starts a fresh connection with its own offer.
        """
        self._require_open()
        call = call or self._latest_ringing()
        if call is None:
            raise DcsError("No call is ringing in this session.")
        if self._call_id is not None and self._call_id != call["call_id"]:
            raise DcsError("This peer already has a call; use a new CallPeer for another one.")
        self._call_id = str(call["call_id"])
        self._video = bool(call.get("video"))
        self.role = Role.AGENT if call["inviter"]["role"] == Role.CUSTOMER else Role.CUSTOMER
        await self._fetch_config()
        rejoin = call["state"] != CallState.RINGING
        await self._in_order(lambda: self._fresh_pc(offering=rejoin))
        if not rejoin:
            ack = await self.client.request(
                Event.CALL_ANSWER, {"session_id": self.session_id, "call_id": self._call_id, "accept": True}
            )
            log.info("call %s: accepted, waiting for the caller's offer", self._call_id)
            self._follow(self._calls.get(self._call_id, ack["call"]))
        else:
            log.info("call %s: rejoining a call under way with a fresh connection", self._call_id)
            self._follow(self._calls.get(self._call_id, call))
            self._enqueue(self._send_offer)

    async def decline(self, call: dict[str, Any]) -> None:
        """Decline a ringing call."""
        await self.client.request(
            Event.CALL_ANSWER, {"session_id": self.session_id, "call_id": call["call_id"], "accept": False}
        )
        log.info("call %s: declined", call["call_id"])

    def create_data_channel(self, label: str, *, ordered: bool = True) -> RTCDataChannel:
        """Open a data channel on the current connection; it opens once the call connects.

        The caller may open channels right after ``invite()``. The callee may once the
        caller's offer carried a data channel section (offers from CallPeer always do).
        A channel belongs to its connection: a fresh connection does not keep it.
        """
        if self._pc is None:
            raise DcsError("Invite or accept a call before opening a data channel.")
        if self._pc.sctp is None:
            raise DcsError("This connection has no data channel section (the offer carried none).")
        return self._pc.createDataChannel(label, ordered=ordered)

    async def wait_connected(self, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """Wait until ICE and DTLS are up; raises DcsError if the call ends first."""
        connected = asyncio.ensure_future(self._connected.wait())
        ended = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait({connected, ended}, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            connected.cancel()
            ended.cancel()
            await asyncio.gather(connected, ended, return_exceptions=True)
        if connected in done and self._connected.is_set():
            return
        if ended in done:
            raise DcsError("The call ended before it connected.")
        raise TimeoutError(f"The call did not connect within {timeout} s.")

    async def wait_ended(self, timeout: float | None = None) -> dict[str, Any] | None:  # noqa: ASYNC109
        """Wait until the peer closes (the call ended, or ``close()``); returns the last call.state."""
        await asyncio.wait_for(self._closed.wait(), timeout)
        return self.call

    async def hangup(self) -> None:
        """End the call for both sides, then close."""
        if self._call_id is not None and not self._ended.is_set() and not self._closing:
            try:
                await self.client.request(
                    Event.CALL_HANGUP, {"session_id": self.session_id, "call_id": self._call_id}
                )
                log.info("call %s: hung up", self._call_id)
            except (DcsError, TimeoutError) as exc:
                log.info("call %s: hang-up not delivered (%s)", self._call_id, exc)
        await self.close()

    async def close(self) -> None:
        """Close the connection, stop the player and the recorder. Safe to call more than once."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            for unsubscribe in self._unsubscribe:
                with contextlib.suppress(ValueError):
                    unsubscribe()
            current = asyncio.current_task()
            tasks = [task for task in self._tasks if task is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close_pc()
            for track in self._received.values():
                track.stop()
            if self.player is not None:
                for sent in (self.player.audio, self.player.video):
                    if sent is not None:
                        sent.stop()
            if self.recorder is not None:
                try:
                    await self.recorder.stop()
                except Exception:
                    log.exception("stopping the recorder failed")
        finally:
            self._connected.clear()
            self._closed.set()
            log.info("call %s: closed", self._call_id)

    # events from the server

    def _on_call_state(self, call: dict[str, Any]) -> None:
        if call.get("session_id") != self.session_id:
            return
        self._calls[str(call.get("call_id"))] = call
        if call.get("call_id") == self._call_id:
            self._follow(call)

    def _follow(self, call: dict[str, Any]) -> None:
        """Act on the latest state of this peer's own call."""
        self._call = call
        state = call.get("state")
        if state == CallState.ENDED and not self._ended.is_set():
            self._ended.set()
            log.info("call %s: ended (%s)", self._call_id, call.get("reason") or "no reason given")
            if not self._closing:
                self._spawn(self.close())
        elif state == CallState.CONNECTING and self._inviter and not self._offered:
            self._offered = True
            self._enqueue(self._send_offer)

    def _on_signal(self, signal: dict[str, Any]) -> None:
        if signal.get("session_id") != self.session_id or signal.get("call_id") != self._call_id:
            return
        if self._call_id is None or (signal.get("from") or {}).get("role") == self.role:
            return  # not our call, or another tab of our own identity
        self._enqueue(lambda: self._handle_signal(signal))

    def _latest_ringing(self) -> dict[str, Any] | None:
        for call in reversed(list(self._calls.values())):
            if call.get("state") == CallState.RINGING and call.get("call_id") not in self._invited:
                return dict(call)
        return None

    # signaling, one step at a time (the worker task runs jobs in arrival order)

    async def _handle_signal(self, signal: dict[str, Any]) -> None:
        pc_id = signal.get("pc_id")
        description = signal.get("description")
        if description is not None:
            kind, sdp = description.get("type"), str(description.get("sdp", ""))
            if kind == "offer":
                await self._on_offer(sdp, pc_id)
            elif kind == "answer":
                await self._on_answer(sdp, pc_id)
            else:
                log.info("call %s: ignoring a %s description", self._call_id, kind)
        elif signal.get("candidate") is not None:
            await self._on_candidate(signal["candidate"], pc_id)

    async def _on_offer(self, sdp: str, pc_id: str | None) -> None:
        offer = RTCSessionDescription(sdp=sdp, type="offer")
        pc = self._pc
        why = ""
        if pc is None or pc.connectionState in ("failed", "closed"):
            why = "the connection is down"
        elif pc_id and self._remote_pc_id and pc_id != self._remote_pc_id:
            why = "the other side started a new connection"
        elif _ice_restarted(pc, sdp):
            why = "the other side restarted ICE"
        elif pc.signalingState == "have-local-offer":
            if self.role is not Role.CUSTOMER:
                log.info("call %s: offers collided; ours stands (impolite side)", self._call_id)
                return
            why = "offers collided (polite side; aiortc cannot roll back)"
        if not why:
            assert pc is not None
            try:
                await pc.setRemoteDescription(offer)
            except Exception as exc:
                why = f"the offer does not apply to this connection ({exc})"
        if why:
            log.info("call %s: answering on a fresh connection: %s", self._call_id, why)
            pc = await self._fresh_pc(offering=False)
            await pc.setRemoteDescription(offer)
        assert pc is not None
        self._remote_pc_id = pc_id
        await self._add_early_candidates()
        await pc.setLocalDescription(await pc.createAnswer())
        await self._send_description(pc)

    async def _on_answer(self, sdp: str, pc_id: str | None) -> None:
        pc = self._pc
        if pc is None or pc.signalingState != "have-local-offer":
            log.info("call %s: ignoring an answer to no offer", self._call_id)
            return
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self._remote_pc_id = pc_id
        await self._add_early_candidates()

    async def _on_candidate(self, candidate: dict[str, Any], pc_id: str | None) -> None:
        if not str(candidate.get("candidate", "")).strip():
            return  # end of candidates
        pc = self._pc
        if pc is None or pc.remoteDescription is None:
            self._early_candidates.append((pc_id, candidate))
        elif pc_id and self._remote_pc_id and pc_id != self._remote_pc_id:
            log.debug("call %s: dropping a candidate of an old connection", self._call_id)
        else:
            await _add_candidate(pc, candidate)

    async def _add_early_candidates(self) -> None:
        early, self._early_candidates = self._early_candidates, []
        if self._pc is None:
            return
        for pc_id, candidate in early:
            if not (pc_id and self._remote_pc_id and pc_id != self._remote_pc_id):
                await _add_candidate(self._pc, candidate)

    async def _send_offer(self) -> None:
        pc = self._pc if self._pc is not None and self._pc.signalingState == "stable" else None
        if pc is None or pc.connectionState in ("failed", "closed"):
            self._pc_id = _new_pc_id()
            pc = await self._fresh_pc(offering=True)
        await pc.setLocalDescription(await pc.createOffer())
        await self._send_description(pc)

    async def _send_description(self, pc: RTCPeerConnection) -> None:
        description = pc.localDescription
        try:
            await self.client.request(
                Event.RTC_SIGNAL,
                {
                    "session_id": self.session_id,
                    "call_id": self._call_id,
                    "pc_id": self._pc_id,
                    "description": {"type": description.type, "sdp": description.sdp},
                },
            )
        except (DcsError, TimeoutError) as exc:  # e.g. the call ended meanwhile
            log.info("call %s: %s not delivered (%s)", self._call_id, description.type, exc)
        else:
            log.info("call %s: %s sent (pc %s)", self._call_id, description.type, self._pc_id)

    async def _fresh_pc(self, *, offering: bool) -> RTCPeerConnection:
        """Replace the peer connection with a new one that sends the same tracks.

        A connection that will offer gets an SCTP association from the start (an unused
        pre-negotiated channel), so its offers carry a data channel section and either side
        can open data channels at any time without renegotiating.
        """
        await self._close_pc()
        self._connected.clear()
        self._early_candidates = []
        self._remote_pc_id = None
        pc = RTCPeerConnection(self._config)
        self._pc = pc
        pc.on("connectionstatechange", lambda: self._on_connection_state(pc))
        pc.on("track", lambda track: self._on_remote_track(pc, track))
        pc.on("datachannel", lambda channel: self._on_remote_channel(pc, channel))
        player = self.player
        # Each connection sends its own relay subscription: closing an old connection stops
        # its senders' tracks, which must not stop the player for the next connection.
        if player is not None and player.audio is not None:
            pc.addTrack(self._relay.subscribe(player.audio, buffered=False))
        else:
            pc.addTransceiver("audio", direction="recvonly")
        if self.send_video and player is not None and player.video is not None:
            pc.addTrack(self._relay.subscribe(player.video, buffered=False))
        elif self._video:
            pc.addTransceiver("video", direction="recvonly")
        if offering:
            pc.createDataChannel("dcs-sctp", negotiated=True, id=_PLACEHOLDER_CHANNEL_ID)
        return pc

    async def _close_pc(self) -> None:
        pc, self._pc = self._pc, None
        if pc is not None:
            try:
                await pc.close()
            except Exception:
                log.exception("closing the peer connection failed")

    async def _fetch_config(self) -> None:
        ack = await self.client.request(Event.RTC_CONFIG, {"session_id": self.session_id})
        servers = [
            RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
            for s in ack.get("ice_servers", [])
        ]
        policy = (
            RTCIceTransportPolicy.RELAY
            if ack.get("ice_transport_policy") == "relay"
            else RTCIceTransportPolicy.ALL
        )
        self._config = RTCConfiguration(
            iceServers=servers,
            iceTransportPolicy=policy,
            # Keep the default bundle policy (balanced): with max-bundle, aiortc stops the
            # transport it bundles onto when an offer lists the data channel section first.
        )

    # events from the peer connection

    def _on_connection_state(self, pc: RTCPeerConnection) -> None:
        state = str(pc.connectionState)
        if pc is self._pc:
            self._enqueue(lambda: self._connection_changed(pc, state))

    async def _connection_changed(self, pc: RTCPeerConnection, state: str) -> None:
        if pc is not self._pc:
            return
        log.info("call %s: connection %s", self._call_id, state)
        if state == "connected":
            self._connected.set()
            if self.recorder is not None:
                await self.recorder.start()  # starts the tracks added since the last start
            await self._report(CallState.CONNECTED)
        elif state in ("failed", "disconnected", "closed"):
            # "closed" here means the other side closed its connection (this peer drops its
            # own connection from self._pc before closing it): it starts over when it returns
            self._connected.clear()
            await self._report(CallState.RECONNECTING)
            if state == "failed" and self._inviter:
                log.info("call %s: starting over with a fresh connection", self._call_id)
                self._pc_id = _new_pc_id()
                await self._fresh_pc(offering=True)
                await self._send_offer()

    def _on_remote_track(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        if pc is not self._pc:
            return
        log.info("call %s: receiving %s", self._call_id, track.kind)
        if self.recorder is not None:
            continuous = self._received.get(track.kind)
            if continuous is None:
                continuous = self._received[track.kind] = _ContinuousTrack(track.kind)
                try:
                    self.recorder.addTrack(continuous)
                except Exception:
                    log.exception("the recorder cannot take a %s track", track.kind)
            continuous.attach(track)
        if self.on_track is not None:
            self._call_handler(self.on_track, track)

    def _on_remote_channel(self, pc: RTCPeerConnection, channel: RTCDataChannel) -> None:
        if pc is self._pc and self.on_datachannel is not None:
            self._call_handler(self.on_datachannel, channel)

    async def _report(self, state: CallState) -> None:
        if self._call_id is None or self._ended.is_set() or self._reported == state:
            return
        senders = self._pc.getSenders() if self._pc is not None else []
        kinds = {s.track.kind for s in senders if s.track is not None}
        try:
            await self.client.request(
                Event.CALL_MEDIA,
                {
                    "session_id": self.session_id,
                    "call_id": self._call_id,
                    "state": state.value,
                    "audio": "audio" in kinds,
                    "video": "video" in kinds,
                },
            )
            self._reported = state
        except (DcsError, TimeoutError) as exc:
            log.info("call %s: call.media %s not delivered (%s)", self._call_id, state.value, exc)

    # tasks

    def _require_open(self) -> None:
        if self._closing:
            raise DcsError("This call peer is closed.")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call %s: a background step failed", self._call_id)

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _enqueue(self, job: Job) -> None:
        if self._closing:
            return
        self._jobs.put_nowait(job)
        if self._worker is None or self._worker.done():
            self._worker = self._spawn(self._work())

    async def _work(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("call %s: a signaling step failed", self._call_id)

    async def _in_order(self, job: Callable[[], Awaitable[object]]) -> None:
        """Run ``job`` on the worker, after everything queued before it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                await job()
            except Exception as exc:
                done.set_exception(exc)
                return
            done.set_result(None)

        self._enqueue(run)
        await done

    def _call_handler(self, handler: Callable[[Any], Awaitable[None] | None], arg: object) -> None:
        if self._closing:
            return
        try:
            result = handler(arg)
        except Exception:
            log.exception("call %s: a handler failed", self._call_id)
            return
        if inspect.isawaitable(result):

            async def wait() -> None:
                await result

            self._spawn(wait())


def _ice_restarted(pc: RTCPeerConnection, offer_sdp: str) -> bool:
    """Whether the offer carries other ICE credentials than the current remote description."""
    remote = pc.remoteDescription
    if remote is None:
        return False
    before, after = set(_UFRAG.findall(remote.sdp)), set(_UFRAG.findall(offer_sdp))
    return bool(before and after and before != after)


async def _add_candidate(pc: RTCPeerConnection, candidate: dict[str, Any]) -> None:
    """Apply a browser's trickled ``{candidate, sdpMid, sdpMLineIndex}``."""
    text = str(candidate["candidate"]).strip()
    if text.startswith("candidate:"):
        text = text[len("candidate:") :]
    try:
        parsed = candidate_from_sdp(text)
    except (AssertionError, ValueError, IndexError):
        log.warning("ignoring a malformed ICE candidate %r", candidate.get("candidate"))
        return
    parsed.sdpMid = candidate.get("sdpMid")
    parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
    if parsed.sdpMid is None and parsed.sdpMLineIndex is None:
        parsed.sdpMLineIndex = 0
    await pc.addIceCandidate(parsed)
