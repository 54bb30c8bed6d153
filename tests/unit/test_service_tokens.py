"""Service tokens: minted with scopes, verified for the REST API only, refused when their
scopes are missing or unknown."""

from __future__ import annotations

import time

import jwt
import pytest

from dcs_sdk import AccessToken, KeySet, Role, SigningKey, TokenError, TokenVerifier
from dcs_sdk.tokens import SCOPES

KEY = SigningKey.generate("svc")
VERIFIER = TokenVerifier(KeySet([KEY.public()]), issuer="iss", audience="dcs")


def builder() -> AccessToken:
    return AccessToken(KEY, issuer="iss", audience="dcs").with_identity("crm", name="The CRM")


def test_round_trip_with_scopes() -> None:
    token = builder().as_service(scopes=["reports:read", "sessions:read", "reports:read"]).to_jwt()
    claims = VERIFIER.verify(token, roles=[Role.SERVICE])
    assert claims.role is Role.SERVICE and claims.sub == "crm"
    assert claims.scopes == frozenset({"reports:read", "sessions:read"})
    assert jwt.decode(token, options={"verify_signature": False})["scopes"] == [
        "reports:read",
        "sessions:read",
    ]


def test_a_service_token_cannot_connect_and_others_carry_no_scopes() -> None:
    token = builder().as_service(scopes=SCOPES).to_jwt()
    with pytest.raises(TokenError, match="REST API only"):
        VERIFIER.verify(token)  # the socket's roles: customer, agent, supervisor
    supervisor = VERIFIER.verify(builder().as_supervisor().to_jwt())
    assert supervisor.scopes == frozenset()
    with pytest.raises(TokenError, match="customer token cannot be used here"):
        VERIFIER.verify(builder().as_customer().to_jwt(), roles=[Role.SERVICE, Role.SUPERVISOR])


@pytest.mark.parametrize(
    ("scopes", "words"),
    [
        ([], "non-empty list"),
        (["reports:write"], "Unknown scope 'reports:write'"),
        ("reports:read", "non-empty list"),
    ],
)
def test_bad_scopes_are_refused_at_minting_and_on_verify(scopes: object, words: str) -> None:
    if isinstance(scopes, list):
        with pytest.raises(TokenError, match=words):
            builder().as_service(scopes=scopes).to_jwt()
    now = int(time.time())
    forged = jwt.encode(
        {
            "iss": "iss",
            "aud": "dcs",
            "sub": "crm",
            "iat": now,
            "exp": now + 60,
            "role": "service",
            "scopes": scopes,
        },
        KEY.key,
        algorithm="ES256",
        headers={"kid": KEY.kid},
    )
    with pytest.raises(TokenError, match=words):
        VERIFIER.verify(forged, roles=[Role.SERVICE])
