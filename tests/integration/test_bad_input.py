"""Bad input gets a code and a sentence; the connection, the session and others carry on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
import socketio
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dcs_sdk import AccessToken, DcsClient, ErrorCode, Event, ProtocolError, SigningKey, TokenError
from dcs_sdk.protocol import MAX_EVENT_BYTES
from tests.conftest import AUDIENCE, ISSUER, Connect


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "v1",
        "iat": now,
        "exp": now + 300,
        "role": "customer",
        **over,
    }


async def refused(url: str, auth: Any) -> dict[str, Any]:
    """Connect with a raw auth payload; return the connect_error data."""
    sio = socketio.AsyncClient(reconnection=False)
    got: dict[str, Any] = {}

    @sio.on("connect_error")
    async def on_error(data: Any) -> None:
        got.update(data["data"] if isinstance(data, dict) and "data" in data else {"raw": data})

    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(url, auth=auth, transports=["websocket"], wait_timeout=5)
    await sio.disconnect()
    assert got.get("message"), f"no human sentence in {got}"
    return got


def forged_tokens(signing_key: SigningKey) -> dict[str, tuple[str, str]]:
    """name -> (token, expected code)."""
    other = SigningKey.generate("test-key")  # same kid, different key
    pem = signing_key.public().key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    good = AccessToken(signing_key, issuer=ISSUER, audience=AUDIENCE).with_identity("v1").as_customer()
    header_none = _b64({"alg": "none", "typ": "JWT", "kid": "test-key"})
    hs256 = _b64({"alg": "HS256", "typ": "JWT", "kid": "test-key"}) + "." + _b64(_claims())
    hs_sig = (
        base64.urlsafe_b64encode(hmac.new(pem, hs256.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    )
    return {
        "expired": (
            jwt.encode(
                _claims(iat=int(time.time()) - 900, exp=int(time.time()) - 600),
                signing_key.key,
                algorithm="ES256",
                headers={"kid": "test-key"},
            ),
            ErrorCode.TOKEN_EXPIRED,
        ),
        "forged": (
            AccessToken(other, issuer=ISSUER, audience=AUDIENCE).with_identity("v1").as_customer().to_jwt(),
            ErrorCode.TOKEN_INVALID,
        ),
        "wrong_audience": (
            AccessToken(signing_key, issuer=ISSUER, audience="other-app")
            .with_identity("v1")
            .as_customer()
            .to_jwt(),
            ErrorCode.TOKEN_INVALID,
        ),
        "wrong_issuer": (
            AccessToken(signing_key, issuer="https://evil.test", audience=AUDIENCE)
            .with_identity("v1")
            .as_customer()
            .to_jwt(),
            ErrorCode.TOKEN_INVALID,
        ),
        "alg_none": (f"{header_none}.{_b64(_claims())}.", ErrorCode.TOKEN_INVALID),
        "hs256_with_public_key": (f"{hs256}.{hs_sig}", ErrorCode.TOKEN_INVALID),
        "unknown_kid": (
            jwt.encode(_claims(), signing_key.key, algorithm="ES256", headers={"kid": "nope"}),
            ErrorCode.TOKEN_INVALID,
        ),
        "garbage": ("not-a-jwt", ErrorCode.TOKEN_INVALID),
        "bad_role": (
            jwt.encode(
                _claims(role="assistant"), signing_key.key, algorithm="ES256", headers={"kid": "test-key"}
            ),
            ErrorCode.TOKEN_INVALID,
        ),
        "good_control": (good.to_jwt(), ""),
    }


async def test_missing_token_is_refused(dcs_url: str) -> None:
    for auth in (None, {}, {"token": ""}, {"token": 42}):
        got = await refused(dcs_url, auth)
        assert got["code"] == ErrorCode.TOKEN_MISSING


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "forged",
        "wrong_audience",
        "wrong_issuer",
        "alg_none",
        "hs256_with_public_key",
        "unknown_kid",
        "garbage",
        "bad_role",
    ],
)
async def test_bad_tokens_are_refused(dcs_url: str, signing_key: SigningKey, case: str) -> None:
    token, code = forged_tokens(signing_key)[case]
    got = await refused(dcs_url, {"token": token})
    assert got["code"] == code


async def test_a_good_token_connects(dcs_url: str, signing_key: SigningKey) -> None:
    token, _ = forged_tokens(signing_key)["good_control"]
    async with DcsClient(dcs_url, token) as client:
        assert client.connected


async def test_foreign_origin_is_refused(dcs_url: str, mint: Callable[..., str]) -> None:
    sio = socketio.AsyncClient(reconnection=False)
    got: dict[str, Any] = {}
    sio.on("connect_error", lambda data: got.update(data["data"]))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            dcs_url,
            auth={"token": mint("customer", "v1")},
            transports=["websocket"],
            headers={"Origin": "https://evil.test"},
            wait_timeout=5,
        )
    assert got["code"] == ErrorCode.ORIGIN_DENIED


async def expect(code: str, request: Any) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        await request
    assert info.value.code == code and info.value.message
    return info.value


async def test_malformed_and_oversized_events_leave_the_session_intact(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    sid = (await customer.start_session()).session_id
    await customer.send(sid, "before")
    await expect(ErrorCode.BAD_PAYLOAD, customer.request(Event.CHAT_SEND, "just a string"))
    await expect(ErrorCode.BAD_PAYLOAD, customer.request(Event.CHAT_SEND, {"session_id": sid}))
    await expect(
        ErrorCode.BAD_PAYLOAD,
        customer.request(Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "x", "admin": True}),
    )
    await expect(
        ErrorCode.BAD_PAYLOAD,
        customer.request(Event.CHAT_SEND, {"session_id": "../../etc", "client_id": "c1", "text": "x"}),
    )
    await expect(
        ErrorCode.BAD_PAYLOAD,
        customer.request(Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": ""}),
    )
    await expect(
        ErrorCode.PAYLOAD_TOO_LARGE,
        customer.request(
            Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "x" * (MAX_EVENT_BYTES + 1)}
        ),
    )
    await expect(ErrorCode.UNKNOWN_EVENT, customer.request("admin.drop_tables", {}))
    await expect(ErrorCode.FORBIDDEN, customer.request(Event.SESSION_ACCEPT, {"session_id": sid}))
    await expect(ErrorCode.BAD_PAYLOAD, customer.request(Event.CSAT_SUBMIT, {"session_id": sid, "score": 9}))
    # still connected, same session, no gap in the sequence
    await customer.send(sid, "after")
    history = await customer.history(sid)
    texts = [m["text"] for m in history if m["sender"]["role"] == "customer"]
    assert texts == ["before", "after"]
    assert [m["seq"] for m in history] == list(range(1, len(history) + 1))


async def test_a_customer_cannot_touch_another_customers_session(connect: Connect) -> None:
    alice = await connect("customer", "alice-customer")
    mallory = await connect("customer", "mallory")
    sid = (await alice.start_session()).session_id
    await expect(ErrorCode.FORBIDDEN, mallory.send(sid, "hijack"))
    await expect(ErrorCode.FORBIDDEN, mallory.history(sid))
    await expect(ErrorCode.FORBIDDEN, mallory.escalate(sid))
    await expect(ErrorCode.FORBIDDEN, mallory.close_session(sid))
    await expect(ErrorCode.FORBIDDEN, mallory.start_session(sid))
    await expect(ErrorCode.NOT_FOUND, mallory.send("s_doesnotexist", "hi"))
    assert all(m["sender"]["id"] != "mallory" for m in await alice.history(sid))


async def test_an_agent_cannot_touch_a_session_they_do_not_hold(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    alice = await connect("agent", "alice", name="Alice")
    eve = await connect("agent", "eve", name="Eve")
    await alice.accept(sid)
    await expect(ErrorCode.ALREADY_TAKEN, eve.accept(sid))
    await expect(ErrorCode.FORBIDDEN, eve.send(sid, "hello from eve"))
    await expect(ErrorCode.FORBIDDEN, eve.history(sid))
    await expect(ErrorCode.FORBIDDEN, eve.end(sid))
    await alice.send(sid, "still fine")


async def test_html_is_stored_and_relayed_as_text(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    agent = await connect("agent", "alice", name="Alice")
    await agent.accept(sid)
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    ack = await customer.request(Event.CHAT_SEND, {"session_id": sid, "client_id": "c_html", "text": hostile})
    assert ack["message"]["text"] == hostile
    relayed = await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m["client_id"] == "c_html")
    assert relayed["text"] == hostile
    assert [m["text"] for m in await customer.history(sid) if m["client_id"] == "c_html"] == [hostile]


async def test_flooding_is_rate_limited_without_disconnecting(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    sid = (await customer.start_session()).session_id
    results = []
    for _ in range(80):
        try:
            await customer.typing(sid, True)
            results.append("ok")
        except ProtocolError as exc:
            results.append(exc.code)
    assert ErrorCode.RATE_LIMITED in results and customer.connected


async def test_token_lifetime_is_bounded(signing_key: SigningKey) -> None:
    with pytest.raises(TokenError):
        AccessToken(signing_key, issuer=ISSUER, audience=AUDIENCE, ttl=timedelta(days=30)).with_identity(
            "x"
        ).as_customer().to_jwt()
