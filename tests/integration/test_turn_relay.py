"""Relay-only calls through a real coturn started by the test, with DCS's TURN REST credentials.

Inside a private network namespace (tests/netns.py): coturn listens on 10.99.0.1 with
``use-auth-secret``; the DCS server hands out credentials minted from the same secret and
``ice_transport_policy = "relay"``, so the only way the two peers can meet is through coturn.
A wrong secret or an expired credential must fail cleanly: no connection, no crash, and the
call can still be hung up.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from aiortc.contrib.media import MediaPlayer

from dcs_sdk import DcsError, Event
from dcs_sdk.rtc import CallPeer
from signaling_server import Config
from tests import netns
from tests.conftest import Connect
from tests.integration.test_rtc_python_peer import live_pair, wait_for_packets, write_tone
from tests.turn import TURN_SECRET, TURN_URL


def turn_config(config: Config, *, secret: str = TURN_SECRET, ttl_s: int = 600) -> Config:
    return replace(
        config,
        stun_urls=(),
        turn_urls=(TURN_URL,),
        turn_secret=secret,
        turn_ttl_s=ttl_s,
        ice_transport_policy="relay",
    )


@pytest.fixture
def server_config(server_config: Config, request: pytest.FixtureRequest) -> Config:
    # tests/netns.py re-runs single nodes, so the variant comes from the test's name
    if "wrong_secret" in request.node.name:
        return turn_config(server_config, secret="not-the-turn-secret")
    if "expired" in request.node.name:
        return turn_config(server_config, ttl_s=-3600)
    return turn_config(server_config)


def relay_only(sdp: str) -> bool:
    candidates = [line for line in sdp.splitlines() if line.startswith("a=candidate:")]
    return bool(candidates) and all(" typ relay" in c for c in candidates)


@netns.isolated
async def test_relay_only_call_through_coturn(connect: Connect, coturn: Path, tmp_path: Path) -> None:
    customer_client, agent_client, sid = await live_pair(connect)
    config = await customer_client.request(Event.RTC_CONFIG, {"session_id": sid})
    assert config["ice_transport_policy"] == "relay"
    tone = write_tone(tmp_path / "tone.wav", 440)
    agent = CallPeer(agent_client, sid, player=MediaPlayer(str(tone), loop=True))
    customer = CallPeer(customer_client, sid, player=MediaPlayer(str(tone), loop=True))
    try:
        await agent.invite()
        await customer.accept(await customer.wait_for_invite(timeout=5))
        await asyncio.gather(agent.wait_connected(20), customer.wait_connected(20))
        for peer in (agent, customer):
            assert peer.pc is not None and peer.pc.localDescription is not None
            assert relay_only(peer.pc.localDescription.sdp), peer.pc.localDescription.sdp
        await wait_for_packets(customer, 25)
        await wait_for_packets(agent, 25)
    finally:
        await agent.close()
        await customer.close()
    log = await asyncio.to_thread(coturn.read_text)
    assert "ALLOCATE" in log and "success" in log.lower(), log[-2000:]


async def fails_cleanly(connect: Connect, coturn: Path) -> None:
    customer_client, agent_client, sid = await live_pair(connect)
    agent = CallPeer(agent_client, sid)
    customer = CallPeer(customer_client, sid)
    try:
        await agent.invite()
        await customer.accept(await customer.wait_for_invite(timeout=5))
        with pytest.raises((TimeoutError, DcsError)):
            await asyncio.gather(agent.wait_connected(8), customer.wait_connected(8))
        assert agent.connection_state != "connected" and customer.connection_state != "connected"
        # the session and the signaling survive: the call can be hung up and chat goes on
        await agent.hangup()
        ended = await customer_client.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ended", timeout=5)
        assert ended["reason"] == "hung up by agent"
        await agent_client.send(sid, "Let's continue in chat.")
    finally:
        await agent.close()
        await customer.close()
    log = await asyncio.to_thread(coturn.read_text)
    assert "401" in log or "unauthorized" in log.lower() or "wrong" in log.lower(), log[-2000:]


@netns.isolated
async def test_wrong_secret_fails_cleanly(connect: Connect, coturn: Path) -> None:
    await fails_cleanly(connect, coturn)


@netns.isolated
async def test_expired_credential_fails_cleanly(connect: Connect, coturn: Path) -> None:
    await fails_cleanly(connect, coturn)
