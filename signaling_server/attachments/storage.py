"""Where attachments' bytes live: a small interface, and the local-disk implementation.

``put`` writes a whole file under a key (the store keeps the metadata), ``open`` reads it
back, ``delete`` is safe for a key that is gone, ``list_keys`` lists what is held (the sweep
compares it with the store), ``delete_session`` removes one session's files (erasure), and
``close`` lets go of connections. Two implementations: local disk (the default) and an
S3-compatible bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

_KEY = re.compile(r"^[A-Za-z0-9_-]{1,80}/[A-Za-z0-9_-]{1,80}$")


class AttachmentStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def open(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    def list_keys(self) -> AsyncIterator[str]: ...

    async def delete_session(self, session_id: str) -> int: ...

    async def close(self) -> None: ...


def check_key(key: str) -> str:
    """Keys are ``<session id>/<attachment id>``: never a path that could leave the root."""
    if not _KEY.match(key):
        raise ValueError(f"not an attachment key: {key!r}")
    return key


class LocalStorage:
    """Files under ``root``, one folder per session; written to a temporary name, then
    renamed, so a reader never sees half a file."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, key, data)

    async def open(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # the session's folder, once it is empty

    async def close(self) -> None:
        return None

    async def delete_session(self, session_id: str) -> int:
        """Every file of one session (erasure); how many there were."""
        folder = self.root / check_key(f"{session_id}/x").split("/")[0]
        if not folder.is_dir():
            return 0
        files = [f for f in folder.iterdir() if f.is_file()]
        for file in files:
            file.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()
        return len(files)

    async def list_keys(self) -> AsyncIterator[str]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir():
                for file in sorted(folder.iterdir()):
                    if not file.name.endswith(".part"):
                        yield f"{folder.name}/{file.name}"


class S3Storage:
    """Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2...), through aiobotocore
    (the ``s3`` extra: ``pip install dcs[s3]``). Keys are ``<prefix><session>/<file>``;
    credentials come from the settings or, when absent, botocore's usual chain (environment,
    instance role). One client, opened on first use and closed with the app."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        prefix: str = "",
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._options = {
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            "aws_access_key_id": access_key_id or None,
            "aws_secret_access_key": secret_access_key or None,
        }
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self._opening = asyncio.Lock()

    async def _s3(self) -> Any:
        async with self._opening:
            if self._client is None:
                from aiobotocore.session import get_session

                stack = contextlib.AsyncExitStack()
                self._client = await stack.enter_async_context(
                    get_session().create_client("s3", **{k: v for k, v in self._options.items() if v})
                )
                self._stack = stack
        return self._client

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = self._client = None

    async def put(self, key: str, data: bytes) -> None:
        s3 = await self._s3()
        await s3.put_object(Bucket=self.bucket, Key=self.prefix + check_key(key), Body=data)

    async def open(self, key: str) -> bytes | None:
        s3 = await self._s3()
        try:
            response = await s3.get_object(Bucket=self.bucket, Key=self.prefix + check_key(key))
        except s3.exceptions.NoSuchKey:
            return None
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def delete(self, key: str) -> None:
        s3 = await self._s3()
        await s3.delete_object(Bucket=self.bucket, Key=self.prefix + check_key(key))

    async def _keys(self, prefix: str) -> AsyncIterator[str]:
        s3 = await self._s3()
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = str(item["Key"])[len(self.prefix) :]
                if _KEY.match(key):
                    yield key

    async def delete_session(self, session_id: str) -> int:
        folder = check_key(f"{session_id}/x").split("/")[0]
        keys = [k async for k in self._keys(f"{self.prefix}{folder}/")]
        for key in keys:
            await self.delete(key)
        return len(keys)

    def list_keys(self) -> AsyncIterator[str]:
        return self._keys(self.prefix)
