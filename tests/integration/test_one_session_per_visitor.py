"""One open session per visitor, however many tabs start at once and on however many
servers; an unknown or stale session id resumes the visitor's open session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

from aiohttp.test_utils import TestServer

from dcs_sdk import DcsClient
from signaling_server import Config, create_app


@asynccontextmanager
async def servers(config: Config, count: int) -> AsyncIterator[list[str]]:
    """``count`` servers on one database: two apps share nothing but the store, as two
    processes would."""
    running = [TestServer(create_app(config), host="127.0.0.1") for _ in range(count)]
    for server in running:
        await server.start_server()
    try:
        yield [str(s.make_url("")).rstrip("/") for s in running]
    finally:
        for server in running:
            await server.close()


async def tabs(urls: list[str], token: Callable[[], str], count: int) -> list[DcsClient]:
    clients = [DcsClient(urls[i % len(urls)], token) for i in range(count)]
    await asyncio.gather(*(c.connect() for c in clients))
    return clients


async def test_tabs_starting_at_once_share_one_session(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> None:
    # two servers on PostgreSQL (where several processes are the deployment); on SQLite one
    count = 2 if database_url.startswith("postgresql") else 1
    async with servers(replace(server_config, database_url=database_url), count) as urls:
        for visitor in ("v1", "v2", "v3", "v4", "v5"):
            clients = await tabs(urls, lambda v=visitor: mint("customer", v), 4)  # type: ignore[misc]
            try:
                started = await asyncio.gather(*(c.start_session() for c in clients))
                assert len({s.session_id for s in started}) == 1, f"{visitor} got several sessions"
                # the assistant greeted once, and every tab sees that one greeting
                greetings = [m for m in (await clients[0].history(started[0].session_id))]
                assert len([m for m in greetings if m["sender"]["role"] == "assistant"]) >= 1
                seqs = [m["seq"] for m in greetings]
                assert seqs == list(range(1, len(seqs) + 1))
            finally:
                for c in clients:
                    await c.close()


async def test_unknown_and_stale_ids_resume_the_open_session(
    server_config: Config, database_url: str, mint: Callable[..., str]
) -> None:
    config = replace(server_config, database_url=database_url)
    async with servers(config, 1) as (url,), DcsClient(url, mint("customer", "v1")) as tab:
        first = (await tab.start_session()).session_id
        await tab.send(first, "hello")
        unknown = await tab.start_session("s_unknownsession0001")
        assert unknown.session_id == first
        assert [m["text"] for m in unknown.messages if m["sender"]["role"] == "customer"] == ["hello"]
        await tab.close_session(first)
        # the closed session asked for is returned as it is while nothing else is open
        closed = await tab.start_session(first)
        assert closed.session_id == first and closed.session["state"] == "ended"
        second = (await tab.start_session()).session_id
        assert second != first
        # a stale id (the ended session) now resumes the open one
        stale = await tab.start_session(first)
        assert stale.session_id == second and stale.session["state"] == "virtual"
