"""The REST API's machinery: a route table of typed endpoints, each request authenticated,
rate-limited, scope-checked and validated before its handler runs, JSON errors, and the
OpenAPI 3.1 document generated from the same table and the pydantic models.

An ``Endpoint`` names its method, path, scope, and models (path, query, body, response);
``mount()`` adds it to the aiohttp router behind ``_run()``, and ``openapi()`` describes
it. Nothing is described that does not run, and nothing runs undescribed.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler as WebHandler
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from dcs_sdk.exceptions import TokenError
from dcs_sdk.protocol import ErrorCode, Role
from dcs_sdk.tokens import SUPERVISOR_SCOPES, Claims, TokenVerifier

from ..events import TokenBucket
from .models import Error

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
API_ROLES = (Role.SERVICE, Role.SUPERVISOR)
MAX_LIMITERS = 10_000


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(err: ApiError) -> web.Response:
    return web.json_response(
        {"code": err.code, "message": err.message}, status=err.status, headers=err.headers
    )


@dataclass(frozen=True)
class Call:
    """What a handler gets: the request, who is calling, and the validated inputs."""

    request: web.Request
    claims: Claims
    path: Any = None
    query: Any = None
    body: Any = None

    def visible_queues(self) -> tuple[str, ...] | None:
        """The queues a supervisor who oversees only some may see; None: all."""
        if self.claims.role is Role.SUPERVISOR and "*" not in self.claims.skills:
            return self.claims.skills
        return None


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    operation_id: str
    summary: str
    scope: str
    handler: Handler
    tag: str
    path_model: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # the response's media type when it is not JSON (a CSV download)
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    description: str = ""
    # OpenAPI links from this endpoint's response to other operations (operationId:
    # {parameter: runtime expression}), so clients and test tools can follow them
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


# every endpoint may answer these
COMMON_ERRORS = (400, 401, 403, 429)


@dataclass
class RateLimits:
    """A token bucket per caller identity (role and sub), so one service's bursts do not
    spend another's budget; the least recently seen identities are forgotten first."""

    burst: int
    per_s: float
    buckets: OrderedDict[tuple[str, str], TokenBucket] = field(default_factory=OrderedDict)

    def retry_after(self, claims: Claims) -> int | None:
        key = (claims.role.value, claims.sub)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(burst=self.burst, rate=self.per_s)
            while len(self.buckets) > MAX_LIMITERS:
                self.buckets.popitem(last=False)
        self.buckets.move_to_end(key)
        if bucket.take():
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.per_s)) if self.per_s > 0 else 60


