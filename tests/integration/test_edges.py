"""Edges of the wire: every event gets an answer, over WebSocket and long-polling alike.

Reserved event names change nothing; batched events, oversized, deep, malformed and
ill-typed payloads, out-of-range numbers and unclean text all get their code and sentence
(docs/protocol.md, "Limits"); rejected input is logged at most once a minute per connection;
tokens with ill-typed or unclean claims are refused with token_invalid.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jwt
import pytest
import socketio
from aiohttp import web
from aiohttp.test_utils import TestServer

from dcs_sdk import ErrorCode, Event, SigningKey
from dcs_sdk.protocol import (
    MAX_DEPTH,
    MAX_EVENT_BYTES,
    MAX_SEQ,
    MAX_TOKEN_CHARS,
    MAX_TRANSPORT_BYTES,
    RESERVED_EVENTS,
)
from signaling_server import Config, create_app
from signaling_server.app import SIO
from tests.conftest import AUDIENCE, ISSUER, postgres_database
from tests.rawio import RawSocket, Refused

TRANSPORTS = ["websocket", "polling"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextlib.asynccontextmanager
async def serve(config: Config) -> AsyncIterator[tuple[str, web.Application]]:
    """A DCS server on a loopback port with this config; its URL and its app."""
    app = create_app(config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), app
    finally:
        await server.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def store_url(request: pytest.FixtureRequest, server_config: Config) -> AsyncIterator[str]:
    """A server on a fresh SQLite file, and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        async with serve(server_config) as (url, _):
            yield url
    else:
        async with postgres_database() as db, serve(replace(server_config, database_url=db)) as (url, _):
            yield url


class Clients:
    """python-socketio AsyncClients on one transport, closed after the test."""

    def __init__(self, url: str, mint: Callable[..., str], transport: str) -> None:
        self.url, self.mint, self.transport = url, mint, transport
        self.all: list[socketio.AsyncClient] = []

    async def open(self, role: str, sub: str, **grants: Any) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        self.all.append(sio)
        await sio.connect(
            self.url,
            auth={"token": self.mint(role, sub, **grants)},
            transports=[self.transport],
            wait_timeout=5,
        )
        return sio

    async def refused(self, token: str) -> dict[str, Any]:
        """Connect with this token; the connect_error's data ({code, message})."""
        sio = socketio.AsyncClient(reconnection=False)
        got: dict[str, Any] = {}
        sio.on("connect_error", lambda data: got.update(data.get("data") or {"raw": data}))
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(self.url, auth={"token": token}, transports=[self.transport], wait_timeout=5)
        await sio.disconnect()
        return got

    async def close(self) -> None:
        for sio in self.all:
            await sio.disconnect()


@contextlib.asynccontextmanager
async def clients_at(url: str, mint: Callable[..., str], transport: str) -> AsyncIterator[Clients]:
    clients = Clients(url, mint, transport)
    try:
        yield clients
    finally:
        await clients.close()


@pytest.fixture
async def clients(dcs_url: str, mint: Callable[..., str], transport: str) -> AsyncIterator[Clients]:
    async with clients_at(dcs_url, mint, transport) as made:
        yield made


async def call(sio: socketio.AsyncClient, event: str, *args: Any) -> Any:
    return await sio.call(event, args[0] if len(args) == 1 else tuple(args), timeout=5)


def code_of(ack: Any) -> str:
    assert isinstance(ack, dict), f"not an ack: {ack!r}"
    if ack.get("ok") is True:
        return "ok"
    assert ack["error"]["message"], ack
    return str(ack["error"]["code"])


async def start(sio: socketio.AsyncClient) -> str:
    ack = await call(sio, Event.SESSION_START, {"page": {"url": "https://shop.test/", "title": "Shop"}})
    assert ack["ok"], ack
    return str(ack["session"]["session_id"])


def body(event: str, payload: Any) -> str:
    return json.dumps([event, payload])


# Reserved names ------------------------------------------------------------------------


async def test_reserved_event_names_are_unknown_events(clients: Clients, mint: Callable[..., str]) -> None:
    customer = await clients.open("customer", "v1")
    sid = await start(customer)
    for name in sorted(RESERVED_EVENTS):
        assert code_of(await call(customer, name, {})) == ErrorCode.UNKNOWN_EVENT, name
    # What python-socketio would hand a lifecycle handler: (environ, auth) and a reason.
    as_agent = ({"HTTP_ORIGIN": "https://evil.test"}, {"token": mint("agent", "mallory")})
    assert code_of(await call(customer, "connect", *as_agent)) == ErrorCode.UNKNOWN_EVENT
    assert code_of(await call(customer, "disconnect", "client disconnect")) == ErrorCode.UNKNOWN_EVENT
    # Still the same customer on the same connection: no agent rights, its session intact.
    assert code_of(await call(customer, Event.SESSION_ACCEPT, {"session_id": sid})) == ErrorCode.FORBIDDEN
    ack = await call(
        customer, Event.CHAT_SEND, {"session_id": sid, "client_id": "c_after", "text": "still me"}
    )
    assert ack["ok"] and ack["message"]["sender"]["id"] == "v1"


async def test_an_agent_naming_disconnect_stays_connected(clients: Clients) -> None:
    customer = await clients.open("customer", "v1")
    sid = await start(customer)
    assert (await call(customer, Event.SESSION_ESCALATE, {"session_id": sid}))["ok"]
    agent = await clients.open("agent", "alice", name="Alice")
    assert code_of(await call(agent, "disconnect", "client disconnect")) == ErrorCode.UNKNOWN_EVENT
    assert code_of(await call(agent, Event.SESSION_ACCEPT, {"session_id": sid})) == "ok"


async def test_naming_connect_does_not_reset_the_rate_budget(
    server_config: Config, mint: Callable[..., str], transport: str
) -> None:
    config = replace(server_config, rate_burst=6, rate_per_s=0.01)
    async with serve(config) as (url, _), clients_at(url, mint, transport) as made:
        customer = await made.open("customer", "v1")
        sid = await start(customer)  # 1
        fresh = ({}, {"token": mint("customer", "v1")})
        assert code_of(await call(customer, "connect", *fresh)) == ErrorCode.UNKNOWN_EVENT  # 2
        assert code_of(await call(customer, "connect", *fresh)) == ErrorCode.UNKNOWN_EVENT  # 3
        typing = {"session_id": sid, "typing": True}
        codes = [code_of(await call(customer, Event.CHAT_TYPING, typing)) for _ in range(4)]
        assert codes == ["ok", "ok", "ok", ErrorCode.RATE_LIMITED]


async def test_a_connection_is_never_signed_in_twice(
    server_config: Config, mint: Callable[..., str], transport: str
) -> None:
    async with serve(server_config) as (url, app), RawSocket(url, transport) as raw:
        await raw.open({"token": mint("customer", "v1")})
        sid = (await raw.event(body(Event.SESSION_START, {})))["session"]["session_id"]
        # A second socket.io CONNECT on the same Engine.IO connection, as an agent: refused.
        with pytest.raises(Refused):
            await raw.connect({"token": mint("agent", "mallory")})
        ack = await raw.event(body(Event.SESSION_ACCEPT, {"session_id": sid}))
        assert code_of(ack) == ErrorCode.FORBIDDEN
        # And the gateway itself refuses to sign a connected sid in again.
        gateway = app[SIO].handlers["/"]["connect"].__self__
        (conn_sid,) = gateway.connections
        with pytest.raises(socketio.exceptions.ConnectionRefusedError):
            await gateway.on_connect(conn_sid, {}, {"token": mint("agent", "mallory")})
        assert gateway.connections[conn_sid].claims.sub == "v1"
        assert (
            code_of(await raw.event(body(Event.SESSION_ACCEPT, {"session_id": sid}))) == ErrorCode.FORBIDDEN
        )


