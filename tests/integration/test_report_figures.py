"""The report figures on SQLite and PostgreSQL, for a record with known timestamps: every
figure checked against its value worked out by hand (nearest-rank percentiles, service
level, abandonment buckets, volumes, funnel, per queue and per agent, CSV)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from signaling_server.reports import Report, ReportQuery, Reports, report_csv
from signaling_server.reports.rollup import roll_up, rolled_until
from signaling_server.store import Store, schema

T = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
D2 = T + 86400


def session(sid: str, created: float, state: str = "ended", **values: Any) -> dict[str, Any]:
    # every row names every column: an executemany takes its columns from the first row
    optional = ("queued_at", "accepted_at", "first_agent_reply_at", "wrap_up_at", "ended_at", "csat_score")
    return {
        "id": sid,
        "customer_id": f"cust_{sid}",
        "state": state,
        "queue": values.pop("queue", "general"),
        "created_at": created,
        **dict.fromkeys((*optional, "csat_comment", "agent_id", "agent_name")),
        **values,
    }


SESSIONS = [
    session("s01", T + 100, ended_at=T + 200),  # contained
    session("s02", T + 300, ended_at=T + 400),  # contained
    session(
        "s03",
        T + 1000,
        queued_at=T + 1010,
        accepted_at=T + 1020,
        first_agent_reply_at=T + 1025,
        wrap_up_at=T + 1100,
        ended_at=T + 1120,
        csat_score=5,
        csat_comment="great",
        agent_id="a1",
        agent_name="Ann",
    ),
    session(
        "s04",
        T + 2000,
        queued_at=T + 2000,
        accepted_at=T + 2030,
        first_agent_reply_at=T + 2040,
        ended_at=T + 2330,
        csat_score=4,
        agent_id="a1",
        agent_name="Ann",
    ),
    session("s05", T + 3000, queued_at=T + 3005, ended_at=T + 3050),  # abandoned after 45 s
    session(
        "s06",
        D2,
        queue="billing",
        queued_at=D2 + 10,
        accepted_at=D2 + 100,
        first_agent_reply_at=D2 + 130,
        ended_at=D2 + 700,
        csat_score=1,
        csat_comment="slow",
        agent_id="a2",
        agent_name="Bea",
    ),
    session("s07", D2 + 500, queue="billing", queued_at=D2 + 500, ended_at=D2 + 900),  # abandoned, 400 s
    session("s08", D2 + 1000, state="virtual"),  # still with the assistant
    session("s09", D2 + 2000, state="queued", queued_at=D2 + 2001),  # still waiting
    session(
        "s10",
        D2 + 3000,
        state="wrap_up",
        queue="billing",
        queued_at=D2 + 3000,
        accepted_at=D2 + 3040,
        wrap_up_at=D2 + 3500,
        agent_id="a2",
        agent_name="Bea",
    ),
    session("s11", T - 10, ended_at=T + 5),  # started before the period
]


def escalation(sid: str, at: float, reason: str) -> dict[str, Any]:
    return {
        "session_id": sid,
        "from_state": "virtual",
        "to_state": "queued",
        "actor": "x",
        "detail": reason,
        "at": at,
    }


TRANSITIONS = [
    escalation("s03", T + 1010, "customer_request"),
    escalation("s04", T + 2000, "unmatched"),
    escalation("s05", T + 3005, "customer_request"),
    escalation("s06", D2 + 10, "customer_request"),
    escalation("s07", D2 + 500, "frustration"),
    escalation("s09", D2 + 2001, "unmatched"),
    escalation("s10", D2 + 3000, "customer_request"),
    {
        "session_id": "s06",
        "from_state": "live",
        "to_state": "queued",
        "actor": "a9",
        "detail": "transfer to billing",
        "at": D2 + 50,
    },
    # an agent who signed out hands the session on: not a transfer
    {
        "session_id": "s10",
        "from_state": "live",
        "to_state": "queued",
        "actor": "a2",
        "detail": "handed on: Bea signed out",
        "at": D2 + 3010,
    },
    escalation("s11", T - 5, "customer_request"),  # before the period
]


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[Store]:
    """A store holding the record above: its sessions and their transitions."""
    store = await Store.open(database_url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(insert(schema.sessions), SESSIONS)
            await conn.execute(insert(schema.transitions), TRANSITIONS)
        yield store
    finally:
        await store.close()


@pytest.fixture(params=["sessions", "rollups"])
async def reports(request: pytest.FixtureRequest, seeded: Store) -> Reports:
    """The record above, read from the sessions alone, or with both days rolled up."""
    if request.param == "rollups":
        assert await roll_up(seeded.engine, now=D2 + 3 * 86400) == 5  # s11's day to the day before now
        assert await rolled_until(seeded.engine) == D2 + 3 * 86400
    return Reports(seeded.engine)


def query(**kw: Any) -> ReportQuery:
    return ReportQuery(since=T, until=T + 2 * 86400, service_level_s=60, **kw)


async def test_every_figure_of_the_period(reports: Reports) -> None:
    r = await reports.report(query())
    assert r.totals.model_dump() == {
        "sessions": 10,
        "contained": 2,
        "escalated": 7,
        "answered": 4,
        "abandoned": 2,
        "resolved": 3,
        "left_message": 0,
        "transfers": 1,
        "containment_rate": 0.2,
        "escalation_rate": 0.7,
        "abandonment_rate": 0.2857,
        "service_level": 0.5,  # waits 10, 30, 40 within 60 s of 4 answered + 2 abandoned
        "service_level_s": 60,
    }
    assert r.wait.model_dump() == {"p50": 30.0, "p90": 90.0, "avg": 42.5, "count": 4}
    assert r.first_response.model_dump() == {"p50": 10.0, "p90": 30.0, "avg": 15.0, "count": 3}
    assert r.handle.model_dump() == {"p50": 300.0, "p90": 600.0, "avg": 333.333, "count": 3}
    assert [(x.reason, x.count) for x in r.escalation_reasons] == [
        ("customer_request", 4),
        ("unmatched", 2),
        ("frustration", 1),
    ]
    assert [(b.label, b.count) for b in r.abandonment] == [
        ("0 s-30 s", 0),
        ("30 s-1 min", 1),
        ("1 min-2 min", 0),
        ("2 min-5 min", 0),
        ("5 min-10 min", 1),
        ("10 min+", 0),
    ]
    assert [(v.start, v.sessions, v.contained, v.escalated, v.abandoned) for v in r.volumes] == [
        (int(T * 1000), 5, 2, 3, 1),
        (int(D2 * 1000), 5, 0, 4, 1),
    ]
    assert [(f.step, f.count, f.drop) for f in r.funnel] == [
        ("assistant", 10, 0),
        ("queue", 7, 3),
        ("agent", 4, 3),
        ("resolved", 3, 1),
    ]
    assert r.csat.model_dump() == {
        "count": 3,
        "average": 3.333,
        "distribution": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 1},
        "comments": [
            {"session_id": "s06", "score": 1, "comment": "slow", "at": int((D2 + 700) * 1000)},
            {"session_id": "s03", "score": 5, "comment": "great", "at": int((T + 1120) * 1000)},
        ],
    }
    assert [q.model_dump() for q in r.by_queue] == [
        {
            "queue": "billing",
            "sessions": 3,
            "escalated": 3,
            "answered": 2,
            "abandoned": 1,
            "avg_wait_s": 65.0,
            "service_level": 0.3333,
        },
        {
            "queue": "general",
            "sessions": 4,
            "escalated": 4,
            "answered": 2,
            "abandoned": 1,
            "avg_wait_s": 20.0,
            "service_level": 0.6667,
        },
    ]
    assert [a.model_dump() for a in r.by_agent] == [
        {
            "agent_id": "a1",
            "agent_name": "Ann",
            "handled": 2,
            "avg_first_response_s": 7.5,
            "avg_handle_s": 200.0,
            "csat_average": 4.5,
        },
        {
            "agent_id": "a2",
            "agent_name": "Bea",
            "handled": 2,
            "avg_first_response_s": 30.0,
            "avg_handle_s": 600.0,
            "csat_average": 1.0,
        },
    ]


async def test_one_queue_one_agent_hours_and_visible_queues(reports: Reports) -> None:
    billing = await reports.report(query(queue="billing"))
    assert (billing.totals.sessions, billing.totals.answered, billing.totals.transfers) == (3, 2, 1)
    assert billing.wait.model_dump() == {"p50": 40.0, "p90": 90.0, "avg": 65.0, "count": 2}
    ann = await reports.report(query(agent_id="a1"))
    assert (ann.totals.sessions, ann.totals.transfers, ann.csat.average) == (2, 0, 4.5)
    hourly = await reports.report(query(bucket="hour"))
    assert len(hourly.volumes) == 48 and sum(v.sessions for v in hourly.volumes) == 10
    # everything started in the first hour of each day
    assert [v.sessions for v in hourly.volumes if v.sessions] == [5, 5]
    assert hourly.volumes[0].sessions == hourly.volumes[24].sessions == 5
    # a supervisor of billing only sees billing, whatever else is asked
    only = await reports.report(query(queues=("billing",)))
    assert only.totals.sessions == 3 and [q.queue for q in only.by_queue] == ["billing"]
    empty = await reports.report(ReportQuery(since=T - 86400 * 10, until=T - 86400 * 9))
    assert (empty.totals.sessions, empty.totals.service_level, empty.wait.p50, empty.csat.average) == (
        0,
        None,
        None,
        None,
    )


async def test_csv_holds_every_section(reports: Reports) -> None:
    r: Report = await reports.report(query())
    text = report_csv(r)
    lines = text.split("\r\n")
    assert lines[0] == "section,key,metric,value"
    for line in (
        "period,,since,2026-03-02T00:00:00Z",
        "totals,,sessions,10",
        "totals,,service_level,0.5",
        "wait,,p90,90.0",
        "volumes,2026-03-03T00:00:00Z,escalated,4",
        "escalation_reasons,customer_request,count,4",
        "abandonment,30 s-1 min,count,1",
        "funnel,agent,drop,3",
        "csat,5,count,1",
        "csat_comments,s06,1,slow",
        "by_queue,billing,avg_wait_s,65.0",
        "by_agent,a2,agent_name,Bea",
    ):
        assert line in lines, line


async def test_rollups_and_sessions_agree_for_any_period(seeded: Store) -> None:
    store = seeded
    reports = Reports(store.engine)
    periods = [
        query(),
        ReportQuery(since=T + 1500, until=T + 2 * 86400, service_level_s=60),  # a partial first day
        ReportQuery(since=T - 86400, until=D2 + 2000, service_level_s=30, queue="billing"),
        ReportQuery(since=T, until=T + 2 * 86400, queues=("general",), bucket="hour"),
        query(agent_id="a2"),
    ]
    before = [await reports.report(p) for p in periods]
    assert [r.totals.sessions for r in before] == [10, 7, 2, 10 - 3, 2]
    await roll_up(store.engine, now=D2 + 3 * 86400)
    # a rating comes in after the roll-up: the next run (which redoes recent days) has it
    await store.update_session("s02", csat_score=4)
    await roll_up(store.engine, now=D2 + 3 * 86400)
    after = [await reports.report(p) for p in periods]
    assert after[0].csat.distribution["4"] == before[0].csat.distribution["4"] + 1
    await store.update_session("s02", csat_score=None)
    await roll_up(store.engine, now=D2 + 3 * 86400)
    assert [await reports.report(p) for p in periods] == before


async def test_rolled_days_and_todays_sessions_add_up_to_the_sessions_alone(seeded: Store) -> None:
    """A report over rolled-up days and today (read from the sessions, as the console asks
    for: whole days up to the end of today) equals the report from the sessions alone, per
    day and per hour, whatever the filter; and a database rolled up before the hourly
    volumes existed reads them from the sessions until its next roll-up computes them."""
    store = seeded
    reports = Reports(store.engine)
    periods = [
        ReportQuery(since=T - 86400, until=D2 + 86400, service_level_s=60, bucket=bucket, **kw)
        for bucket in ("day", "hour")
        for kw in ({}, {"queue": "billing"}, {"agent_id": "a1"}, {"queues": ("general",)})
    ]
    alone = [await reports.report(p) for p in periods]
    assert [r.totals.sessions for r in alone[:4]] == [11, 3, 2, 8]  # billing: s06, s07, s10
    assert sum(v.sessions for v in alone[4].volumes) == 11
    # "today" is D2: the days before it are rolled up, D2 is read from the sessions
    assert await roll_up(store.engine, now=D2 + 7200) == 2
    assert await rolled_until(store.engine, hourly=True) == D2
    assert [await reports.report(p) for p in periods] == alone
    # an older database: daily rollups, no hourly volumes, no hourly mark
    async with store.engine.begin() as conn:
        await conn.execute(schema.report_hourly.delete())
        await conn.execute(schema.report_rollup.delete().where(schema.report_rollup.c.id == 2))
    assert await rolled_until(store.engine) == D2
    assert await rolled_until(store.engine, hourly=True) == 0.0
    assert [await reports.report(p) for p in periods] == alone
    assert await roll_up(store.engine, now=D2 + 7200) == 2  # both days, their hours too
    assert await rolled_until(store.engine, hourly=True) == D2
    assert [await reports.report(p) for p in periods] == alone


async def test_a_rollup_asked_to_stop_returns_between_days_and_the_next_run_redoes_them(
    seeded: Store,
) -> None:
    store = seeded
    asked: list[int] = []

    def stopping() -> bool:
        asked.append(1)
        return len(asked) > 2  # two days rolled, then the server stops

    assert await roll_up(store.engine, now=D2 + 3 * 86400, stopping=stopping) == 2
    assert await rolled_until(store.engine) == 0.0  # no mark: those days are not final
    assert await roll_up(store.engine, now=D2 + 3 * 86400) == 5
    assert await rolled_until(store.engine) == D2 + 3 * 86400
