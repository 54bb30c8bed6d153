"""Serving the metrics: ``GET /metrics`` on the admin listener, and/or on the public port
behind a bearer token.

The admin listener (``metrics_port``, on ``metrics_host``, 127.0.0.1 by default) is a
second aiohttp site of the same process, meant for the scraper and operators only; it also
carries the webhook delivery log and re-send (webhooks/admin.py). With ``metrics_token``
set, every admin route wants ``Authorization: Bearer <token>``, and ``/metrics`` is also
served on the public port (behind the same token).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .registry import Metrics

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def require_token(token: str, handler: Handler) -> Handler:
    """``handler``, answered 401 without ``Authorization: Bearer <token>`` (when a token is set)."""
    if not token:
        return handler
    expected = f"Bearer {token}".encode()

    async def guarded(request: web.Request) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.json_response(
                {"error": {"code": "unauthorized", "message": "Send Authorization: Bearer <metrics_token>."}},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="dcs-admin"'},
            )
        return await handler(request)

    return guarded


def metrics_handler(metrics: Metrics) -> Handler:
    async def scrape(request: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(
            body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
        )

    return scrape


def admin_site(
    host: str, port: int, token: str, routes: list[tuple[str, str, Handler]]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs the admin listener beside the app: (method, path, handler)
    routes, each behind the token."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        admin = web.Application()
        for method, path, handler in routes:
            admin.router.add_route(method, path, require_token(token, handler))
        runner = web.AppRunner(admin, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("admin listener (metrics) on http://%s:%d/metrics", host, port)
        try:
            yield
        finally:
            await runner.cleanup()

    return ctx
