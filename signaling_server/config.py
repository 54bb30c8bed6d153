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
    # Several server processes serving one deployment (cluster/, docs/deployment.md): the
    # Redis they share (redis://host:6379/0), and the prefix of their channels and keys, so
    # deployments (or tests) on one Redis never meet. Empty: one process, no Redis.
    redis_url: str = ""
    redis_prefix: str = "dcs"
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
    # A warm transfer to a named agent not answered in this many seconds returns to the
    # sender; the supervisor wall's service level counts answers within service_level_s.
    transfer_timeout_s: float = 60.0
    service_level_s: float = 60.0
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
    # "text", or "json": one object per line with time, level, logger, message and, when
    # known, session_id, event and sid (signaling_server/logs.py).
    log_format: str = "text"
    # Prometheus metrics (docs/deployment.md, "Metrics"): GET /metrics on an admin listener
    # at metrics_host:metrics_port (0: no admin listener), which also carries the webhook
    # delivery log; with metrics_token set, every admin route wants "Authorization: Bearer
    # <token>" and /metrics is served on the public port too, behind that token.
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"
    metrics_token: str = ""
    # Signed webhooks (docs/deployment.md, "Webhooks"): {name: {url, secret, events}}.
    # A failed delivery is retried after webhook_retry_base_s, doubling up to
    # webhook_retry_max_s (with jitter), until webhook_give_up_after_s after the event.
    webhooks: Mapping[str, Any] = field(default_factory=dict)
    webhook_timeout_s: float = 10.0
    webhook_retry_base_s: float = 1.0
    webhook_retry_max_s: float = 300.0
    webhook_give_up_after_s: float = 3 * 24 * 3600.0
    # Retention (store/privacy.py): transcripts, attributes, notes, left messages and page
    # history older than this many days are deleted, every retention_interval_s; the
    # sessions' timestamps, queue, agent and scores stay for the reports. 0 keeps everything.
    retention_days: int = 0
    retention_interval_s: float = 3600.0
    # Reports: how often the daily rollups are brought up to date (reports/rollup.py).
    report_rollup_interval_s: float = 600.0
    # dcs-server's collector (gc_tuning.py): how often the frozen objects get one full
    # collection (a pause of the loop: dcs_gc_pause_seconds{generation="thaw"}).
    gc_thaw_interval_s: float = 3600.0
    # REST API (/api/v1): requests per token identity, a burst refilled at api_rate_per_s.
    api_rate_burst: int = 60
    api_rate_per_s: float = 10.0
    # The console's wrap-up (workspace.py): disposition codes and labels, {code: label}; when
    # set, every wrap-up must name one. Canned responses per queue ("*": all queues):
    # {queue: [{shortcut, title, text}]}, typed as /shortcut, placeholders like {first_name}.
    dispositions: Mapping[str, Any] = field(default_factory=dict)
    canned_responses: Mapping[str, Any] = field(default_factory=dict)
    # Attachments (signaling_server/attachments/): files customers and agents send in a chat,
    # up to attachment_max_bytes, of the types in attachment_types (checked from the bytes:
    # image/png, image/jpeg, image/gif, image/webp, application/pdf, text/plain), stored under
    # attachment_dir ("": data_dir/attachments), fetched through signed links that expire
    # after attachment_link_ttl_s. The links' key: attachment_secret, or a key made in
    # data_dir on first run (give every process of a deployment the same secret).
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_types: tuple[str, ...] = (
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
    )
    attachment_dir: str = ""
    # Or an S3-compatible bucket instead of attachment_dir (the "s3" extra): {bucket,
    # endpoint_url?, region?, access_key_id?, secret_access_key?, prefix?}.
    attachment_s3: Mapping[str, Any] = field(default_factory=dict)
    attachment_link_ttl_s: int = 300
    attachment_secret: str = ""
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
