"""Noticing that the customer wants a person, in their own words, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dcs_sdk.assistant import wants_human
from dcs_sdk.assistant.escalation import normalize

DEMO_KB = Path(__file__).parents[2] / "examples" / "demo_shop" / "knowledge_base.json"


@pytest.mark.parametrize(
    "text",
    [
        "can I talk to someone",
        "Can I talk to someone?",
        "agent please",
        "AGENT!!!",
        "human",
        "person pls",
        "I want a real person",
        "speak to a human",
        "Talk to a person",
        "representative",
        "I'd like to speak to a representative",
        "operator",
        "call me",
        "can someone call me back?",
        "Can I speak with an agent?",
        "connect me to customer service",
        "customer service please",
        "transfer me to an agent",
        "put me through to someone please",
        "let me chat with a real person",
        "live agent",
        "I need a human",
        "get me a person",
        "is there a human I can talk to",
        "i want to talk to your manager",
        "I want to speak to someone about my order 12345",
        "tlak to a humna",
        "speek to somone",
        "reprsentative",
    ],
)
def test_asking_for_a_person(text: str) -> None:
    assert wants_human(text) == "customer_request"


@pytest.mark.parametrize(
    "text",
    [
        "this is useless",
        "This is USELESS!!",
        "you're useless",
        "useless bot",
        "Useless.",
        "this bot is so stupid",
        "not helpful at all",
        "you aren't helping me",
        "that was no help at all",
        "what a waste of time",
        "you don't understand",
        "that is not what I asked",
        "are you even listening",
        "this is uselss",
    ],
)
def test_frustration(text: str) -> None:
    assert wants_human(text) == "frustration"


def test_asking_for_a_person_wins_over_frustration() -> None:
    assert wants_human("this is useless, let me talk to a human") == "customer_request"


@pytest.mark.parametrize(
    "text",
    [
        "the agent delivered my parcel late",
        "the agent was rude",
        "the delivery person left it at the wrong door",
        "someone stole my parcel from the porch",
        "can my husband pick up the order",
        "people say your boots run small",
        "my personal details changed",
        "the courier called me yesterday",
        "these boots are useless in the rain",
        "my payment is not going through",
        "I do not want to talk to a person, just tell me where my order is",
        "no need to talk to a human",
        "how can I contact you",
        "what is your phone number",
        "hello",
        "thanks",
        "",
        "   ",
        "!!!",
    ],
)
def test_ordinary_messages_do_not_escalate(text: str) -> None:
    assert wants_human(text) is None


def test_no_demo_question_or_chip_escalates() -> None:
    kb = json.loads(DEMO_KB.read_text())
    texts = [q for e in kb["entries"] for q in [*e["questions"], *e.get("suggestions", [])]]
    assert len(texts) > 100
    escalating = [t for t in texts if wants_human(t) is not None and t != "Talk to a person"]
    assert escalating == []


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Where's my ORDER??", "where my order"),
        ("I can’t log in", "i cannot log in"),
        ("u r useless", "you are useless"),
        ("Café  #12345", "cafe 12345"),
        ("我的订单在哪里?", "我的订单在哪里"),
    ],
)
def test_normalize(text: str, normal: str) -> None:
    assert normalize(text) == normal
