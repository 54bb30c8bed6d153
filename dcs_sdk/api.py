"""A small typed client for the DCS REST API (/api/v1, docs/api.md).

    token = (AccessToken(key, issuer=..., audience="dcs").with_identity("crm")
             .as_service(scopes=["sessions:read", "customers:export"]).to_jwt())
    async with ApiClient("https://dcs.example", token) as api:
        async for session in api.iter_sessions(state="ended", queue="billing"):
            ...
        data = await api.export_customer("v_123")

``token`` may be a string or a callable returning a fresh one (service tokens are short
lived). Errors raise ApiError with the API's code and sentence; a 429 is retried after
its Retry-After, up to ``max_retries`` times.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, TypedDict, cast

import aiohttp

from .exceptions import ApiError


class SessionSummary(TypedDict):
    id: str
    state: str
    queue: str
    customer_id: str
    customer_name: str
    agent_id: str | None
    agent_name: str | None
    reason: str
    created_at: int
    queued_at: int | None
    accepted_at: int | None
    first_agent_reply_at: int | None
    wrap_up_at: int | None
    ended_at: int | None
    csat_score: int | None
    csat_comment: str | None
    left_message_at: int | None


class SessionPage(TypedDict):
    items: list[SessionSummary]
    next_cursor: str | None


class SessionDetail(TypedDict):
    session: SessionSummary
    handoff: dict[str, Any]
    transcript: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    notes: list[dict[str, Any]]


class Note(TypedDict):
    id: int
    session_id: str
    author: dict[str, str]
    text: str
    at: int


class ErasureResult(TypedDict):
    customer_digest: str
    sessions: int
    deleted: dict[str, int]
    ended: list[str]
    tombstone_id: int


class AuditPage(TypedDict):
    items: list[dict[str, Any]]
    next_cursor: str | None


TokenSource = str | Callable[[], str]


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("Give since/until with a time zone (datetime.now(UTC)).")
    return value.isoformat()


class ApiClient:
    def __init__(
        self, base_url: str, token: TokenSource, *, timeout_s: float = 30.0, max_retries: int = 2
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/api/v1"
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_retries = max_retries
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        raw: bool = False,
    ) -> Any:
        """One call: the decoded JSON (or the text, with ``raw``); ApiError on an error."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        params = {k: str(v) for k, v in (query or {}).items() if v is not None}
        for attempt in range(self._max_retries + 1):
            token = self._token() if callable(self._token) else self._token
            headers = {"Authorization": f"Bearer {token}"}
            async with self._http.request(
                method, self.base_url + path, params=params, json=body, headers=headers
            ) as resp:
                if resp.status < 400:
                    return await resp.text() if raw else await resp.json()
                try:
                    data = await resp.json(content_type=None)
                    code, message = str(data["code"]), str(data["message"])
                except (ValueError, KeyError, TypeError, aiohttp.ContentTypeError):
                    code, message = "http_error", f"HTTP {resp.status}"
                retry = resp.headers.get("Retry-After")
                retry_after = float(retry) if retry and retry.isdigit() else None
                if resp.status == 429 and retry_after is not None and attempt < self._max_retries:
                    await asyncio.sleep(retry_after)
                    continue
                raise ApiError(resp.status, code, message, retry_after)
        raise AssertionError("unreachable")

    # sessions

    async def sessions(
        self,
        *,
        state: str | None = None,
        queue: str | None = None,
        agent_id: str | None = None,
        customer_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> SessionPage:
        query = {
            "state": state,
            "queue": queue,
            "agent_id": agent_id,
            "customer_id": customer_id,
            "since": _time(since),
            "until": _time(until),
            "limit": limit,
            "cursor": cursor,
        }
        return cast(SessionPage, await self.request("GET", "/sessions", query=query))

    async def iter_sessions(self, **filters: Any) -> AsyncIterator[SessionSummary]:
        """Every session matching the filters (those of ``sessions()``), page by page."""
        cursor = None
        while True:
            page = await self.sessions(**filters, cursor=cursor)
            for item in page["items"]:
                yield item
            cursor = page["next_cursor"]
            if cursor is None:
                return

    async def session(self, session_id: str) -> SessionDetail:
        return cast(SessionDetail, await self.request("GET", f"/sessions/{session_id}"))

    async def add_note(self, session_id: str, text: str) -> Note:
        return cast(Note, await self.request("POST", f"/sessions/{session_id}/notes", body={"text": text}))

    # reports

    async def report(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        agent_id: str | None = None,
        bucket: Literal["hour", "day"] = "day",
        csv: bool = False,
    ) -> Any:
        """The report figures (a dict, docs/api.md "Reports"), or with ``csv`` its CSV text."""
        query = {
            "since": _time(since),
            "until": _time(until),
            "queue": queue,
            "agent_id": agent_id,
            "bucket": bucket,
        }
        return await self.request("GET", "/reports.csv" if csv else "/reports", query=query, raw=csv)

    # customers

    async def export_customer(self, customer_id: str) -> dict[str, Any]:
        result = await self.request("POST", "/customers/export", body={"customer_id": customer_id})
        return cast(dict[str, Any], result)

    async def erase_customer(self, customer_id: str) -> ErasureResult:
        result = await self.request("POST", "/customers/erase", body={"customer_id": customer_id})
        return cast(ErasureResult, result)

    # audit

    async def audit(
        self,
        *,
        session_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditPage:
        query = {
            "session_id": session_id,
            "actor_id": actor_id,
            "action": action,
            "limit": limit,
            "cursor": cursor,
        }
        return cast(AuditPage, await self.request("GET", "/audit", query=query))