# Every event answered ----------------------------------------------------------------------


async def test_thirty_events_sent_together_are_all_answered(clients: Clients) -> None:
    customer = await clients.open("customer", "v1")
    sid = await start(customer)
    typing = {"session_id": sid, "typing": True}
    acks = await asyncio.gather(*(call(customer, Event.CHAT_TYPING, typing) for _ in range(30)))
    assert [code_of(a) for a in acks] == ["ok"] * 30


async def test_one_request_of_two_hundred_events_is_answered_whole(
    dcs_url: str, mint: Callable[..., str], transport: str
) -> None:
    async with RawSocket(dcs_url, transport) as raw:
        await raw.open({"token": mint("customer", "v1")})
        sid = (await raw.event(body(Event.SESSION_START, {})))["session"]["session_id"]
        acks = await raw.events([body(Event.CHAT_TYPING, {"session_id": sid, "typing": True})] * 200)
        codes = [code_of(a) for a in acks]
        assert set(codes) == {"ok", ErrorCode.RATE_LIMITED} and codes[0] == "ok"


async def test_an_oversized_event_gets_payload_too_large(clients: Clients) -> None:
    customer = await clients.open("customer", "v1")
    sid = await start(customer)
    before = customer.get_sid()
    big = {"session_id": sid, "client_id": "c_big", "text": "x" * 100 * 1024}
    ack = await call(customer, Event.CHAT_SEND, big)
    assert code_of(ack) == ErrorCode.PAYLOAD_TOO_LARGE and f"{MAX_EVENT_BYTES:,}" in ack["error"]["message"]
    ack = await call(customer, Event.CHAT_SEND, {"session_id": sid, "client_id": "c_small", "text": "small"})
    assert ack["ok"] and customer.connected and customer.get_sid() == before


async def test_above_the_transport_limit_the_connection_closes(
    dcs_url: str, mint: Callable[..., str], transport: str
) -> None:
    async with RawSocket(dcs_url, transport) as raw:
        await raw.open({"token": mint("customer", "v1")})
        _, packet = raw.event_packet(body(Event.CHAT_TYPING, {"x": "x" * MAX_TRANSPORT_BYTES}))
        status = await raw.send(packet)
        await asyncio.wait_for(raw.closed.wait(), 10)
        if transport == "polling":
            assert status == 400
        else:
            assert raw.close_code == 1009  # message too big
    async with RawSocket(dcs_url, transport) as again:  # the client reconnects and carries on
        await again.open({"token": mint("customer", "v1")})
        assert (await again.event(body(Event.SESSION_START, {})))["ok"]


async def test_a_long_polling_client_that_closes_is_let_go_at_once(
    dcs_url: str, mint: Callable[..., str]
) -> None:
    async with RawSocket(dcs_url, "polling") as raw:
        await raw.open({"token": mint("customer", "v1")})
        await asyncio.sleep(0.2)  # its next GET is waiting at the server
        await raw.send("1")  # Engine.IO CLOSE
        # the waiting GET is answered now, not at the ping timeout (20 s)
        await asyncio.wait_for(raw.closed.wait(), 3)


async def test_an_oversized_token_gets_token_invalid(clients: Clients, mint: Callable[..., str]) -> None:
    for token in ("x" * (MAX_TOKEN_CHARS + 1), mint("customer", "v1") + "x" * 100 * 1024):
        got = await clients.refused(token)
        assert got["code"] == ErrorCode.TOKEN_INVALID and f"{MAX_TOKEN_CHARS:,}" in got["message"], got


# Malformed payloads, and the log -------------------------------------------------------------


