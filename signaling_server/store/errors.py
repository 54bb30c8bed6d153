"""Why a write could not be done (the store's own errors; the session service maps them to
wire codes)."""

from __future__ import annotations


class StoreError(Exception):
    """Root of the store's errors."""


class UnstorableMessage(StoreError):
    """The database refused the message itself (its text or names), not the moment: sending
    it again cannot help. It fails alone; the rest of its batch is stored."""


class SessionGone(StoreError):
    """The message's session has no row."""


class OpenSessionExists(StoreError):
    """The customer already has an open session (another tab or process made it first)."""


class AtCapacity(StoreError):
    """The agent a session was to be given to holds as many as they may already (counted in
    the database, so agents' tabs on several processes cannot take more between them)."""
