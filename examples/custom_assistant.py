"""A site's own assistant: looks up an order's status; refunds and unknown orders go to a person.

Plug it in with the server configuration (``dcs.toml``)::

    assistant = "examples.custom_assistant:OrderStatusAssistant"
    assistant_options = { name = "Order bot", orders = { "88123" = "out for delivery" } }

or ``DCS_ASSISTANT=examples.custom_assistant:OrderStatusAssistant`` in the environment, or
``dcs-server --assistant examples.custom_assistant:OrderStatusAssistant``. The module must
be importable by the server (here: run it from the repository root). ``assistant_options``
become the constructor's keyword arguments.

A real site would call its order system in ``respond`` (it is async: use an async HTTP
client and close it in ``close``) and might trust ``context.attributes`` (verified by the
customer's token) to only reveal that customer's orders.
"""

from __future__ import annotations

from collections.abc import Mapping

from dcs_sdk.assistant import (
    Assistant,
    AssistantContext,
    AssistantReply,
    Escalation,
    Understanding,
    extract_slots,
    wants_human,
)

DEMO_ORDERS = {"88123": "out for delivery, arriving today", "12345": "delivered on Monday"}


class OrderStatusAssistant(Assistant):
    """Answers "where is order 88123?"; refunds go to billing, anything else to a person."""

    def __init__(self, *, name: str = "Order bot", orders: Mapping[str, str] | None = None) -> None:
        self.name = name
        self.orders = dict(DEMO_ORDERS if orders is None else orders)

    async def greet(self, context: AssistantContext) -> AssistantReply:
        return AssistantReply(
            messages=[f"Hi, I'm {self.name}. Tell me your order number and I'll check its status."],
            suggestions=["Where is order 88123?", "Talk to a person"],
        )

    async def respond(self, text: str, context: AssistantContext) -> AssistantReply:
        reason = wants_human(text)
        if reason is not None:
            return AssistantReply(
                messages=["Sure, connecting you with a person."], escalation=Escalation(reason)
            )
        if "refund" in text.lower():
            return AssistantReply(
                messages=["Our billing team handles refunds. Connecting you now."],
                escalation=Escalation("refund", queue="billing"),
                understanding=Understanding("refund", confidence=1.0),
            )
        number = extract_slots(text).get("order_number") or context.state.get("order_number")
        if not isinstance(number, str):
            return AssistantReply(
                messages=["What's your order number? It's in your confirmation email, e.g. #88123."],
                suggestions=["Talk to a person"],
            )
        context.state["order_number"] = number  # remembered for the next question
        slots = {"order_number": number}
        status = self.orders.get(number)
        if status is None:
            return AssistantReply(
                messages=[f"I can't find order {number}. Let me get a person to look into it."],
                escalation=Escalation("order_not_found"),
                understanding=Understanding("order_status", slots, 0.5),
            )
        return AssistantReply(
            messages=[f"Order {number} is {status}."],
            understanding=Understanding("order_status", slots, 1.0),
            suggestions=["Talk to a person"],
        )
