"""Server configuration: a TOML file, then ``DCS_*`` environment variables, then flags.

Every field is documented in README.md ("Configuration reference").
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from dcs_sdk.exceptions import ConfigError

DEFAULT_ASSISTANT = "dcs_sdk.assistant.faq:FaqAssistant"


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8700
    # Where demo keys and the default SQLite file live.
    data_dir: str = ".dcs"
    # Empty means an SQLite file in data_dir.
    database_url: str = ""
    # Token verification: the issuer and audience every token must name, and the trusted
    # public keys (a JWKS/PEM file, or a JWKS URL fetched at start and on unknown kids).
    issuer: str = "dcs-demo"
    audience: str = "dcs"
    public_keys_file: str = ""
    jwks_url: str = ""
    # Browser origins allowed to connect; empty means the server's own origin only, "*" any.
    allowed_origins: tuple[str, ...] = ()
    # Other origins the customers' sites load images, web fonts and stylesheets from (their
    # CDNs): the console's co-browse replay may load them too (csp.py), as it may from
    # allowed_origins. Never scripts.
    cobrowse_asset_origins: tuple[str, ...] = ()
    # The virtual assistant, as "module:Class", and keyword arguments for it.
    assistant: str = DEFAULT_ASSISTANT
    assistant_options: Mapping[str, Any] = field(default_factory=dict)
    # The queue a session joins when the assistant names none.
    default_queue: str = "general"
    # No longer used: wait estimates come from measured waits only (kept so that older
    # config files still load).
    default_wait_s: int = 60
    # Opening hours per queue ("*": every other queue), e.g. {"general": "Mon-Fri 09:00-17:00"},
    # in opening_hours_timezone (an IANA name); a queue without hours is always open.
    opening_hours: Mapping[str, Any] = field(default_factory=dict)
    opening_hours_timezone: str = "UTC"
    # An agent whose every console connection has been gone this long (seconds) has left:
    # their live sessions go back to the front of their queue (as on agent.signout).
    agent_grace_s: float = 60.0
    # Per-connection event budget: a burst, refilled at rate_per_s.
    rate_burst: int = 40
    rate_per_s: float = 20.0
    # Connection bounds (limits.py). A connection whose outgoing queue (what waits to be
    # sent to a client that does not read) passes send_queue_max_bytes is cut; it resumes
    # by seq when it reconnects.
    send_queue_max_bytes: int = 2 * 1024 * 1024
    # An Engine.IO connection that has not completed the socket.io connect (authenticated)
    # this long after it opened is closed (seconds).
    connect_timeout_s: float = 5.0
    # An HTTP connection without a complete request head this long after it opened or
    # after its last response is closed: silent, half-sent and idle keep-alive connections.
    http_idle_timeout_s: float = 5.0
    # A request body must arrive in full this long after its head.
    http_body_timeout_s: float = 10.0
    # On SIGTERM: how long in-flight events get to finish and connections to close before
    # the rest is cut; the process exits about 0.5 s after that at most.
    shutdown_grace_s: float = 0.75
    # WebRTC: ICE servers handed to both sides of a call. TURN credentials are minted per
    # participant from turn_secret (coturn's use-auth-secret) and expire after turn_ttl_s.
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_s: int = 3600
    ice_transport_policy: str = "all"
    # Demo mode: generate a key pair on first run, mount the demo shop and demo agents.
    demo: bool = False
    log_level: str = "INFO"
    # Serve the browser code's source maps (/widget/*.map, /console/*.map); off in production.
    serve_source_maps: bool = False

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'dcs.sqlite3'}"

    def with_overrides(self, values: Mapping[str, Any]) -> Config:
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"Unknown setting {key!r}; see the configuration reference.")
            clean[key] = _coerce(key, value, getattr(self, key))
        return replace(self, **clean)


def _coerce(key: str, value: Any, current: Any) -> Any:
    try:
        if isinstance(current, bool):
            return value if isinstance(value, bool) else str(value).lower() in {"1", "true", "yes", "on"}
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, tuple):
            items = value if isinstance(value, list | tuple) else str(value).split(",")
            return tuple(str(v).strip() for v in items if str(v).strip())
        if isinstance(current, Mapping):
            return dict(json.loads(value) if isinstance(value, str) else value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"Setting {key!r} has a value of the wrong type: {value!r}.") from exc
    return str(value)


def load_config(path: str | None = None, env: Mapping[str, str] | None = None, **flags: Any) -> Config:
    config = Config()
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"Cannot read the config file {path}: {exc.strerror}.") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"The config file {path} is not valid TOML: {exc}.") from exc
        config = config.with_overrides(data.get("dcs", data))
    environ = os.environ if env is None else env
    from_env = {
        name[4:].lower(): value
        for name, value in environ.items()
        if name.startswith("DCS_") and name[4:].lower() in {f.name for f in fields(Config)}
    }
    config = config.with_overrides(from_env)
    return config.with_overrides({k: v for k, v in flags.items() if v is not None})
