"""The app factory: wires config, store, assistant, router, socket.io, routes and assets."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

from dcs_sdk.assistant import Assistant, load_assistant
from dcs_sdk.protocol import MAX_TRANSPORT_BYTES, Event
from dcs_sdk.tokens import SigningKey

from .api import add_api
from .assets import add_asset_routes
from .attachments import ATTACHMENTS, add_attachment_routes, build_attachments
from .auth import Authenticator, build_authenticator, ensure_demo_key
from .availability import Availability, OpeningHours
from .cluster import Cluster
from .cluster import client_manager as cluster_manager
from .cobrowse import CobrowseService
from .config import Config
from .csp import console_csp
from .departures import Departures
from .events import EventGateway, SioNotifier
from .external_notes import ExternalNotes
from .followups import Followups
from .history import History
from .lifecycle import GracefulShutdown
from .limits import ConnectionGuard, handler_args
from .logs import configure_logging
from .metrics import (
    EventObserver,
    LiveCollector,
    Metrics,
    ObservingNotifier,
    SessionMetrics,
    admin_site,
    metrics_handler,
    require_token,
)
from .receipts import Receipts
from .reports.rollup import rollup_job
from .retention import retention_job
from .rooms import IndexedAsyncManager
from .routing import Router
from .sessions import SessionService
from .signaling import SignalingService
from .store import Store
from .store.audit import AuditLog
from .store.cached import CachedStore
from .store.staff_notes import StaffNotes
from .store.transfers import TransferStore
from .supervisor import SupervisorDesk, Wall
from .transcript_lines import TranscriptLines
from .transfers import Transfers
from .transport import DcsServer
from .webhooks import WEBHOOKS, Webhooks, admin_routes, parse_endpoints
from .workspace import Workspace

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"

CONFIG = web.AppKey("config", Config)
SIO = web.AppKey("sio", socketio.AsyncServer)
SERVICE = web.AppKey("service", SessionService)
STORE = web.AppKey("store", Store)
DEMO_KEY = web.AppKey("demo_key", SigningKey)
# What the console's sign-in offers (demo agents); set by signaling_server.demo.
CONSOLE_SETTINGS = web.AppKey("console_settings", dict[str, Any])
METRICS = web.AppKey("metrics", Metrics)
WORKSPACE = web.AppKey("workspace", Workspace)

# The console's Content-Security-Policy (csp.py): scripts from its own origin only; the
# co-browse replay may load the customers' sites' images, fonts and stylesheets.


def create_app(config: Config, *, assistant: Assistant | None = None) -> web.Application:
    """A ready aiohttp app; the store opens and the router is rebuilt when the app starts."""
    configure_logging(config.log_level, config.log_format)
    parse_endpoints(config.webhooks)  # a wrong webhook setting stops the start, saying which
    hours = OpeningHours.from_config(config.opening_hours, config.opening_hours_timezone)
    if config.data_dir:
        Path(config.data_dir).mkdir(parents=True, exist_ok=True)
    app = web.Application(client_max_size=64 * 1024, handler_args=handler_args(config))
    app[CONFIG] = config
    app[CONSOLE_SETTINGS] = {"demo": False, "demo_agents": [], "demo_token_url": ""}
    # dispositions and canned responses: a wrong setting stops the start, saying which
    app[WORKSPACE] = Workspace.from_config(config.dispositions, config.canned_responses)
    demo_key = ensure_demo_key(config.data_dir) if config.demo else None
    if demo_key is not None:
        app[DEMO_KEY] = demo_key
    authenticator = build_authenticator(config, demo_key)
    # DcsServer: no client can reach the lifecycle handlers by naming them, and every event
    # with an ack id is answered (transport.py).
    sio = DcsServer(
        async_mode="aiohttp",
        # rooms indexed by socket: a disconnect leaves its own rooms, not a scan of all
        # (rooms.py); across processes through Redis when redis_url is set (cluster/)
        client_manager=cluster_manager(config) if config.redis_url else IndexedAsyncManager(),
        # Origins are checked in auth.py with a clear error; let every handshake reach it.
        cors_allowed_origins="*" if config.allowed_origins else [],
        # Well above the 16 KiB event limit, so an oversized event is answered with
        # payload_too_large; above this the connection closes (docs/protocol.md, "Limits").
        max_http_buffer_size=MAX_TRANSPORT_BYTES,
        ping_interval=10,
        ping_timeout=10,
    )
    app[SIO] = sio
    # On SIGTERM: finish in-flight events, then close every connection (lifecycle.py);
    # per-connection bounds and timeouts (limits.py), which also routes /socket.io/ to sio.
    guard = ConnectionGuard(sio, config)
    guard.install(app)
    GracefulShutdown(sio, guard, grace_s=config.shutdown_grace_s).install(app)
    app[METRICS] = Metrics()
    app.cleanup_ctx.append(_lifecycle(config, assistant, authenticator, hours))
    if config.metrics_port:  # the admin listener: metrics, webhook delivery log and re-send
        routes = [("GET", "/metrics", metrics_handler(app[METRICS])), *admin_routes(app)]
        app.cleanup_ctx.append(
            admin_site(config.metrics_host, config.metrics_port, config.metrics_token, routes)
        )
    if config.metrics_token:
        app.router.add_get("/metrics", require_token(config.metrics_token, metrics_handler(app[METRICS])))
    _add_routes(app)
    # attachments: upload, signed download, the sweep (attachments/); after the lifecycle
    add_attachment_routes(app, config, in_time=guard.in_time)
    # the REST API (api/) and the retention job (retention.py) use the store once it is open
    add_api(
        app,
        config,
        authenticator,
        store=lambda: app[STORE],
        service=lambda: app[SERVICE],
        in_time=guard.in_time,
    )
    app.cleanup_ctx.append(rollup_job(config.report_rollup_interval_s, lambda: app[STORE]))
    if config.retention_days > 0:
        app.cleanup_ctx.append(
            retention_job(
                config.retention_days,
                config.retention_interval_s,
                lambda: app[STORE],
                lambda: app[SERVICE].store if SERVICE in app else None,
            )
        )
    if demo_key is not None:
        from .demo import add_demo_routes

        add_demo_routes(app, demo_key, config)
    return app


def _lifecycle(
    config: Config, assistant: Assistant | None, authenticator: Authenticator, hours: OpeningHours
) -> Any:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        store = await Store.open(config.resolved_database_url)
        # metrics and webhooks listen to the store's changes (store/changes.py)
        metrics = app[METRICS]
        session_metrics = SessionMetrics(metrics)
        await session_metrics.load(store.engine)
        store.changes.listeners.append(session_metrics)
        # several processes: each counts its own changes, so the state counts are re-read
        resync = asyncio.create_task(session_metrics.resync(store.engine, 30.0)) if config.redis_url else None
        store.changes.timer = metrics.time_store_write
        webhooks = app[WEBHOOKS] = Webhooks.from_config(store, config, metrics)
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
        # calls and co-browse push every change of theirs: counted on the way (metrics/)
        observed = ObservingNotifier(
            SioNotifier(app[SIO]), metrics, relay_only=config.ice_transport_policy == "relay"
        )
        signaling = SignalingService(cached, observed, config)
        cobrowse = CobrowseService(cached, observed)
        service.companions.update(call=signaling, cobrowse=cobrowse)
        signaling.lines = cobrowse.lines = TranscriptLines(service)
        service.workspace = app[WORKSPACE]
        await service.restore()
        departures = Departures(service, grace_s=config.agent_grace_s)
        # several processes: queue, seats and cache kept in step through Redis (cluster/)
        cluster = Cluster(config, service, departures, app[SIO]) if config.redis_url else None
        if cluster is not None:
            cluster.share_companions(signaling, cobrowse)
            await cluster.start()
        await departures.restore()
        if authenticator.jwks is not None:
            await authenticator.jwks.refresh(force=True)
        gateway = EventGateway(
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
        # transfers and the supervisor floor (transfers.py, supervisor/), audited
        service.audit = AuditLog(store.engine)
        notes = StaffNotes(store.engine)
        # pending transfers are rows: any process delivers, answers or times them out
        transfer_store = TransferStore(store.engine)
        transfers = Transfers(service, notes, transfer_store, timeout_s=config.transfer_timeout_s)
        transfers.start()
        wall = Wall(service, SioNotifier(app[SIO]), service_level_s=config.service_level_s)
        desk = SupervisorDesk(service, wall, notes, transfers, departures)
        if cluster is not None:
            cluster.share_floor(wall, desk)
        gateway.handlers.update({**transfers.handlers(), **desk.handlers()})
        # files in the chat, read receipts, past conversations (attachments/, receipts.py, history.py)
        attachments = app[ATTACHMENTS] = build_attachments(config, service, authenticator)
        receipts = Receipts(service)
        receipts.install()
        ExternalNotes(service).install()  # notes from the REST API, in the agent's context
        gateway.handlers.update(
            {
                Event.ATTACHMENT_LINK: attachments.link,
                Event.CHAT_READ: receipts.read,
                **History(service).handlers(),
            }
        )
        gateway.supervisors = desk
        app[STORE], app[SERVICE] = store, service
        # events and errors counted, chat.send timed, the log context bound (metrics/)
        app[SIO].on("*", EventObserver(metrics).wrap(gateway.on_event))
        collector = LiveCollector(
            router, lambda: gateway.connections.values(), lambda: session_metrics.states
        )
        metrics.registry.register(collector)
        webhooks.start()
        availability.start(lambda: service._queue_changed(agents=False))
        log.info("DCS server ready (database: %s)", config.resolved_database_url.split("://")[0])
        try:
            yield
        finally:
            metrics.registry.unregister(collector)
            if resync is not None:
                resync.cancel()
                await asyncio.gather(resync, return_exceptions=True)
            await webhooks.close()
            await availability.shutdown()
            await departures.shutdown()
            if cluster is not None:
                await cluster.close()
            await transfers.shutdown()
            await receipts.shutdown()
            await attachments.storage.close()
            await wall.shutdown()
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
    if response.status == 101:  # a WebSocket: they mean nothing there, and it keeps them
        return
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
    base = request.app[CONSOLE_SETTINGS]
    settings = {**base, **request.app[WORKSPACE].to_console()}  # + dispositions, canned responses
    return web.Response(
        text=json.dumps(settings),
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )
