"""Prometheus metrics: declared in registry.py, counted by the listeners, served by http.py.

docs/deployment.md ("Metrics") lists every metric and how to scrape them.
"""

from .collector import LiveCollector
from .http import admin_site, metrics_handler, require_token
from .listeners import EventObserver, ObservingNotifier, SessionMetrics
from .registry import Metrics

__all__ = [
    "EventObserver",
    "LiveCollector",
    "Metrics",
    "ObservingNotifier",
    "SessionMetrics",
    "admin_site",
    "metrics_handler",
    "require_token",
]
