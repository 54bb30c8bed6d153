"""Mint and verify DCS access tokens.

A site's backend mints a short-lived ES256 JWT for each customer, agent or supervisor; the
browser passes it in the socket.io ``auth`` payload and the server verifies it on every
connect. Keys carry a ``kid`` so they can rotate: the server accepts every public key in
its key set and picks one by the token header's ``kid``.

    key = SigningKey.generate()
    token = (AccessToken(key, issuer="https://shop.example", audience="dcs")
             .with_identity("v_123", name="Sam")
             .as_customer(attributes={"plan": "gold"})
             .to_jwt())
    claims = TokenVerifier(KeySet([key.public()]), issuer=..., audience="dcs").verify(token)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .exceptions import ConfigError, TokenError
from .protocol import MAX_DEPTH, MAX_NAME_CHARS, MAX_TOKEN_CHARS, ErrorCode, Role, unclean

ALGORITHM: Final = "ES256"
DEFAULT_TTL: Final = timedelta(minutes=10)
MAX_TTL: Final = timedelta(hours=12)
DEFAULT_LEEWAY: Final = timedelta(seconds=10)
DEFAULT_AGENT_CAPACITY: Final = 3
MAX_SUB_CHARS: Final = 128
MAX_SKILLS: Final = 100

# What a service token (server to server, the REST API) may be granted; each API endpoint
# names the one scope it needs (docs/api.md).
SCOPES: Final = frozenset(
    {
        "sessions:read",
        "sessions:write",
        "reports:read",
        "customers:export",
        "customers:erase",
        "audit:read",
    }
)
# What a supervisor's own token may do on the REST API (the console's Reports view).
SUPERVISOR_SCOPES: Final = frozenset({"sessions:read", "sessions:write", "reports:read", "audit:read"})
# Who may open a socket.io connection; a service token is for the REST API only.
CONNECTING_ROLES: Final = frozenset({Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR})


@dataclass(frozen=True)
class PublicKey:
    """An EC P-256 public key and its key id."""

    kid: str
    key: ec.EllipticCurvePublicKey

    def to_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key))
        return {**jwk, "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or not jwk.get("kid"):
            raise ConfigError("A JWKS key must be an EC P-256 key with a 'kid'.")
        key = jwt.algorithms.ECAlgorithm.from_jwk(dict(jwk))
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ConfigError(f"JWKS key {jwk['kid']!r} is a private key; publish public keys.")
        return cls(kid=str(jwk["kid"]), key=key)


@dataclass(frozen=True)
class SigningKey:
    """An EC P-256 private key used to sign tokens, with its key id."""

    kid: str
    key: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def generate(cls, kid: str | None = None) -> SigningKey:
        return cls(kid=kid or f"k_{secrets.token_hex(6)}", key=ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes, kid: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ConfigError("The signing key must be an EC P-256 private key in PEM form.")
        return cls(kid=kid, key=key)

    def to_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public(self) -> PublicKey:
        return PublicKey(kid=self.kid, key=self.key.public_key())


class KeySet:
    """The public keys a verifier trusts, by ``kid``."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys: dict[str, PublicKey] = {k.kid: k for k in keys}

    def get(self, kid: str) -> PublicKey | None:
        return self._keys.get(kid)

    def replace_all(self, keys: Iterable[PublicKey]) -> None:
        self._keys = {k.kid: k for k in keys}

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(list(self._keys.values()))

    def to_jwks(self) -> dict[str, Any]:
        return {"keys": [k.to_jwk() for k in self._keys.values()]}

    @classmethod
    def from_jwks(cls, jwks: Mapping[str, Any]) -> KeySet:
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            raise ConfigError("A JWKS document must be an object with a 'keys' list.")
        return cls(PublicKey.from_jwk(k) for k in keys)

    @classmethod
    def from_file(cls, path: str | Path) -> KeySet:
        """Load a JWKS JSON file, or a PEM public key whose file name (stem) is its kid."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read the public key file {p}: {exc.strerror}.") from exc
        if data.lstrip().startswith(b"{"):
            return cls.from_jwks(json.loads(data))
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ConfigError(f"{p} does not hold an EC public key.")
        return cls([PublicKey(kid=p.stem, key=key)])


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says about who is connecting."""

    sub: str
    role: Role
    name: str
    expires_at: float
    attributes: Mapping[str, Any] = field(default_factory=dict)
    skills: tuple[str, ...] = ()
    max_sessions: int = DEFAULT_AGENT_CAPACITY
    # A service token's grants (SCOPES); empty for every other role.
    scopes: frozenset[str] = frozenset()

    def serves(self, queue: str) -> bool:
        """Whether an agent with these claims takes sessions from ``queue``."""
        return "*" in self.skills or queue in self.skills


