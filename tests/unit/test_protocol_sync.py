"""The browser's copy of the event names stays equal to dcs_sdk.protocol."""

from __future__ import annotations

import re
from pathlib import Path

from dcs_sdk.protocol import ALLOWED_ROLES, INBOUND, Event, SessionState

JS = Path(__file__).parents[2] / "widget" / "src" / "protocol.js"


def js_object(name: str) -> dict[str, str]:
    block = re.search(rf"export const {name} = Object\.freeze\(\{{(.*?)\}}\);", JS.read_text(), re.S)
    assert block, f"{name} not found in {JS}"
    return dict(re.findall(r'(\w+):\s*"([^"]+)"', block.group(1)))


def test_event_names_match() -> None:
    assert js_object("Event") == {e.name: e.value for e in Event}


def test_session_states_match() -> None:
    assert js_object("SessionState") == {s.name: s.value for s in SessionState}


def test_every_inbound_event_has_a_model_and_roles() -> None:
    assert set(INBOUND) == set(ALLOWED_ROLES)
