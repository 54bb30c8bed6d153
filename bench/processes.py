"""Servers the benches start in processes of their own (as in production, not sharing the
bench's event loop with its clients or with Playwright)."""

from __future__ import annotations

import asyncio
import socket
import time


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
