"""The DCS signaling server: aiohttp + python-socketio."""

from .app import create_app
from .config import Config, load_config

__all__ = ["Config", "create_app", "load_config"]
