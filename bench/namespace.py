"""Benches that drive WebRTC re-execute themselves inside a private network namespace.

Like the WebRTC tests (tests/netns.py): ``unshare -n`` with a veth pair 10.99.0.1 <-> 10.99.0.2,
so every packet stays inside a namespace the bench made itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.netns import SETUP  # noqa: E402

MARKER = "DCS_IN_NETNS"


def in_namespace() -> bool:
    return os.environ.get(MARKER) == "1"


def reexec_in_namespace() -> int:
    """Run this same command again inside a fresh namespace; its exit code."""
    if not shutil.which("unshare"):
        sys.exit(f"{sys.argv[0]} needs unshare (util-linux) to make a private network namespace")
    command = ["unshare", "-n", "bash", "-c", f'{SETUP}; exec "$@"', "dcs-netns", sys.executable, *sys.argv]
    return subprocess.call(command, env={**os.environ, MARKER: "1"})
