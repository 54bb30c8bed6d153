"""Webhook signatures (dcs_sdk.webhooks) against an independent implementation of the same
scheme (the standardwebhooks library), and the endpoint settings' errors."""

from __future__ import annotations

import json
import time

import pytest
import standardwebhooks

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.webhooks import (
    EVENT_TYPES,
    WebhookVerificationError,
    generate_secret,
    sign,
    signed_headers,
    verify,
)
from signaling_server import Config, create_app
from signaling_server.webhooks import parse_endpoints
from signaling_server.webhooks.delivery import RetryPolicy

BODY = json.dumps({"id": "evt_1", "type": "session.ended", "data": {"x": "é"}}, ensure_ascii=False).encode()


@pytest.mark.parametrize("secret", [generate_secret(), "a plain secret of some length"])
def test_round_trip_and_the_reference_library_agree(secret: str) -> None:
    headers = signed_headers("evt_1", BODY, secret)
    assert verify(BODY, headers, secret)["data"] == {"x": "é"}
    reference = standardwebhooks.Webhook(secret if secret.startswith("whsec_") else secret.encode())
    assert reference.verify(BODY, headers) == json.loads(BODY)
    # and what the reference signs, we verify
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    theirs = reference.sign("evt_2", now, BODY.decode())
    stamp = str(int(now.timestamp()))
    assert verify(
        BODY, {"webhook-id": "evt_2", "webhook-timestamp": stamp, "webhook-signature": theirs}, secret
    )


def test_what_does_not_verify_says_why() -> None:
    secret = generate_secret()
    headers = signed_headers("evt_1", BODY, secret)
    cases = {
        "tampered body": (BODY.replace(b"ended", b"eNded"), headers, secret),
        "another secret": (BODY, headers, generate_secret()),
        "another id": (BODY, {**headers, "webhook-id": "evt_2"}, secret),
        "no signature": (BODY, {k: v for k, v in headers.items() if k != "webhook-signature"}, secret),
        "bad timestamp": (BODY, {**headers, "webhook-timestamp": "soon"}, secret),
    }
    for what, (body, given, key) in cases.items():
        with pytest.raises(WebhookVerificationError):
            verify(body, given, key)
            pytest.fail(what)
    old = signed_headers("evt_1", BODY, secret, timestamp=int(time.time()) - 600)
    with pytest.raises(WebhookVerificationError, match="replay"):
        verify(BODY, old, secret)
    assert verify(BODY, old, secret, tolerance_s=900)["id"] == "evt_1"


def test_header_names_in_any_case_and_rotated_secrets() -> None:
    old, new = generate_secret(), generate_secret()
    headers = signed_headers("evt_1", BODY, new)
    both = f"{sign('evt_1', int(headers['webhook-timestamp']), BODY, old)} {headers['webhook-signature']}"
    upper = {k.upper(): v for k, v in {**headers, "webhook-signature": both}.items()}
    assert verify(BODY.decode(), upper, new)["id"] == "evt_1"
    assert verify(BODY, upper, old)["id"] == "evt_1"


def test_endpoint_settings_are_checked_with_a_sentence() -> None:
    good = {"url": "https://crm.example/hooks", "secret": generate_secret()}
    (endpoint,) = parse_endpoints({"crm": good})
    assert endpoint.events == frozenset(EVENT_TYPES)
    bad = {
        "bad name": {"crm hooks": good},
        "scheme": {"crm": {**good, "url": "ftp://crm.example"}},
        "short secret": {"crm": {**good, "secret": "short"}},
        "unknown event": {"crm": {**good, "events": ["session.exploded"]}},
        "unknown key": {"crm": {**good, "retries": 3}},
        "not a table": {"crm": "https://crm.example"},
        "events as a string": {"crm": {**good, "events": "session.ended"}},
    }
    for what, config in bad.items():
        with pytest.raises(ConfigError) as info:
            parse_endpoints(config)
        assert str(info.value).endswith("."), what
    with pytest.raises(ConfigError, match="webhooks.crm.url"):
        create_app(Config(webhooks={"crm": {**good, "url": "nowhere"}}, data_dir=""))


def test_backoff_doubles_to_its_cap_with_jitter() -> None:
    policy = RetryPolicy(base_s=1.0, max_s=300.0)
    for attempt, full in [(1, 1.0), (2, 2.0), (5, 16.0), (9, 256.0), (10, 300.0), (200, 300.0)]:
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1  # jittered
