"""Read receipts both ways through a real server, on SQLite and PostgreSQL: pushed to the
other side, only forward, kept across a reload, coalesced, and refused to outsiders."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from dcs_sdk import DcsClient, Event, ProtocolError
from signaling_server import Config
from tests.conftest import serve


@pytest.fixture
async def url(server_config: Config, database_url: str) -> AsyncIterator[str]:
    async with serve(replace(server_config, database_url=database_url)) as served:
        yield served


async def _live(url: str, mint: Callable[..., str]) -> tuple[DcsClient, DcsClient, str]:
    customer = DcsClient(url, mint("customer", "v1", name="Vera"))
    agent = DcsClient(url, mint("agent", "alice", name="Alice"))
    await customer.connect()
    started = await customer.start_session()
    await customer.escalate(started.session_id)
    await agent.connect()
    await agent.wait_queue(bool)
    await agent.accept(started.session_id)
    return customer, agent, started.session_id


def _read(seq: int, role: str) -> Callable[[dict[str, object]], bool]:
    return lambda r: r["seq"] == seq and r["reader"]["role"] == role  # type: ignore[index]


async def test_receipts_go_both_ways_and_survive_a_reload(url: str, mint: Callable[..., str]) -> None:
    customer, agent, sid = await _live(url, mint)
    try:
        seq = await agent.send(sid, "Your parcel left today.")
        # the customer has read it: the agent is told
        ack = await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": seq})
        assert ack == {"ok": True, "seq": seq}
        seen = await agent.wait_for(Event.CHAT_READ, _read(seq, "customer"))
        assert seen["reader"] == {"role": "customer", "id": "v1", "name": "Vera"}
        # the agent has read the customer's reply: the customer is told ("Seen")
        reply = await customer.send(sid, "Thanks!")
        await agent.request(Event.CHAT_READ, {"session_id": sid, "seq": reply})
        await customer.wait_for(Event.CHAT_READ, _read(reply, "agent"))

        # a reload: the customer's resume and the agent's handoff carry both marks
        resumed = await customer.request(Event.SESSION_START, {"session_id": sid, "after_seq": reply})
        marks = {m["reader"]["role"]: m["seq"] for m in resumed["reads"]}
        assert marks == {"customer": seq, "agent": reply}
        again = DcsClient(url, mint("agent", "alice", name="Alice"))
        await again.connect()
        try:
            handoff = await again.wait_for(Event.SESSION_HANDOFF, lambda h: h["session"]["session_id"] == sid)
            assert {m["reader"]["role"]: m["seq"] for m in handoff["reads"]} == marks
        finally:
            await again.close()
    finally:
        await customer.close()
        await agent.close()


async def test_marks_only_move_forward_and_are_coalesced(url: str, mint: Callable[..., str]) -> None:
    customer, agent, sid = await _live(url, mint)
    try:
        first = await agent.send(sid, "one")
        second = await agent.send(sid, "two")
        third = await agent.send(sid, "three")
        await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": first})
        await agent.wait_for(Event.CHAT_READ, _read(first, "customer"))
        # within a second of the last write: held, and only the newest is written after it
        started = time.monotonic()
        held = await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": second})
        assert held["held"] is True
        await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": third})
        got = await agent.wait_for(Event.CHAT_READ, lambda r: r["seq"] > first, timeout=5)
        assert got["seq"] == third and time.monotonic() - started >= 0.5
        assert not [r for r in agent.drain(Event.CHAT_READ) if r["seq"] == second]
        # backwards is no news: stored mark unchanged, nothing pushed
        await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": first})
        resumed = await customer.request(Event.SESSION_START, {"session_id": sid, "after_seq": third})
        assert [m["seq"] for m in resumed["reads"] if m["reader"]["role"] == "customer"] == [third]
        # a seq the session does not have yet
        with pytest.raises(ProtocolError) as refused:
            await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": third + 50})
        assert refused.value.code == "bad_payload" and "no message" in refused.value.message
    finally:
        await customer.close()
        await agent.close()


async def test_outsiders_cannot_send_receipts(url: str, mint: Callable[..., str]) -> None:
    customer, agent, sid = await _live(url, mint)
    outsider = DcsClient(url, mint("customer", "mallory"))
    other_agent = DcsClient(url, mint("agent", "bob"))
    boss = DcsClient(url, mint("supervisor", "sue"))
    try:
        for client in (outsider, other_agent, boss):
            await client.connect()
        for client, code in ((outsider, "forbidden"), (other_agent, "forbidden"), (boss, "forbidden")):
            with pytest.raises(ProtocolError) as refused:
                await client.request(Event.CHAT_READ, {"session_id": sid, "seq": 1})
            assert refused.value.code == code
        with pytest.raises(ProtocolError) as refused:
            await customer.request(Event.CHAT_READ, {"session_id": sid, "seq": -1})
        assert refused.value.code == "bad_payload"
    finally:
        for client in (outsider, other_agent, boss, customer, agent):
            await client.close()