async def test_malformed_payloads_get_bad_payload_and_one_log_line_a_minute(
    dcs_url: str, mint: Callable[..., str], transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    deep_1000 = "[" * 1000 + "]" * 1000
    deep_100 = "[" * 100 + "]" * 100
    async with RawSocket(dcs_url, transport) as raw:
        await raw.open({"token": mint("customer", "v1")})
        sid = (await raw.event(body(Event.SESSION_START, {})))["session"]["session_id"]
        caplog.clear()
        bad = [
            f'["chat.send",{deep_1000}]',  # deeper than the JSON parser follows
            f'["chat.send",{{"session_id":"{sid}","text":{deep_1000}}}]',
            f'["chat.send",{deep_100}]',  # parses, but deeper than MAX_DEPTH
            '["chat.send",{"session_id":',  # not JSON
            '{"chat.send":{}}',  # not an array
            "[]",  # no name
            '"chat.send"',
            '["chat.send",{"n":' + "9" * 200 + "}]",  # an integer of 200 digits
        ]
        for _ in range(3):
            acks = await raw.events(bad)
            assert [code_of(a) for a in acks] == [ErrorCode.BAD_PAYLOAD] * len(bad), acks
        assert "nested too deeply" in acks[0]["error"]["message"]
        assert f"more than {MAX_DEPTH}" in acks[2]["error"]["message"]
        assert code_of(await raw.event('[7,{"session_id":"x"}]')) == ErrorCode.UNKNOWN_EVENT
        # the connection and the session carry on
        ack = await raw.event(body(Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "fine"}))
        assert ack["ok"]
    rejected = [r for r in caplog.records if r.name == "signaling_server.events" and "rejected" in r.message]
    assert [r.message.split(": ")[1].split(" ")[0] for r in rejected] == [
        ErrorCode.BAD_PAYLOAD,
        ErrorCode.UNKNOWN_EVENT,
    ], [r.message for r in rejected]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_unreadable_packets_are_dropped_with_one_log_line(
    dcs_url: str, mint: Callable[..., str], transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with RawSocket(dcs_url, transport) as raw:
        await raw.open({"token": mint("customer", "v1")})
        caplog.clear()
        # A CONNECT_ERROR from a client, an unknown packet type, no packet type at all: not
        # socket.io packets the server can read.
        for _ in range(5):
            await raw.send("44{}", "49", "4z")
        assert (await raw.event(body(Event.SESSION_START, {})))["ok"]
    dropped = [r for r in caplog.records if r.name == "signaling_server.transport"]
    assert len(dropped) == 1, caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


# Numbers and types -------------------------------------------------------------------------


async def test_sequence_numbers_are_range_checked(
    store_url: str, mint: Callable[..., str], transport: str
) -> None:
    async with clients_at(store_url, mint, transport) as made:
        customer = await made.open("customer", "v1")
        sid = await start(customer)
        for after in (2**63, 2**31, -1):
            ack = await call(customer, Event.HISTORY_FETCH, {"session_id": sid, "after_seq": after})
            assert code_of(ack) == ErrorCode.BAD_PAYLOAD, (after, ack)
            ack = await call(customer, Event.SESSION_START, {"session_id": sid, "after_seq": after})
            assert code_of(ack) == ErrorCode.BAD_PAYLOAD, (after, ack)
        ack = await call(customer, Event.HISTORY_FETCH, {"session_id": sid, "after_seq": MAX_SEQ})
        assert ack["ok"] and ack["messages"] == []
        ack = await call(customer, Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "hi"})
        assert ack["ok"]


