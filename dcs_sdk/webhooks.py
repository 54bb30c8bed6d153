"""Webhook signatures, as the DCS server sends them and a receiver checks them.

DCS follows the Standard Webhooks scheme (https://www.standardwebhooks.com), so any of its
libraries verifies DCS deliveries too. Each delivery carries three headers:

- ``webhook-id``: the event id (``evt_...``), the same on every retry: dedupe by it;
- ``webhook-timestamp``: when this attempt was signed, in Unix seconds;
- ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``
  keyed with the endpoint's secret (several space-separated signatures while a secret is
  being rotated).

A secret written ``whsec_<base64>`` is the key those bytes decode to (Standard Webhooks'
form; ``generate_secret()`` makes one); any other string is its UTF-8 bytes.

    from dcs_sdk.webhooks import verify, WebhookVerificationError

    try:
        event = verify(await request.read(), request.headers, secret)
    except WebhookVerificationError:
        return web.Response(status=400)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

from .exceptions import DcsError

# The event types a DCS endpoint can subscribe to (docs/deployment.md, "Webhooks").
EVENT_TYPES = (
    "session.escalated",
    "session.accepted",
    "session.transferred",
    "session.ended",
    "csat.submitted",
    "message.left",
)
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300


class WebhookVerificationError(DcsError):
    """A delivery that is not signed with the secret, or not recently enough."""


def generate_secret() -> str:
    """A fresh endpoint secret in Standard Webhooks' ``whsec_`` form (32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str | bytes) -> bytes:
    """The HMAC key a secret stands for."""
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :] + "==", validate=False)
        except binascii.Error as exc:
            raise WebhookVerificationError("The whsec_ secret is not valid base64.") from exc
    return secret.encode()


def _to_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


def sign(event_id: str, timestamp: int, body: bytes | str, secret: str | bytes) -> str:
    """The ``webhook-signature`` value for one delivery: ``v1,<base64 HMAC-SHA256>``."""
    signed = f"{event_id}.{timestamp}.".encode() + _to_bytes(body)
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    event_id: str, body: bytes | str, secret: str | bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three headers of a delivery of ``body`` signed now (or at ``timestamp``)."""
    at = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(at),
        "webhook-signature": sign(event_id, at, body, secret),
    }


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """The event a delivery carries, once its signature and timestamp check out.

    ``body`` is the request body exactly as received (not re-serialised JSON); ``headers``
    any mapping of its headers (names in any case). Raises WebhookVerificationError when a
    header is missing, the timestamp is more than ``tolerance_s`` from now (a replay), or
    no signature matches.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    event_id, stamp, signatures = (
        lower.get("webhook-id"),
        lower.get("webhook-timestamp"),
        lower.get("webhook-signature"),
    )
    if not (event_id and stamp and signatures):
        raise WebhookVerificationError(
            "The delivery lacks the webhook-id, webhook-timestamp or webhook-signature header."
        )
    try:
        at = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError("The webhook-timestamp header is not Unix seconds.") from exc
    if abs((time.time() if now is None else now) - at) > tolerance_s:
        raise WebhookVerificationError(
            f"The delivery was signed {stamp}, more than {tolerance_s:g} s from now: refused as a replay."
        )
    expected = sign(event_id, at, body, secret).encode()
    if not any(hmac.compare_digest(expected, given.encode()) for given in signatures.split()):
        raise WebhookVerificationError("No signature on the delivery matches the secret.")
    try:
        event = json.loads(_to_bytes(body))
    except ValueError as exc:
        raise WebhookVerificationError("The delivery's body is not JSON.") from exc
    if not isinstance(event, dict):
        raise WebhookVerificationError("The delivery's body is not a JSON object.")
    return event
