"""Token minting and verification as a round trip, and the key formats a server loads."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from dcs_sdk import (
    AccessToken,
    ConfigError,
    KeySet,
    Role,
    SigningKey,
    TokenError,
    TokenVerifier,
    turn_credentials,
)


def verifier(*keys: SigningKey) -> TokenVerifier:
    return TokenVerifier(KeySet(k.public() for k in keys), issuer="iss", audience="aud")


def test_customer_round_trip() -> None:
    key = SigningKey.generate()
    token = (
        AccessToken(key, issuer="iss", audience="aud")
        .with_identity("v1", name="Sam")
        .as_customer(attributes={"plan": "gold"})
        .to_jwt()
    )
    claims = verifier(key).verify(token)
    assert (claims.sub, claims.role, claims.name, dict(claims.attributes)) == (
        "v1",
        Role.CUSTOMER,
        "Sam",
        {"plan": "gold"},
    )
    assert claims.expires_at == pytest.approx(time.time() + 600, abs=5)


def test_agent_round_trip_and_skills() -> None:
    key = SigningKey.generate()
    token = (
        AccessToken(key, issuer="iss", audience="aud")
        .with_identity("alice")
        .as_agent(skills=["billing"], max_sessions=2)
        .to_jwt()
    )
    claims = verifier(key).verify(token)
    assert claims.role is Role.AGENT and claims.skills == ("billing",) and claims.max_sessions == 2
    assert claims.serves("billing") and not claims.serves("general")


def test_rotation_any_trusted_kid_verifies() -> None:
    old, new = SigningKey.generate("2025"), SigningKey.generate("2026")
    v = verifier(old, new)
    for key in (old, new):
        assert v.verify(
            AccessToken(key, issuer="iss", audience="aud").with_identity("x").as_customer().to_jwt()
        )
    retired = verifier(new)
    with pytest.raises(TokenError) as info:
        retired.verify(
            AccessToken(old, issuer="iss", audience="aud").with_identity("x").as_customer().to_jwt()
        )
    assert info.value.code == "token_invalid"


def test_expiry_with_leeway() -> None:
    key = SigningKey.generate()
    token = (
        AccessToken(key, issuer="iss", audience="aud", ttl=timedelta(seconds=1))
        .with_identity("x")
        .as_customer()
        .to_jwt()
    )
    assert verifier(key).verify(token)
    strict = TokenVerifier(KeySet([key.public()]), issuer="iss", audience="aud", leeway=timedelta(0))
    time.sleep(2.1)
    with pytest.raises(TokenError) as info:
        strict.verify(token)
    assert info.value.code == "token_expired"


def test_builder_refuses_incomplete_tokens() -> None:
    key = SigningKey.generate()
    with pytest.raises(TokenError):
        AccessToken(key, issuer="i", audience="a").as_customer().to_jwt()
    with pytest.raises(TokenError):
        AccessToken(key, issuer="i", audience="a").with_identity("x").to_jwt()


def test_key_files_jwks_and_pem(tmp_path: Path) -> None:
    key = SigningKey.generate("kid-1")
    jwks_file = tmp_path / "keys.json"
    jwks_file.write_text(json.dumps(KeySet([key.public()]).to_jwks()))
    assert KeySet.from_file(jwks_file).get("kid-1") is not None
    pem_file = tmp_path / "kid-2.pem"
    pem_file.write_bytes(key.public().key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    assert KeySet.from_file(pem_file).get("kid-2") is not None
    assert SigningKey.from_pem(key.to_pem(), "kid-1").public().to_jwk() == key.public().to_jwk()
    with pytest.raises(ConfigError):
        KeySet.from_file(tmp_path / "missing.json")
    with pytest.raises(ConfigError):
        KeySet.from_jwks({"keys": [{"kty": "RSA", "kid": "x"}]})


def test_turn_credentials_match_coturn_rest_scheme() -> None:
    user, password = turn_credentials("s3cret", "alice", timedelta(hours=1))
    expiry, identity = user.split(":")
    assert identity == "alice" and int(expiry) == pytest.approx(time.time() + 3600, abs=2)
    expected = base64.b64encode(hmac.new(b"s3cret", user.encode(), hashlib.sha1).digest()).decode()
    assert password == expected
