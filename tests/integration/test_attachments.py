"""Attachments through a real server on SQLite and PostgreSQL: upload over HTTP with the
participant's token, send in a message, fetch through a signed link; every refusal with
its code and sentence (non-participant, expired or forged link, disguised program,
oversize), the served headers, and erasure taking the bytes with the rows."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import inspect, text

from dcs_sdk import AccessToken, ApiClient, DcsClient, Event, ProtocolError, SigningKey
from signaling_server import Config
from signaling_server.attachments import LocalStorage, links
from signaling_server.attachments.service import sweep
from signaling_server.store import Store
from signaling_server.store.privacy import CustomerData
from tests.conftest import AUDIENCE, ISSUER, serve


def png(width: int = 2, height: int = 2) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


@dataclass
class World:
    url: str
    mint: Callable[..., str]
    config: Config
    clients: list[DcsClient]

    async def client(self, role: str, sub: str, **grants: Any) -> DcsClient:
        client = DcsClient(self.url, self.mint(role, sub, name=sub.title(), **grants))
        await client.connect()
        self.clients.append(client)
        return client

    async def live(
        self, customer_sub: str = "v1", agent_sub: str = "alice"
    ) -> tuple[DcsClient, DcsClient, str]:
        customer = await self.client("customer", customer_sub)
        started = await customer.start_session()
        await customer.escalate(started.session_id)
        agent = await self.client("agent", agent_sub)
        await agent.wait_queue(lambda items: any(i["session_id"] == started.session_id for i in items))
        await agent.accept(started.session_id)
        return customer, agent, started.session_id

    async def upload(
        self,
        token: str,
        session_id: str,
        data: bytes,
        *,
        filename: str = "photo.png",
        content_type: str = "image/png",
        chunked: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        form = aiohttp.FormData()
        form.add_field("session_id", session_id)
        body: Any = _stream(data) if chunked else data  # a stream has no length: sent chunked
        form.add_field("file", body, filename=filename, content_type=content_type)
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.url}/attachments", data=form, headers={"Authorization": f"Bearer {token}"}
            ) as resp,
        ):
            return resp.status, await resp.json()


async def _stream(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), 16 * 1024):
        yield data[i : i + 16 * 1024]


@pytest.fixture
async def world(server_config: Config, database_url: str, mint: Callable[..., str]) -> AsyncIterator[World]:
    config = replace(server_config, database_url=database_url, attachment_max_bytes=64 * 1024)
    async with serve(config) as url:
        w = World(url, mint, config, [])
        yield w
        for client in w.clients:
            await client.close()


def _token(world: World, role: str, sub: str, **grants: Any) -> str:
    return world.mint(role, sub, name=sub.title(), **grants)


async def test_an_image_goes_both_ways_and_is_served_with_safe_headers(world: World) -> None:
    customer, agent, sid = await world.live()
    status, body = await world.upload(
        _token(world, "customer", "v1"), sid, png(), filename="../../broken mug.PNG"
    )
    assert status == 201, body
    meta = body["attachment"]
    assert meta["content_type"] == "image/png" and meta["size"] == len(png())
    assert meta["name"] == "broken mug.png"  # the path is dropped, the extension is the type's
    ack = await customer.request(
        Event.CHAT_SEND,
        {"session_id": sid, "client_id": "c-img-1", "text": "photo of the mug", "attachment_id": meta["id"]},
    )
    assert ack["message"]["kind"] == "attachment" and ack["message"]["attachment"] == meta
    shown = await agent.wait_for(Event.CHAT_MESSAGE, lambda m: m.get("kind") == "attachment")
    assert shown["attachment"] == meta and shown["text"] == "photo of the mug"

    link = await agent.request(Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": meta["id"]})
    assert link["url"].startswith(f"/files/{meta['id']}?e=")
    async with aiohttp.ClientSession() as http, http.get(world.url + link["url"]) as resp:
        assert resp.status == 200
        assert await resp.read() == png()
        assert resp.headers["Content-Type"] == "image/png"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert resp.headers["Content-Disposition"].startswith('inline; filename="broken mug.png"')
        assert resp.headers["Cache-Control"].startswith("private, max-age=")

    # the agent sends a PDF back: served as a download, never rendered in place
    status, body = await world.upload(
        _token(world, "agent", "alice"), sid, PDF, filename="invoice.pdf", content_type="application/pdf"
    )
    assert status == 201, body
    await agent.request(
        Event.CHAT_SEND,
        {
            "session_id": sid,
            "client_id": "a-pdf-1",
            "text": "invoice.pdf",
            "attachment_id": body["attachment"]["id"],
        },
    )
    got = await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m.get("kind") == "attachment")
    link = await customer.request(
        Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": got["attachment"]["id"]}
    )
    async with aiohttp.ClientSession() as http, http.get(world.url + link["url"]) as resp:
        assert resp.status == 200 and await resp.read() == PDF
        assert resp.headers["Content-Disposition"].startswith('attachment; filename="invoice.pdf"')

    # history and resume carry the attachment messages
    history = await customer.history(sid)
    assert [m["attachment"]["content_type"] for m in history if m.get("kind") == "attachment"] == [
        "image/png",
        "application/pdf",
    ]
    resumed = await customer.start_session(sid)
    assert sum(1 for m in resumed.messages if m.get("kind") == "attachment") == 2


async def test_non_participants_are_refused(world: World) -> None:
    customer, _agent, sid = await world.live()
    status, body = await world.upload(_token(world, "customer", "v1"), sid, png())
    attachment_id = body["attachment"]["id"]
    await customer.request(
        Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "pic", "attachment_id": attachment_id}
    )

    # another customer: cannot upload into the session, cannot get a link
    status, body = await world.upload(_token(world, "customer", "mallory"), sid, png())
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert "not a participant" in body["error"]["message"]
    mallory = await world.client("customer", "mallory")
    with pytest.raises(ProtocolError) as refused:
        await mallory.request(Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": attachment_id})
    assert refused.value.code == "forbidden"
    # an agent of another queue cannot; a supervisor of another queue cannot
    other = await world.client("agent", "bob", skills=["billing"])
    with pytest.raises(ProtocolError) as refused:
        await other.request(Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": attachment_id})
    assert refused.value.code == "forbidden"
    boss = await world.client("supervisor", "sue", queues=["billing"])
    with pytest.raises(ProtocolError) as refused:
        await boss.request(Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": attachment_id})
    assert refused.value.code == "forbidden"
    # no token, a bad token, a supervisor's token: refused at the upload
    for token, code, status_expected in (
        ("", "token_missing", 401),
        ("not-a-jwt", "token_invalid", 401),
        (_token(world, "supervisor", "sue"), "forbidden", 403),
    ):
        status, body = await world.upload(token, sid, png())
        assert (status, body["error"]["code"]) == (status_expected, code), body
    # the customer cannot send mallory's... nor reuse their own file in a second message
    with pytest.raises(ProtocolError) as refused:
        await customer.request(
            Event.CHAT_SEND,
            {"session_id": sid, "client_id": "c2", "text": "again", "attachment_id": attachment_id},
        )
    assert refused.value.code == "wrong_state"
    with pytest.raises(ProtocolError) as refused:
        await customer.request(
            Event.CHAT_SEND,
            {"session_id": sid, "client_id": "c3", "text": "x", "attachment_id": "att_doesnotexist123"},
        )
    assert refused.value.code == "not_found"
    # a retry of the first send (same client_id) is the same message, not a refusal
    again = await customer.request(
        Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "pic", "attachment_id": attachment_id}
    )
    assert again["message"]["attachment"]["id"] == attachment_id


async def test_expired_and_forged_links_are_refused(world: World) -> None:
    customer, _agent, sid = await world.live()
    _, body = await world.upload(_token(world, "customer", "v1"), sid, png())
    attachment_id = body["attachment"]["id"]
    key = links.link_key("", world.config.data_dir)
    expired, _ = links.sign(key, attachment_id, 60, now=1_000_000.0)
    good, _ = links.sign(key, attachment_id, 60)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    moved = good.replace(attachment_id, "att_someotherfile123")
    async with aiohttp.ClientSession() as http:
        for url, status, words in (
            (expired, 403, "expired"),
            (forged, 403, "not valid"),
            (moved, 403, "not valid"),
            (f"/files/{attachment_id}", 403, "incomplete"),
        ):
            async with http.get(world.url + url) as resp:
                body = await resp.json()
                assert resp.status == status and body["error"]["code"] == "forbidden", body
                assert words in body["error"]["message"]
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
        async with http.get(world.url + good) as resp:
            assert resp.status == 200


async def test_a_disguised_program_and_an_oversized_file_are_refused(world: World) -> None:
    _customer, _agent, sid = await world.live()
    token = _token(world, "customer", "v1")
    status, body = await world.upload(token, sid, EXE, filename="invoice.pdf", content_type="application/pdf")
    assert status == 415 and body["error"]["code"] == "unsupported_type"
    assert "Windows program" in body["error"]["message"] and "PDF" in body["error"]["message"]
    status, body = await world.upload(
        token, sid, b"#!/bin/sh\nrm -rf ~\n", filename="cat.jpg", content_type="image/jpeg"
    )
    assert status == 415 and "script" in body["error"]["message"]
    status, body = await world.upload(token, sid, b"<svg onload=alert(1)>", filename="x.png")
    assert status == 415 and "not one of the types" in body["error"]["message"]
    big = png() + b"\x00" * (world.config.attachment_max_bytes + 1)
    for chunked in (False, True):  # refused by Content-Length, and while streaming
        status, body = await world.upload(token, sid, big, chunked=chunked)
        assert status == 413 and body["error"]["code"] == "payload_too_large", (chunked, body)
        assert "larger than" in body["error"]["message"]
    status, body = await world.upload(token, sid, b"", filename="empty.png")
    assert status == 400 and body["error"]["message"] == "The file is empty."
    # nothing of the refused files was kept
    root = Path(world.config.data_dir) / "attachments"
    assert not root.exists() or not any(root.rglob("att_*"))


async def _ended_with_file(world: World, customer_sub: str) -> tuple[str, str, Path]:
    customer, agent, sid = await world.live(customer_sub)
    _, body = await world.upload(_token(world, "customer", customer_sub), sid, png())
    attachment_id = body["attachment"]["id"]
    await customer.request(
        Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "pic", "attachment_id": attachment_id}
    )
    await agent.end(sid)
    await agent.wrap_up(sid, "done")
    stored = Path(world.config.data_dir) / "attachments" / sid / attachment_id
    assert stored.read_bytes() == png()
    return sid, attachment_id, stored


async def test_export_links_the_files_and_erasure_deletes_them(world: World, signing_key: SigningKey) -> None:
    sid, attachment_id, stored = await _ended_with_file(world, "v1")
    token = (
        AccessToken(signing_key, issuer=ISSUER, audience=AUDIENCE)
        .with_identity("crm")
        .as_service(scopes=["customers:export", "customers:erase"])
        .to_jwt()
    )
    async with ApiClient(world.url, token, max_retries=0) as api:
        exported = await api.export_customer("v1")
        rows = exported["sessions"][0]["related"]["dcs_attachments"]
        assert [(r["id"], r["content_type"], r["size"]) for r in rows] == [
            (attachment_id, "image/png", len(png()))
        ]
        async with aiohttp.ClientSession() as http, http.get(world.url + rows[0]["url"]) as resp:
            assert resp.status == 200 and await resp.read() == png()
        erased = await api.erase_customer("v1")
        assert erased["deleted"]["dcs_attachments"] == 1
    assert not stored.exists()  # the bytes went with the rows, at once
    async with aiohttp.ClientSession() as http, http.get(world.url + rows[0]["url"]) as resp:
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"


async def test_the_sweep_deletes_bytes_no_row_names(world: World) -> None:
    """Retention removes rows in the store alone: the sweep then takes their bytes."""
    _sid, _attachment_id, stored = await _ended_with_file(world, "v2")
    store = await Store.open(world.config.resolved_database_url)
    try:
        storage = LocalStorage(Path(world.config.data_dir) / "attachments")
        assert await sweep(store.engine, storage) == 0  # every file is someone's
        await CustomerData(store.engine).erase("v2")
        assert await sweep(store.engine, storage) == 1
    finally:
        await store.close()
    assert not stored.exists()


async def test_files_wait_for_a_person_and_uploads_are_rate_limited(world: World) -> None:
    customer = await world.client("customer", "v3")
    started = await customer.start_session()
    token = _token(world, "customer", "v3")
    status, body = await world.upload(token, started.session_id, png())
    assert status == 409 and body["error"]["code"] == "wrong_state"
    assert "ask for one first" in body["error"]["message"]
    await customer.escalate(started.session_id)  # queued: files may go to the person to come
    statuses = [(await world.upload(token, started.session_id, png()))[0] for _ in range(10)]
    assert statuses == [201] * 9 + [429]  # the refused upload above took one of the ten
    status, body = await world.upload(token, started.session_id, png())
    assert status == 429 and body["error"]["code"] == "rate_limited"


async def test_a_database_from_before_attachments_gets_the_column(world: World) -> None:
    """An older database's dcs_messages lacks the column: opening it adds it."""
    store = await Store.open(world.config.resolved_database_url)
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE dcs_messages DROP COLUMN attachment"))
    finally:
        await store.close()
    store = await Store.open(world.config.resolved_database_url)
    try:
        async with store.engine.connect() as conn:
            columns = await conn.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("dcs_messages")]
            )
    finally:
        await store.close()
    assert "attachment" in columns


