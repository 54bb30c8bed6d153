"""The REST API, /api/v1 (docs/api.md): service tokens with scopes, JSON errors, rate limits
per token identity, and the OpenAPI document at /api/v1/openapi.json, generated from the
route table (routes.py) and the pydantic models (models.py) by framework.py."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from ..auth import Authenticator
from ..config import Config
from ..sessions import SessionService
from ..store import Store
from .framework import PREFIX, Api, ApiError, RateLimits, openapi
from .routes import Deps, build

__all__ = ["PREFIX", "Api", "ApiError", "add_api", "openapi"]


def add_api(
    app: web.Application,
    config: Config,
    authenticator: Authenticator,
    *,
    store: Callable[[], Store],
    service: Callable[[], SessionService],
    in_time: Callable[[Handler], Handler] = lambda h: h,
) -> Api:
    """The API's routes on ``app``; ``in_time`` bounds request bodies in time (limits.py)."""
    jwks = authenticator.jwks
    api = Api(
        authenticator.verifier,
        RateLimits(burst=config.api_rate_burst, per_s=config.api_rate_per_s),
        jwks.refresh if jwks is not None else None,
    )
    build(api, Deps(config=config, store=store, service=service))
    api.mount(app, in_time)
    return api
