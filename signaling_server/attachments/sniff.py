"""What a file is, from its first bytes: never from its name or the type a client claims.

Each type DCS can take is recognised by its signature; programs (Windows, Linux and macOS
executables, scripts) are named as such so a refusal can say what the file really is.
"""

from __future__ import annotations

# The types an upload may be, each with a test over the file's first bytes.
HEAD_BYTES = 512


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is fine
        return exc.start >= len(head) - 3
    return True


SNIFFERS = {
    "image/png": lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": lambda h: h.startswith(b"\xff\xd8\xff"),
    "image/gif": lambda h: h.startswith((b"GIF87a", b"GIF89a")),
    "image/webp": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "application/pdf": lambda h: h.startswith(b"%PDF-"),
    "text/plain": _is_text,
}
KNOWN_TYPES = tuple(SNIFFERS)
EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}

_PROGRAMS = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a Linux program"),
    (b"\xcf\xfa\xed\xfe", "a macOS program"),
    (b"\xce\xfa\xed\xfe", "a macOS program"),
    (b"\xca\xfe\xba\xbe", "a macOS or Java program"),
    (b"#!", "a script"),
    (b"PK\x03\x04", "an archive (ZIP)"),
)


def program_kind(head: bytes) -> str | None:
    """In words, which kind of program or archive these bytes begin, or None."""
    return next((what for magic, what in _PROGRAMS if head.startswith(magic)), None)


def sniff(head: bytes, allowed: tuple[str, ...]) -> str | None:
    """The first of ``allowed`` types that ``head`` (the file's first bytes) is, or None.
    Binary signatures are tried before text, so a PDF is never taken for text."""
    if program_kind(head) is not None:
        return None
    ordered = sorted(allowed, key=lambda t: t == "text/plain")
    return next((t for t in ordered if SNIFFERS[t](head)), None)
