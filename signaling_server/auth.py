"""Who may connect, and who may touch which session.

Tokens are verified on every connect and reconnect (dcs_sdk.tokens pins ES256, audience,
issuer and expiry); browser origins are checked against an allow-list; every event on a
session is checked against the session's participants.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from dcs_sdk.exceptions import ConfigError, TokenError
from dcs_sdk.protocol import ErrorCode, Role
from dcs_sdk.tokens import Claims, KeySet, SigningKey, TokenVerifier, check_token_size

from .config import Config
from .store import SessionRecord

log = logging.getLogger(__name__)

DEMO_KEY_FILE = "demo-signing-key.pem"
DEMO_KID_FILE = "demo-signing-key.kid"


def ensure_demo_key(data_dir: str | Path) -> SigningKey:
    """The demo's signing key: made on first run, then read from ``data_dir``."""
    folder = Path(data_dir)
    pem_path, kid_path = folder / DEMO_KEY_FILE, folder / DEMO_KID_FILE
    if pem_path.exists() and kid_path.exists():
        return SigningKey.from_pem(pem_path.read_bytes(), kid_path.read_text().strip())
    folder.mkdir(parents=True, exist_ok=True)
    key = SigningKey.generate()
    pem_path.touch(mode=0o600)
    pem_path.write_bytes(key.to_pem())
    kid_path.write_text(key.kid)
    log.info("generated a demo signing key %s in %s", key.kid, folder)
    return key


class JwksSource:
    """Keeps a KeySet in step with a JWKS URL: fetched at start and when a kid is unknown."""

    MIN_REFRESH_S = 30.0

    def __init__(self, url: str, keys: KeySet) -> None:
        self.url = url
        self.keys = keys
        self._last_fetch = 0.0

    async def refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_fetch < self.MIN_REFRESH_S:
            return
        self._last_fetch = now
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(self.url) as resp:
            if resp.status != 200:
                raise ConfigError(f"The JWKS URL {self.url} answered HTTP {resp.status}.")
            self.keys.replace_all(KeySet.from_jwks(await resp.json(content_type=None)))


class Authenticator:
    def __init__(
        self, verifier: TokenVerifier, allowed_origins: tuple[str, ...], jwks: JwksSource | None = None
    ) -> None:
        self.verifier = verifier
        self.allowed_origins = allowed_origins
        self.jwks = jwks

    async def authenticate(self, auth: Any, environ: Mapping[str, Any]) -> Claims:
        """Claims of a connecting client, or TokenError with a wire code and a sentence."""
        self.check_origin(environ)
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenError(
                ErrorCode.TOKEN_MISSING, 'Connect with a token in the auth payload: {"token": "..."}.'
            )
        check_token_size(token)
        if self.jwks is not None and self.verifier.keys.get(self.verifier.kid_of(token)) is None:
            try:
                await self.jwks.refresh()
            except (aiohttp.ClientError, TimeoutError, ConfigError) as exc:
                log.warning("JWKS refresh failed: %s", exc)
        return self.verifier.verify(token)

    def check_origin(self, environ: Mapping[str, Any]) -> None:
        origin = environ.get("HTTP_ORIGIN")
        if not origin or "*" in self.allowed_origins or origin in self.allowed_origins:
            return  # no Origin header: not a browser, so the token alone decides
        host = environ.get("HTTP_HOST", "")
        if urlsplit(origin).netloc == host:
            return  # same origin as the server
        raise TokenError(ErrorCode.ORIGIN_DENIED, f"Connections from {origin} are not allowed.")


def build_authenticator(config: Config, demo_key: SigningKey | None) -> Authenticator:
    keys = KeySet()
    if config.public_keys_file:
        keys = KeySet.from_file(config.public_keys_file)
    if demo_key is not None:
        keys = KeySet([*keys, demo_key.public()])
    jwks = JwksSource(config.jwks_url, keys) if config.jwks_url else None
    if not len(keys) and jwks is None:
        raise ConfigError(
            "No token keys are configured: set public_keys_file or jwks_url, or run with --demo."
        )
    verifier = TokenVerifier(keys, issuer=config.issuer, audience=config.audience)
    return Authenticator(verifier, config.allowed_origins, jwks)


def may_act_on(claims: Claims, session: SessionRecord) -> bool:
    """Whether this participant belongs to the session: its customer, the agent holding it,
    or a supervisor who oversees its queue (the token's ``skills``, as for agents)."""
    if claims.role is Role.CUSTOMER:
        return session.customer_id == claims.sub
    if claims.role is Role.AGENT:
        return session.agent_id == claims.sub
    return claims.role is Role.SUPERVISOR and claims.serves(session.queue)
