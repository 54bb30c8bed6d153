"""Attachments: files sent in a chat (service.py), where their bytes live (storage.py),
what they are (sniff.py) and the signed links that serve them (links.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from dcs_sdk.exceptions import ConfigError

from ..auth import Authenticator
from ..config import Config
from ..sessions import SessionService
from .links import FILES_PATH, link_key
from .service import UPLOAD_PATH, Attachments, check_types
from .storage import AttachmentStorage, LocalStorage, S3Storage

ATTACHMENTS = web.AppKey("attachments", Attachments)

__all__ = [
    "ATTACHMENTS",
    "AttachmentStorage",
    "Attachments",
    "LocalStorage",
    "S3Storage",
    "add_attachment_routes",
    "build_attachments",
]


def build_attachments(config: Config, service: SessionService, authenticator: Authenticator) -> Attachments:
    key = link_key(config.attachment_secret, config.data_dir)
    attachments = Attachments(config, service, authenticator, storage_for(config), key)
    attachments.install()
    return attachments


S3_OPTIONS = ("bucket", "endpoint_url", "region", "access_key_id", "secret_access_key", "prefix")


def storage_for(config: Config) -> AttachmentStorage:
    """Local disk (attachment_dir), or the bucket attachment_s3 names."""
    if not config.attachment_s3:
        return LocalStorage(config.attachment_dir or str(Path(config.data_dir) / "attachments"))
    options = dict(config.attachment_s3)
    unknown = sorted(set(options) - set(S3_OPTIONS))
    if unknown or not options.get("bucket"):
        raise ConfigError(
            f"attachment_s3 needs a bucket and takes only {', '.join(S3_OPTIONS)}"
            + (f"; {', '.join(unknown)} is not one of them." if unknown else ".")
        )
    try:
        import aiobotocore  # noqa: F401
    except ImportError as exc:
        raise ConfigError("attachment_s3 needs aiobotocore: pip install 'dcs[s3]'.") from exc
    bucket = str(options.pop("bucket"))
    return S3Storage(bucket, **{k: str(v) for k, v in options.items()})


def add_attachment_routes(
    app: web.Application, config: Config, *, in_time: Callable[[Handler], Handler] = lambda h: h
) -> None:
    """The upload and download routes (answered once the app has started) and the sweep;
    ``in_time`` bounds the upload's body in time (limits.py)."""
    check_types(config.attachment_types)  # a wrong setting stops the start, saying which
    storage_for(config)

    async def upload(request: web.Request) -> web.StreamResponse:
        return await request.app[ATTACHMENTS].upload(request)

    async def preflight(request: web.Request) -> web.StreamResponse:
        return await request.app[ATTACHMENTS].preflight(request)

    async def download(request: web.Request) -> web.StreamResponse:
        return await request.app[ATTACHMENTS].download(request)

    app.router.add_post(UPLOAD_PATH, in_time(upload))
    app.router.add_route("OPTIONS", UPLOAD_PATH, preflight)
    app.router.add_get(FILES_PATH + "{attachment_id}", download)

    def sweep(app: web.Application) -> AsyncIterator[None]:
        # started after the app's lifecycle context, which made app[ATTACHMENTS]
        ctx: AsyncIterator[None] = app[ATTACHMENTS].sweeper()(app)
        return ctx

    app.cleanup_ctx.append(sweep)
