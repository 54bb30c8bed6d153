"""Signed, expiring links to one attachment: ``/files/<id>?e=<expiry>&s=<signature>``.

The signature is an HMAC-SHA256 of the attachment id and the expiry (epoch seconds) under
the server's link key, so a link cannot be stretched or moved to another file, and every
process holding the same key accepts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path

KEY_FILE = "attachment-link.key"
FILES_PATH = "/files/"


def link_key(secret: str, data_dir: str) -> bytes:
    """The configured secret, else a key made in ``data_dir`` on first run."""
    if secret:
        return secret.encode()
    path = Path(data_dir) / KEY_FILE
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    path.touch(mode=0o600)
    path.write_bytes(key)
    return key


def _signature(key: bytes, attachment_id: str, expires: int) -> str:
    mac = hmac.new(key, f"{attachment_id}.{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign(key: bytes, attachment_id: str, ttl_s: int, now: float | None = None) -> tuple[str, int]:
    """(the link's path and query, its expiry in epoch seconds)."""
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"{FILES_PATH}{attachment_id}?e={expires}&s={_signature(key, attachment_id, expires)}", expires


def verify(key: bytes, attachment_id: str, expires: str, signature: str) -> str | None:
    """None when the link is good, else why not (in words)."""
    if not expires.isdigit() or not signature:
        return "This link is incomplete."
    if not hmac.compare_digest(_signature(key, attachment_id, int(expires)), signature):
        return "This link is not valid."
    if int(expires) < time.time():
        return "This link has expired; open the file from the conversation again."
    return None
