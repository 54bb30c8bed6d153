"""A session longer than one page of history, through a real server, on SQLite and
PostgreSQL: session.start and history.fetch answer a page of HISTORY_PAGE messages and say
``more``; the SDK fetches the rest page by page; transcripts (staff history, the agent's
handoff) hold every message. Before paging, a client that missed more than a page got the
first 1,000 and never learned the rest existed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from dcs_sdk import DcsClient, Event, Role, SessionState
from dcs_sdk.protocol import HISTORY_PAGE
from signaling_server import Config
from signaling_server.store import MessageRecord, SessionRecord, Store
from tests.conftest import serve

COUNT = 2 * HISTORY_PAGE + 345
SID = "s_long_conversation"


@pytest.fixture
def server_config(server_config: Config, database_url: str) -> Config:
    return replace(server_config, database_url=database_url)


async def a_long_live_session(database_url: str) -> None:
    """Written through the product's Store before the server starts (sending 2,345 messages
    through the socket would take minutes at the rate limit)."""
    now = time.time() - COUNT
    record = SessionRecord(
        id=SID,
        customer_id="v1",
        customer_name="Vera",
        state=SessionState.LIVE,
        created_at=now,
        queue="general",
        agent_id="alice",
        agent_name="Alice",
        queued_at=now,
        accepted_at=now,
        last_seq=COUNT,
    )
    messages = [
        MessageRecord(
            SID, seq, f"c{seq}", Role.CUSTOMER if seq % 2 else Role.AGENT, "v1", "", f"m{seq}", now + seq
        )
        for seq in range(1, COUNT + 1)
    ]
    store = await Store.open(database_url)
    try:
        await store.create_session(record, actor="v1", messages=messages)
    finally:
        await store.close()


async def test_a_long_history_comes_page_by_page(server_config: Config, mint: Callable[..., str]) -> None:
    await a_long_live_session(server_config.database_url)
    async with (
        serve(server_config) as url,
        DcsClient(url, mint("customer", "v1", name="Vera")) as customer,
        DcsClient(url, mint("supervisor", "sam", name="Sam")) as supervisor,
    ):
        started = await customer.start_session(SID)
        assert started.session_id == SID and started.more
        assert [m["seq"] for m in started.messages] == list(range(1, HISTORY_PAGE + 1))

        # the raw acks: full pages say more, the last one does not
        pages = []
        after = 0
        while True:
            ack = await customer.request(Event.HISTORY_FETCH, {"session_id": SID, "after_seq": after})
            pages.append((len(ack["messages"]), ack["more"]))
            if not ack["more"]:
                break
            after = ack["messages"][-1]["seq"]
        assert pages == [(HISTORY_PAGE, True), (HISTORY_PAGE, True), (345, False)]

        # the SDK's history() follows the pages; from the middle too
        everything = await customer.history(SID)
        assert [m["text"] for m in everything] == [f"m{seq}" for seq in range(1, COUNT + 1)]
        tail = await customer.history(SID, after_seq=COUNT - 10)
        assert [m["seq"] for m in tail] == list(range(COUNT - 9, COUNT + 1))

        # a resume that missed more than a page is told so
        resumed = await customer.start_session(SID, after_seq=5)
        assert resumed.more and resumed.messages[0]["seq"] == 6

        # staff transcripts are whole
        transcript = await supervisor.request(Event.HISTORY_TRANSCRIPT, {"session_id": SID})
        assert [m["seq"] for m in transcript["messages"]] == list(range(1, COUNT + 1))
