"""Co-browse over the protocol: consent, control, stop, the relays, and who may do what."""

from __future__ import annotations

import pytest

from dcs_sdk import DcsClient, ErrorCode, Event
from tests.conftest import Connect
from tests.integration.test_call_signaling import CANDIDATE, OFFER, expect, live_pair


async def shared(connect: Connect, n: int = 1) -> tuple[DcsClient, DcsClient, str, str]:
    """A live session whose customer shares their page after the agent asked."""
    customer, agent, sid = await live_pair(connect, n)
    asked = await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid})
    cid = asked["cobrowse"]["cobrowse_id"]
    await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "requested")
    await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True})
    await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "active")
    return customer, agent, sid, cid


def data(sid: str, cid: str, frame: str) -> dict[str, str]:
    return {"session_id": sid, "cobrowse_id": cid, "frame": frame}


async def test_request_consent_relay_control_and_stop(connect: Connect) -> None:
    customer, agent, sid = await live_pair(connect)
    asked = await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid})
    cid = asked["cobrowse"]["cobrowse_id"]
    requested = await customer.wait_for(Event.COBROWSE_STATE)
    assert requested["state"] == "requested" and requested["requested_by"] == "agent"
    assert requested["agent"]["name"] == "Alice"
    # nothing flows before the customer consents
    await expect(ErrorCode.WRONG_STATE, customer.request(Event.COBROWSE_DATA, data(sid, cid, '{"t":"ev"}')))
    await expect(ErrorCode.WRONG_STATE, agent.request(Event.COBROWSE_REQUEST, {"session_id": sid}))

    await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True})
    active = await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "active")
    assert active["control"] == "off" and active["started_at"]

    # frames and signals reach the other side only
    frame = '{"t":"ev","g":"a","s":1,"e":[]}'
    await customer.request(Event.COBROWSE_DATA, data(sid, cid, frame))
    got = await agent.wait_for(Event.COBROWSE_DATA)
    assert got["frame"] == frame and got["from"]["role"] == "customer"
    await customer.request(
        Event.COBROWSE_SIGNAL, {"session_id": sid, "cobrowse_id": cid, "pc_id": "b1", "description": OFFER}
    )
    signal = await agent.wait_for(Event.COBROWSE_SIGNAL)
    assert signal["description"] == OFFER and signal["pc_id"] == "b1"
    await agent.request(
        Event.COBROWSE_SIGNAL, {"session_id": sid, "cobrowse_id": cid, "candidate": CANDIDATE}
    )
    assert (await customer.wait_for(Event.COBROWSE_SIGNAL))["candidate"]["candidate"] == CANDIDATE[
        "candidate"
    ]
    assert customer.drain(Event.COBROWSE_DATA) == [] and agent.drain(Event.COBROWSE_SIGNAL) == []

    # control: granting needs a request; the customer can take it back
    control = {"session_id": sid, "scope": "control", "accept": True}
    await expect(ErrorCode.WRONG_STATE, customer.request(Event.COBROWSE_CONSENT, control))
    await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid, "control": True})
    await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["control"] == "requested")
    await customer.request(Event.COBROWSE_CONSENT, control)
    await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["control"] == "granted")
    await customer.request(Event.COBROWSE_CONSENT, {**control, "accept": False})
    await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["control"] == "off")

    # a reloaded page finds co-browse under way, and so does a reconnecting console
    again = await connect("customer", "v1", name="Sam")
    resumed = await again.request(Event.SESSION_START, {"session_id": sid})
    assert resumed["cobrowse"]["cobrowse_id"] == cid and resumed["cobrowse"]["state"] == "active"
    console = await connect("agent", "agent1", name="Alice")
    handoff = await console.wait_for(Event.SESSION_HANDOFF)
    assert handoff["cobrowse"]["cobrowse_id"] == cid

    await customer.request(Event.COBROWSE_STOP, {"session_id": sid, "cobrowse_id": cid})
    ended = await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "ended")
    assert ended["reason"] == "stopped by customer"
    await expect(ErrorCode.NOT_FOUND, customer.request(Event.COBROWSE_DATA, data(sid, cid, frame)))
    assert (await again.request(Event.SESSION_START, {"session_id": sid}))["cobrowse"] is None


