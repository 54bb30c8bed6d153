"""The console's working lists from the configuration: disposition codes for wrap-up and
canned responses per queue. Checked once at start (a wrong setting stops the server,
saying which), sent to the console in /console/config.json, and the dispositions checked
again on every wrap-up (sessions.py).

    dispositions = {resolved = "Resolved", follow_up = "Needs a follow-up"}
    [canned_responses]
    "*" = [{shortcut = "hi", text = "Hi {first_name}, how can I help?"}]
    orders = [{shortcut = "late", title = "Late order", text = "Order {order} is on its way."}]

Placeholders in a canned text are filled in the console from the handoff ({first_name},
{name}, {order} and any other customer attribute or understood slot).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dcs_sdk.exceptions import ConfigError

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SHORTCUT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
MAX_CANNED_TEXT = 2000
MAX_LABEL = 80


@dataclass(frozen=True)
class Workspace:
    dispositions: Mapping[str, str]  # code -> label, in the configured order
    canned_responses: Mapping[str, list[dict[str, str]]]  # queue ("*": all) -> responses

    @classmethod
    def from_config(cls, dispositions: Mapping[str, Any], canned: Mapping[str, Any]) -> Workspace:
        return cls(_dispositions(dispositions), _canned(canned))

    def to_console(self) -> dict[str, Any]:
        return {
            "dispositions": [{"code": code, "label": label} for code, label in self.dispositions.items()],
            "canned_responses": {queue: list(items) for queue, items in self.canned_responses.items()},
        }

    def disposition_error(self, code: str) -> str | None:
        """Why `code` cannot close a wrap-up, or None if it can."""
        if not self.dispositions:
            return None if not code else "No disposition codes are configured; send none."
        if not code:
            return "Choose a disposition for this session: " + ", ".join(self.dispositions) + "."
        if code not in self.dispositions:
            return f"Unknown disposition {code!r}; use one of: " + ", ".join(self.dispositions) + "."
        return None


def _dispositions(given: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, label in given.items():
        if not isinstance(code, str) or not CODE.match(code):
            raise ConfigError(f"Disposition code {code!r} must be 1-40 of a-z, 0-9, _ and -.")
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL:
            raise ConfigError(f"Disposition {code!r} needs a label of 1-{MAX_LABEL} characters.")
        out[code] = label.strip()
    return out


def _canned(given: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for queue, items in given.items():
        if not isinstance(queue, str) or not queue:
            raise ConfigError(f"Canned responses are keyed by queue name (or '*'), not {queue!r}.")
        if not isinstance(items, list):
            raise ConfigError(f"Canned responses for {queue!r} must be a list of {{shortcut, text}}.")
        seen: set[str] = set()
        clean: list[dict[str, str]] = []
        for item in items:
            if not isinstance(item, Mapping):
                raise ConfigError(f"A canned response for {queue!r} must be a table with shortcut and text.")
            shortcut, text = item.get("shortcut"), item.get("text")
            if not isinstance(shortcut, str) or not SHORTCUT.match(shortcut):
                raise ConfigError(
                    f"Canned response shortcut {shortcut!r} ({queue!r}) must be 1-30 of a-z, 0-9, _, -."
                )
            if shortcut in seen:
                raise ConfigError(f"Canned response shortcut {shortcut!r} appears twice for {queue!r}.")
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_CANNED_TEXT:
                raise ConfigError(
                    f"Canned response {shortcut!r} needs a text of 1-{MAX_CANNED_TEXT} characters."
                )
            title = item.get("title", shortcut)
            if not isinstance(title, str) or len(title) > MAX_LABEL:
                raise ConfigError(
                    f"Canned response {shortcut!r} has a title longer than {MAX_LABEL} characters."
                )
            seen.add(shortcut)
            clean.append({"shortcut": shortcut, "title": title.strip() or shortcut, "text": text})
        out[queue] = clean
    return out
