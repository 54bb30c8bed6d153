"""Logging: the text format, or one JSON object per line (``log_format = "json"``).

Each JSON line has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger`` and
``message``, plus ``session_id``, ``event`` and ``sid`` when the line was logged while an
inbound event was being handled (or by work it started), and ``exc`` with the traceback of
a logged exception. Those three come from context variables that the event dispatch sets
(metrics/events.py, events.py); asyncio copies them into every task started meanwhile.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from dcs_sdk.exceptions import ConfigError

SESSION_ID: ContextVar[str | None] = ContextVar("dcs_session_id", default=None)
EVENT: ContextVar[str | None] = ContextVar("dcs_event", default=None)
SID: ContextVar[str | None] = ContextVar("dcs_sid", default=None)

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def bind_event(event: str, sid: str) -> None:
    """The inbound event now being handled (in its own task: python-socketio starts one per
    event, so this never leaks into the next)."""
    EVENT.set(event if len(event) <= 60 else event[:60])
    SID.set(sid)


def bind_session(payload: Any) -> None:
    """The session the event's validated payload names, if it names one."""
    session_id = getattr(payload, "session_id", None)
    if isinstance(session_id, str):
        SESSION_ID.set(session_id)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in (("session_id", SESSION_ID), ("event", EVENT), ("sid", SID)):
            value = var.get()
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["exc"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: str) -> None:
    """Set up the root logger, unless something (a test runner, an embedding app) already
    has: then its handlers stay, as logging.basicConfig would leave them."""
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"log_format must be 'text' or 'json', not {log_format!r}.")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])


def banner(message: str, log_format: str) -> str:
    """The start-up line the command prints: as is, or as a JSON log line (so that every
    line a server with log_format = "json" writes is JSON)."""
    if log_format != "json":
        return message
    record = logging.LogRecord("signaling_server", logging.INFO, __file__, 0, message, None, None)
    return JsonFormatter().format(record)
