"""The REST API through a real server on SQLite and PostgreSQL: scripted journeys and the
exact report figures they give, notes, export, erasure (nothing of the customer left in
any table, checked over the schema's metadata), retention, scopes, errors, rate limits."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select, update

from dcs_sdk import AccessToken, ApiClient, ApiError, Event, SigningKey
from dcs_sdk.client import DcsClient
from dcs_sdk.tokens import SCOPES
from signaling_server import Config
from signaling_server.reports.sql import BIN_EDGES
from signaling_server.store import Store, schema
from signaling_server.store.privacy import customer_digest
from tests.conftest import AUDIENCE, ISSUER, serve
from tests.integration.journeys import run_journeys


@dataclasses.dataclass
class Server:
    url: str
    database_url: str
    key: SigningKey
    mint: Callable[..., str]
    clients: list[DcsClient]

    def service(self, *scopes: str, sub: str = "crm") -> ApiClient:
        token = (
            AccessToken(self.key, issuer=ISSUER, audience=AUDIENCE)
            .with_identity(sub)
            .as_service(scopes=scopes or SCOPES)
            .to_jwt()
        )
        return ApiClient(self.url, token, max_retries=0)

    async def connect(self, role: str, sub: str, **kwargs: Any) -> DcsClient:
        client = DcsClient(self.url, self.mint(role, sub, **kwargs))
        await client.connect()
        self.clients.append(client)
        return client

    async def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table in the schema."""
        store = await Store.open(self.database_url)
        try:
            async with store.engine.connect() as conn:
                return {
                    t.name: [dict(r) for r in (await conn.execute(select(t))).mappings().all()]
                    for t in schema.metadata.sorted_tables
                }
        finally:
            await store.close()


@contextlib.asynccontextmanager
async def running(config: Config, key: SigningKey, mint: Callable[..., str]) -> AsyncIterator[Server]:
    async with serve(config) as url:
        server = Server(url, config.resolved_database_url, key, mint, [])
        try:
            yield server
        finally:
            for client in server.clients:
                await client.close()


@pytest.fixture
async def server(
    server_config: Config, database_url: str, signing_key: SigningKey, mint: Callable[..., str]
) -> AsyncIterator[Server]:
    config = dataclasses.replace(server_config, database_url=database_url)
    async with running(config, signing_key, mint) as s:
        yield s


def bin_of(seconds: float) -> int:
    return next(edge for edge in BIN_EDGES if seconds <= edge)


def nearest_rank(values: Iterable[float], p: float) -> float:
    ordered = sorted(values)
    index = next(i for i in range(len(ordered)) if (i + 1) / len(ordered) >= p)
    return ordered[index]


