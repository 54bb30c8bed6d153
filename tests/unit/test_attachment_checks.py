"""What a file is from its bytes, its display name, signed links, and the type setting."""

from __future__ import annotations

import pytest

from dcs_sdk.exceptions import ConfigError
from signaling_server.attachments import links
from signaling_server.attachments.service import check_types, clean_name, disposition
from signaling_server.attachments.sniff import program_kind, sniff
from signaling_server.attachments.storage import LocalStorage, check_key

IMAGES_PDF = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"MZ\x90\x00%PDF-1.7", None),  # a program whatever follows
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (b"<html><script>", None),
        (b"plain words", None),  # text is not allowed unless configured
    ],
)
def test_sniffed_from_the_bytes(head: bytes, expected: str | None) -> None:
    assert sniff(head, IMAGES_PDF) == expected


def test_text_only_when_configured_and_never_a_pdf() -> None:
    assert sniff("naïve note\n".encode(), ("text/plain",)) == "text/plain"
    assert sniff(b"%PDF-1.4", ("text/plain", "application/pdf")) == "application/pdf"
    assert sniff(b"\x00\x01binary", ("text/plain",)) is None
    assert sniff(b"#!/bin/sh\necho", ("text/plain",)) is None  # a script is a program


def test_programs_are_named() -> None:
    assert program_kind(b"MZ\x90") == "a Windows program"
    assert program_kind(b"\x7fELF\x02") == "a Linux program"
    assert program_kind(b"PK\x03\x04") == "an archive (ZIP)"
    assert program_kind(b"\x89PNG") is None


def test_names_are_cleaned_and_take_the_real_extension() -> None:
    assert clean_name("C:\\Users\\x\\photo.exe", "image/png") == "photo.png"
    assert clean_name("../../etc/passwd", "application/pdf") == "passwd.pdf"
    assert clean_name("\u202egnp.exe", "image/png") == "gnp.png"  # no bidi override
    assert clean_name("", "image/jpeg") == "file.jpg"
    assert disposition("inline", 'naïve "quote".png') == (
        "inline; filename=\"na_ve 'quote'.png\"; filename*=UTF-8''na%C3%AFve%20%22quote%22.png"
    )


def test_links_are_bound_to_the_file_and_expire() -> None:
    key = b"k" * 32
    url, expires = links.sign(key, "att_abcdefgh12", 60, now=1_000.0)
    assert expires == 1_060
    query = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    assert links.verify(key, "att_abcdefgh12", query["e"], query["s"]) == (
        "This link has expired; open the file from the conversation again."
    )
    fresh, _ = links.sign(key, "att_abcdefgh12", 60)
    q = dict(p.split("=", 1) for p in fresh.split("?", 1)[1].split("&"))
    assert links.verify(key, "att_abcdefgh12", q["e"], q["s"]) is None
    assert links.verify(key, "att_otherfile1", q["e"], q["s"]) == "This link is not valid."
    assert links.verify(b"x" * 32, "att_abcdefgh12", q["e"], q["s"]) == "This link is not valid."
    assert links.verify(key, "att_abcdefgh12", str(int(q["e"]) + 1000), q["s"]) == "This link is not valid."


def test_an_unknown_type_setting_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="image/svg\\+xml"):
        check_types(("image/png", "image/svg+xml"))


async def test_storage_keys_cannot_leave_the_root(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="not an attachment key"):
        check_key("../x/y")
    storage = LocalStorage(str(tmp_path))
    await storage.put("s_session1/att_file1", b"data")
    assert await storage.open("s_session1/att_file1") == b"data"
    assert [k async for k in storage.list_keys()] == ["s_session1/att_file1"]
    await storage.delete("s_session1/att_file1")
    await storage.delete("s_session1/att_file1")  # twice is fine
    assert await storage.open("s_session1/att_file1") is None
