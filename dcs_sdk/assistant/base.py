"""The assistant interface: what the server hands an assistant and what it expects back."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TranscriptLine:
    """One earlier message; ``role`` is "customer", "assistant", "agent" or "system"."""

    role: str
    text: str


@dataclass
class AssistantContext:
    """Everything known about the conversation when the assistant is called."""

    session_id: str
    customer_id: str
    # Verified attributes from the customer's token: trust these, not what the customer types.
    attributes: Mapping[str, Any]
    page_url: str
    page_title: str
    # The conversation so far, oldest first, without the message being answered.
    transcript: Sequence[TranscriptLine]
    # Per-session memory: mutate it freely; the server stores it as JSON between calls,
    # so keep values JSON-serialisable.
    state: dict[str, Any]


@dataclass(frozen=True)
class Escalation:
    """Hand the session to a person.

    ``reason`` is a short code shown to the agent: "customer_request", "unmatched",
    "frustration", or anything a custom assistant defines.
    """

    reason: str
    queue: str = "general"


@dataclass(frozen=True)
class Understanding:
    """What the assistant made of the customer so far; shown to the agent on handoff."""

    intent: str | None
    slots: dict[str, str] = field(default_factory=dict)
    confidence: float = 0.0


@dataclass(frozen=True)
class AssistantReply:
    """Plain-text messages shown in order, and optionally a handoff and quick-reply chips."""

    messages: list[str]
    escalation: Escalation | None = None
    understanding: Understanding | None = None
    suggestions: list[str] = field(default_factory=list)


class Assistant(abc.ABC):
    """Subclass this and implement :meth:`respond` to plug in a virtual assistant.

    The server creates one instance per process and calls it concurrently for different
    sessions (never concurrently for the same session), so keep per-session data in
    ``context.state`` rather than on ``self``.
    """

    name: str = "Assistant"

    async def greet(self, context: AssistantContext) -> AssistantReply:
        """The first message of a new session."""
        return AssistantReply(
            messages=[f"Hi, I'm {self.name}. How can I help you today?"],
            suggestions=["Talk to a person"],
        )

    @abc.abstractmethod
    async def respond(self, text: str, context: AssistantContext) -> AssistantReply:
        """Answer one customer message."""

    async def close(self) -> None:  # noqa: B027 - optional hook, deliberately a no-op
        """Release resources (HTTP clients, models) when the server stops."""