async def test_customer_shares_unasked_and_declines_a_request(connect: Connect) -> None:
    customer, agent, sid = await live_pair(connect)
    await expect(
        ErrorCode.NOT_FOUND,
        customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": False}),
    )
    ack = await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True})
    assert ack["cobrowse"]["requested_by"] == "customer" and ack["cobrowse"]["state"] == "active"
    await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "active")
    await agent.request(
        Event.COBROWSE_STOP, {"session_id": sid, "cobrowse_id": ack["cobrowse"]["cobrowse_id"]}
    )
    ended = await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "ended")
    assert ended["reason"] == "stopped by agent"

    await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid})
    await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": False})
    declined = await agent.wait_for(Event.COBROWSE_STATE, lambda c: c["reason"] == "declined")
    assert declined["state"] == "ended"


async def test_outsiders_cannot_see_or_feed_a_cobrowse(connect: Connect) -> None:
    customer, agent, sid, cid = await shared(connect, 1)
    other_customer, other_agent, other_sid = await live_pair(connect, 2)
    for outsider in (other_customer, other_agent):
        await expect(ErrorCode.FORBIDDEN, outsider.request(Event.COBROWSE_DATA, data(sid, cid, "{}")))
        await expect(
            ErrorCode.FORBIDDEN,
            outsider.request(
                Event.COBROWSE_SIGNAL, {"session_id": sid, "cobrowse_id": cid, "description": OFFER}
            ),
        )
        await expect(
            ErrorCode.FORBIDDEN,
            outsider.request(Event.COBROWSE_STOP, {"session_id": sid, "cobrowse_id": cid}),
        )
    # roles: only agents ask, only customers consent
    await expect(ErrorCode.FORBIDDEN, customer.request(Event.COBROWSE_REQUEST, {"session_id": sid}))
    await expect(
        ErrorCode.FORBIDDEN,
        agent.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "control", "accept": True}),
    )
    # another session's co-browse id, and malformed or oversized frames
    await expect(ErrorCode.NOT_FOUND, other_agent.request(Event.COBROWSE_DATA, data(other_sid, cid, "{}")))
    await expect(ErrorCode.BAD_PAYLOAD, customer.request(Event.COBROWSE_DATA, data(sid, cid, "")))
    await expect(ErrorCode.BAD_PAYLOAD, customer.request(Event.COBROWSE_DATA, data(sid, "cob_bad id", "{}")))
    await expect(ErrorCode.BAD_PAYLOAD, customer.request(Event.COBROWSE_DATA, data(sid, cid, "x" * 12_001)))
    await expect(
        ErrorCode.BAD_PAYLOAD,
        customer.request(Event.COBROWSE_SIGNAL, {"session_id": sid, "cobrowse_id": cid}),
    )
    assert agent.drain(Event.COBROWSE_DATA) == [] and customer.drain(Event.COBROWSE_SIGNAL) == []
    # the co-browse carries on for its participants
    await customer.request(Event.COBROWSE_DATA, data(sid, cid, "still here"))
    assert (await agent.wait_for(Event.COBROWSE_DATA))["frame"] == "still here"


async def test_relay_bursts_do_not_starve_chat(connect: Connect) -> None:
    customer, agent, sid, cid = await shared(connect)
    frame = "f" * 11_000
    for _ in range(100):  # a big snapshot through the relay: 1.1 MB in a burst
        await customer.request(Event.COBROWSE_DATA, data(sid, cid, frame))
    assert await customer.send(sid, "chat still works") > 0
    got = 0
    while got < 100:
        await agent.wait_for(Event.COBROWSE_DATA)
        got += 1


@pytest.mark.parametrize("leave", ["end", "transfer"])
async def test_cobrowse_ends_with_the_live_session(connect: Connect, leave: str) -> None:
    customer, agent, sid, cid = await shared(connect)
    if leave == "end":
        await agent.end(sid)
    else:
        await agent.transfer(sid, "billing")
    ended = await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "ended")
    why = "session ended" if leave == "end" else "transferred"
    assert ended["cobrowse_id"] == cid and ended["reason"] == why
    if leave == "transfer":  # and the chat says so, politely
        told = await customer.wait_for(
            Event.CHAT_MESSAGE, lambda m: "passing you to the billing team" in m["text"]
        )
        assert ", so screen sharing ended." in told["text"]
    await expect(ErrorCode.WRONG_STATE, customer.request(Event.COBROWSE_DATA, data(sid, cid, "{}")))