async def test_types_are_strict(clients: Clients) -> None:
    customer = await clients.open("customer", "v1")
    sid = await start(customer)
    for event, payload in [
        (Event.CHAT_TYPING, {"session_id": sid, "typing": "yes"}),
        (Event.CHAT_TYPING, {"session_id": sid, "typing": 1}),
        (Event.CSAT_SUBMIT, {"session_id": sid, "score": "3"}),
        (Event.CSAT_SUBMIT, {"session_id": sid, "score": 3.0}),
        (Event.CSAT_SUBMIT, {"session_id": sid, "score": True}),
        (Event.HISTORY_FETCH, {"session_id": sid, "after_seq": "3"}),
        (Event.CALL_INVITE, {"session_id": sid, "video": "true"}),
        (Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": 42}),
    ]:
        ack = await call(customer, event, payload)
        assert code_of(ack) == ErrorCode.BAD_PAYLOAD, (event, payload, ack)
    assert (await call(customer, Event.CHAT_TYPING, {"session_id": sid, "typing": True}))["ok"]


# Text ------------------------------------------------------------------------------------


UNCLEAN = ["a\x00b", "a\ud800b", "bell\x07", "\x1b[31mred", "next\x85line", "del\x7f", "cr\rlf"]


async def test_blank_and_unclean_text_is_refused(
    store_url: str, mint: Callable[..., str], transport: str
) -> None:
    async with clients_at(store_url, mint, transport) as made:
        customer = await made.open("customer", "v1")
        sid = await start(customer)
        agent = await made.open("agent", "alice", name="Alice")

        async def refused(sio: socketio.AsyncClient, event: str, payload: dict[str, Any]) -> None:
            ack = await call(sio, event, payload)
            assert code_of(ack) == ErrorCode.BAD_PAYLOAD, (event, payload, ack)

        for blank in (" ", "   \n\t ", "\u3000"):
            await refused(customer, Event.CHAT_SEND, {"session_id": sid, "client_id": "c_b", "text": blank})
        for i, text in enumerate(UNCLEAN):
            await refused(customer, Event.CHAT_SEND, {"session_id": sid, "client_id": f"c_{i}", "text": text})
            await refused(customer, Event.PAGE_VIEW, {"session_id": sid, "page": {"url": "/", "title": text}})
            await refused(customer, Event.SESSION_ESCALATE, {"session_id": sid, "reason": text})
            await refused(customer, Event.CSAT_SUBMIT, {"session_id": sid, "score": 4, "comment": text})
            await refused(agent, Event.SESSION_WRAP_UP, {"session_id": sid, "notes": text})
            await refused(
                agent, Event.SESSION_TRANSFER, {"session_id": sid, "queue": "general", "note": text}
            )
        await refused(customer, Event.PAGE_VIEW, {"session_id": sid, "page": {"url": "/a\nb", "title": ""}})
        # Line breaks, tabs and any printable character are text; stored and returned as sent.
        fine = "line one\n\tline two 😀 <b>é</b>"
        ack = await call(customer, Event.CHAT_SEND, {"session_id": sid, "client_id": "c_fine", "text": fine})
        assert ack["ok"], ack
        history = await call(customer, Event.HISTORY_FETCH, {"session_id": sid})
        assert [m["text"] for m in history["messages"] if m["sender"]["role"] == "customer"] == [fine]
        # and the store still takes everyone's writes
        other = await made.open("customer", "v2")
        other_sid = await start(other)
        ack = await call(
            other, Event.CHAT_SEND, {"session_id": other_sid, "client_id": "c_o", "text": "hello"}
        )
        assert ack["ok"], ack


# Tokens ------------------------------------------------------------------------------------


def raw_token(signing_key: SigningKey, **over: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "v1", "iat": now, "exp": now + 300, "role": "customer"}
    for claim in ("exp", "iat", "nbf"):
        if isinstance(over.get(claim), str):  # a valid time, but as a string
            over = {**over, claim: str(now + int(over[claim]))}
    return jwt.encode({**claims, **over}, signing_key.key, algorithm="ES256", headers={"kid": "test-key"})


BAD_CLAIMS: dict[str, tuple[dict[str, Any], str]] = {
    "string_exp": ({"exp": "+300"}, "exp"),  # "+N" and "N": replaced by now + N, as a string
    "string_iat": ({"iat": "0"}, "iat"),
    "string_nbf": ({"nbf": "0"}, "nbf"),
    "nul_in_name": ({"name": "Sam\x00"}, "name"),
    "surrogate_in_name": ({"name": "Sam\ud800"}, "name"),
    "control_in_name": ({"name": "Sam\x1b[2J"}, "name"),
    "line_break_in_name": ({"name": "Sam\nAdmin"}, "name"),
    "number_as_name": ({"name": 42}, "name"),
    "long_name": ({"name": "S" * 201}, "name"),
    "nul_in_sub": ({"sub": "v\x00"}, "sub"),
    "nul_in_attrs": ({"attrs": {"plan": "gold\x00"}}, "attrs"),
    "surrogate_in_attrs": ({"attrs": {"notes": ["ok", {"deep": "\udc00"}]}}, "attrs"),
    "control_in_attr_key": ({"attrs": {"pl\x07an": "gold"}}, "attrs"),
    "nan_in_attrs": ({"attrs": {"score": math.nan}}, "attrs"),
    "deep_attrs": ({"attrs": {"a": json.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))}}, "attrs"),
    "skill_not_a_string": ({"role": "agent", "skills": [1]}, "skills"),
    "bool_max_sessions": ({"role": "agent", "max_sessions": True}, "max_sessions"),
}


