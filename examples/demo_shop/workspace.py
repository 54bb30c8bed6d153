"""The demo's wrap-up dispositions and canned responses (signaling_server/workspace.py);
DCS_DISPOSITIONS / DCS_CANNED_RESPONSES (JSON) or a config file replace them."""

from __future__ import annotations

DEMO_DISPOSITIONS = {
    "resolved": "Resolved",
    "follow_up": "Needs a follow-up",
    "refund": "Refund or return started",
    "no_reply": "Customer stopped replying",
}

DEMO_CANNED_RESPONSES = {
    "*": [
        {"shortcut": "hi", "title": "Greeting", "text": "Hi {first_name}, how can I help you today?"},
        {"shortcut": "bye", "title": "Closing", "text": "Glad I could help, {first_name}. Have a great day!"},
    ],
    "general": [
        {
            "shortcut": "late",
            "title": "Late order",
            "text": "I'm sorry order {order} is late, {first_name}. I'm checking with the carrier now.",
        },
        {"shortcut": "return", "title": "Return label", "text": "I've emailed you a prepaid return label."},
    ],
}
