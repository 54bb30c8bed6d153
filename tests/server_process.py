"""A DCS server as its own process (`python -m signaling_server`), for the tests that kill,
stop or restart it as an operator or a crash would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp

from dcs_sdk import KeySet, SigningKey
from tests.conftest import AUDIENCE, ISSUER

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """One server process on a fixed port; ``start()`` again after ``kill()`` restarts it
    on the same port and database, so clients reconnect to the same URL."""

    def __init__(
        self,
        data_dir: Path,
        signing_key: SigningKey,
        *,
        database_url: str = "",
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.env = env or {}
        self.keys_file = data_dir / "jwks.json"
        self.keys_file.write_text(json.dumps(KeySet([signing_key.public()]).to_jwks()))
        self.log_path = data_dir / "server.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        args = [
            sys.executable,
            "-m",
            "signaling_server",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--public-keys-file",
            str(self.keys_file),
            "--log-level",
            "WARNING",
        ]
        if self.database_url:
            args += ["--database-url", self.database_url]
        env = {**os.environ, "DCS_ISSUER": ISSUER, "DCS_AUDIENCE": AUDIENCE, **self.env}
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(*args, cwd=ROOT, env=env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"the server exited: {self.log_path.read_text()[-2000:]}")
                try:
                    async with http.get(f"{self.url}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise TimeoutError(f"the server did not come up: {self.log_path.read_text()[-2000:]}")

    async def kill(self) -> None:
        """kill -9: no shutdown code runs."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> int:
        """SIGTERM; the exit code."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")