@pytest.mark.parametrize("case", sorted(BAD_CLAIMS))
async def test_tokens_with_bad_claims_are_refused(
    clients: Clients, signing_key: SigningKey, mint: Callable[..., str], case: str
) -> None:
    over, claim = BAD_CLAIMS[case]
    got = await clients.refused(raw_token(signing_key, **over))
    assert got.get("code") == ErrorCode.TOKEN_INVALID, got
    assert claim in got["message"], got
    # the server carries on: a good token for the same subject connects
    fine = await clients.open("customer", "v1")
    assert fine.connected


async def test_a_refused_token_leaves_the_store_working(
    store_url: str, signing_key: SigningKey, mint: Callable[..., str], transport: str
) -> None:
    async with clients_at(store_url, mint, transport) as made:
        for name in ("Sam\ud800", "Sam\x00"):
            got = await made.refused(raw_token(signing_key, sub="v_bad", name=name))
            assert got.get("code") == ErrorCode.TOKEN_INVALID, got
        for sub in ("v1", "v2"):
            customer = await made.open("customer", sub, name="Sam")
            sid = await start(customer)
            ack = await call(customer, Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "hi"})
            assert ack["ok"], ack


def test_the_limits_are_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    for number in (
        f"{MAX_EVENT_BYTES:,}",
        f"{MAX_TRANSPORT_BYTES:,}",
        f"{MAX_TOKEN_CHARS:,}",
        f"{MAX_SEQ:,}",
    ):
        assert number in doc, number


async def test_a_polling_post_split_across_segments_is_read_whole(
    dcs_url: str, mint: Callable[..., str]
) -> None:
    """A long-polling POST whose body arrives in two TCP segments: the events in it are all
    read and answered (python-engineio alone decodes what arrived first)."""
    async with RawSocket(dcs_url, "polling") as raw:
        await raw.open({"token": mint("customer", "v1")})
        ids, packets = zip(
            *(
                raw.event_packet(body(Event.SESSION_START, {"page": {"url": "", "title": ""}}))
                for _ in range(3)
            ),
            strict=True,
        )
        payload = "\x1e".join(packets).encode()
        host, port = dcs_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST /socket.io/?EIO=4&transport=polling&sid={raw.eio_sid} HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\nContent-Type: text/plain\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        writer.write(head.encode() + payload[:20])
        await writer.drain()
        await asyncio.sleep(0.2)  # the server has read the head and the first segment by now
        writer.write(payload[20:])
        await writer.drain()
        status = (await asyncio.wait_for(reader.readline(), 5)).decode()
        writer.close()
        assert " 200 " in status, status
        acks = await asyncio.wait_for(asyncio.gather(*(raw.acks[i] for i in ids)), 5)
        assert [a[0]["ok"] for a in acks] == [True, True, True]
