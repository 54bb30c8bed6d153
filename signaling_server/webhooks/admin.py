"""The delivery log and re-send on the admin listener (behind ``metrics_token``):

- ``GET  /admin/webhooks/events?session_id=&state=&endpoint=&after_id=&limit=``: the outbox;
- ``GET  /admin/webhooks/events/{event_id}``: one event, its body and every attempt;
- ``POST /admin/webhooks/events/{event_id}/resend`` (optional ``{"endpoint": name}``).

Errors are ``{"error": {"code", "message"}}`` with 400 or 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .service import Webhooks

WEBHOOKS = web.AppKey("webhooks", Webhooks)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def admin_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """(method, path, handler) for the admin listener; ``app`` is the main app, which holds
    the Webhooks once it has started."""

    async def list_events(request: web.Request) -> web.Response:
        q = request.query
        try:
            after_id, limit = int(q.get("after_id", "0")), int(q.get("limit", "100"))
            if not 1 <= limit <= 1000 or after_id < 0:
                raise ValueError("limit must be 1-1000 and after_id 0 or more.")
            rows = await app[WEBHOOKS].list_events(
                session_id=q.get("session_id"),
                state=q.get("state"),
                endpoint=q.get("endpoint"),
                after_id=after_id,
                limit=limit,
            )
        except ValueError as exc:
            message = str(exc) if str(exc).endswith(".") else "after_id and limit must be whole numbers."
            return _error(400, "bad_request", message)
        return web.json_response({"events": rows, "next_after_id": rows[-1]["id"] if rows else None})

    async def get_event(request: web.Request) -> web.Response:
        event = await app[WEBHOOKS].event(request.match_info["event_id"])
        if event is None:
            return _error(404, "not_found", "There is no webhook event with this id.")
        return web.json_response(event)

    async def resend(request: web.Request) -> web.Response:
        endpoint = None
        if request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "bad_request", 'The body must be JSON: {"endpoint": name} or nothing.')
            endpoint = body.get("endpoint") if isinstance(body, dict) else None
            if endpoint is not None and not isinstance(endpoint, str):
                return _error(400, "bad_request", "endpoint must be an endpoint's name.")
        count = await app[WEBHOOKS].resend(request.match_info["event_id"], endpoint=endpoint, actor="admin")
        if not count:
            return _error(404, "not_found", "There is no webhook event with this id (for this endpoint).")
        return web.json_response({"ok": True, "resent": count})

    return [
        ("GET", "/admin/webhooks/events", list_events),
        ("GET", "/admin/webhooks/events/{event_id}", get_event),
        ("POST", "/admin/webhooks/events/{event_id}/resend", resend),
    ]
