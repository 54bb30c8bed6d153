"""Signed webhooks against a real receiver: it fails its first deliveries, goes down for a
while, and the server is killed meanwhile; every event still arrives once, in order per
session, signed, with each attempt in the delivery log. Both databases."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import insert

from dcs_sdk import DcsClient, Event, SigningKey
from dcs_sdk.protocol import SessionState
from signaling_server import Config
from signaling_server.store import Store, schema
from signaling_server.store.records import SessionRecord
from signaling_server.webhooks import delivery
from signaling_server.webhooks.delivery import RetryPolicy
from signaling_server.webhooks.endpoints import parse_endpoints
from signaling_server.webhooks.service import Webhooks
from tests.conftest import serve
from tests.server_process import ServerProcess, free_port
from tests.webhook_receiver import Receiver, endpoint_config

FAST_RETRIES = {"webhook_retry_base_s": 0.05, "webhook_retry_max_s": 0.25}
ADMIN_TOKEN = "admin-token-for-tests"


async def admin(url: str, method: str = "GET", path: str = "", body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, url + path, json=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def test_every_event_once_in_order_through_failures_and_downtime(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> None:
    receiver = Receiver(fail_first=3)
    await receiver.start()
    port = free_port()
    config = replace(
        server_config,
        database_url=database_url,
        webhooks=endpoint_config(receiver),
        metrics_port=port,
        metrics_token=ADMIN_TOKEN,
        **FAST_RETRIES,
    )
    admin_url = f"http://127.0.0.1:{port}"
    clients: list[DcsClient] = []

    async def connect(role: str, sub: str, **grants: Any) -> DcsClient:
        client = DcsClient(url, mint(role, sub, name=sub.title(), **grants))
        await client.connect()
        clients.append(client)
        return client

    async with serve(config) as url:
        try:
            alice, bob = await connect("agent", "alice"), await connect("agent", "bob")
            # contained
            c1 = await connect("customer", "c1")
            s1 = (await c1.start_session()).session_id
            await c1.close_session(s1)
            # escalated, accepted, transferred, accepted again, ended with notes, rated
            c2 = await connect("customer", "c2")
            s2 = (await c2.start_session()).session_id
            await c2.send(s2, "I need a person")
            await c2.escalate(s2)
            await alice.accept(s2)
            await alice.send(s2, "Let me pass you to billing.")
            await alice.transfer(s2, "billing", "refund question")
            await bob.accept(s2)
            await bob.end(s2)
            await bob.wrap_up(s2, "Refund issued.")
            await c2.rate(s2, 4, "quick")
            # warm-transferred from alice to bob, who ends it
            c5 = await connect("customer", "c5")
            s5 = (await c5.start_session()).session_id
            await c5.escalate(s5)
            await alice.accept(s5)
            offered = await alice.transfer(s5, agent_id="bob", note="knows this one")
            answer = {"transfer_id": offered["transfer"]["transfer_id"], "accept": True}
            await bob.request(Event.TRANSFER_ANSWER, answer)
            await bob.end(s5)
            await bob.wrap_up(s5)
            # a message left while nobody could answer... then the receiver goes down
            c3 = await connect("customer", "c3")
            s3 = (await c3.start_session()).session_id
            await c3.leave_message(s3, "Call me back please")
            await receiver.wait_for(3)
            await receiver.stop()
            # meanwhile: an abandoned session
            c4 = await connect("customer", "c4")
            s4 = (await c4.start_session()).session_id
            await c4.escalate(s4)
            await c4.close_session(s4)
            await asyncio.sleep(1.0)  # several retries meet a closed port
            await receiver.start()
            expected = {
                s1: ["session.ended"],
                s2: [
                    "session.escalated",
                    "session.accepted",
                    "session.transferred",
                    "session.accepted",
                    "session.ended",
                    "csat.submitted",
                ],
                s3: ["session.escalated", "message.left"],
                s4: ["session.escalated", "session.ended"],
                s5: ["session.escalated", "session.accepted", "session.transferred", "session.ended"],
            }
            await receiver.wait_for(sum(len(v) for v in expected.values()))
            await asyncio.sleep(0.3)  # nothing more comes
            assert receiver.by_session() == expected
            ids = receiver.ids()
            assert len(ids) == len(set(ids)), "an event was delivered twice"
            assert receiver.bad_signatures == 0 and len(receiver.refused) == 3
            for d in receiver.accepted:  # one id per event, the same on every attempt
                assert d.headers["webhook-id"] == d.event["id"]
            # ... the first refused deliveries came back with the same ids
            assert {d.event["id"] for d in receiver.refused} <= set(ids)

            ended = next(
                d.event
                for d in receiver.accepted
                if d.event["type"] == "session.ended" and d.event["session_id"] == s2
            )
            data = ended["data"]
            assert data["outcome"] == "handled" and data["wrap_up_notes"] == "Refund issued."
            assert data["session"]["agent"] == {"id": "bob", "name": "Bob"}
            texts = [m["text"] for m in data["transcript"]]
            assert "I need a person" in texts and "Let me pass you to billing." in texts
            assert data["handoff"]["customer"]["id"] == "c2"
            transferred = [
                d.event["data"] for d in receiver.accepted if d.event["type"] == "session.transferred"
            ]
            to_queue = next(t for t in transferred if t["session"]["id"] == s2)
            assert to_queue["from_agent"]["id"] == "alice" and to_queue["queue"] == "billing"
            assert to_queue["to_agent"] is None
            warm = next(t for t in transferred if t["session"]["id"] == s5)
            assert (warm["from_agent"]["id"], warm["to_agent"]["id"]) == ("alice", "bob")
            csat = next(d.event for d in receiver.accepted if d.event["type"] == "csat.submitted")
            assert csat["data"]["score"] == 4 and csat["data"]["comment"] == "quick"
            left = next(d.event for d in receiver.accepted if d.event["type"] == "message.left")
            assert left["data"]["text"] == "Call me back please"
            contained = next(d.event for d in receiver.accepted if d.event["session_id"] == s1)
            assert contained["data"]["outcome"] == "contained"
            # a customer who closes a virtual or queued session: the transcript ends with
            # the line everyone was shown, as the store holds it (seq and all)
            abandoned = next(
                d.event
                for d in receiver.accepted
                if d.event["type"] == "session.ended" and d.event["session_id"] == s4
            )
            assert abandoned["data"]["outcome"] == "abandoned"
            for event, customer, name in ((contained, c1, "C1"), (abandoned, c4, "C4")):
                last = event["data"]["transcript"][-1]
                assert last["text"] == f"{name} ended the chat." and last["sender"]["role"] == "system"
                stored = await customer.request(
                    Event.HISTORY_FETCH, {"session_id": event["session_id"], "after_seq": 0}
                )
                assert stored["messages"][-1] == last

            # the delivery log: the refused attempts (500) and the closed port, then the 2xx
            first = receiver.refused[0].event["id"]
            status, event = await admin(admin_url, path=f"/admin/webhooks/events/{first}")
            assert status == 200 and event["endpoints"][0]["state"] == "delivered"
            assert [a["status"] for a in event["deliveries"]][-1] == 200
            assert 500 in [a["status"] for a in event["deliveries"]]
            down = next(d.event["id"] for d in receiver.accepted if d.event["session_id"] == s4)
            status, event = await admin(admin_url, path=f"/admin/webhooks/events/{down}")
            attempts = event["deliveries"]
            assert len(attempts) >= 3 and attempts[-1]["status"] == 200
            assert all(a["status"] is None and "Connect" in a["error"] for a in attempts[:-1])
            assert event["endpoints"][0]["attempts"] == len(attempts)
            status, listing = await admin(admin_url, path=f"/admin/webhooks/events?session_id={s2}")
            assert [e["type"] for e in listing["events"]] == expected[s2]
            assert all(e["state"] == "delivered" for e in listing["events"])

            # a supervisor re-sends one: it comes again with the same id, and the log says so
            status, body = await admin(admin_url, "POST", f"/admin/webhooks/events/{first}/resend")
            assert (status, body) == (200, {"ok": True, "resent": 1})
            await receiver.wait_for(len(ids) + 1)
            assert receiver.accepted[-1].event["id"] == first
            for _ in range(50):  # the attempt is logged just after the receiver answered
                status, event = await admin(admin_url, path=f"/admin/webhooks/events/{first}")
                if event["deliveries"][-1]["kind"] == "attempt":
                    break
                await asyncio.sleep(0.02)
            assert [a["kind"] for a in event["deliveries"]][-2:] == ["resend", "attempt"]
            assert event["endpoints"][0]["state"] == "delivered"

            # bad admin requests get a code and a sentence
            assert (await admin(admin_url, path="/admin/webhooks/events/evt_nope"))[0] == 404
            status, body = await admin(admin_url, path="/admin/webhooks/events?limit=0")
            assert status == 400 and body["error"]["code"] == "bad_request"
            status, body = await admin(admin_url, path="/admin/webhooks/events?state=lost")
            assert status == 400 and "state must be one of" in body["error"]["message"]
            async with aiohttp.ClientSession() as http, http.get(f"{admin_url}/admin/webhooks/events") as r:
                assert r.status == 401
        finally:
            for client in clients:
                await client.close()
            await receiver.stop()


async def test_outbox_survives_a_crash_while_the_receiver_is_down(
    tmp_path: Path, signing_key: SigningKey, database_url: str, mint: Callable[..., str]
) -> None:
    receiver = Receiver()  # not started: down
    env = {
        "DCS_WEBHOOKS": json.dumps(endpoint_config(receiver, ["session.escalated", "session.ended"])),
        "DCS_WEBHOOK_RETRY_BASE_S": "0.05",
        "DCS_WEBHOOK_RETRY_MAX_S": "0.25",
        # claims of the killed process lapse after 2 x this + 1 s
        "DCS_WEBHOOK_TIMEOUT_S": "1",
    }
    server = ServerProcess(tmp_path, signing_key, database_url=database_url, env=env)
    await server.start(timeout=40)
    try:
        sessions = []
        for n in range(3):
            async with DcsClient(server.url, mint("customer", f"k{n}")) as c:
                sid = (await c.start_session()).session_id
                await c.escalate(sid)
                await c.close_session(sid)
                sessions.append(sid)
        await asyncio.sleep(0.5)  # a few attempts fail
        await server.kill()  # kill -9: no shutdown code runs
        await receiver.start()
        await server.start(timeout=40)  # a loaded machine restarts slowly
        await receiver.wait_for(6)
        await asyncio.sleep(0.3)
        assert receiver.by_session() == {sid: ["session.escalated", "session.ended"] for sid in sessions}
        assert len(set(receiver.ids())) == 6
    finally:
        await server.stop()
        await receiver.stop()


async def test_endpoints_get_only_the_events_they_subscribe_to(
    server_config: Config, mint: Callable[..., str]
) -> None:
    receiver = Receiver()
    await receiver.start()
    config = replace(server_config, webhooks=endpoint_config(receiver, ["csat.submitted"]), **FAST_RETRIES)
    async with (
        serve(config) as url,
        DcsClient(url, mint("customer", "v1")) as customer,
        DcsClient(url, mint("agent", "a1")) as agent,
    ):
        sid = (await customer.start_session()).session_id
        await customer.escalate(sid)
        await agent.accept(sid)
        await agent.end(sid)
        await customer.rate(sid, 2)
        await receiver.wait_for(1)
        await asyncio.sleep(0.2)
    await receiver.stop()
    assert [d.event["type"] for d in receiver.accepted] == ["csat.submitted"]


async def test_the_claim_loop_runs_only_for_rows_left_to_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows handed over after their commit need no claim, and a change that makes no row
    wakes nothing; a row left in the outbox behind a session's chain (as another process
    writes it) goes out as soon as that chain ends, not after the claim loop's poll."""
    monkeypatch.setattr(delivery, "POLL_S", 60.0)  # a missed wake-up would show
    gate = asyncio.Event()
    receiver = Receiver()
    handle = receiver._handle

    async def held(request: web.Request) -> web.Response:
        await gate.wait()
        return await handle(request)

    receiver._handle = held  # type: ignore[method-assign]
    await receiver.start()
    store = await Store.open(database_url)
    hooks = Webhooks(store, parse_endpoints(endpoint_config(receiver)), RetryPolicy(), None)
    claims = 0
    claim_due = hooks.outbox.claim_due

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal claims
        claims += 1
        return await claim_due(*args, **kwargs)

    hooks.outbox.claim_due = counted  # type: ignore[method-assign]
    hooks.start()
    try:
        await asyncio.sleep(0.3)  # the loop's first look, at start
        at_start = claims
        now = time.time()
        await store.create_session(
            SessionRecord(id="s1", customer_id="c1", state=SessionState.VIRTUAL, created_at=now), actor="c1"
        )
        await store.update_session("s1", page_title="Shop")  # no event either
        await store.transition(
            "s1",
            allowed_from=[SessionState.VIRTUAL],
            to=SessionState.QUEUED,
            at=time.time(),
            actor="c1",
            detail="customer_request",
            queued_at=time.time(),
        )
        await asyncio.sleep(0.3)  # session.escalated is posted, held by the receiver
        assert claims == at_start
        # another process's row of the session, behind the one in flight
        body = {"id": "evt_other", "type": "session.ended", "created_at": 0, "session_id": "s1", "data": {}}
        async with store.engine.begin() as conn:
            await conn.execute(
                insert(schema.webhook_outbox).values(
                    event_id="evt_other",
                    endpoint="crm",
                    type="session.ended",
                    session_id="s1",
                    customer_id="c1",
                    body=json.dumps(body),
                    created_at=time.time(),
                    state="pending",
                    attempts=0,
                    next_attempt_at=time.time(),
                )
            )
        gate.set()
        await receiver.wait_for(2, timeout=5)
        assert [d.event["type"] for d in receiver.accepted] == ["session.escalated", "session.ended"]
        assert claims == at_start + 1
        for _ in range(100):  # both settled before the worker stops
            if not await hooks.list_events(state="pending"):
                break
            await asyncio.sleep(0.05)
    finally:
        await hooks.close()
        await store.close()
        await receiver.stop()
