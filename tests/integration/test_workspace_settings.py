"""The console's working lists (workspace.py): disposition codes, required at wrap-up once
configured and kept with the session, and canned responses per queue, both sent to the
console in /console/config.json; a wrong setting stops the start with a sentence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from dcs_sdk import ErrorCode, ProtocolError
from dcs_sdk.exceptions import ConfigError
from signaling_server import Config, create_app
from signaling_server.store import Store
from signaling_server.workspace import Workspace
from tests.conftest import Connect
from tests.integration.test_call_signaling import live_pair

DISPOSITIONS = {"resolved": "Resolved", "follow_up": "Needs a follow-up"}
CANNED = {
    "*": [{"shortcut": "hi", "text": "Hi {first_name}!"}],
    "billing": [{"shortcut": "refund", "title": "Refund", "text": "Refunded."}],
}


@pytest.fixture
def server_config(server_config: Config) -> Config:
    return replace(server_config, dispositions=DISPOSITIONS, canned_responses=CANNED)


async def test_a_disposition_is_required_and_kept(
    connect: Connect, dcs_url: str, server_config: Config
) -> None:
    _customer, agent, sid = await live_pair(connect)
    await agent.end(sid)
    for disposition, says in (("", "Choose a disposition"), ("lost", "Unknown disposition 'lost'")):
        with pytest.raises(ProtocolError) as info:
            await agent.wrap_up(sid, "notes", disposition=disposition)
        assert info.value.code == ErrorCode.BAD_PAYLOAD and says in str(info.value), info.value
    await agent.wrap_up(sid, "Refund sent.", disposition="follow_up")
    store = await Store.open(server_config.resolved_database_url)
    try:
        record = await store.get_session(sid)
    finally:
        await store.close()
    assert (
        record is not None
        and record.wrap_up_disposition == "follow_up"
        and record.wrap_up_notes == "Refund sent."
    )

    async with aiohttp.ClientSession() as http, http.get(f"{dcs_url}/console/config.json") as resp:
        settings: dict[str, Any] = await resp.json()
    assert settings["dispositions"] == [
        {"code": "resolved", "label": "Resolved"},
        {"code": "follow_up", "label": "Needs a follow-up"},
    ]
    assert settings["canned_responses"]["*"] == [
        {"shortcut": "hi", "title": "hi", "text": "Hi {first_name}!"}
    ]
    assert settings["canned_responses"]["billing"][0]["title"] == "Refund"


def test_without_dispositions_none_is_asked_for_or_taken() -> None:
    workspace = Workspace.from_config({}, {})  # the default: notes only
    assert workspace.disposition_error("") is None
    assert workspace.disposition_error("resolved") == "No disposition codes are configured; send none."
    assert workspace.to_console() == {"dispositions": [], "canned_responses": {}}


@pytest.mark.parametrize(
    ("dispositions", "canned", "says"),
    [
        ({"Bad Code": "x"}, {}, "Disposition code 'Bad Code'"),
        ({"ok": ""}, {}, "needs a label"),
        ({}, {"*": {"shortcut": "hi"}}, "must be a list"),
        ({}, {"*": [{"shortcut": "hi", "text": "a"}, {"shortcut": "hi", "text": "b"}]}, "appears twice"),
        ({}, {"*": [{"shortcut": "/hi", "text": "a"}]}, "shortcut '/hi'"),
        ({}, {"*": [{"shortcut": "hi", "text": ""}]}, "needs a text"),
    ],
)
def test_a_wrong_setting_stops_the_start(
    server_config: Config, dispositions: Any, canned: Any, says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        create_app(replace(server_config, dispositions=dispositions, canned_responses=canned))
