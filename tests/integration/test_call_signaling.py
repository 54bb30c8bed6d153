"""Call signaling: ring, answer, relay SDP/ICE between the two participants only, hang up."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace

import pytest

from dcs_sdk import DcsClient, ErrorCode, Event, ProtocolError
from signaling_server import Config
from tests.conftest import Connect

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 10.99.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@pytest.fixture
def server_config(server_config: Config) -> Config:
    return replace(
        server_config,
        stun_urls=("stun:10.99.0.1:3478",),
        turn_urls=("turn:10.99.0.1:3478?transport=udp",),
        turn_secret="s3cret",
        turn_ttl_s=600,
    )


async def live_pair(connect: Connect, n: int = 1) -> tuple[DcsClient, DcsClient, str]:
    customer = await connect("customer", f"v{n}", name="Sam")
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    agent = await connect("agent", f"agent{n}", name="Alice")
    await agent.accept(sid)
    return customer, agent, sid


async def expect(code: str, request: object) -> None:
    with pytest.raises(ProtocolError) as info:
        await request  # type: ignore[misc]
    assert info.value.code == code


async def test_ice_servers_carry_turn_rest_credentials(connect: Connect) -> None:
    customer, _agent, sid = await live_pair(connect)
    ack = await customer.request(Event.RTC_CONFIG, {"session_id": sid})
    stun, turn = ack["ice_servers"]
    assert stun == {"urls": ["stun:10.99.0.1:3478"]}
    expiry, identity = turn["username"].split(":")
    assert identity == "v1"
    digest = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(digest).decode()
    assert ack["ice_transport_policy"] == "all"


async def test_ring_answer_relay_and_hang_up(connect: Connect) -> None:
    customer, agent, sid = await live_pair(connect)
    invite = await agent.request(Event.CALL_INVITE, {"session_id": sid, "video": False})
    call_id = invite["call"]["call_id"]
    ringing = await customer.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ringing")
    assert ringing["inviter"]["role"] == "agent" and ringing["call_id"] == call_id
    await expect(
        ErrorCode.FORBIDDEN,
        agent.request(Event.CALL_ANSWER, {"session_id": sid, "call_id": call_id, "accept": True}),
    )
    await customer.request(Event.CALL_ANSWER, {"session_id": sid, "call_id": call_id, "accept": True})
    await agent.wait_for(Event.CALL_STATE, lambda c: c["state"] == "connecting")

    await agent.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id, "description": OFFER})
    got = await customer.wait_for(Event.RTC_SIGNAL)
    assert got["description"] == OFFER and got["from"]["role"] == "agent"
    await customer.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id, "candidate": CANDIDATE})
    got = await agent.wait_for(Event.RTC_SIGNAL)
    assert got["candidate"]["candidate"] == CANDIDATE["candidate"]
    assert agent.drain(Event.RTC_SIGNAL) == [] and customer.drain(Event.RTC_SIGNAL) == []

    for side in (customer, agent):
        await side.request(Event.CALL_MEDIA, {"session_id": sid, "call_id": call_id, "state": "connected"})
    connected = await customer.wait_for(Event.CALL_STATE, lambda c: c["state"] == "connected")
    assert connected["connected_at"] is not None

    # a reloading customer finds the call again in session.start's ack
    again = await connect("customer", "v1", name="Sam")
    assert (await again.start_session(sid)).session["state"] == "live"
    resumed = await again.request(Event.SESSION_START, {"session_id": sid})
    assert resumed["call"]["call_id"] == call_id

    await customer.request(Event.CALL_HANGUP, {"session_id": sid, "call_id": call_id})
    ended = await agent.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ended")
    assert ended["reason"] == "hung up by customer"


async def test_outsiders_cannot_signal_into_a_call(connect: Connect) -> None:
    customer, agent, sid = await live_pair(connect, 1)
    other_customer, other_agent, other_sid = await live_pair(connect, 2)
    call_id = (await agent.request(Event.CALL_INVITE, {"session_id": sid}))["call"]["call_id"]
    await customer.request(Event.CALL_ANSWER, {"session_id": sid, "call_id": call_id, "accept": True})
    for outsider in (other_customer, other_agent):
        await expect(
            ErrorCode.FORBIDDEN,
            outsider.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id, "description": OFFER}),
        )
        await expect(
            ErrorCode.FORBIDDEN, outsider.request(Event.CALL_HANGUP, {"session_id": sid, "call_id": call_id})
        )
    # the right people, but another session's call id
    await expect(
        ErrorCode.NOT_FOUND,
        other_agent.request(
            Event.RTC_SIGNAL, {"session_id": other_sid, "call_id": call_id, "candidate": CANDIDATE}
        ),
    )
    # malformed signals
    await expect(
        ErrorCode.BAD_PAYLOAD, agent.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id})
    )
    await expect(
        ErrorCode.BAD_PAYLOAD,
        agent.request(
            Event.RTC_SIGNAL,
            {"session_id": sid, "call_id": call_id, "description": {"type": "bogus", "sdp": ""}},
        ),
    )
    assert customer.drain(Event.RTC_SIGNAL) == []
    # the call still works for its participants
    await agent.request(Event.RTC_SIGNAL, {"session_id": sid, "call_id": call_id, "description": OFFER})
    assert (await customer.wait_for(Event.RTC_SIGNAL))["description"]["type"] == "offer"


async def test_calls_need_a_live_session_and_end_with_it(connect: Connect) -> None:
    lone = await connect("customer", "lonely")
    lone_sid = (await lone.start_session()).session_id
    await expect(ErrorCode.WRONG_STATE, lone.request(Event.CALL_INVITE, {"session_id": lone_sid}))
    customer, agent, sid = await live_pair(connect)
    call_id = (await customer.request(Event.CALL_INVITE, {"session_id": sid, "video": True}))["call"][
        "call_id"
    ]
    await expect(ErrorCode.WRONG_STATE, agent.request(Event.CALL_INVITE, {"session_id": sid}))
    await agent.end(sid)
    ended = await customer.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ended")
    assert ended["call_id"] == call_id and ended["reason"] == "session ended"