async def test_journeys_give_the_exact_report_figures(server: Server) -> None:
    journeys = await run_journeys(server.connect)
    async with server.service("reports:read", "sessions:read") as api:
        report = await api.report(bucket="hour")
        sessions = {s["customer_id"]: s async for s in api.iter_sessions(limit=2)}
    assert set(sessions) == set(journeys.sessions)
    totals = report["totals"]
    assert {
        k: totals[k] for k in ("sessions", "contained", "escalated", "answered", "abandoned", "resolved")
    } == {
        "sessions": 5,
        "contained": 1,
        "escalated": 4,
        "answered": 3,
        "abandoned": 1,
        "resolved": 3,
    }
    assert totals["transfers"] == 1 and totals["left_message"] == 0
    assert (totals["containment_rate"], totals["escalation_rate"], totals["abandonment_rate"]) == (
        0.2,
        0.8,
        0.25,
    )
    # every answer came well within the 60 s service level: 3 answered of 3 + 1 abandoned
    assert totals["service_level"] == 0.75
    assert [(f["step"], f["count"], f["drop"]) for f in report["funnel"]] == [
        ("assistant", 5, 0),
        ("queue", 4, 1),
        ("agent", 3, 1),
        ("resolved", 3, 0),
    ]
    assert sum(r["count"] for r in report["escalation_reasons"]) == 4
    assert report["csat"]["count"] == 3 and report["csat"]["average"] == round(10 / 3, 3)
    assert report["csat"]["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 0, "5": 1}
    assert sorted(c["comment"] for c in report["csat"]["comments"]) == ["Great help", "Took a while"]
    assert sum(p["sessions"] for p in report["volumes"]) == 5
    assert sum(p["abandoned"] for p in report["volumes"]) == 1
    assert sum(b["count"] for b in report["abandonment"]) == 1 and report["abandonment"][0]["count"] == 1
    assert {(q["queue"], q["sessions"], q["answered"], q["abandoned"]) for q in report["by_queue"]} == {
        ("general", 3, 2, 1),
        ("billing", 1, 1, 0),
    }
    assert {(a["agent_id"], a["agent_name"], a["handled"]) for a in report["by_agent"]} == {
        ("alice", "Alice", 2),
        ("bob", "Bob", 1),
    }
    # the durations are the record's own: each session's timestamps, as the API lists them
    answered = [s for s in sessions.values() if s["accepted_at"] is not None]
    waits = [(s["accepted_at"] - s["queued_at"]) / 1000 for s in answered]
    handles = [(s["ended_at"] - s["accepted_at"]) / 1000 for s in answered]
    assert report["wait"]["count"] == 3 and report["handle"]["count"] == 3
    # percentiles are the upper edges of their bins, averages exact
    assert report["wait"]["p50"] == bin_of(nearest_rank(waits, 0.5))
    assert report["wait"]["p90"] == bin_of(nearest_rank(waits, 0.9))
    assert report["handle"]["p50"] == bin_of(nearest_rank(handles, 0.5))
    assert report["wait"]["avg"] == pytest.approx(sum(waits) / 3, abs=0.002)
    # first response: the answering agent's first reply after accepting; the transferred
    # session's first reply came from Alice before Bob accepted, so it is not measured
    replies = [
        (s["first_agent_reply_at"] - s["accepted_at"]) / 1000
        for s in answered
        if s["customer_id"] != "c_xfer"
    ]
    assert report["first_response"]["count"] == 2
    assert report["first_response"]["avg"] == pytest.approx(sum(replies) / 2, abs=0.002)

    # one queue, one agent
    async with server.service("reports:read") as api:
        billing = await api.report(queue="billing")
        alice = await api.report(agent_id="alice")
        text = await api.report(csv=True)
    assert billing["totals"]["sessions"] == 1 and billing["totals"]["transfers"] == 1
    assert alice["totals"]["sessions"] == 2 and alice["csat"]["distribution"]["5"] == 1
    assert "totals,,sessions,5\r\n" in text and "funnel,queue,drop,1\r\n" in text
    assert "by_agent,bob,handled,1\r\n" in text


async def test_session_detail_notes_pages_and_audit(server: Server) -> None:
    journeys = await run_journeys(server.connect)
    sid = journeys.sessions["c_xfer"]
    async with server.service("sessions:read", "sessions:write", "audit:read") as api:
        note = await api.add_note(sid, "Refund booked in the ERP as R-77.")
        detail = await api.session(sid)
        page = await api.sessions(state="ended", queue="billing")
        by_customer = await api.sessions(customer_id="c_rated")
        audit = await api.audit(session_id=sid)
    assert detail["session"]["queue"] == "billing" and detail["session"]["agent_id"] == "bob"
    texts = [m["text"] for m in detail["transcript"]]
    assert "refund for order 1234 please" in texts and "Billing will help you." in texts
    assert detail["handoff"]["customer"]["attributes"] == {"email": "c_xfer@mail.test", "plan": "gold"}
    assert detail["handoff"]["pages"][0]["url"] == "https://shop.test/orders/123"
    assert [n["text"] for n in detail["notes"]] == ["Refund booked in the ERP as R-77."] == [note["text"]]
    assert [(t["from_state"], t["to_state"]) for t in detail["transitions"]] == [
        (None, "virtual"),
        ("virtual", "queued"),
        ("queued", "live"),
        ("live", "queued"),
        ("queued", "live"),
        ("live", "wrap_up"),
        ("wrap_up", "ended"),
    ]
    assert [s["id"] for s in page["items"]] == [sid]
    assert [s["id"] for s in by_customer["items"]] == [journeys.sessions["c_rated"]]
    mine = [
        (e["action"], e["actor"]["id"], e["actor"]["role"])
        for e in audit["items"]
        if e["actor"]["id"] == "crm"
    ]
    assert mine == [("note.add", "crm", "service"), ("history.view", "crm", "service")]


async def test_pagination_walks_every_session_once(server: Server) -> None:
    journeys = await run_journeys(server.connect)
    async with server.service("sessions:read") as api:
        first = await api.sessions(limit=2)
        seen = [s["id"] async for s in api.iter_sessions(limit=2)]
        since = await api.sessions(since=datetime.now(UTC) + timedelta(minutes=1))
    assert len(first["items"]) == 2 and first["next_cursor"]
    assert sorted(seen) == sorted(journeys.sessions.values()) and len(seen) == len(set(seen))
    assert since["items"] == [] and since["next_cursor"] is None


def holds(rows: dict[str, list[dict[str, Any]]], needles: Iterable[str]) -> list[str]:
    """Where any of ``needles`` appears in any cell of any table (as text, JSON included)."""
    found = []
    for table, table_rows in rows.items():
        for row in table_rows:
            for column, value in row.items():
                cell = value if isinstance(value, str) else json.dumps(value)
                for needle in needles:
                    if needle in cell:
                        found.append(f"{table}.{column} holds {needle!r}")
    return found


async def test_export_then_erase_leaves_nothing_of_the_customer(server: Server) -> None:
    journeys = await run_journeys(server.connect)
    sid = journeys.sessions["c_xfer"]
    async with server.service() as api:
        await api.add_note(sid, "Customer c_xfer called about 1234.")
        await api.session(sid)  # an audit row naming the session
        before = await api.report()
        exported = await api.export_customer("c_xfer")
        erased = await api.erase_customer("c_xfer")
        after = await api.report()
        again = await api.export_customer("c_xfer")
        tombstones = await api.audit(action="customer.erase")
    # the export holds everything: the session, its transcript, pages, notes, transitions
    assert [s["id"] for s in exported["sessions"]] == [sid]
    session = exported["sessions"][0]
    assert (
        session["customer_name"] == "Name of c_xfer"
        and session["customer_attrs"]["email"] == "c_xfer@mail.test"
    )
    related = session["related"]
    assert "refund for order 1234 please" in [m["text"] for m in related["dcs_messages"]]
    assert [p["url"] for p in related["dcs_page_views"]] == ["https://shop.test/orders/123"]
    assert [n["text"] for n in related["dcs_notes"]] == ["Customer c_xfer called about 1234."]
    assert len(related["dcs_transitions"]) == 7 and session["csat_comment"] == "Took a while"

    assert erased["sessions"] == 1 and erased["deleted"]["dcs_messages"] > 0
    assert erased["customer_digest"] == customer_digest("c_xfer")
    # nothing of theirs in any table: their id, name, attributes, what they wrote, notes
    needles = [
        "c_xfer",
        "Name of c_xfer",
        "c_xfer@mail.test",
        *journeys.texts["c_xfer"],
        "Took a while",
        "R-77",
    ]
    needles += ["Customer c_xfer called", "refund of 1234", f"notes about {sid}"]
    rows = await server.rows()
    assert holds(rows, needles) == []
    # the other customers' data is untouched
    assert holds(rows, ["c_rated", "my parcel 4711 is lost"]) != []
    # the tombstone: who erased, when, the digest (not the id)
    assert [(t["actor"]["id"], t["target"], t["id"]) for t in tombstones["items"]] == [
        ("crm", customer_digest("c_xfer"), erased["tombstone_id"])
    ]
    # aggregates stay: the report counts the erased session as before, without its comment
    assert after["totals"] == before["totals"] and after["funnel"] == before["funnel"]
    assert "Took a while" not in [c["comment"] for c in after["csat"]["comments"]]
    assert again["sessions"] == [] and again["other"] == {}


async def test_erasure_ends_assistant_sessions_and_refuses_live_ones(server: Server) -> None:
    waiting = await server.connect("customer", "c_wait", name="Wendy")
    started = await waiting.start_session()
    await waiting.send(started.session_id, "hello there")
    live = await server.connect("customer", "c_live")
    agent = await server.connect("agent", "alice", name="Alice")
    live_started = await live.start_session()
    await live.escalate(live_started.session_id)
    await agent.accept(live_started.session_id)
    async with server.service("customers:erase") as api:
        with pytest.raises(ApiError) as refused:
            await api.erase_customer("c_live")
        erased = await api.erase_customer("c_wait")
    assert (refused.value.status, refused.value.code) == (409, "wrong_state")
    assert erased["ended"] == [started.session_id] and erased["sessions"] == 1
    state = await waiting.wait_for("session.state", lambda s: s["state"] == "ended")
    assert state["session_id"] == started.session_id
    assert holds(await server.rows(), ["c_wait", "Wendy", "hello there"]) == []


async def test_retention_removes_old_personal_data_and_keeps_the_figures(
    server_config: Config, database_url: str, signing_key: SigningKey, mint: Callable[..., str]
) -> None:
    config = dataclasses.replace(server_config, database_url=database_url)
    async with running(config, signing_key, mint) as first:
        journeys = await run_journeys(first.connect)
        async with first.service("reports:read") as api:
            since = datetime.now(UTC) - timedelta(days=60)
            before = await api.report(since=since - timedelta(days=1), until=since + timedelta(days=1))
    # make the rated and the abandoned journeys 40 days old (every timestamp of theirs)
    old = [journeys.sessions["c_rated"], journeys.sessions["c_aband"]]
    shift = 40 * 86400
    store = await Store.open(database_url)
    try:
        async with store.engine.begin() as conn:
            s = schema.sessions.c
            stamps = (
                "created_at",
                "queued_at",
                "accepted_at",
                "first_agent_reply_at",
                "wrap_up_at",
                "ended_at",
            )
            await conn.execute(
                update(schema.sessions).where(s.id.in_(old)).values({c: s[c] - shift for c in stamps})
            )
            for table, column in (
                (schema.messages, "ts"),
                (schema.page_views, "ts"),
                (schema.transitions, "at"),
            ):
                await conn.execute(
                    update(table).where(table.c.session_id.in_(old)).values({column: table.c[column] - shift})
                )
    finally:
        await store.close()
    # the job runs when the server starts, then every retention_interval_s
    config = dataclasses.replace(config, retention_days=30, retention_interval_s=3600)
    async with running(config, signing_key, mint) as second:
        async with second.service("reports:read", "sessions:read") as api:
            old_period = {
                "since": datetime.now(UTC) - timedelta(days=41),
                "until": datetime.now(UTC) - timedelta(days=39),
            }
            deadline = time.monotonic() + 10
            while (await api.sessions(customer_id="c_rated"))["items"] and time.monotonic() < deadline:
                await _pause()
            report = await api.report(**old_period)
            kept = await api.sessions(customer_id="c_xfer")
        rows = await second.rows()
    assert before["totals"]["sessions"] == 0
    needles = ["c_rated", "c_aband", "Name of c_rated", "c_rated@mail.test", "Great help"]
    needles += journeys.texts["c_rated"] + journeys.texts["c_aband"]
    assert holds(rows, needles) == []
    # the aggregates of the old sessions stay
    assert (report["totals"]["sessions"], report["totals"]["answered"], report["totals"]["abandoned"]) == (
        2,
        1,
        1,
    )
    assert report["csat"]["distribution"]["5"] == 1 and report["csat"]["comments"] == []
    # recent sessions keep everything
    assert [s["customer_name"] for s in kept["items"]] == ["Name of c_xfer"]
    assert "refund for order 1234 please" in [m["text"] for m in rows["dcs_messages"]]


async def _pause() -> None:
    import asyncio

    await asyncio.sleep(0.05)


async def test_scopes_roles_and_errors(server: Server) -> None:
    journeys = await run_journeys(server.connect)
    sid = journeys.sessions["c_rated"]
    reader = server.service("reports:read", sub="bi")
    calls: dict[str, Callable[[ApiClient], Any]] = {
        "sessions:read": lambda api: api.sessions(),
        "sessions:write": lambda api: api.add_note(sid, "x"),
        "customers:export": lambda api: api.export_customer("c_rated"),
        "customers:erase": lambda api: api.erase_customer("c_rated"),
        "audit:read": lambda api: api.audit(),
    }
    async with reader:
        assert (await reader.report())["totals"]["sessions"] == 5
        for scope, call in calls.items():
            with pytest.raises(ApiError) as denied:
                await call(reader)
            assert (denied.value.status, denied.value.code) == (403, "forbidden")
            assert scope in denied.value.message
    # a supervisor's own token reads reports, sessions and the audit log; no export/erase
    async with ApiClient(server.url, server.mint("supervisor", "sue", name="Sue")) as sup:
        assert (await sup.report())["totals"]["sessions"] == 5
        assert (await sup.audit())["items"]
        with pytest.raises(ApiError) as denied:
            await sup.export_customer("c_rated")
        assert denied.value.status == 403
    # customers and agents have no API
    for role in ("customer", "agent"):
        async with ApiClient(server.url, server.mint(role, "x1")) as other:
            with pytest.raises(ApiError) as refused:
                await other.report()
            assert (refused.value.status, refused.value.code) == (401, "token_invalid")

    async with aiohttp.ClientSession() as http:

        async def answer(method: str, path: str, **kw: Any) -> tuple[int, dict[str, Any]]:
            async with http.request(method, server.url + path, **kw) as resp:
                body = await resp.json()
                assert set(body) == {"code", "message"} and body["message"].endswith(".")
                return resp.status, body

        token = {"Authorization": "Bearer " + reader._token}  # type: ignore[operator]
        full = {"Authorization": "Bearer " + server.service()._token}  # type: ignore[operator]
        assert (await answer("GET", "/api/v1/reports"))[1]["code"] == "token_missing"
        assert (await answer("GET", "/api/v1/reports", headers={"Authorization": "Basic eDp5"}))[0] == 401
        assert (await answer("GET", "/api/v1/reports", headers={"Authorization": "Bearer nope"}))[1][
            "code"
        ] == "token_invalid"
        cases = [
            ("GET", "/api/v1/reports?bucket=week", token, 400, "bucket"),
            ("GET", "/api/v1/reports?since=yesterday", token, 400, "since"),
            ("GET", "/api/v1/reports?colour=red", token, 400, "colour"),
            ("GET", "/api/v1/reports?bucket=day&bucket=hour", token, 400, "once"),
            (
                "GET",
                "/api/v1/reports?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
                token,
                400,
                "empty",
            ),
            (
                "GET",
                "/api/v1/reports?since=2020-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
                token,
                400,
                "400 days",
            ),
            ("GET", "/api/v1/sessions?cursor=abc", full, 400, "cursor"),
            ("GET", "/api/v1/sessions/no_such_session", full, 404, "no such session"),
            ("GET", "/api/v1/sessions/bad!id", full, 400, "session_id"),
            ("GET", "/api/v1/nowhere", full, 404, "no such API path"),
            ("DELETE", "/api/v1/reports", full, 405, "DELETE"),
        ]
        for method, path, headers, status, words in cases:
            got, body = await answer(method, path, headers=headers)
            assert (got, words.lower() in body["message"].lower()) == (status, True), (path, body)
        bad_bodies = [
            (b"{not json", "application/json", "not valid JSON"),
            (b'{"customer_id": "x"}', "text/plain", "as JSON"),
            (b'{"customer_id": ""}', "application/json", "customer_id"),
            (b'{"customer_id": "x", "extra": 1}', "application/json", "extra"),
        ]
        for data, ctype, words in bad_bodies:
            got, body = await answer(
                "POST", "/api/v1/customers/export", data=data, headers={**full, "Content-Type": ctype}
            )
            assert (got, words.lower() in body["message"].lower()) == (400, True), body
        got, body = await answer("POST", f"/api/v1/sessions/{sid}/notes", json={"text": ""}, headers=full)
        assert got == 400 and "text" in body["message"]
    # a service token cannot open a socket.io connection
    service_client = DcsClient(server.url, server.service()._token)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="REST API only"):
        await service_client.connect()
    await service_client.close()


