"""The FAQ assistant on the real demo knowledge base with real fuzzy matching."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dcs_sdk import ConfigError
from dcs_sdk.assistant import AssistantContext, AssistantReply, Escalation, FaqAssistant, extract_slots
from dcs_sdk.assistant.escalation import wants_human

DEMO_KB = Path(__file__).parents[2] / "examples" / "demo_shop" / "knowledge_base.json"
ENTRIES = {e["id"]: e for e in json.loads(DEMO_KB.read_text())["entries"]}


@pytest.fixture(scope="module")
def demo() -> FaqAssistant:
    return FaqAssistant(DEMO_KB)


def context(state: dict[str, Any] | None = None) -> AssistantContext:
    return AssistantContext(
        session_id="s1",
        customer_id="c1",
        attributes={},
        page_url="https://shop.test/orders",
        page_title="Orders",
        transcript=[],
        state={} if state is None else state,
    )


async def say(bot: FaqAssistant, ctx: AssistantContext, *texts: str) -> list[AssistantReply]:
    return [await bot.respond(text, ctx) for text in texts]


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("wher is my order??", "track-order"),
        ("Where is my order 88123?", "track-order"),
        ("where's my package", "track-order"),
        ("trackin number", "track-order"),
        ("how long does shipping take", "shipping-time"),
        ("how long does shiping tak", "shipping-time"),
        ("how many days for delivery", "shipping-time"),
        ("can I pay with paypal", "payment-methods"),
        ("do you accept paypal", "payment-methods"),
        ("is shipping free?", "shipping-cost"),
        ("do u ship to germany", "shipping-countries"),
        ("shipping to the uk?", "shipping-countries"),
        ("whats ur return policy", "return-item"),
        ("retrun policy", "return-item"),
        ("wen will my refund come", "refund-status"),
        ("my card got declined", "payment-failed"),
        ("my payment didnt go through", "payment-failed"),
        ("you charged me twice", "charged-twice"),
        ("cancel my order #12345 please", "cancel-order"),
        ("how do I reset my pasword", "reset-password"),
        ("I can't log into my account", "reset-password"),
        ("my promo code doesnt work", "discount-code"),
        ("the jacket arrived broken", "damaged-item"),
        ("is there a warranty on boots", "warranty"),
        ("what are ur hours", "contact-hours"),
    ],
)
async def test_answers_paraphrases_and_typos(demo: FaqAssistant, text: str, entry_id: str) -> None:
    ctx = context()
    reply = await demo.respond(text, ctx)
    assert reply.messages == [ENTRIES[entry_id]["answer"]]
    assert reply.escalation is None
    assert reply.understanding is not None
    assert reply.understanding.intent == entry_id
    assert 0.7 <= reply.understanding.confidence <= 1.0
    assert ctx.state["intent"] == entry_id and ctx.state["unmatched"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather on mars",
        "tell me a joke",
        "how tall is mount everest",
        "recipe for chocolate cake",
        "who won the football game yesterday",
        "can you recommend a restaurant",
        "asdfgh",
        "我的订单在哪里?",
    ],
)
async def test_unrelated_text_is_not_answered(demo: FaqAssistant, text: str) -> None:
    assert demo.match(text) is None
    ctx = context()
    reply = await demo.respond(text, ctx)
    assert reply.escalation is None
    assert "not sure I understood" in reply.messages[0]
    assert reply.understanding is not None and reply.understanding.intent is None
    assert reply.suggestions == ["Where is my order?", "How long does shipping take?", "Talk to a person"]
    assert ctx.state["unmatched"] == 1


async def test_two_unmatched_in_a_row_escalate(demo: FaqAssistant) -> None:
    ctx = context()
    first, second = await say(demo, ctx, "what's the weather on mars", "tell me a joke")
    assert first.escalation is None
    assert second.escalation == Escalation("unmatched", "general")
    assert second.messages == [
        "I'm sorry, I couldn't find an answer to that. Let me connect you with a person who can help."
    ]
    assert ctx.state["unmatched"] == 2


async def test_a_match_resets_the_unmatched_count(demo: FaqAssistant) -> None:
    ctx = context()
    replies = await say(demo, ctx, "tell me a joke", "where is my order", "what's the weather on mars")
    assert [r.escalation for r in replies] == [None, None, None]
    assert ctx.state["unmatched"] == 1
    # A reply that matched nothing still reports what was understood so far.
    assert replies[2].understanding is not None and replies[2].understanding.intent == "track-order"
    last = await demo.respond("how tall is mount everest", ctx)
    assert last.escalation is not None and last.escalation.reason == "unmatched"


async def test_greetings_thanks_and_details_do_not_count_as_unmatched(demo: FaqAssistant) -> None:
    ctx = context()
    replies = await say(demo, ctx, "hello", "tell me a joke", "thanks!", "#55501", "I need help")
    assert [r.escalation for r in replies] == [None] * 5
    assert ctx.state["unmatched"] == 1
    assert replies[2].messages == ["You're welcome! Is there anything else I can help with?"]
    assert replies[3].messages == ["Thanks, I've noted that. What would you like to know?"]
    assert replies[3].understanding is not None
    assert replies[3].understanding.slots == {"order_number": "55501"}


async def test_max_unmatched_is_configurable() -> None:
    bot = FaqAssistant(DEMO_KB, max_unmatched=1)
    reply = await bot.respond("what's the weather on mars", context())
    assert reply.escalation == Escalation("unmatched", "general")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("can I talk to someone", "customer_request"),
        ("agent please", "customer_request"),
        ("I want a real person", "customer_request"),
        ("this is useless", "frustration"),
    ],
)
async def test_asking_for_a_person_escalates_at_once(demo: FaqAssistant, text: str, reason: str) -> None:
    ctx = context()
    reply = await demo.respond(text, ctx)
    assert reply.escalation == Escalation(reason, "general")
    assert "connect you with a person" in reply.messages[0]


async def test_escalation_queue_follows_the_last_matched_entry(demo: FaqAssistant) -> None:
    ctx = context()
    await demo.respond("how do I return an item", ctx)
    assert ctx.state["queue"] == "returns"  # the server's "Talk to a person" button uses it too
    reply = await demo.respond("can I speak to a human", ctx)
    assert reply.escalation == Escalation("customer_request", "returns")
    assert reply.understanding is not None and reply.understanding.intent == "return-item"


async def test_unmatched_escalation_keeps_the_best_understanding(demo: FaqAssistant) -> None:
    ctx = context()
    matched, _, last = await say(demo, ctx, "my card was declined, order 4471", "tell me a joke", "mars")
    assert matched.understanding is not None
    assert last.escalation == Escalation("unmatched", "billing")
    assert last.understanding is not None
    assert last.understanding.intent == "payment-failed"
    assert last.understanding.slots == {"order_number": "4471"}
    assert last.understanding.confidence == matched.understanding.confidence


async def test_a_later_match_moves_the_queue(demo: FaqAssistant) -> None:
    ctx = context()
    await say(demo, ctx, "payment declined", "where is my order")
    reply = await demo.respond("operator", ctx)
    assert reply.escalation == Escalation("customer_request", "general")


async def test_slots_accumulate_across_messages(demo: FaqAssistant) -> None:
    ctx = context()
    await demo.respond("where is order 88123?", ctx)
    reply = await demo.respond("my email is sam.taylor@example.com, can I pay with paypal", ctx)
    assert reply.understanding is not None
    assert reply.understanding.intent == "payment-methods"
    assert reply.understanding.slots == {"order_number": "88123", "email": "sam.taylor@example.com"}


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        ("where is #12345", {"order_number": "12345"}),
        ("order 123456 is late", {"order_number": "123456"}),
        ("Order number: 88123", {"order_number": "88123"}),
        ("my order no. 4471 never came", {"order_number": "4471"}),
        ("  770012 ", {"order_number": "770012"}),
        ("reach me at sam+shop@mail.example.co.uk", {"email": "sam+shop@mail.example.co.uk"}),
        ("order #5512 and sam@x.test", {"order_number": "5512", "email": "sam@x.test"}),
        ("I ordered 2 boots", {}),
        ("can I return this within 30 days", {}),
    ],
)
def test_slot_extraction(text: str, slots: dict[str, str]) -> None:
    assert extract_slots(text) == slots


async def test_state_survives_a_json_round_trip(demo: FaqAssistant) -> None:
    ctx = context()
    await say(demo, ctx, "refund status for order 4471", "tell me a joke")
    restored = context(json.loads(json.dumps(ctx.state)))  # what the server does between calls
    reply = await demo.respond("what's the weather on mars", restored)
    assert reply.escalation == Escalation("unmatched", "returns")
    assert reply.understanding is not None and reply.understanding.slots == {"order_number": "4471"}


async def test_greeting_comes_from_the_knowledge_base(demo: FaqAssistant) -> None:
    reply = await demo.greet(context())
    assert reply.messages == [json.loads(DEMO_KB.read_text())["greeting"]]
    assert reply.suggestions == [
        "Where is my order?",
        "How long does shipping take?",
        "How do I return an item?",
        "Talk to a person",
    ]
    assert reply.escalation is None


async def test_every_suggestion_chip_leads_somewhere(demo: FaqAssistant) -> None:
    # The widget sends a chip's text as the customer's message.
    chips = {s for e in ENTRIES.values() for s in e.get("suggestions", [])}
    chips |= set((await demo.greet(context())).suggestions)
    for chip in chips:
        assert demo.match(chip) is not None or wants_human(chip) == "customer_request", chip


async def test_default_knowledge_base_and_name() -> None:
    bot = FaqAssistant(name="Shop bot")
    assert bot.name == "Shop bot" and len(bot.kb.entries) == 5
    reply = await bot.respond("how long does shipping take?", context())
    assert reply.understanding is not None and reply.understanding.intent == "shipping"
    assert "deliver" in reply.messages[0]
    greeting = await bot.greet(context())
    assert greeting.messages and greeting.suggestions[-1] == "Talk to a person"


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": "x", "questions": ["where is my order"], "answer": "Here."}
    entry.update(overrides)
    return {key: value for key, value in entry.items() if value is not None}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ("{}", 'non-empty "entries"'),
        ('{"entries": []}', 'non-empty "entries"'),
        (json.dumps({"greeting": 5, "entries": [_entry()]}), "greeting"),
        (json.dumps({"entries": ["where is my order"]}), "entry 1"),
        (json.dumps({"entries": [_entry(answer=None)]}), "'answer'"),
        (json.dumps({"entries": [_entry(answer="  ")]}), "'answer'"),
        (json.dumps({"entries": [_entry(id=7)]}), "'id'"),
        (json.dumps({"entries": [_entry(questions="where is my order")]}), "'questions'"),
        (json.dumps({"entries": [_entry(questions=[])]}), "'questions'"),
        (json.dumps({"entries": [_entry(questions=["where is it"])]}), "only common words"),
        (json.dumps({"entries": [_entry(queue="")]}), "'queue'"),
        (json.dumps({"entries": [_entry(suggestions=[1])]}), "'suggestions'"),
        (json.dumps({"entries": [_entry(qustions=["typo"])]}), "unknown keys ['qustions']"),
        (json.dumps({"entries": [_entry(), _entry()]}), "two entries with the id 'x'"),
    ],
)
def test_bad_knowledge_base_is_a_config_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "kb.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match="kb.json") as caught:
        FaqAssistant(path)
    assert message in str(caught.value)


def test_missing_knowledge_base_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read"):
        FaqAssistant(tmp_path / "nope.json")


@pytest.mark.parametrize(
    ("options", "message"), [({"threshold": 0}, "threshold"), ({"max_unmatched": 0}, "max")]
)
def test_bad_options_are_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        FaqAssistant(DEMO_KB, **options)


def test_valid_minimal_knowledge_base(tmp_path: Path) -> None:
    path = tmp_path / "kb.json"
    path.write_text(json.dumps({"entries": [_entry(queue="vip")]}))
    bot = FaqAssistant(str(path))
    assert bot.kb.greeting  # a default greeting
    found = bot.match("where's my order?")
    assert found is not None and found[0].queue == "vip" and found[1] == 100.0