async def test_a_large_image_gets_a_thumbnail_and_a_damaged_one_is_refused(world: World) -> None:
    from PIL import Image

    customer, agent, sid = await world.live("v4")
    photo = io.BytesIO()
    Image.new("RGB", (1200, 600), (200, 40, 40)).save(photo, "JPEG", quality=90)
    status, body = await world.upload(
        _token(world, "customer", "v4"), sid, photo.getvalue(), filename="p.jpg"
    )
    assert status == 201, body
    meta = body["attachment"]
    assert (meta["width"], meta["height"], meta["content_type"]) == (1200, 600, "image/jpeg")
    await customer.request(
        Event.CHAT_SEND, {"session_id": sid, "client_id": "c1", "text": "p.jpg", "attachment_id": meta["id"]}
    )
    link = await agent.request(Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": meta["id"]})
    assert link["thumbnail_url"] == link["url"] + "&v=thumb"
    async with aiohttp.ClientSession() as http:
        async with http.get(world.url + link["thumbnail_url"]) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"] == "image/webp"
            assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            thumb = await resp.read()
        async with http.get(world.url + link["url"]) as resp:
            assert await resp.read() == photo.getvalue()
    assert Image.open(io.BytesIO(thumb)).size == (320, 160) and len(thumb) < len(photo.getvalue())
    # a file that starts like a PNG but is none
    status, body = await world.upload(
        _token(world, "customer", "v4"), sid, b"\x89PNG\r\n\x1a\n" + b"junk" * 50
    )
    assert status == 415 and "cannot be read" in body["error"]["message"]


async def test_staff_reading_history_get_links_and_are_audited(world: World) -> None:
    from signaling_server.store.audit import AuditLog

    sid, attachment_id, _stored = await _ended_with_file(world, "v5")
    carol = await world.client("agent", "carol", skills=["general"])  # serves the queue, never held it
    link = await carol.request(Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": attachment_id})
    async with aiohttp.ClientSession() as http, http.get(world.url + link["url"]) as resp:
        assert resp.status == 200 and await resp.read() == png()
    transcript = await carol.request(Event.HISTORY_TRANSCRIPT, {"session_id": sid})
    assert [m["attachment"]["id"] for m in transcript["messages"] if m.get("kind") == "attachment"] == [
        attachment_id
    ]
    store = await Store.open(world.config.resolved_database_url)
    try:
        entries = await AuditLog(store.engine).entries(actor_id="carol", action="history.view")
    finally:
        await store.close()
    assert [e.detail for e in entries] == [{"attachment": attachment_id}, {"transcript": True}]


async def test_malformed_forms_are_refused_with_a_reason(world: World) -> None:
    _customer, _agent, sid = await world.live("v6")
    headers = {"Authorization": f"Bearer {_token(world, 'customer', 'v6')}"}

    async def post(form: Any) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{world.url}/attachments", data=form, headers=headers) as resp,
        ):
            return resp.status, (await resp.json())["error"]["message"]

    long_id = aiohttp.FormData()
    long_id.add_field("session_id", "s" * 10_000)
    long_id.add_field("file", png(), filename="a.png", content_type="image/png")
    assert await post(long_id) == (400, "The session_id field is not a session id.")
    file_first = aiohttp.FormData()
    file_first.add_field("file", png(), filename="a.png", content_type="image/png")
    file_first.add_field("session_id", sid)
    assert await post(file_first) == (400, "Send the session_id field before the file.")
    no_file = aiohttp.FormData()
    no_file.add_field("session_id", sid)
    no_file.add_field("other", "x", filename="x.txt")  # a file part, so the body is multipart
    assert await post(no_file) == (400, "The form has no file field.")
    assert await post({"session_id": sid}) == (
        400,
        "Send the file as multipart/form-data (fields session_id, file).",
    )
    unknown = aiohttp.FormData()
    unknown.add_field("session_id", "s_nosuchsession1")
    unknown.add_field("file", png(), filename="a.png", content_type="image/png")
    assert await post(unknown) == (404, "There is no such session.")
