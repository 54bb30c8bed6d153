"""Webhook endpoints from the configuration: ``webhooks = {name: {url, secret, events}}``.

    [webhooks.crm]
    url = "https://crm.shop.example/dcs-events"
    secret = "whsec_..."            # dcs_sdk.webhooks.generate_secret()
    events = ["session.ended", "csat.submitted"]   # omitted: every event type

The name identifies the endpoint in the outbox and the delivery log, so keep it when the
URL changes (events not yet delivered then go to the new URL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.webhooks import EVENT_TYPES, WebhookVerificationError, secret_key

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_SECRET_BYTES = 16


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    secret: str
    events: frozenset[str]

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


def parse_endpoints(config: Mapping[str, Any]) -> tuple[Endpoint, ...]:
    """The configured endpoints, or ConfigError saying which one is wrong and how."""
    endpoints = []
    for name, spec in config.items():
        where = f"webhooks.{name}"
        if not NAME.match(str(name)):
            raise ConfigError(f"Webhook endpoint name {name!r}: use 1-64 letters, digits, '.', '_' or '-'.")
        if not isinstance(spec, Mapping):
            raise ConfigError(f"{where} must be a table with url, secret and events.")
        unknown = set(spec) - {"url", "secret", "events"}
        if unknown:
            raise ConfigError(f"{where} has unknown keys {sorted(unknown)}; it takes url, secret and events.")
        url = str(spec.get("url", ""))
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"{where}.url must be an http:// or https:// URL, not {url!r}.")
        secret = str(spec.get("secret", ""))
        try:
            key = secret_key(secret)
        except WebhookVerificationError as exc:
            raise ConfigError(f"{where}.secret: {exc}") from exc
        if len(key) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"{where}.secret must be at least {MIN_SECRET_BYTES} bytes; "
                "make one with dcs_sdk.webhooks.generate_secret()."
            )
        events = spec.get("events", list(EVENT_TYPES))
        if isinstance(events, str) or not all(isinstance(e, str) for e in events):
            raise ConfigError(f"{where}.events must be a list of event types.")
        wrong = sorted(set(events) - set(EVENT_TYPES))
        if wrong:
            raise ConfigError(f"{where}.events: {wrong} unknown; the types are {', '.join(EVENT_TYPES)}.")
        endpoints.append(Endpoint(str(name), url, secret, frozenset(events)))
    return tuple(endpoints)
