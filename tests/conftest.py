"""Shared fixtures: signing keys, an in-process DCS server on a real port, real clients."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from dcs_sdk import AccessToken, DcsClient, KeySet, SigningKey
from signaling_server import Config, create_app

ISSUER = "https://shop.test"
AUDIENCE = "dcs"
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get("DCS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate("test-key")


@pytest.fixture
def mint(signing_key: SigningKey) -> Callable[..., str]:
    """mint("customer", "v1", attributes=...) / mint("agent", "alice", skills=[...])"""

    def make(
        role: str, sub: str, *, name: str = "", ttl: timedelta = timedelta(minutes=5), **grants: Any
    ) -> str:
        token = AccessToken(signing_key, issuer=ISSUER, audience=AUDIENCE, ttl=ttl).with_identity(
            sub, name=name
        )
        if role == "customer":
            token = token.as_customer(**grants)
        elif role == "agent":
            token = token.as_agent(**grants)
        else:
            token = token.as_supervisor(**grants)
        return token.to_jwt()

    return make


@pytest.fixture
def server_config(tmp_path: Path, signing_key: SigningKey) -> Config:
    keys_file = tmp_path / "jwks.json"
    keys_file.write_text(json.dumps(KeySet([signing_key.public()]).to_jwks()))
    return Config(
        data_dir=str(tmp_path),
        issuer=ISSUER,
        audience=AUDIENCE,
        public_keys_file=str(keys_file),
        log_level="WARNING",
        default_wait_s=60,
    )


@contextlib.asynccontextmanager
async def serve(config: Config) -> AsyncIterator[str]:
    """A DCS server with this config on a real loopback port; yields its URL."""
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture
async def dcs_url(server_config: Config) -> AsyncIterator[str]:
    """A DCS server on a real loopback port, with an SQLite file of its own."""
    async with serve(server_config) as url:
        yield url


Connect = Callable[..., Awaitable[DcsClient]]


@pytest.fixture
async def connect(dcs_url: str, mint: Callable[..., str]) -> AsyncIterator[Connect]:
    """connect("customer", "v1") -> a connected DcsClient, closed after the test."""
    clients: list[DcsClient] = []

    async def make(role: str, sub: str, **kwargs: Any) -> DcsClient:
        client = DcsClient(dcs_url, mint(role, sub, **kwargs))
        await client.connect()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; skips (fails under CI) without a server."""
    import asyncpg

    name = f"dcs_test_{secrets.token_hex(6)}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI but unreachable: {exc}")
        pytest.skip(f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {exc}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The same test on a fresh SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        async with postgres_database() as url:
            yield url


@pytest.fixture
async def coturn(tmp_path: Path) -> AsyncIterator[Path]:
    """coturn on 10.99.0.1:3478 (inside the test's network namespace), REST-secret auth;
    yields its log. Skipped where coturn is missing, except under CI."""
    from tests import turn

    turn.require_coturn()
    async with turn.coturn(tmp_path) as log:
        yield log
