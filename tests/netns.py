"""Run a test inside a private network namespace with a veth pair (10.99.0.1 <-> 10.99.0.2).

aiortc's ICE ignores 127.0.0.1, and tests must never send traffic off the machine, so WebRTC
tests run in a network namespace the test run makes itself (/work/shared/DESIGN.md, "Testing
WebRTC on these machines")::

    @netns.isolated
    async def test_call(connect: Connect) -> None: ...

Outside the namespace the decorated test re-runs its own node in a fresh one (``unshare -n``)
and passes or fails with it, showing the inner run's output on failure; inside
(``DCS_IN_NETNS=1``) it is the test itself. Where no namespace can be made the test is skipped
with the reason, except under CI (``CI=true``), where that is a failure.

Parametrized tests are not supported (the outer test only takes ``request``).
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

ENV_MARKER = "DCS_IN_NETNS"
IN_CI = os.environ.get("CI", "").lower() == "true"
SETUP = (
    "set -e; ip link set lo up; ip link add v0 type veth peer name v1; "
    "ip addr add 10.99.0.1/24 dev v0; ip addr add 10.99.0.2/24 dev v1; "
    "ip link set v0 up; ip link set v1 up"
)
INNER_TIMEOUT_S = 120.0

F = TypeVar("F", bound=Callable[..., Any])


def inside() -> bool:
    """Whether this process runs inside the namespace made by ``run_node``."""
    return os.environ.get(ENV_MARKER) == "1"


@functools.cache
def _problem() -> str | None:
    """Why no namespace can be made here, or None if one can."""
    for tool in ("unshare", "ip", "bash"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        probe = subprocess.run(
            ["unshare", "-n", "bash", "-c", SETUP], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n failed: {exc}"
    if probe.returncode != 0:
        return f"cannot make a network namespace with a veth pair: {probe.stderr.strip() or probe.returncode}"
    return None


def run_node(nodeid: str, rootdir: Path, timeout: float = INNER_TIMEOUT_S) -> str:  # noqa: ASYNC109
    """Run one pytest node in a fresh namespace; fail unless it passed. Returns its output."""
    problem = _problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"WebRTC tests need a private network namespace under CI: {problem}", pytrace=False)
        pytest.skip(f"no private network namespace for WebRTC tests: {problem}")
    command = [
        "unshare",
        "-n",
        "bash",
        "-c",
        f'{SETUP}; exec "$@"',
        "dcs-netns",
        sys.executable,
        "-m",
        "pytest",
        nodeid,
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfEsP",
    ]
    env = {**os.environ, ENV_MARKER: "1"}
    try:
        inner = subprocess.run(command, cwd=rootdir, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{nodeid} did not finish within {timeout:.0f} s inside the network namespace:\n"
            f"{_text(exc.stdout)}{_text(exc.stderr)}",
            pytrace=False,
        )
    output = inner.stdout + inner.stderr
    summary = next((line for line in reversed(inner.stdout.splitlines()) if line.strip()), "")
    passed = re.search(r"\b1 passed\b", summary) and not re.search(
        r"skipped|xfailed|xpassed|deselected|failed|error", summary
    )
    if inner.returncode != 0 or not passed:
        pytest.fail(
            f"{nodeid} failed inside the network namespace (exit {inner.returncode}):\n{output}",
            pytrace=False,
        )
    return output


def isolated(test: F) -> F:
    """Decorate a test so that it always runs inside a fresh network namespace."""
    if inside():
        return test

    def outer(request: pytest.FixtureRequest) -> None:
        output = run_node(request.node.nodeid, request.config.rootpath)
        print(output)  # shown with -rP or -s

    functools.update_wrapper(outer, test)  # name, docstring and marks
    del outer.__wrapped__  # pytest must see outer's own signature, not the test's fixtures
    outer.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    )
    return outer  # type: ignore[return-value]


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data
