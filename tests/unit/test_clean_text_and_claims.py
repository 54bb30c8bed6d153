"""Text and token claims are validated where they enter: the shared string types and checks."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import ValidationError

from dcs_sdk import AccessToken, ErrorCode, KeySet, SigningKey, TokenError, TokenVerifier
from dcs_sdk.protocol import ChatSend, CsatSubmit, PageInfo, SessionStart, unclean

SID = "s_12345678"


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ("plain text, 😀 é <b>", False, None),
        ("two\nlines\twith a tab", False, None),
        ("two\nlines", True, "a line break or tab"),
        ("nul\x00", False, "a NUL character (U+0000)"),
        ("half \ud83d", False, "a lone surrogate (U+D83D)"),
        ("bell\x07", False, "a control character (U+0007)"),
        ("cr\r", False, "a control character (U+000D)"),
        ("del\x7f", False, "a control character (U+007F)"),
        ("c1\x9b", False, "a control character (U+009B)"),
    ],
)
def test_unclean_names_what_is_wrong(text: str, line: bool, why: str | None) -> None:
    assert unclean(text, line=line) == why


def test_chat_text_must_be_clean_and_not_blank() -> None:
    assert ChatSend(session_id=SID, client_id="c1", text=" hi \n").text == " hi \n"
    for text in ("", " \t\n", "\u3000", "x\x00", "x\ud800", "x" * 4001):
        with pytest.raises(ValidationError):
            ChatSend.model_validate({"session_id": SID, "client_id": "c1", "text": text})


def test_titles_comments_and_urls_are_clean() -> None:
    with pytest.raises(ValidationError):
        PageInfo.model_validate({"url": "https://x/", "title": "a\x1bb"})
    with pytest.raises(ValidationError):
        PageInfo.model_validate({"url": "https://x/\n", "title": ""})
    with pytest.raises(ValidationError):
        CsatSubmit.model_validate({"session_id": SID, "score": 5, "comment": "\x00"})


def test_payload_types_are_strict_and_seq_bounded() -> None:
    for bad in ({"after_seq": "3"}, {"after_seq": 3.0}, {"after_seq": True}, {"after_seq": 2**31}):
        with pytest.raises(ValidationError):
            SessionStart.model_validate(bad)
    assert SessionStart.model_validate({"after_seq": 2**31 - 1}).after_seq == 2**31 - 1


def test_minting_refuses_what_servers_refuse() -> None:
    key = SigningKey.generate()
    builder = AccessToken(key, issuer="iss", audience="aud")
    for name in ("Sam\x00", "Sam\ud800", "Sam\nAdmin", "S" * 201):
        with pytest.raises(TokenError) as info:
            builder.with_identity("v1", name=name).as_customer().to_jwt()
        assert info.value.code == ErrorCode.TOKEN_INVALID and "name" in info.value.message
    with pytest.raises(TokenError):
        AccessToken(key, issuer="iss", audience="aud").with_identity("v1").as_customer(
            attributes={"plan": "gold\x07"}
        ).to_jwt()


def test_verifying_refuses_string_times_and_oversized_tokens() -> None:
    key = SigningKey.generate("k1")
    verifier = TokenVerifier(KeySet([key.public()]), issuer="iss", audience="aud")
    now = int(time.time())
    claims = {"iss": "iss", "aud": "aud", "sub": "v1", "iat": now, "exp": now + 60, "role": "customer"}
    good = jwt.encode(claims, key.key, algorithm="ES256", headers={"kid": "k1"})
    assert verifier.verify(good).sub == "v1"
    stringy = jwt.encode({**claims, "exp": str(now + 60)}, key.key, algorithm="ES256", headers={"kid": "k1"})
    with pytest.raises(TokenError) as info:
        verifier.verify(stringy)
    assert info.value.code == ErrorCode.TOKEN_INVALID and "exp" in info.value.message
    with pytest.raises(TokenError) as info:
        verifier.verify(good + "x" * 9000)
    assert info.value.code == ErrorCode.TOKEN_INVALID and "8,192" in info.value.message
