"""Signed webhooks: a persisted outbox written with each change, delivered with retries.

docs/deployment.md ("Webhooks") describes the events, the signature and the guarantees.
"""

from .admin import WEBHOOKS, admin_routes
from .endpoints import Endpoint, parse_endpoints
from .service import Webhooks

__all__ = ["WEBHOOKS", "Endpoint", "Webhooks", "admin_routes", "parse_endpoints"]
