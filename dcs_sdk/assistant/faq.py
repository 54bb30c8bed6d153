"""The built-in assistant: answers from a JSON knowledge base by fuzzy matching.

Knowledge-base format::

    {"greeting": "Hi! ...",
     "entries": [{"id": "track-order",
                  "questions": ["where is my order", "track my package"],
                  "answer": "...",
                  "queue": "general",                         (optional)
                  "suggestions": ["How long does shipping take?"]}]}  (optional)

List the most asked entries first: the greeting and the "not understood" reply suggest them.
A message is matched on its distinctive words (stop words and numbers dropped) against every
question variant with rapidfuzz; below ``threshold`` (0-100) it counts as not understood.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process

from ..exceptions import ConfigError
from .base import Assistant, AssistantContext, AssistantReply, Escalation, Understanding
from .escalation import CUSTOMER_REQUEST, FRUSTRATION, normalize, wants_human

TALK_TO_A_PERSON = "Talk to a person"
DEFAULT_QUEUE = "general"
DEFAULT_THRESHOLD = 70.0
UNMATCHED = "unmatched"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP_WORDS = _words(
    "a an the is are am was were be been do does did i me my mine you your yours we our us "
    "it its this that these those to of for in on at by with and or so can could would "
    "should will shall may might please hi hello hey there just what how when where which "
    "who why any some have has had get got yet still want need like know tell thanks thank "
    "ok okay help question"
)
_THANKS = frozenset({"thanks", "thank", "cheers", "great", "perfect"})

_ORDER_NUMBER = re.compile(
    r"#\s*(\d{3,12})\b|\border(?:\s+(?:number|no|nr|num|id))?\.?\s*[:#]?\s*(\d{3,12})\b|^\s*(\d{4,12})\s*$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

_ESCALATION_MESSAGES = {
    CUSTOMER_REQUEST: "Of course. Let me connect you with a person who can help.",
    FRUSTRATION: "I'm sorry I couldn't help. Let me connect you with a person who can.",
    UNMATCHED: "I'm sorry, I couldn't find an answer to that. Let me connect you with a person who can help.",
}


@dataclass(frozen=True)
class Entry:
    id: str
    questions: tuple[str, ...]
    answer: str
    queue: str = DEFAULT_QUEUE
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnowledgeBase:
    greeting: str
    entries: tuple[Entry, ...]


def key_words(text: str) -> str:
    """The words a match is decided on: normalised and stemmed, without stop words and numbers."""
    return " ".join(_stem(w) for w in normalize(text).split() if w not in _STOP_WORDS and not w.isdigit())


def _stem(word: str) -> str:
    # Just enough that "shipping", "shipped" and "ships" meet "ship"; the fuzzy scorer
    # forgives what this misses.
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            if word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # "shipp" -> "ship", but "call" stays
            return word
    return word


def extract_slots(text: str) -> dict[str, str]:
    """Order number and e-mail address mentioned in one message."""
    slots: dict[str, str] = {}
    if order := _ORDER_NUMBER.search(text):
        slots["order_number"] = next(group for group in order.groups() if group)
    if email := _EMAIL.search(text):
        slots["email"] = email.group(0)
    return slots


class FaqAssistant(Assistant):
    """Answers from a knowledge base and hands over to a person when it cannot help.

    It escalates when the customer asks for a person in their own words, when they are
    fed up, or after ``max_unmatched`` messages in a row it could not answer; the queue is
    that of the last entry it answered from. Memory (``context.state``): ``unmatched``,
    ``unanswered`` (the questions it could not answer), ``queue``, ``intent``,
    ``confidence`` and ``slots``.
    """

    def __init__(
        self,
        knowledge_base: str | os.PathLike[str] | None = None,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        max_unmatched: int = 2,
        name: str = "Assistant",
    ) -> None:
        if not 0 < threshold <= 100:
            raise ConfigError(f"The FAQ assistant's threshold must be between 0 and 100, not {threshold}.")
        if max_unmatched < 1:
            raise ConfigError(f"The FAQ assistant's max_unmatched must be at least 1, not {max_unmatched}.")
        self.kb = load_knowledge_base(knowledge_base)
        self.threshold = float(threshold)
        self.max_unmatched = max_unmatched
        self.name = name
        # One choice per question variant; _owner maps it back to its entry.
        self._choices: list[str] = []
        self._owner: list[Entry] = []
        for entry in self.kb.entries:
            for question in entry.questions:
                self._choices.append(key_words(question))
                self._owner.append(entry)

    async def greet(self, context: AssistantContext) -> AssistantReply:
        return AssistantReply(messages=[self.kb.greeting], suggestions=[*self._topics(3), TALK_TO_A_PERSON])

    async def respond(self, text: str, context: AssistantContext) -> AssistantReply:
        state = context.state
        new_slots = extract_slots(text)
        slots = {**_slots(state), **new_slots}
        state["slots"] = slots  # every reply's understanding carries all slots so far
        reason = wants_human(text)
        if reason is not None:
            return self._escalate(reason, state)

        # An e-mail address would otherwise lend its words to the match.
        question = _EMAIL.sub(" ", text)
        found = self.match(question)
        if found is not None:
            entry, score = found
            state.update(unmatched=0, queue=entry.queue, intent=entry.id, confidence=score / 100)
            state["unanswered"] = []
            return AssistantReply(
                messages=[entry.answer],
                understanding=Understanding(entry.id, slots, score / 100),
                suggestions=list(entry.suggestions),
            )
        if new_slots or not key_words(question):
            # Details ("my order is 12345"), greetings or thanks: nothing was asked, so
            # nothing failed and the unmatched count stays.
            return self._small_talk(text, bool(new_slots), state)

        state["unmatched"] = _int(state.get("unmatched")) + 1
        # the questions it could not answer, for the agent's handoff ("understood")
        asked = state.get("unanswered")
        state["unanswered"] = [*(asked if isinstance(asked, list) else []), text[:300]][-self.max_unmatched :]
        if state["unmatched"] >= self.max_unmatched:
            return self._escalate(UNMATCHED, state)
        return AssistantReply(
            messages=["I'm not sure I understood. Could you rephrase that, or pick a topic below?"],
            understanding=_so_far(state),
            suggestions=[*self._topics(2), TALK_TO_A_PERSON],
        )

    def match(self, text: str) -> tuple[Entry, float] | None:
        """The entry answering ``text`` and its score (0-100), or None below the threshold."""
        words = key_words(text)
        if not words:
            return None
        best = process.extractOne(
            words, self._choices, scorer=_similarity, processor=None, score_cutoff=self.threshold
        )
        if best is None:
            return None
        _choice, score, index = best
        return self._owner[index], float(score)

    def _escalate(self, reason: str, state: dict[str, Any]) -> AssistantReply:
        queue = state.get("queue")
        return AssistantReply(
            messages=[_ESCALATION_MESSAGES.get(reason, _ESCALATION_MESSAGES[CUSTOMER_REQUEST])],
            escalation=Escalation(reason, queue if isinstance(queue, str) and queue else DEFAULT_QUEUE),
            understanding=_so_far(state),
        )

    def _small_talk(self, text: str, gave_details: bool, state: dict[str, Any]) -> AssistantReply:
        if gave_details:
            message = "Thanks, I've noted that. What would you like to know?"
        elif _THANKS.intersection(normalize(text).split()):
            message = "You're welcome! Is there anything else I can help with?"
        else:
            message = "How can I help? Ask me a question, or pick a topic below."
        return AssistantReply(
            messages=[message],
            understanding=_so_far(state),
            suggestions=[*self._topics(3), TALK_TO_A_PERSON],
        )

    def _topics(self, count: int) -> list[str]:
        return [_as_question(entry.questions[0]) for entry in self.kb.entries[:count]]


def _similarity(query: str, choice: str, **_: Any) -> float:
    # token_set_ratio forgives extra words ("my order 123 hasn't arrived yet"); a quarter
    # of token_sort_ratio prefers the variant that covers more of the message, so "cancel
    # order" beats the shorter "order".
    return 0.75 * fuzz.token_set_ratio(query, choice) + 0.25 * fuzz.token_sort_ratio(query, choice)


_QUESTION_START = re.compile(r"^(?:where|what|when|how|why|who|which|can|could|do|does|is|are|will|has)\b")


def _as_question(question: str) -> str:
    """A knowledge-base question as a suggestion chip: "where is my order" -> "Where is my order?"."""
    text = re.sub(r"\bi\b", "I", question.strip())
    if _QUESTION_START.match(text.lower()) and not text.endswith("?"):
        text += "?"
    return text[:1].upper() + text[1:]


def _so_far(state: Mapping[str, Any]) -> Understanding:
    """The last answered intent with everything gathered since: for replies that match nothing."""
    intent = state.get("intent")
    return Understanding(
        intent if isinstance(intent, str) else None, _slots(state), _float(state.get("confidence"))
    )


def _slots(state: Mapping[str, Any]) -> dict[str, str]:
    saved = state.get("slots")
    if not isinstance(saved, Mapping):
        return {}
    return {str(k): str(v) for k, v in saved.items()}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


# loading and validation


def load_knowledge_base(source: str | os.PathLike[str] | None = None) -> KnowledgeBase:
    """Read and check a knowledge-base file; None means the generic one shipped with DCS."""
    if source is None:
        where = "the built-in knowledge base"
        raw = resources.files(__package__).joinpath("default_kb.json").read_text(encoding="utf-8")
    else:
        where = f"knowledge base {os.fspath(source)!r}"
        try:
            raw = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the {where}: {exc}.") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"The {where} is not valid JSON: {exc}.") from exc
    return _parse(data, where)


_ENTRY_KEYS = {"id", "questions", "answer", "queue", "suggestions"}


def _parse(data: Any, where: str) -> KnowledgeBase:
    if not isinstance(data, dict):
        raise ConfigError(f'The {where} must be a JSON object with an "entries" list.')
    greeting = data.get("greeting", "Hi! How can I help you today?")
    if not isinstance(greeting, str) or not greeting.strip():
        raise ConfigError(f'The {where} has a "greeting" that is not a non-empty string.')
    raw_entries = data.get("entries")
    if not isinstance(raw_entries, list) or not raw_entries:
        raise ConfigError(f'The {where} needs a non-empty "entries" list.')
    entries: list[Entry] = []
    for number, raw in enumerate(raw_entries, start=1):
        entry = _parse_entry(raw, f"entry {number} of the {where}")
        if any(e.id == entry.id for e in entries):
            raise ConfigError(f"The {where} has two entries with the id {entry.id!r}.")
        entries.append(entry)
    return KnowledgeBase(greeting.strip(), tuple(entries))


def _parse_entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise ConfigError(f"The {where} must be a JSON object.")
    unknown = sorted(set(raw) - _ENTRY_KEYS)
    if unknown:
        raise ConfigError(f"The {where} has unknown keys {unknown}; allowed: {sorted(_ENTRY_KEYS)}.")
    entry_id = _text(raw.get("id"), "id", where)
    where = f"{where} ({entry_id!r})"
    questions = _texts(raw.get("questions"), "questions", where, required=True)
    for question in questions:
        if not key_words(question):
            raise ConfigError(
                f"The question {question!r} in {where} has only common words and would never match."
            )
    return Entry(
        id=entry_id,
        questions=questions,
        answer=_text(raw.get("answer"), "answer", where),
        queue=_text(raw.get("queue", DEFAULT_QUEUE), "queue", where),
        suggestions=_texts(raw.get("suggestions", []), "suggestions", where, required=False),
    )


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"The {where} needs {key!r} as a non-empty string.")
    return value.strip()


def _texts(value: Any, key: str, where: str, *, required: bool) -> tuple[str, ...]:
    if not isinstance(value, list) or (required and not value):
        need = "a non-empty list" if required else "a list"
        raise ConfigError(f"The {where} needs {key!r} as {need} of strings.")
    items: Sequence[Any] = value
    return tuple(_text(item, key, where) for item in items)