class Api:
    def __init__(
        self, verifier: TokenVerifier, limits: RateLimits, refresh_keys: Callable[[], Awaitable[None]] | None
    ) -> None:
        self.verifier = verifier
        self.limits = limits
        self.refresh_keys = refresh_keys
        self.endpoints: list[Endpoint] = []
        self._document: dict[str, Any] | None = None

    def add(self, endpoint: Endpoint) -> None:
        self.endpoints.append(endpoint)

    def mount(
        self,
        app: web.Application,
        in_time: Callable[[WebHandler], WebHandler] = lambda h: h,
    ) -> None:
        """The routes, every error JSON {code, message}: the endpoints' own, and for any
        other method on their paths (405) or any other path under /api/ (404), answered by
        routes of their own rather than a middleware (with any middleware, aiohttp keeps a
        frame per request for as long as it lasts: every WebSocket's)."""
        methods: dict[str, list[str]] = {}
        for endpoint in self.endpoints:
            path = PREFIX + endpoint.path
            app.router.add_route(endpoint.method, path, in_time(self._bind(endpoint)))
            methods.setdefault(path, []).append(endpoint.method)
        app.router.add_get(PREFIX + "/openapi.json", _json_errors(self._openapi))
        methods.setdefault(PREFIX + "/openapi.json", []).extend(["GET", "HEAD"])
        for path, allowed in methods.items():
            app.router.add_route("*", path, _not_allowed(allowed))
        app.router.add_route("*", "/api/{rest:.*}", _no_such_path)

    def _bind(self, endpoint: Endpoint) -> WebHandler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await self._run(endpoint, request)
            except ApiError as err:
                return error_response(err)

        return _json_errors(run)

    async def _authenticate(self, request: web.Request) -> Claims:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise ApiError(
                401,
                ErrorCode.TOKEN_MISSING,
                "Send a token: Authorization: Bearer <service or supervisor token>.",
                {"WWW-Authenticate": "Bearer"},
            )
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                ErrorCode.TOKEN_INVALID,
                "Use Authorization: Bearer <token>.",
                {"WWW-Authenticate": "Bearer"},
            )
        token = token.strip()
        try:
            if self.refresh_keys is not None and self.verifier.keys.get(self.verifier.kid_of(token)) is None:
                await self.refresh_keys()
            return self.verifier.verify(token, roles=API_ROLES)
        except TokenError as exc:
            raise ApiError(
                401, exc.code, exc.message, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            ) from exc

    async def _run(self, endpoint: Endpoint, request: web.Request) -> web.StreamResponse:
        claims = await self._authenticate(request)
        retry = self.limits.retry_after(claims)
        if retry is not None:
            raise ApiError(
                429,
                ErrorCode.RATE_LIMITED,
                f"Too many requests from {claims.sub!r}; retry in {retry} s.",
                {"Retry-After": str(retry)},
            )
        granted = claims.scopes if claims.role is Role.SERVICE else SUPERVISOR_SCOPES
        if endpoint.scope not in granted:
            raise ApiError(
                403, ErrorCode.FORBIDDEN, f"This token lacks the scope {endpoint.scope!r} this call needs."
            )
        if not endpoint.query and request.query:
            raise ApiError(400, ErrorCode.BAD_PAYLOAD, "This call takes no query parameters.")
        call = Call(
            request=request,
            claims=claims,
            path=_validate(endpoint.path_model, dict(request.match_info), "path")
            if endpoint.path_model
            else None,
            query=_validate(endpoint.query, _query_dict(request), "query") if endpoint.query else None,
            body=_validate(endpoint.body, await _json_body(request), "body") if endpoint.body else None,
        )
        result = await endpoint.handler(call)
        if isinstance(result, web.StreamResponse):
            return result
        data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
        return web.json_response(data, status=endpoint.status)

    async def _openapi(self, request: web.Request) -> web.Response:
        if self._document is None:
            self._document = openapi(self.endpoints)
        return web.json_response(self._document, headers={"Cache-Control": "no-cache"})


