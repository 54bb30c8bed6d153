"""The JSON log format: a line per record, the event context when there is one, and a
clear error for a format that does not exist."""

from __future__ import annotations

import contextvars
import json
import logging

import pytest

from dcs_sdk.exceptions import ConfigError
from signaling_server.logs import JsonFormatter, bind_event, configure_logging


def record(message: str, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            info = sys.exc_info()
    return logging.LogRecord("signaling_server.test", logging.ERROR, __file__, 1, message, None, info)


def test_json_lines_carry_the_event_context_only_inside_it() -> None:
    formatter = JsonFormatter()

    def inside() -> dict[str, str]:
        bind_event("chat.send", "sid-1")
        return json.loads(formatter.format(record("with context: %s")))

    line = contextvars.copy_context().run(inside)
    assert (line["event"], line["sid"], line["level"]) == ("chat.send", "sid-1", "ERROR")
    outside = json.loads(formatter.format(record("no context")))
    assert "event" not in outside and "sid" not in outside and "session_id" not in outside
    failed = json.loads(formatter.format(record("failed", exc=True)))
    assert "ValueError: boom" in failed["exc"] and "\n" not in formatter.format(record("x", exc=True))


def test_an_unknown_log_format_is_refused_with_a_sentence() -> None:
    with pytest.raises(ConfigError, match="log_format must be 'text' or 'json'"):
        configure_logging("INFO", "xml")