async def test_rate_limit_per_token_identity(
    server_config: Config, signing_key: SigningKey, mint: Callable[..., str]
) -> None:
    config = dataclasses.replace(server_config, api_rate_burst=3, api_rate_per_s=0.5)
    async with (
        running(config, signing_key, mint) as server,
        server.service("reports:read") as api,
        server.service("reports:read", sub="other") as other,
    ):
        for _ in range(3):
            await api.report()
        with pytest.raises(ApiError) as limited:
            await api.report()
        assert (limited.value.status, limited.value.code) == (429, "rate_limited")
        assert limited.value.retry_after is not None and 1 <= limited.value.retry_after <= 2
        # another identity has its own budget
        assert (await other.report())["totals"]["sessions"] == 0


async def test_a_supervisor_of_some_queues_sees_only_those(server: Server) -> None:
    journeys = await run_journeys(server.connect)
    token = (
        AccessToken(server.key, issuer=ISSUER, audience=AUDIENCE)
        .with_identity("bill", name="Bill")
        .as_supervisor(queues=["billing"])
        .to_jwt()
    )
    async with ApiClient(server.url, token, max_retries=0) as sup:
        report = await sup.report()
        listed = await sup.sessions()
        mine = await sup.session(journeys.sessions["c_xfer"])
        refused = []
        for call in (
            sup.session(journeys.sessions["c_rated"]),
            sup.report(queue="general"),
            sup.audit(),
        ):
            with pytest.raises(ApiError) as denied:
                await call
            refused.append((denied.value.status, denied.value.code))
    assert report["totals"]["sessions"] == 1 and [q["queue"] for q in report["by_queue"]] == ["billing"]
    assert [s["id"] for s in listed["items"]] == [journeys.sessions["c_xfer"]]
    assert mine["session"]["queue"] == "billing"
    assert refused == [(404, "not_found"), (403, "forbidden"), (403, "forbidden")]


async def test_a_note_from_another_system_reaches_the_agent_holding_the_session(server: Server) -> None:
    """A CRM's note (REST API) is in the agent's handoff, and pushed to them when added."""
    customer = await server.connect("customer", "c_note", name="Nora")
    agent = await server.connect("agent", "alice", name="Alice", skills=["general"])
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    handoff = await agent.accept(sid)
    assert handoff["external_notes"] == []
    async with server.service("sessions:write") as api:
        await api.add_note(sid, "VIP since 2019; refund R-77 approved.")
    pushed = await agent.wait_for(Event.SESSION_HANDOFF, lambda h: bool(h["external_notes"]))
    assert [(n["text"], n["author"]["id"]) for n in pushed["external_notes"]] == [
        ("VIP since 2019; refund R-77 approved.", "crm")
    ]
    assert pushed["session"]["session_id"] == sid
