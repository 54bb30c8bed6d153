"""Servers the benches start in processes of their own (as in production, not sharing the
bench's event loop with its clients or with Playwright)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_up(port: int, proc: asyncio.subprocess.Process, timeout_s: float = 30) -> None:
    """Return once something accepts connections on 127.0.0.1:port; raise if proc dies first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            await asyncio.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"the server did not start listening on port {port}")


def dcs_env(key: Any, data_dir: Path, *, issuer: str, audience: str, **settings: str) -> dict[str, str]:
    """The environment of a DCS server process for a bench: ``data_dir`` as its data dir, the
    bench's signing key (a dcs_sdk SigningKey) trusted through a jwks.json written there,
    warnings only in its log, and ``settings`` by their DCS_* names without the prefix."""
    from dcs_sdk import KeySet

    (data_dir / "jwks.json").write_text(json.dumps(KeySet([key.public()]).to_jwks()))
    return {
        **os.environ,
        "DCS_PUBLIC_KEYS_FILE": str(data_dir / "jwks.json"),
        "DCS_ISSUER": issuer,
        "DCS_AUDIENCE": audience,
        "DCS_DATA_DIR": str(data_dir),
        "DCS_LOG_LEVEL": "WARNING",
        **{f"DCS_{name.upper()}": value for name, value in settings.items()},
    }
