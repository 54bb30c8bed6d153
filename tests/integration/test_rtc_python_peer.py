"""Real calls between aiortc peers through the in-process server, with real packets.

Each test runs inside a private network namespace (tests/netns.py): ICE finds the veth pair's
10.99.0.1 and 10.99.0.2 host candidates, and no packet can leave the machine.
"""

from __future__ import annotations

import array
import asyncio
import logging
import math
import time
import wave
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer, MediaRecorder

from dcs_sdk import DcsClient, Event
from dcs_sdk.rtc import CallPeer
from signaling_server import Config
from tests import netns
from tests.conftest import Connect

AGENT_TONE_HZ = 440
CUSTOMER_TONE_HZ = 660


@pytest.fixture
def server_config(server_config: Config) -> Config:
    # no STUN or TURN: host candidates on the veth pair are all a test needs
    return replace(server_config, stun_urls=(), turn_urls=(), turn_secret="")


async def live_pair(connect: Connect) -> tuple[DcsClient, DcsClient, str]:
    customer = await connect("customer", "v1", name="Sam")
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    agent = await connect("agent", "alice", name="Alice")
    await agent.accept(sid)
    return customer, agent, sid


def write_tone(path: Path, hz: int, seconds: float = 2.0, rate: int = 48_000) -> Path:
    samples = array.array(
        "h", (int(12_000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(int(seconds * rate)))
    )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def analyse(path: Path, skip_s: float = 0.3) -> tuple[float, float, float]:
    """(seconds, RMS, dominant frequency by zero crossings) of a WAV's first channel."""
    with wave.open(str(path), "rb") as recorded:
        assert recorded.getsampwidth() == 2
        channels, rate = recorded.getnchannels(), recorded.getframerate()
        samples = array.array("h", recorded.readframes(recorded.getnframes()))
    first = samples[::channels][int(skip_s * rate) :]
    assert len(first) > rate // 2, f"only {len(first)} samples recorded"
    rms = math.sqrt(sum(s * s for s in first) / len(first))
    crossings = sum(1 for a, b in zip(first, first[1:], strict=False) if (a < 0) != (b < 0))
    return len(samples) / channels / rate, rms, crossings / 2 / (len(first) / rate)


async def rtp_counts(peer: CallPeer) -> tuple[int, int]:
    """(inbound-rtp packetsReceived, outbound-rtp bytesSent) summed over the peer's streams."""
    assert peer.pc is not None
    report = await peer.pc.getStats()
    received = sum(s.packetsReceived for s in report.values() if s.type == "inbound-rtp")
    sent = sum(s.bytesSent for s in report.values() if s.type == "outbound-rtp")
    return received, sent


async def wait_for_packets(peer: CallPeer, at_least: int, timeout: float = 10.0) -> int:  # noqa: ASYNC109
    """Wait until the peer's connection received ``at_least`` RTP packets (20 ms of audio each)."""
    deadline = time.monotonic() + timeout
    while (received := (await rtp_counts(peer))[0]) < at_least:
        assert time.monotonic() < deadline, f"only {received} RTP packets arrived within {timeout} s"
        await asyncio.sleep(0.05)
    return received


async def ring_and_connect(agent: CallPeer, customer: CallPeer, *, video: bool = False) -> tuple[str, float]:
    """The agent rings, the customer accepts; returns the call id and the seconds to connect."""
    call_id = await agent.invite(video=video)
    ringing = await customer.wait_for_invite(timeout=5)
    assert ringing["call_id"] == call_id and ringing["inviter"]["role"] == "agent"
    started = time.monotonic()
    await customer.accept(ringing)
    await asyncio.gather(agent.wait_connected(10), customer.wait_connected(10))
    return call_id, time.monotonic() - started


@pytest.fixture
def tones(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Two tones to send, one per side (players loop them: the tests wait on packets, not clocks)."""
    yield (
        write_tone(tmp_path / "agent_tone.wav", AGENT_TONE_HZ),
        write_tone(tmp_path / "customer_tone.wav", CUSTOMER_TONE_HZ),
    )


@netns.isolated
async def test_audio_flows_both_ways_and_is_recorded(
    connect: Connect, tmp_path: Path, tones: tuple[Path, Path]
) -> None:
    customer_client, agent_client, sid = await live_pair(connect)
    recording = tmp_path / "agent.wav"
    agent = CallPeer(agent_client, sid, player=MediaPlayer(str(tones[0]), loop=True))
    customer = CallPeer(
        customer_client,
        sid,
        player=MediaPlayer(str(tones[1]), loop=True),
        recorder=MediaRecorder(str(recording)),
    )
    try:
        call_id, connect_s = await ring_and_connect(agent, customer)
        print(f"ICE+DTLS connected {connect_s * 1000:.0f} ms after accept")
        assert agent.pc is not None and customer.pc is not None
        for peer in (agent, customer):
            sdp = peer.pc.localDescription.sdp if peer.pc else ""
            assert "10.99.0." in sdp and "a=candidate" in sdp  # complete descriptions, no trickle

        connected = await agent_client.wait_for(
            Event.CALL_STATE, lambda c: c["call_id"] == call_id and c["state"] == "connected", timeout=5
        )
        assert connected["media"] == {
            "agent": {"state": "connected", "audio": True, "video": False},
            "customer": {"state": "connected", "audio": True, "video": False},
        }

        # packets arrive on both ends and keep arriving (20 ms Opus packets: 50 a second)
        for peer in (agent, customer):
            await wait_for_packets(peer, 1)
        before = [await rtp_counts(p) for p in (agent, customer)]
        for peer, (received, _) in zip((agent, customer), before, strict=True):
            await wait_for_packets(peer, received + 50)
        after = [await rtp_counts(p) for p in (agent, customer)]
        print(
            f"rtp (received, bytes sent): agent {before[0]} -> {after[0]}, customer {before[1]} -> {after[1]}"
        )
        for (received0, sent0), (received1, sent1) in zip(before, after, strict=True):
            assert 0 < received0 < received1
            assert 0 < sent0 < sent1
        await wait_for_packets(customer, 100)  # 2 s of the agent's audio for the recorder
    finally:
        await customer.hangup()
        await agent.close()

    seconds, rms, hz = analyse(recording)
    print(f"recorded {seconds:.1f} s of the agent's audio: RMS {rms:.0f}, {hz:.0f} Hz")
    assert seconds > 1.0
    assert rms > 2000  # the tone's RMS is about 8500; silence is 0
    assert abs(hz - AGENT_TONE_HZ) < 30  # the agent's tone, not the customer's own


@netns.isolated
async def test_hangup_on_one_side_ends_the_call_on_the_other(connect: Connect) -> None:
    customer_client, agent_client, sid = await live_pair(connect)
    agent = CallPeer(agent_client, sid)
    customer = CallPeer(customer_client, sid)
    call_id, _ = await ring_and_connect(agent, customer)
    agent_pc = agent.pc
    assert agent_pc is not None and agent_pc.connectionState == "connected"

    await customer.hangup()
    assert customer.closed and customer.pc is None
    ended = await agent.wait_ended(timeout=5)
    assert ended is not None and ended["call_id"] == call_id
    assert ended["state"] == "ended" and ended["reason"] == "hung up by customer"
    assert agent.closed and agent.connection_state == "closed"
    assert agent_pc.connectionState == "closed"
    # the session is still live, so a new call can ring with new peers
    again = CallPeer(customer_client, sid)
    assert (await again.invite()).startswith("call_")
    await again.hangup()


@netns.isolated
async def test_a_data_channel_opens_and_carries_messages(connect: Connect) -> None:
    customer_client, agent_client, sid = await live_pair(connect)
    channels: asyncio.Queue[RTCDataChannel] = asyncio.Queue()
    agent = CallPeer(agent_client, sid)
    customer = CallPeer(customer_client, sid, on_datachannel=channels.put_nowait)
    try:
        await agent.invite()
        channel = agent.create_data_channel("notes")
        opened = asyncio.Event()
        channel.on("open", opened.set)
        ringing = await customer.wait_for_invite(timeout=5)
        await customer.accept(ringing)
        await asyncio.wait_for(opened.wait(), 10)

        remote = await asyncio.wait_for(channels.get(), 5)
        assert remote.label == "notes"
        to_customer: asyncio.Queue[Any] = asyncio.Queue()
        to_agent: asyncio.Queue[Any] = asyncio.Queue()
        remote.on("message", to_customer.put_nowait)
        channel.on("message", to_agent.put_nowait)
        channel.send("order 88123, please check")
        assert await asyncio.wait_for(to_customer.get(), 5) == "order 88123, please check"
        remote.send(b"\x00binary ok")
        assert await asyncio.wait_for(to_agent.get(), 5) == b"\x00binary ok"
    finally:
        await agent.hangup()
        await customer.close()


@netns.isolated
async def test_close_is_idempotent(connect: Connect, tmp_path: Path, tones: tuple[Path, Path]) -> None:
    customer_client, agent_client, sid = await live_pair(connect)
    idle = CallPeer(customer_client, sid)
    await idle.close()
    await idle.close()
    assert idle.closed and idle.connection_state == "closed"

    recording = tmp_path / "agent.wav"
    agent = CallPeer(agent_client, sid, player=MediaPlayer(str(tones[0]), loop=True))
    customer = CallPeer(customer_client, sid, recorder=MediaRecorder(str(recording)))
    await ring_and_connect(agent, customer)
    await wait_for_packets(customer, 25)
    await asyncio.sleep(0.2)  # the recorder writes what arrived
    await asyncio.gather(customer.close(), customer.close())
    await customer.close()
    await customer.hangup()  # after close: nothing left to do, no error
    assert customer.closed and customer.pc is None
    assert analyse(recording, skip_s=0)[0] > 0  # the recorder was stopped once and finished its file
    await agent.hangup()
    await agent.hangup()
    assert agent.closed


@netns.isolated
async def test_a_trickling_offerer_connects_and_a_new_pc_id_gets_a_fresh_connection(
    connect: Connect, tmp_path: Path, tones: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A browser-like caller: bare offer SDP, then trickled candidates; later a reload (new pc_id)."""
    caplog.set_level(logging.INFO, logger="dcs_sdk.rtc")
    customer_client, agent_client, sid = await live_pair(connect)
    recording = tmp_path / "agent.wav"
    customer = CallPeer(customer_client, sid, recorder=MediaRecorder(str(recording)))
    call_id = (await agent_client.request(Event.CALL_INVITE, {"session_id": sid}))["call"]["call_id"]
    await customer.accept(await customer.wait_for_invite(timeout=5))
    await agent_client.wait_for(Event.CALL_STATE, lambda c: c["state"] == "connecting", timeout=5)
    players: list[MediaPlayer] = []
    browsers: list[RTCPeerConnection] = []

    async def browser_offer(pc_id: str) -> None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        browsers.append(pc)
        players.append(MediaPlayer(str(tones[0]), loop=True))
        pc.addTrack(players[-1].audio)
        await pc.setLocalDescription(await pc.createOffer())
        lines = pc.localDescription.sdp.splitlines()
        bare = [line for line in lines if not line.startswith(("a=candidate:", "a=end-of-candidates"))]
        signal: dict[str, Any] = {"session_id": sid, "call_id": call_id, "pc_id": pc_id}
        await agent_client.request(
            Event.RTC_SIGNAL, {**signal, "description": {"type": "offer", "sdp": "\r\n".join(bare) + "\r\n"}}
        )
        for line in lines:
            if line.startswith("a=candidate:"):
                candidate = {"candidate": line[2:], "sdpMid": "0", "sdpMLineIndex": 0}
                await agent_client.request(Event.RTC_SIGNAL, {**signal, "candidate": candidate})
        end = {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}
        await agent_client.request(Event.RTC_SIGNAL, {**signal, "candidate": end})
        answer = await agent_client.wait_for(
            Event.RTC_SIGNAL, lambda s: (s.get("description") or {}).get("type") == "answer", timeout=10
        )
        assert answer["from"]["role"] == "customer"
        await pc.setRemoteDescription(RTCSessionDescription(**answer["description"]))

    try:
        await browser_offer("tab1")
        await customer.wait_connected(10)  # the customer only learnt the caller's address by trickle
        first_pc = customer.pc
        assert first_pc is not None
        await wait_for_packets(customer, 50)

        await browser_offer("tab2")  # the caller reloaded: start over
        await customer.wait_connected(10)
        assert "the other side started a new connection" in caplog.text
        assert customer.pc is not None and customer.pc is not first_pc
        assert first_pc.connectionState == "closed"
        await wait_for_packets(customer, 50)

        await browsers[-1].close()  # the caller's connection goes away: the customer reports it
        reconnecting = await agent_client.wait_for(
            Event.CALL_STATE, lambda c: c["state"] == "reconnecting", timeout=5
        )
        assert reconnecting["media"]["customer"]["state"] == "reconnecting"
    finally:
        for pc in browsers:
            await pc.close()
        await customer.hangup()
        for player in players:
            player.audio.stop()
    seconds, rms, hz = analyse(recording)
    print(f"recorded {seconds:.1f} s across two connections, RMS {rms:.0f}, {hz:.0f} Hz")
    assert seconds > 1.0 and rms > 2000 and abs(hz - AGENT_TONE_HZ) < 30
