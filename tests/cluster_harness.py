"""Several real server processes on one PostgreSQL database and one Redis, behind Debian's
HAProxy (round-robin, WebSocket), as docs/deployment.md describes.

A client's URL may carry ``?node=N`` to reach process N while it is up (an HAProxy
``use-server`` rule, which HAProxy ignores for a server that is down): so a test can put a
customer and their agent on different processes, and still see them move through the
balancer to the others when theirs dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as redis

from dcs_sdk import SigningKey
from tests.conftest import IN_CI
from tests.server_process import ServerProcess, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"

HAPROXY_CFG = """\
global
    maxconn 4096
defaults
    mode http
    option redispatch
    retries 3
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend dcs
    bind 127.0.0.1:{port}
    default_backend dcs
backend dcs
    balance roundrobin
    option httpchk GET /healthz
{rules}
{servers}
"""


def require(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        if IN_CI:
            pytest.fail(f"{tool} is required under CI (make system-deps)")
        pytest.skip(f"{tool} is not installed (make system-deps)")
    return path


class Cluster:
    def __init__(self, tmp: Path, key: SigningKey, database_url: str, size: int, env: dict[str, str]) -> None:
        self.prefix = f"dcs_test_{secrets.token_hex(5)}"  # one test's channels and keys
        shared = {"DCS_REDIS_URL": REDIS_URL, "DCS_REDIS_PREFIX": self.prefix, **env}
        self.nodes = []
        for n in range(size):
            (tmp / f"node{n}").mkdir()
            self.nodes.append(ServerProcess(tmp / f"node{n}", key, database_url=database_url, env=shared))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cfg = tmp / "haproxy.cfg"
        self.log = tmp / "haproxy.log"
        self.haproxy: asyncio.subprocess.Process | None = None

    def node_url(self, n: int) -> str:
        """The balancer's URL, asking for process ``n`` (any other one while it is down)."""
        return f"{self.url}/?node={n}"

    async def start(self) -> None:
        # the first makes the schema, the others find it made; three imports at once on a
        # loaded 2-core machine take a while
        await self.nodes[0].start(timeout=60)
        await asyncio.gather(*(node.start(timeout=60) for node in self.nodes[1:]))
        rules = "\n".join(
            f"    use-server s{n} if {{ url_param(node) -m str {n} }}" for n in range(len(self.nodes))
        )
        servers = "\n".join(
            f"    server s{n} 127.0.0.1:{node.port} check inter 300 fall 2 rise 2"
            for n, node in enumerate(self.nodes)
        )
        self.cfg.write_text(HAPROXY_CFG.format(port=self.port, rules=rules, servers=servers))
        log = self.log.open("ab")
        self.haproxy = await asyncio.create_subprocess_exec(
            require("haproxy"), "-db", "-f", str(self.cfg), stdout=log, stderr=log
        )
        log.close()
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise TimeoutError(f"HAProxy did not come up: {self.log.read_text()[-2000:]}")

    async def close(self) -> None:
        if self.haproxy is not None and self.haproxy.returncode is None:
            self.haproxy.kill()
            await self.haproxy.wait()
        await asyncio.gather(*(node.kill() for node in self.nodes))
        client = redis.from_url(REDIS_URL)
        try:
            keys = [k async for k in client.scan_iter(f"{self.prefix}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


@contextlib.asynccontextmanager
async def cluster(
    tmp: Path, key: SigningKey, database_url: str, *, size: int = 3, env: dict[str, str] | None = None
) -> AsyncIterator[Cluster]:
    require("haproxy")
    probe = redis.from_url(REDIS_URL)
    try:
        await probe.ping()
    except (redis.RedisError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"Redis is required under CI but unreachable: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    finally:
        await probe.aclose()
    running = Cluster(tmp, key, database_url, size, env or {})
    try:
        await running.start()
        yield running
    finally:
        await running.close()
