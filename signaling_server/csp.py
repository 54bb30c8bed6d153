"""The agent console's Content-Security-Policy.

The console renders untrusted customer content: no inline script, no script from another
origin, no plug-ins, no framing by others, no framing of anything by URL. Scripts come from
the console's own origin only, whatever the configuration says.

style-src allows 'unsafe-inline' for the co-browse view alone: it rebuilds the customer's
page (its <style> elements and style attributes) in an about:blank iframe, which inherits
this policy, and without it the page shows unstyled. That iframe is sandboxed without
scripts, and the console's own code never parses markup (text nodes and CSSOM only), so
inline styles cannot come from anywhere else.

What the replayed page may fetch: images (img-src, CSS backgrounds among them), web fonts
(font-src, @font-face) and stylesheets it could not inline (style-src) from this origin,
data: URLs, and the customers' sites: the origins whose pages may connect
(``allowed_origins``) and the origins those sites load such assets from
(``cobrowse_asset_origins``, their CDNs). ``*`` there allows these three kinds of asset
from any origin, never scripts. Whatever the replay fetches tells the site's servers only
that this agent looked at the page the customer shared.
"""

from __future__ import annotations

import re

from .config import Config

# scheme://host[:port]; a host may start with "*." (any subdomain); IPv6 in brackets
_ORIGIN = re.compile(r"^https?://(?:(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$")


def asset_sources(origins: tuple[str, ...]) -> list[str]:
    """CSP source expressions for the configured origins: each valid origin as it is
    (lower-cased, no trailing slash), ``*`` as itself, anything else (a path, a quote, a
    semicolon, another scheme) left out so it cannot change the policy."""
    out: list[str] = []
    for raw in origins:
        value = raw.strip().rstrip("/").lower()
        if value == "*":
            return ["*"]
        if _ORIGIN.fullmatch(value) and value not in out:
            out.append(value)
    return out


def console_csp(config: Config) -> str:
    sites = " ".join(asset_sources((*config.allowed_origins, *config.cobrowse_asset_origins)))
    extra = f" {sites}" if sites else ""
    return (
        "default-src 'self'; script-src 'self'; "
        f"style-src 'self' 'unsafe-inline'{extra}; "
        f"img-src 'self' data:{extra}; font-src 'self' data:{extra}; "
        "connect-src 'self' ws: wss:; frame-src 'none'; object-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
