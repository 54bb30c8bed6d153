"""Attachments in an S3-compatible bucket: the same upload, link, download and erasure as
on disk, against an S3 API server on a real port (moto's server, which speaks the S3
REST protocol as MinIO or AWS do), through aiobotocore."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer

from dcs_sdk import DcsClient, Event
from dcs_sdk.exceptions import ConfigError
from signaling_server import Config
from signaling_server.attachments import S3Storage, storage_for
from signaling_server.attachments.service import sweep
from signaling_server.store import Store
from signaling_server.store.privacy import CustomerData
from tests.conftest import serve
from tests.integration.test_attachments import png

CREDENTIALS = {"access_key_id": "test", "secret_access_key": "test-secret", "region": "us-east-1"}


@pytest.fixture
def s3_url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def _objects(s3_url: str, bucket: str) -> list[str]:
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
    ) as s3:
        listing = await s3.list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listing.get("Contents", [])]


@pytest.fixture
async def bucket(s3_url: str) -> AsyncIterator[str]:
    async with get_session().create_client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test-secret",
    ) as s3:
        await s3.create_bucket(Bucket="dcs-files")
    yield "dcs-files"


async def test_files_live_in_the_bucket(
    server_config: Config, s3_url: str, bucket: str, mint: Callable[..., str]
) -> None:
    s3 = {"bucket": bucket, "endpoint_url": s3_url, "prefix": "chat/", **CREDENTIALS}
    config = replace(server_config, attachment_s3=s3)
    async with serve(config) as url:
        customer = DcsClient(url, mint("customer", "v1"))
        agent = DcsClient(url, mint("agent", "alice"))
        try:
            await customer.connect()
            started = await customer.start_session()
            sid = started.session_id
            await customer.escalate(sid)
            await agent.connect()
            await agent.wait_queue(bool)
            await agent.accept(sid)
            form = aiohttp.FormData()
            form.add_field("session_id", sid)
            form.add_field("file", png(), filename="mug.png", content_type="image/png")
            headers = {"Authorization": f"Bearer {mint('customer', 'v1')}"}
            async with (
                aiohttp.ClientSession() as http,
                http.post(f"{url}/attachments", data=form, headers=headers) as resp,
            ):
                assert resp.status == 201
                meta: dict[str, Any] = (await resp.json())["attachment"]
            assert await _objects(s3_url, bucket) == [f"chat/{sid}/{meta['id']}"]
            await customer.request(
                Event.CHAT_SEND,
                {"session_id": sid, "client_id": "c1", "text": "mug", "attachment_id": meta["id"]},
            )
            link = await agent.request(
                Event.ATTACHMENT_LINK, {"session_id": sid, "attachment_id": meta["id"]}
            )
            async with aiohttp.ClientSession() as http, http.get(url + link["url"]) as resp:
                assert resp.status == 200 and await resp.read() == png()
                assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            await agent.end(sid)
            await agent.wrap_up(sid, "done")
        finally:
            await customer.close()
            await agent.close()
        # erasure removes the rows; the app's erasure hook or the sweep removes the object
        storage = storage_for(config)
        store = await Store.open(config.resolved_database_url)
        try:
            await CustomerData(store.engine).erase("v1")
            assert await sweep(store.engine, storage) == 1
        finally:
            await store.close()
            await storage.close()
        assert await _objects(s3_url, bucket) == []


async def test_delete_session_and_missing_objects(s3_url: str, bucket: str) -> None:
    storage = S3Storage(bucket, endpoint_url=s3_url, **CREDENTIALS)
    try:
        await storage.put("s_one_session/att_a1234567", b"a")
        await storage.put("s_one_session/att_b1234567", b"b")
        await storage.put("s_another_one/att_c1234567", b"c")
        assert await storage.open("s_one_session/att_zz999999") is None
        assert await storage.delete_session("s_one_session") == 2
        assert [k async for k in storage.list_keys()] == ["s_another_one/att_c1234567"]
    finally:
        await storage.close()


def test_a_wrong_bucket_setting_stops_the_start(server_config: Config) -> None:
    with pytest.raises(ConfigError, match="needs a bucket"):
        storage_for(replace(server_config, attachment_s3={"endpoint_url": "http://x"}))
    with pytest.raises(ConfigError, match="secret_key is not one of them"):
        storage_for(replace(server_config, attachment_s3={"bucket": "b", "secret_key": "x"}))