@dataclass(frozen=True)
class AccessToken:
    """A fluent builder for one token; every ``with_``/``as_`` call returns a new builder."""

    signing_key: SigningKey
    issuer: str
    audience: str
    ttl: timedelta = DEFAULT_TTL
    sub: str = ""
    name: str = ""
    role: Role | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_identity(self, sub: str, *, name: str = "") -> AccessToken:
        return replace(self, sub=sub, name=name)

    def with_ttl(self, ttl: timedelta) -> AccessToken:
        return replace(self, ttl=ttl)

    def as_customer(self, *, attributes: Mapping[str, Any] | None = None) -> AccessToken:
        return replace(self, role=Role.CUSTOMER, extra={"attrs": dict(attributes or {})})

    def as_agent(
        self, *, skills: Iterable[str] = ("*",), max_sessions: int = DEFAULT_AGENT_CAPACITY
    ) -> AccessToken:
        return replace(self, role=Role.AGENT, extra={"skills": list(skills), "max_sessions": max_sessions})

    def as_supervisor(self, *, queues: Iterable[str] = ("*",)) -> AccessToken:
        """A supervisor overseeing ``queues`` (their ``skills`` claim; ``"*"`` = all)."""
        return replace(self, role=Role.SUPERVISOR, extra={"skills": list(queues)})

    def as_service(self, *, scopes: Iterable[str]) -> AccessToken:
        """A server-to-server token for the REST API, granted ``scopes`` (see SCOPES)."""
        return replace(self, role=Role.SERVICE, extra={"scopes": sorted(set(scopes))})

    def to_jwt(self) -> str:
        if not self.sub:
            raise TokenError(ErrorCode.TOKEN_INVALID, "A token needs an identity: call with_identity().")
        if self.role is None:
            raise TokenError(ErrorCode.TOKEN_INVALID, "A token needs a role: call as_customer()/as_agent().")
        if not timedelta(0) < self.ttl <= MAX_TTL:
            raise TokenError(ErrorCode.TOKEN_INVALID, f"A token's TTL must be between 0 and {MAX_TTL}.")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": self.sub,
            "iat": now,
            "nbf": now,
            "exp": now + int(self.ttl.total_seconds()),
            "jti": secrets.token_urlsafe(12),
            "role": self.role.value,
            "name": self.name,
            **self.extra,
        }
        # refuse at minting what every server would refuse
        _claims_from(claims, frozenset(Role))
        return jwt.encode(
            claims, self.signing_key.key, algorithm=ALGORITHM, headers={"kid": self.signing_key.kid}
        )


