"""The DCS Python SDK: mint tokens, join sessions, plug in a virtual assistant."""

from .api import ApiClient
from .client import DcsClient, Started
from .exceptions import ApiError, ConfigError, DcsError, ProtocolError, TokenError
from .protocol import ErrorCode, Event, PageInfo, Presence, Role, SessionState
from .tokens import AccessToken, Claims, KeySet, PublicKey, SigningKey, TokenVerifier, turn_credentials

__all__ = [
    "AccessToken",
    "ApiClient",
    "ApiError",
    "Claims",
    "ConfigError",
    "DcsClient",
    "DcsError",
    "ErrorCode",
    "Event",
    "KeySet",
    "PageInfo",
    "Presence",
    "ProtocolError",
    "PublicKey",
    "Role",
    "SessionState",
    "SigningKey",
    "Started",
    "TokenError",
    "TokenVerifier",
    "turn_credentials",
]
