"""The token endpoint a site's backend offers its pages: ``GET /api/dcs-token``.

This is the part of DCS a web developer writes: the site knows who its visitor is (here, a
first-party cookie and a pretend sign-in), and vouches for it by minting a short-lived
customer token with the SDK. The widget calls this endpoint before every (re)connect.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from dcs_sdk import AccessToken, SigningKey

VISITOR_COOKIE = "shop_visitor"

# The demo pretends every visitor is signed in as this customer; a real site uses its own
# session. Only attributes the site has verified belong in the token.
DEMO_CUSTOMER = {
    "name": "Sam Taylor",
    "email": "sam.taylor@example.com",
    "plan": "gold",
    "customer_since": "2021",
}


def token_handler(
    key: SigningKey, *, issuer: str, audience: str, ttl: timedelta = timedelta(minutes=10)
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        visitor = request.cookies.get(VISITOR_COOKIE) or f"v_{secrets.token_urlsafe(12)}"
        token = (
            AccessToken(key, issuer=issuer, audience=audience, ttl=ttl)
            .with_identity(visitor, name=DEMO_CUSTOMER["name"])
            .as_customer(attributes=DEMO_CUSTOMER)
            .to_jwt()
        )
        response = web.json_response({"token": token}, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            VISITOR_COOKIE, visitor, max_age=30 * 24 * 3600, httponly=True, samesite="Lax", path="/"
        )
        return response

    return handle
