"""DCS errors, one root.

DcsError
├── ConfigError      a setting, key file or plug-in that cannot be used
├── TokenError       a token that cannot be minted or does not verify (has a code)
├── ProtocolError    the server refused an event (has the wire error code)
└── ApiError         the REST API answered with an error (has its code and HTTP status)
"""

from __future__ import annotations


class DcsError(Exception):
    """Root of every error DCS raises on purpose."""


class ConfigError(DcsError):
    """A setting, key file or plug-in that cannot be used; the message says which and why."""


class _CodedError(DcsError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class TokenError(_CodedError):
    """A token that did not verify; ``code`` is a wire error code such as ``token_expired``."""


class ProtocolError(_CodedError):
    """The server answered an event with an error; ``code`` and ``message`` come from it."""


class ApiError(_CodedError):
    """The REST API answered with an error: ``status`` (HTTP), ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(code, message)
        self.status = status
        self.retry_after = retry_after
