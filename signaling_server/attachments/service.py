"""Files in a chat: upload over HTTP, send in a message, fetch through a signed link.

1. ``POST /attachments`` (multipart: ``session_id``, ``file``), with the participant's
   token as ``Authorization: Bearer``: the size is capped while the body streams in, the
   type is read from the bytes (sniff.py), the bytes go to the storage (storage.py) and a
   row to ``dcs_attachments``; the answer names the attachment.
2. ``chat.send`` with ``attachment_id``: the uploader sends it in the session it was
   uploaded to (once); the message carries its metadata, so history and resume show it.
3. ``attachment.link``: a participant (or staff who may read the session's history) gets
   a signed link that expires; ``GET /files/<id>?e=&s=`` serves the bytes with
   ``Content-Disposition``, ``nosniff`` and a sandboxing CSP, from a path of its own.

Rows go with their session on erasure and retention (store/privacy.py finds them by
``session_id``) and are listed in an export; ``sweep()`` then deletes bytes no row names,
and uploads never sent within ``UNSENT_TTL_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import secrets
import time
import unicodedata
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web
from sqlalchemy import delete, or_, select, update

from dcs_sdk.exceptions import TokenError
from dcs_sdk.protocol import AttachmentLink, ChatSend, ErrorCode, Role, ok
from dcs_sdk.tokens import Claims

from ..auth import Authenticator, may_act_on
from ..config import Config
from ..events import TokenBucket
from ..history import may_read_history
from ..sessions import CHATTING, S, SessionService, fail
from ..store import SessionRecord, schema
from . import links
from .sniff import EXTENSIONS, HEAD_BYTES, KNOWN_TYPES, program_kind, sniff
from .storage import AttachmentStorage
from .thumbs import UnreadableImage, make_thumbnail

log = logging.getLogger(__name__)

a = schema.attachments.c
UPLOAD_PATH = "/attachments"
CHUNK = 64 * 1024
UNSENT_TTL_S = 3600.0
SWEEP_EVERY_S = 600.0
MULTIPART_SLACK = 16 * 1024  # the form's other field and boundaries, beside the file
UPLOAD_BURST, UPLOAD_RATE, MAX_BUCKETS = 10, 0.5, 10_000
THUMB_SUFFIX = "-thumb"  # an image's thumbnail, beside it in the storage
NAMES = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
    "application/pdf": "PDF",
    "text/plain": "text",
}
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_ATTACHMENT_ID = re.compile(r"^att_[A-Za-z0-9_-]{8,40}$")


class UploadError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self, headers: dict[str, str]) -> web.Response:
        body = {"ok": False, "error": {"code": self.code.value, "message": self.message}}
        return web.json_response(body, status=self.status, headers=headers)


async def _short_field(part: BodyPartReader, limit: int = 100) -> str:
    """A small form field, read no further than ``limit`` bytes (a longer one is no id)."""
    raw = b""
    while chunk := await part.read_chunk(256):
        raw += chunk
        if len(raw) > limit:
            raise UploadError(400, ErrorCode.BAD_PAYLOAD, "The session_id field is not a session id.")
    return raw.decode(errors="replace")


def check_types(types: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [t for t in types if t not in KNOWN_TYPES]
    if unknown:
        from dcs_sdk.exceptions import ConfigError

        raise ConfigError(
            f"attachment_types names {', '.join(unknown)}, which the server cannot recognise "
            f"from a file's bytes; use some of: {', '.join(KNOWN_TYPES)}."
        )
    return types


def clean_name(name: str | None, content_type: str) -> str:
    """A display name: the last path part, printable, at most 120 characters, with the
    extension of the type the bytes are (so a saved file opens as what it is)."""
    # some clients percent-encode the name in the form (aiohttp does); none needs a literal %XX
    base = unquote(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] not in "CZ" or ch == " ").strip()
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem.strip(" .")[:100] or "file"
    return f"{stem}.{EXTENSIONS[content_type]}"


def disposition(kind: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


class Attachments:
    def __init__(
        self,
        config: Config,
        service: SessionService,
        authenticator: Authenticator,
        storage: AttachmentStorage,
        key: bytes,
    ) -> None:
        self.config = config
        self.service = service
        self.authenticator = authenticator
        self.storage = storage
        self.key = key
        self.types = check_types(config.attachment_types)
        self.max_bytes = config.attachment_max_bytes
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    @property
    def engine(self) -> Any:
        return self.service.store.store.engine

    def _budget(self, identity: str) -> TokenBucket:
        """Uploads per identity: a burst of UPLOAD_BURST, one more every 1/UPLOAD_RATE s."""
        bucket = self._buckets.pop(identity, None) or TokenBucket(UPLOAD_BURST, UPLOAD_RATE)
        self._buckets[identity] = bucket  # most recent last; the oldest go first
        while len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return bucket

    def install(self) -> None:
        self.service.attachment_for = self.claim

    def allowed_in_words(self) -> str:
        return ", ".join(NAMES[t] for t in self.types)

    # HTTP

    def _cors(self, request: web.Request) -> dict[str, str]:
        origin = request.headers.get("Origin")
        if not origin:
            return {}
        try:
            self.authenticator.check_origin({"HTTP_ORIGIN": origin, "HTTP_HOST": request.host})
        except TokenError:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "authorization",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }

    async def preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=self._cors(request))

    async def upload(self, request: web.Request) -> web.Response:
        cors = self._cors(request)
        try:
            stored = await self._upload(request)
        except UploadError as exc:
            # the rest of an oversized body is not read: close rather than drain it
            if exc.status == 413:
                cors = {**cors, "Connection": "close"}
            return exc.response(cors)
        return web.json_response({"ok": True, "attachment": stored}, status=201, headers=cors)

    async def _claims(self, request: web.Request) -> Claims:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        environ = {"HTTP_ORIGIN": request.headers.get("Origin"), "HTTP_HOST": request.host}
        try:
            return await self.authenticator.authenticate({"token": token}, environ)
        except TokenError as exc:
            status = 403 if exc.code == ErrorCode.ORIGIN_DENIED else 401
            raise UploadError(status, ErrorCode(exc.code), exc.message) from exc

    async def _upload(self, request: web.Request) -> dict[str, Any]:
        claims = await self._claims(request)
        if claims.role not in (Role.CUSTOMER, Role.AGENT):
            raise UploadError(403, ErrorCode.FORBIDDEN, f"A {claims.role.value} cannot send files.")
        if not self._budget(claims.sub).take():
            raise UploadError(
                429, ErrorCode.RATE_LIMITED, "Too many files in a short time; wait a few seconds and retry."
            )
        limit = self.max_bytes
        if request.content_length is not None and request.content_length > limit + MULTIPART_SLACK:
            raise self._too_large()
        if not request.content_type.startswith("multipart/form-data"):
            raise UploadError(
                400, ErrorCode.BAD_PAYLOAD, "Send the file as multipart/form-data (fields session_id, file)."
            )
        reader = await request.multipart()
        session: SessionRecord | None = None
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise UploadError(400, ErrorCode.BAD_PAYLOAD, "Nested multipart bodies are not taken.")
            if part.name == "session_id":
                session = await self._session(claims, await _short_field(part))
            elif part.name == "file":
                if session is None:
                    raise UploadError(
                        400, ErrorCode.BAD_PAYLOAD, "Send the session_id field before the file."
                    )
                data = await self._read_capped(part)
                return await self._store(claims, session, part.filename, data)
        raise UploadError(400, ErrorCode.BAD_PAYLOAD, "The form has no file field.")

    def _too_large(self) -> UploadError:
        mib = self.max_bytes / (1024 * 1024)
        return UploadError(
            413,
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The file is larger than {mib:g} MB, the most that can be sent.",
        )

    async def _read_capped(self, part: BodyPartReader) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    async def _session(self, claims: Claims, session_id: str) -> SessionRecord:
        if not _SESSION_ID.match(session_id):
            raise UploadError(400, ErrorCode.BAD_PAYLOAD, "The session_id field is not a session id.")
        record = await self.service.store.get_session(session_id)
        if record is None:
            raise UploadError(404, ErrorCode.NOT_FOUND, "There is no such session.")
        if not may_act_on(claims, record):
            raise UploadError(403, ErrorCode.FORBIDDEN, "You are not a participant of this session.")
        if record.state is S.VIRTUAL:  # the assistant reads text, not files
            raise UploadError(
                409,
                ErrorCode.WRONG_STATE,
                "Files go to a person: ask for one first, then attach it.",
            )
        if record.state not in CHATTING or (claims.role is Role.AGENT and record.state is not S.LIVE):
            raise UploadError(409, ErrorCode.WRONG_STATE, "Files can be sent only while the chat is open.")
        return record

    async def _store(
        self, claims: Claims, session: SessionRecord, filename: str | None, data: bytes
    ) -> dict[str, Any]:
        if not data:
            raise UploadError(400, ErrorCode.BAD_PAYLOAD, "The file is empty.")
        head = data[:HEAD_BYTES]
        program = program_kind(head)
        if program is not None:
            raise UploadError(
                415,
                ErrorCode.UNSUPPORTED_TYPE,
                f"This file is {program}, whatever its name says; only "
                f"{self.allowed_in_words()} files can be sent.",
            )
        content_type = sniff(head, self.types)
        if content_type is None:
            raise UploadError(
                415,
                ErrorCode.UNSUPPORTED_TYPE,
                f"This file is not one of the types that can be sent ({self.allowed_in_words()}).",
            )
        thumb = None
        if content_type.startswith("image/"):
            try:
                thumb = await asyncio.to_thread(make_thumbnail, data)
            except UnreadableImage as exc:
                raise UploadError(415, ErrorCode.UNSUPPORTED_TYPE, str(exc)) from exc
        attachment_id = f"att_{secrets.token_urlsafe(16)}"
        key = f"{session.id}/{attachment_id}"
        row = {
            "id": attachment_id,
            "session_id": session.id,
            "uploader_id": claims.sub,
            "uploader_role": claims.role.value,
            "name": clean_name(filename, content_type),
            "content_type": content_type,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "storage_key": key,
            "width": thumb.width if thumb else None,
            "height": thumb.height if thumb else None,
            "has_thumb": int(bool(thumb and thumb.data)),
            "created_at": time.time(),
        }
        await self.storage.put(key, data)
        try:
            if thumb is not None and thumb.data is not None:
                await self.storage.put(key + THUMB_SUFFIX, thumb.data)
            async with self.engine.begin() as conn:
                await conn.execute(schema.attachments.insert().values(**row))
        except Exception:
            await self.storage.delete(key)
            await self.storage.delete(key + THUMB_SUFFIX)
            raise
        log.info("stored %s (%s, %d bytes) in %s", attachment_id, content_type, len(data), session.id)
        return self.metadata(row)

    @staticmethod
    def metadata(row: Any) -> dict[str, Any]:
        meta = {
            "id": row["id"],
            "name": row["name"],
            "content_type": row["content_type"],
            "size": row["size"],
        }
        if row.get("width"):  # an image: its size, so a page can lay it out before it loads
            meta.update(width=row["width"], height=row["height"])
        return meta

    async def download(self, request: web.Request) -> web.StreamResponse:
        attachment_id = request.match_info["attachment_id"]
        refused = {"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; sandbox"}
        if not _ATTACHMENT_ID.match(attachment_id):
            return UploadError(404, ErrorCode.NOT_FOUND, "There is no such file.").response(refused)
        why = links.verify(self.key, attachment_id, request.query.get("e", ""), request.query.get("s", ""))
        if why is not None:
            return UploadError(403, ErrorCode.FORBIDDEN, why).response(refused)
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(schema.attachments).where(a.id == attachment_id)))
                .mappings()
                .first()
            )
        thumb = row is not None and bool(row["has_thumb"]) and request.query.get("v") == "thumb"
        key = (row["storage_key"] + (THUMB_SUFFIX if thumb else "")) if row is not None else ""
        data = await self.storage.open(key) if row is not None else None
        if row is None or data is None:
            return UploadError(404, ErrorCode.NOT_FOUND, "This file is no longer held.").response(refused)
        image = row["content_type"].startswith("image/")
        content_type = "image/webp" if thumb else row["content_type"]
        content_type += "; charset=utf-8" if content_type == "text/plain" else ""
        left = max(0, int(request.query["e"]) - int(time.time()))
        return web.Response(
            body=data,
            headers={
                "Content-Type": content_type,
                "Content-Disposition": disposition("inline" if image else "attachment", row["name"]),
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
                "Cache-Control": f"private, max-age={left}",
                "Cross-Origin-Resource-Policy": "cross-origin",
                "Referrer-Policy": "no-referrer",
            },
        )

    # socket events and the session service's hook

    async def claim(self, claims: Claims, session: SessionRecord, p: ChatSend) -> dict[str, Any]:
        """The metadata of the file ``p`` sends, claimed for this message (a retry with the
        same client_id finds it claimed by itself)."""
        async with self.engine.begin() as conn:
            row = (
                (await conn.execute(select(schema.attachments).where(a.id == p.attachment_id)))
                .mappings()
                .first()
            )
            if row is None or row["session_id"] != session.id or row["uploader_id"] != claims.sub:
                raise fail(
                    ErrorCode.NOT_FOUND, "There is no such file of yours in this session; upload it first."
                )
            claimed = await conn.execute(
                update(schema.attachments)
                .where(a.id == p.attachment_id)
                .where(or_(a.message_client_id.is_(None), a.message_client_id == p.client_id))
                .values(message_client_id=p.client_id)
            )
            if claimed.rowcount != 1:
                raise fail(ErrorCode.WRONG_STATE, "This file was sent in another message already.")
        return self.metadata(row)

    async def link(self, sid: str, claims: Claims, p: AttachmentLink) -> dict[str, Any]:
        record = await self.service.store.get_session(p.session_id)
        if record is None:
            raise fail(ErrorCode.NOT_FOUND, "There is no such session.")
        if not may_read_history(claims, record):
            raise fail(ErrorCode.FORBIDDEN, "You are not a participant of this session.")
        async with self.engine.connect() as conn:
            row = (
                (await conn.execute(select(schema.attachments).where(a.id == p.attachment_id)))
                .mappings()
                .first()
            )
        mine = row is not None and row["uploader_id"] == claims.sub
        if row is None or row["session_id"] != record.id or not (mine or row["message_client_id"]):
            raise fail(ErrorCode.NOT_FOUND, "There is no such file in this session.")
        if not may_act_on(claims, record):  # staff reading a conversation they do not hold
            await self.service.audited(claims, "history.view", record.id, attachment=p.attachment_id)
        url, expires = links.sign(self.key, p.attachment_id, self.config.attachment_link_ttl_s)
        # an image's thumbnail: the same signed link, a smaller variant of the same file
        thumbnail = url + "&v=thumb" if row["has_thumb"] else url if row["width"] else None
        return ok(url=url, thumbnail_url=thumbnail, expires_at=expires * 1000, attachment=self.metadata(row))

    # the sweep

    async def sweep(self) -> int:
        return await sweep(self.engine, self.storage)

    async def erased(self, session_ids: list[str]) -> int:
        """The bytes of erased sessions' files (their rows went with the sessions' data)."""
        return sum([await self.storage.delete_session(sid) for sid in session_ids])

    def export_links(self, export: dict[str, Any], ttl_s: int = 24 * 3600) -> None:
        """Give each file row of a customer export a signed link to its bytes (a day)."""
        for session in export.get("sessions", []):
            for row in session.get("related", {}).get(schema.attachments.name, []):
                row["url"], _ = links.sign(self.key, row["id"], ttl_s)

    def sweeper(self) -> Any:
        async def ctx(app: web.Application) -> AsyncIterator[None]:
            async def loop() -> None:
                while True:
                    await asyncio.sleep(SWEEP_EVERY_S)
                    try:
                        gone = await self.sweep()
                        if gone:
                            log.info("attachment sweep deleted %d files", gone)
                    except Exception:
                        log.exception("the attachment sweep failed; it runs again in %.0f s", SWEEP_EVERY_S)

            task = asyncio.create_task(loop(), name="dcs-attachment-sweep")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

        return ctx


async def sweep(engine: Any, storage: AttachmentStorage) -> int:
    """Delete uploads never sent within UNSENT_TTL_S, and bytes no row names (their
    session was erased or retained away); how many files went."""
    cutoff = time.time() - UNSENT_TTL_S
    async with engine.begin() as conn:
        stale = (
            await conn.execute(
                select(a.id, a.storage_key).where(a.message_client_id.is_(None), a.created_at < cutoff)
            )
        ).all()
        if stale:
            await conn.execute(delete(schema.attachments).where(a.id.in_([i for i, _ in stale])))
    for _, key in stale:
        await storage.delete(key)
        await storage.delete(key + THUMB_SUFFIX)
    gone = len(stale)
    batch: list[str] = []
    async for key in storage.list_keys():
        batch.append(key)
        if len(batch) >= 500:
            gone += await _orphans(engine, storage, batch)
            batch = []
    if batch:
        gone += await _orphans(engine, storage, batch)
    return gone


async def _orphans(engine: Any, storage: AttachmentStorage, keys: list[str]) -> int:
    bases = {k: k.removesuffix(THUMB_SUFFIX) for k in keys}  # a thumbnail goes with its file
    async with engine.connect() as conn:
        query = select(a.storage_key).where(a.storage_key.in_(set(bases.values())))
        held = {k for (k,) in (await conn.execute(query)).all()}
    orphans = [k for k in keys if bases[k] not in held]
    for key in orphans:
        await storage.delete(key)
    return len(orphans)
