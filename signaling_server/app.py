"""The app factory: wires config, store, assistant, router, socket.io, routes and assets."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

from dcs_sdk.assistant import Assistant, load_assistant
from dcs_sdk.protocol import MAX_TRANSPORT_BYTES
from dcs_sdk.tokens import SigningKey

from .assets import add_asset_routes
from .auth import Authenticator, build_authenticator, ensure_demo_key
from .availability import Availability, OpeningHours
from .cobrowse import CobrowseService
from .config import Config
from .csp import console_csp
from .departures import Departures
from .events import EventGateway, SioNotifier
from .followups import Followups
from .lifecycle import GracefulShutdown
from .limits import ConnectionGuard, handler_args
from .routing import Router
from .sessions import SessionService
from .signaling import SignalingService
from .store import Store
from .store.cached import CachedStore
from .transport import DcsServer

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

CONFIG = web.AppKey("config", Config)
SIO = web.AppKey("sio", socketio.AsyncServer)
SERVICE = web.AppKey("service", SessionService)
STORE = web.AppKey("store", Store)
DEMO_KEY = web.AppKey("demo_key", SigningKey)
# What the console's sign-in offers (demo agents); set by signaling_server.demo.
CONSOLE_SETTINGS = web.AppKey("console_settings", dict[str, Any])

# The console's Content-Security-Policy (csp.py): scripts from its own origin only; the
# co-browse replay may load the customers' sites' images, fonts and stylesheets.


def create_app(config: Config, *, assistant: Assistant | None = None) -> web.Application:
    """A ready aiohttp app; the store opens and the router is rebuilt when the app starts."""
    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    hours = OpeningHours.from_config(config.opening_hours, config.opening_hours_timezone)
    if config.data_dir:
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    app = web.Application(client_max_size=64 * 1024, handler_args=handler_args(config))
    app[CONFIG] = config
    app[CONSOLE_SETTINGS] = {"demo": False, "demo_agents": [], "demo_token_url": ""}
    demo_key = ensure_demo_key(config.data_dir) if config.demo else None
    if demo_key is not None:
        app[DEMO_KEY] = demo_key
    authenticator = build_authenticator(config, demo_key)
    # DcsServer: no client can reach the lifecycle handlers by naming them, and every event
    # with an ack id is answered (transport.py).
    sio = DcsServer(
        async_mode="aiohttp",
        # Origins are checked in auth.py with a clear error; let every handshake reach it.
        cors_allowed_origins="*" if config.allowed_origins else [],
        # Well above the 16 KiB event limit, so an oversized event is answered with
        # payload_too_large; above this the connection closes (docs/protocol.md, "Limits").
        max_http_buffer_size=MAX_TRANSPORT_BYTES,
        ping_interval=10,
        ping_timeout=10,
    )
    sio.attach(app)
    app[SIO] = sio
    # On SIGTERM: finish in-flight events, then close every connection (lifecycle.py);
    # per-connection bounds and timeouts (limits.py).
    guard = ConnectionGuard(sio, config)
    guard.install(app)
    GracefulShutdown(sio, guard, grace_s=config.shutdown_grace_s).install(app)
    app.cleanup_ctx.append(_lifecycle(config, assistant, authenticator, hours))
    _add_routes(app)
    if demo_key is not None:
        from .demo import add_demo_routes

        add_demo_routes(app, demo_key, config)
    return app


def _lifecycle(
    config: Config, assistant: Assistant | None, authenticator: Authenticator, hours: OpeningHours
) -> Any:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        store = await Store.open(config.resolved_database_url)
        bot = assistant or load_assistant(config.assistant, config.assistant_options)
        cached = CachedStore(store)
        router = Router()
        availability = Availability(router, hours)
        service = SessionService(
            cached,
            router,
            bot,
            SioNotifier(app[SIO]),
            default_queue=config.default_queue,
            availability=availability,
        )
        signaling = SignalingService(cached, SioNotifier(app[SIO]), config)
        cobrowse = CobrowseService(cached, SioNotifier(app[SIO]))
        service.companions.update(call=signaling, cobrowse=cobrowse)
        await service.restore()
        departures = Departures(service, grace_s=config.agent_grace_s)
        await departures.restore()
        if authenticator.jwks is not None:
            await authenticator.jwks.refresh(force=True)
        EventGateway(
            app[SIO],
            service,
            signaling,
            cobrowse,
            authenticator,
            departures=departures,
            followups=Followups(service),
            rate_burst=config.rate_burst,
            rate_per_s=config.rate_per_s,
        )
        app[STORE], app[SERVICE] = store, service
        availability.start(lambda: service._queue_changed(agents=False))
        log.info("DCS server ready (database: %s)", config.resolved_database_url.split("://")[0])
        try:
            yield
        finally:
            await availability.shutdown()
            await departures.shutdown()
            await service.shutdown()
            await bot.close()
            await store.close()

    return ctx


def _add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", _health)
    app.router.add_get("/console", _console_page)
    app.router.add_get("/console/", _console_page)
    app.router.add_get("/console/config.json", _console_config)
    maps = app[CONFIG].serve_source_maps
    if (STATIC / "console").is_dir():
        add_asset_routes(app, "/console/", STATIC / "console", source_maps=maps)
    if (STATIC / "widget").is_dir():
        add_asset_routes(app, "/widget/", STATIC / "widget", source_maps=maps)
    else:
        log.warning("widget assets are missing: run `make build` (npm + esbuild) first")
    app.on_response_prepare.append(_security_headers)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.path.startswith("/widget/"):
        # The widget script is loaded by other sites' pages.
        response.headers.setdefault("Cross-Origin-Resource-Policy", "cross-origin")
        response.headers.setdefault("Access-Control-Allow-Origin", "*")


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def _console_page(request: web.Request) -> web.StreamResponse:
    page = STATIC / "console" / "index.html"
    if not page.exists():
        return web.Response(status=503, text="The console is not built: run `make build`.")
    return web.FileResponse(
        page,
        headers={
            "Content-Security-Policy": console_csp(request.app[CONFIG]),
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
        },
    )


async def _console_config(request: web.Request) -> web.Response:
    return web.Response(
        text=json.dumps(request.app[CONSOLE_SETTINGS]),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