class TokenVerifier:
    """Verifies tokens with a pinned algorithm, audience, issuer, expiry and trusted key set."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        leeway: timedelta = DEFAULT_LEEWAY,
    ) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway

    def kid_of(self, token: str) -> str:
        """The token's ``kid``, read from the (still unverified) header."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError(ErrorCode.TOKEN_INVALID, "The token is not a well-formed JWT.") from exc
        if header.get("alg") != ALGORITHM:
            raise TokenError(
                ErrorCode.TOKEN_INVALID,
                f"The token is signed with {header.get('alg')!r}; only {ALGORITHM} is accepted.",
            )
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError(ErrorCode.TOKEN_INVALID, "The token header has no key id (kid).")
        return kid

    def verify(self, token: str, *, roles: Iterable[Role] = CONNECTING_ROLES) -> Claims:
        """The token's claims if it verifies and names one of ``roles``, else TokenError."""
        if not isinstance(token, str) or not token:
            raise TokenError(ErrorCode.TOKEN_MISSING, "No token was given.")
        check_token_size(token)
        kid = self.kid_of(token)
        public = self.keys.get(kid)
        if public is None:
            raise TokenError(ErrorCode.TOKEN_INVALID, f"The token's key {kid!r} is not trusted.")
        try:
            raw = jwt.decode(
                token,
                public.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError(ErrorCode.TOKEN_EXPIRED, "The token has expired; fetch a new one.") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenError(ErrorCode.TOKEN_INVALID, "The token is meant for another audience.") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenError(ErrorCode.TOKEN_INVALID, "The token comes from an untrusted issuer.") from exc
        except jwt.PyJWTError as exc:
            raise TokenError(ErrorCode.TOKEN_INVALID, f"The token did not verify: {exc}.") from exc
        return _claims_from(raw, frozenset(roles))


def check_token_size(token: str) -> None:
    """TokenError (token_invalid) for a token longer than MAX_TOKEN_CHARS."""
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(
            ErrorCode.TOKEN_INVALID,
            f"The token is {len(token):,} characters long; the limit is {MAX_TOKEN_CHARS:,}.",
        )


def _invalid(sentence: str) -> TokenError:
    return TokenError(ErrorCode.TOKEN_INVALID, sentence)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_line(claim: str, value: Any, max_chars: int, *, empty: bool) -> str:
    if not isinstance(value, str):
        raise _invalid(f"The token's {claim} must be a string.")
    if not empty and not value:
        raise _invalid(f"The token's {claim} must not be empty.")
    if len(value) > max_chars:
        raise _invalid(f"The token's {claim} must be at most {max_chars} characters.")
    if (what := unclean(value, line=True)) is not None:
        raise _invalid(f"The token's {claim} contains {what}; it must be one line of plain text.")
    return value


def _check_attrs(attrs: Any) -> dict[str, Any]:
    """attrs: a JSON object whose strings are plain text, numbers finite, nesting bounded."""
    if not isinstance(attrs, dict):
        raise _invalid("The token's attrs must be an object.")
    stack: list[tuple[Any, int]] = [(attrs, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise _invalid(f"The token's attrs nest more than {MAX_DEPTH} levels deep.")
            if isinstance(node, dict):
                for key in node:
                    stack.append((key, depth))
                stack.extend((v, depth + 1) for v in node.values())
            else:
                stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str):
            if (what := unclean(node)) is not None:
                raise _invalid(f"A value in the token's attrs contains {what}; attrs must be plain text.")
        elif isinstance(node, int | float) and not isinstance(node, bool) and not _is_number(node):
            raise _invalid("A number in the token's attrs is not finite.")
    return attrs


_NO_SCOPES: frozenset[str] = frozenset()  # CPython 3.11 makes a new empty one per call
_NO_ATTRS: Mapping[str, Any] = MappingProxyType({})  # read-only: shared by every such token


def _check_scopes(role: Role, scopes: Any) -> frozenset[str]:
    if role is not Role.SERVICE:
        return _NO_SCOPES
    if not isinstance(scopes, list) or not scopes:
        raise _invalid("A service token's scopes must be a non-empty list; see dcs_sdk.tokens.SCOPES.")
    unknown = sorted(str(s) for s in scopes if s not in SCOPES)
    if unknown:
        raise _invalid(f"Unknown scope {unknown[0]!r}; the scopes are {', '.join(sorted(SCOPES))}.")
    return frozenset(scopes)


def _claims_from(raw: Mapping[str, Any], roles: frozenset[Role]) -> Claims:
    try:
        role = Role(str(raw.get("role")))
    except ValueError as exc:
        raise TokenError(ErrorCode.TOKEN_INVALID, "The token names no valid role.") from exc
    if role not in (Role.CUSTOMER, Role.AGENT, Role.SUPERVISOR, Role.SERVICE):
        raise TokenError(ErrorCode.TOKEN_INVALID, f"Role {role.value!r} cannot connect.")
    if role not in roles:
        if role is Role.SERVICE:
            raise TokenError(ErrorCode.TOKEN_INVALID, "A service token is for the REST API only.")
        raise TokenError(ErrorCode.TOKEN_INVALID, f"A {role.value} token cannot be used here.")
    # PyJWT reads "exp": "1999999999" as a number; the token format says numbers.
    for claim in ("exp", "iat", "nbf"):
        if claim in raw and not _is_number(raw[claim]):
            raise _invalid(f"The token's {claim} must be a number (seconds since the epoch).")
    sub = _check_line("subject (sub)", raw["sub"], MAX_SUB_CHARS, empty=False)
    name = raw.get("name")
    name = _check_line("name", "" if name is None else name, MAX_NAME_CHARS, empty=True)
    attrs = _check_attrs(raw["attrs"]) if "attrs" in raw else _NO_ATTRS
    skills = raw.get("skills", [])
    max_sessions = raw.get("max_sessions", DEFAULT_AGENT_CAPACITY)
    if not isinstance(skills, list) or len(skills) > MAX_SKILLS:
        raise _invalid(f"The token's skills must be a list of at most {MAX_SKILLS} queue names.")
    for skill in skills:
        _check_line("skills", skill, 64, empty=False)
    if not isinstance(max_sessions, int) or isinstance(max_sessions, bool):
        raise _invalid("The token's max_sessions must be an integer.")
    return Claims(
        sub=sub,
        role=role,
        name=name,
        expires_at=float(raw["exp"]),
        attributes=attrs,
        skills=tuple(skills),
        max_sessions=max(1, min(max_sessions, 50)),
        scopes=_check_scopes(role, raw.get("scopes")),
    )


def turn_credentials(secret: str, identity: str, ttl: timedelta) -> tuple[str, str]:
    """TURN REST credentials as coturn's ``use-auth-secret`` expects them.

    The username is ``expiry:identity`` and the password the base64 HMAC-SHA1 of it keyed
    with the shared secret, so coturn can check them without a database.
    """
    username = f"{int(time.time() + ttl.total_seconds())}:{identity}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()
