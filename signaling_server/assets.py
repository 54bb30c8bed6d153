"""The browser files as a browser should get them: pre-compressed, cached for as long as
they can be, and nothing a visitor need not see.

The build (widget/build.mjs) writes every file with ``.br`` and ``.gz`` copies beside it;
aiohttp's FileResponse picks the one the browser accepts (``Vary: Accept-Encoding``) and
answers ``If-None-Match`` with 304. Content-hashed chunks (``dcs-call-HASH.js``) never
change under their name, so browsers keep them for a year without asking; the loader
(``dcs-widget.js``) and other unhashed names are kept five minutes, then revalidated by
ETag, so a release reaches every page within minutes. Source maps are not served unless
``serve_source_maps`` is set.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

HASHED = re.compile(r"-[A-Z0-9]{8}\.(?:js|css)(?:\.map)?$")
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300"
PRECOMPRESSED = (".br", ".gz")


def add_asset_routes(app: web.Application, prefix: str, folder: Path, *, source_maps: bool) -> None:
    """Serve ``folder``'s files (one level, no sub-folders) under ``prefix`` (e.g. /widget/)."""

    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name.endswith(PRECOMPRESSED) or (name.endswith(".map") and not source_maps):
            raise web.HTTPNotFound()
        path = folder / name
        if name.startswith(".") or not path.is_file():
            raise web.HTTPNotFound()
        cache = IMMUTABLE if HASHED.search(name) else REVALIDATE
        return web.FileResponse(path, headers={"Cache-Control": cache})

    app.router.add_get(prefix + "{name}", serve)
