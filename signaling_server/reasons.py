"""Why a customer is waiting, in words for the agent's queue card and handoff.

Assistants escalate with a short code ("customer_request", "unmatched", "frustration");
the agent reads a sentence: "asked for a person", "the assistant could not answer twice:
“…”; “…”". Anything else (a custom assistant's reason, a sentence already) stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WORDS = {
    "customer_request": "asked for a person",
    "frustration": "sounded frustrated with the assistant",
}
_TIMES = {1: "once", 2: "twice"}


def reason_in_words(code: str, understanding: Mapping[str, Any]) -> str:
    if code == "unmatched":
        questions = [str(q) for q in understanding.get("unanswered") or [] if str(q).strip()]
        count = max(len(questions), int(understanding.get("unmatched") or 0), 1)
        times = _TIMES.get(count, f"{count} times")
        quoted = "; ".join(f"“{q[:120]}”" for q in questions)
        return (
            f"the assistant could not answer {times}: {quoted}"
            if quoted
            else f"the assistant could not answer {times}"
        )
    return _WORDS.get(code, code)


def transferred_by(name: str, note: str) -> str:
    return f"transferred by {name}: {note}" if note else f"transferred by {name}"
