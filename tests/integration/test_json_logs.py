"""log_format = "json": a real server process writes one JSON object per line, and the lines
logged while an event is handled name its session, event and connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dcs_sdk import DcsClient, ErrorCode, ProtocolError, SigningKey
from tests.server_process import ServerProcess


async def test_json_log_lines_carry_session_event_and_sid(
    tmp_path: Path, signing_key: SigningKey, mint: Callable[..., str]
) -> None:
    server = ServerProcess(tmp_path, signing_key, env={"DCS_LOG_FORMAT": "json"})
    await server.start()
    try:
        async with DcsClient(server.url, mint("customer", "owner")) as owner:
            sid = (await owner.start_session()).session_id
            async with DcsClient(server.url, mint("customer", "intruder")) as intruder:
                with pytest.raises(ProtocolError) as refused:
                    await intruder.escalate(sid)  # someone else's session: forbidden, logged
                assert refused.value.code == ErrorCode.FORBIDDEN
                with pytest.raises(ProtocolError):
                    await intruder.request("chat.send", {"text": "no session"})  # bad_payload
                intruder_sid = intruder.sio.get_sid()
        await asyncio.sleep(0.2)
    finally:
        assert await server.stop() == 0
    lines = [line for line in server.log().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert records[0]["message"].startswith("DCS server on http://127.0.0.1:")
    assert all(r["time"].endswith("+00:00") for r in records)
    forbidden = next(r for r in records if "forbidden" in r["message"])
    assert forbidden["level"] == "WARNING" and forbidden["logger"] == "signaling_server.events"
    assert forbidden["session_id"] == sid
    assert forbidden["event"] == "session.escalate"
    assert forbidden["sid"] == intruder_sid
    bad = next(r for r in records if "bad_payload" in r["message"])
    assert bad["event"] == "chat.send" and bad["sid"] == intruder_sid and "session_id" not in bad
    assert not any("session_id" in r for r in records if r["message"].startswith("DCS server"))
