"""Persistence: SQLite by default, PostgreSQL for scale."""

from .records import MessageRecord, SessionRecord
from .store import Store

__all__ = ["MessageRecord", "SessionRecord", "Store"]
