"""Loading the configured assistant from "module:Class", and every way that can go wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dcs_sdk import ConfigError
from dcs_sdk.assistant import Assistant, AssistantContext, Escalation, FaqAssistant, load_assistant
from examples.custom_assistant import OrderStatusAssistant

DEMO_KB = Path(__file__).parents[2] / "examples" / "demo_shop" / "knowledge_base.json"


def context() -> AssistantContext:
    return AssistantContext("s1", "c1", {}, "https://shop.test/", "Shop", [], {})


async def test_loads_the_faq_assistant_with_options() -> None:
    bot = load_assistant("dcs_sdk.assistant.faq:FaqAssistant", {"knowledge_base": str(DEMO_KB), "name": "Bo"})
    assert isinstance(bot, FaqAssistant) and bot.name == "Bo"
    reply = await bot.respond("can I pay with paypal", context())
    assert reply.understanding is not None and reply.understanding.intent == "payment-methods"
    await bot.close()


def test_loads_the_faq_assistant_without_options() -> None:
    assert isinstance(load_assistant(" dcs_sdk.assistant.faq:FaqAssistant "), FaqAssistant)


async def test_loads_the_example_custom_assistant() -> None:
    bot = load_assistant(
        "examples.custom_assistant:OrderStatusAssistant",
        {"name": "Order bot", "orders": {"4471": "packed"}},
    )
    assert isinstance(bot, OrderStatusAssistant) and bot.name == "Order bot"
    ctx = context()
    greeting = await bot.greet(ctx)
    assert "order number" in greeting.messages[0]
    reply = await bot.respond("where is order #4471?", ctx)
    assert reply.messages == ["Order 4471 is packed."] and reply.escalation is None
    again = await bot.respond("and when will it come?", ctx)  # remembered in state
    assert again.messages == ["Order 4471 is packed."]
    refund = await bot.respond("I want a refund", ctx)
    assert refund.escalation == Escalation("refund", "billing")
    person = await bot.respond("agent please", ctx)
    assert person.escalation == Escalation("customer_request", "general")


async def test_custom_assistant_escalates_an_unknown_order() -> None:
    bot = load_assistant("examples.custom_assistant:OrderStatusAssistant")
    reply = await bot.respond("order 999999", context())
    assert reply.escalation == Escalation("order_not_found", "general")


def test_a_plugin_module_on_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dcs_test_echo_bot.py").write_text(
        "from dcs_sdk.assistant import Assistant, AssistantReply\n"
        "class Echo(Assistant):\n"
        "    async def respond(self, text, context):\n"
        "        return AssistantReply(messages=[text])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    bot = load_assistant("dcs_test_echo_bot:Echo")
    assert isinstance(bot, Assistant) and bot.name == "Assistant"


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("dcs_sdk.assistant.faq.FaqAssistant", None, 'must look like "package.module:ClassName"'),
        ("dcs_sdk.assistant.faq:", None, "must look like"),
        (":FaqAssistant", None, "must look like"),
        ("dcs_sdk.assistant.faq:Faq-Assistant", None, "must look like"),
        ("no_such_package.bots:Bot", None, "'no_such_package.bots' cannot be found"),
        ("dcs_sdk.no_such_module:Bot", None, "'dcs_sdk.no_such_module' cannot be found"),
        ("dcs_sdk.assistant.faq:NoSuchClass", None, "has no 'NoSuchClass'"),
        ("dcs_sdk.assistant.faq:load_knowledge_base", None, "not a subclass of dcs_sdk.assistant.Assistant"),
        ("json:JSONDecoder", None, "not a subclass"),
        ("dcs_sdk.assistant.base:Assistant", None, "abstract"),
        ("dcs_sdk.assistant.faq:FaqAssistant", {"knowlege_base": "kb.json"}, "assistant_options do not fit"),
        ("dcs_sdk.assistant.faq:FaqAssistant", {"knowledge_base": "/nonexistent/kb.json"}, "Cannot read"),
    ],
)
def test_load_failures_are_config_errors(spec: str, options: dict[str, Any] | None, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_assistant(spec, options)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import dcs_test_not_installed_dependency\n", "failed to import: No module named"),
        ("raise RuntimeError('boom')\n", "failed to import: RuntimeError('boom')"),
        ("def broken(:\n", "failed to import"),
    ],
)
def test_a_module_that_fails_to_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, message: str
) -> None:
    (tmp_path / "dcs_test_broken_bot.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        load_assistant("dcs_test_broken_bot:Bot")
    assert message in str(caught.value)
