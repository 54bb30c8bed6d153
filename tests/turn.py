"""A real coturn for tests and benches, inside the caller's private network namespace.

coturn listens on 10.99.0.1:3478 (the namespace's veth address, tests/netns.py) with
``use-auth-secret``, so the DCS server's TURN REST credentials, minted from the same secret,
are what it accepts.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

TURN_SECRET = "turn-test-secret"
TURN_IP = "10.99.0.1"
TURN_PORT = 3478
TURN_URL = f"turn:{TURN_IP}:{TURN_PORT}?transport=udp"


class CoturnMissing(RuntimeError):
    """coturn (turnserver) is not installed."""


def require_coturn() -> None:
    """In a test: skip it where coturn is not installed, or fail it under CI (CI=true)."""
    if shutil.which("turnserver") is None:
        import pytest

        message = "coturn is not installed (apt-get install coturn; make system-deps does it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: it is required under CI")
        pytest.skip(message)


@asynccontextmanager
async def coturn(workdir: Path, secret: str = TURN_SECRET) -> AsyncIterator[Path]:
    """Run coturn until the block ends; yields its log file."""
    binary = shutil.which("turnserver")
    if binary is None:
        raise CoturnMissing("coturn is not installed (apt-get install coturn; make system-deps does it)")
    log = workdir / "turn.log"
    proc = await asyncio.create_subprocess_exec(
        binary,
        "-n",
        *("--listening-ip", TURN_IP, "--relay-ip", TURN_IP, "--listening-port", str(TURN_PORT)),
        *("--use-auth-secret", "--static-auth-secret", secret, "--realm", "dcs.test"),
        *("--no-tls", "--no-dtls", "--no-cli", "--fingerprint", "--min-port", "49160", "--max-port", "49260"),
        *("--log-file", str(log), "--simple-log", "--verbose"),
        *("--pidfile", str(workdir / "turn.pid"), "--db", str(workdir / "turndb")),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not _listening(TURN_IP, TURN_PORT):
            if proc.returncode is not None:
                raise RuntimeError(f"coturn exited at start; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"coturn did not start listening; see {log}")
            await asyncio.sleep(0.1)
        yield log
    finally:
        proc.terminate()
        await proc.wait()


def _listening(host: str, port: int) -> bool:
    # coturn also listens on TCP; a TCP connect tells us it is up without sending STUN
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
