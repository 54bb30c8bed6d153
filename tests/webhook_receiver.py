"""A real webhook receiver for the tests: an aiohttp server on a fixed port that verifies
each delivery (with dcs_sdk and, independently, the standardwebhooks library), can fail its
first deliveries, and can go down and come back on the same port."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import standardwebhooks
from aiohttp import web

from dcs_sdk.webhooks import verify
from tests.server_process import free_port

SECRET = "whsec_" + "c2VjcmV0LWZvci10aGUtdGVzdC1yZWNlaXZlcg=="  # base64 of 30 bytes


@dataclass
class Delivery:
    event: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int


@dataclass
class Receiver:
    secret: str = SECRET
    fail_first: int = 0  # answer this many deliveries 500 first
    port: int = field(default_factory=free_port)
    accepted: list[Delivery] = field(default_factory=list)
    refused: list[Delivery] = field(default_factory=list)
    bad_signatures: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        try:
            event = verify(body, headers, self.secret)
            # an independent implementation of the same scheme agrees
            assert standardwebhooks.Webhook(self.secret).verify(body, headers) == event
        except Exception:
            self.bad_signatures += 1
            return web.Response(status=400, text="bad signature")
        delivery = Delivery(event, headers, time.time(), 200)
        if self.fail_first > 0:
            self.fail_first -= 1
            delivery.status = 500
            self.refused.append(delivery)
            return web.Response(status=500, text="not today")
        self.accepted.append(delivery)
        return web.json_response({"ok": True})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def ids(self) -> list[str]:
        return [d.event["id"] for d in self.accepted]

    def by_session(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for d in self.accepted:
            out.setdefault(d.event["session_id"], []).append(d.event["type"])
        return out

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                got = json.dumps(self.by_session(), indent=1)
                raise AssertionError(f"{len(self.accepted)} of {count} deliveries arrived: {got}")
            await asyncio.sleep(0.02)


def endpoint_config(receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"url": receiver.url, "secret": receiver.secret}
    if events is not None:
        spec["events"] = events
    return {"crm": spec}