def _query_dict(request: web.Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in request.query.items():
        if key in out:
            raise ApiError(400, ErrorCode.BAD_PAYLOAD, f"Give the query parameter {key!r} once.")
        out[key] = value
    return out


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise ApiError(400, ErrorCode.BAD_PAYLOAD, "Send the body as JSON (Content-Type: application/json).")
    try:
        return await request.json()
    except ValueError as exc:
        raise ApiError(400, ErrorCode.BAD_PAYLOAD, "The body is not valid JSON.") from exc


def _validate(model: type[BaseModel], data: Any, where: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or where
        what = "Unknown parameter" if first["type"] == "extra_forbidden" else "Invalid value"
        msg = first["msg"].rstrip(".")
        sentence = (
            f"{what} in the {where}: {loc}."
            if what.startswith("Unknown")
            else f"{what} in the {where} for {loc}: {msg}."
        )
        raise ApiError(400, ErrorCode.BAD_PAYLOAD, sentence) from exc


def _json_errors(handler: WebHandler) -> WebHandler:
    """``handler`` with its errors as JSON {code, message}: aiohttp's own (413 for a body
    too large) and anything unexpected (500, logged)."""

    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = {413: ErrorCode.PAYLOAD_TOO_LARGE}.get(exc.status, ErrorCode.BAD_PAYLOAD)
            message = {413: "The request body is too large."}.get(
                exc.status, HTTPStatus(exc.status).phrase + "."
            )
            return error_response(ApiError(exc.status, str(code), message))
        except Exception:
            log.exception("API request %s %s failed", request.method, request.path)
            return error_response(
                ApiError(500, ErrorCode.INTERNAL, "Something went wrong on our side; try again.")
            )

    return answer


def _not_allowed(allowed: list[str]) -> WebHandler:
    allow = ", ".join(sorted(set(allowed)))

    async def answer(request: web.Request) -> web.StreamResponse:
        return error_response(
            ApiError(405, "method_not_allowed", f"{request.method} is not allowed here.", {"Allow": allow})
        )

    return answer


async def _no_such_path(request: web.Request) -> web.StreamResponse:
    return error_response(
        ApiError(404, ErrorCode.NOT_FOUND, "There is no such API path; see /api/v1/openapi.json.")
    )


# the OpenAPI document

ERROR_TEXT = {
    400: "The request is malformed: a bad parameter or body.",
    401: "No token, or a token that does not verify.",
    403: "The token lacks the scope this call needs, or may not see this.",
    404: "Not found.",
    409: "The state of things does not allow this now.",
    429: "Rate limited; see Retry-After.",
}


def openapi(endpoints: list[Endpoint]) -> dict[str, Any]:
    inputs = [(m, "validation") for m in dict.fromkeys(e.body for e in endpoints) if m is not None]
    outputs = [(m, "serialization") for m in dict.fromkeys([Error, *(e.response for e in endpoints)]) if m]
    refs, top = models_json_schema([*inputs, *outputs], ref_template="#/components/schemas/{model}")  # type: ignore[list-item]
    components: dict[str, Any] = dict(top.get("$defs", {}))

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(refs[(model, mode)])  # type: ignore[index]

    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        op: dict[str, Any] = {
            "operationId": e.operation_id,
            "summary": e.summary,
            "tags": [e.tag],
            "security": [{"bearerAuth": [e.scope]}],
            "description": (e.description + "\n\n" if e.description else "")
            + f"Needs the scope `{e.scope}`.",
            "parameters": [
                *_parameters(e.path_model, "path", components),
                *_parameters(e.query, "query", components),
            ],
            "responses": {},
        }
        if e.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(e.body, "validation")}},
            }
        if e.response is not None:
            content = {"application/json": {"schema": ref(e.response, "serialization")}}
        else:
            content = {e.media_type: {"schema": {"type": "string"}}}
        op["responses"][str(e.status)] = {"description": HTTPStatus(e.status).phrase, "content": content}
        if e.links:
            op["responses"][str(e.status)]["links"] = {
                target: {"operationId": target, "parameters": dict(params)}
                for target, params in e.links.items()
            }
        for status in sorted({*COMMON_ERRORS, *e.errors, *((404,) if e.path_model else ())}):
            response: dict[str, Any] = {
                "description": ERROR_TEXT[status],
                "content": {"application/json": {"schema": ref(Error, "serialization")}},
            }
            if status == 429:
                response["headers"] = {
                    "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
                }
            op["responses"][str(status)] = response
        paths.setdefault(PREFIX + e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "DCS REST API",
            "version": "1.0.0",
            "description": "Sessions, reports, notes, customer data export and erasure, and the audit log. "
            "Authenticate with a service token (dcs_sdk AccessToken(...).as_service(scopes=[...])) "
            "or a supervisor's token, as `Authorization: Bearer <token>`. Errors are JSON "
            "`{code, message}`. Times are epoch milliseconds.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _parameters(
    model: type[BaseModel] | None, where: str, components: dict[str, Any]
) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": prop,
        }
        if description:
            param["description"] = description
        out.append(param)
    return out
