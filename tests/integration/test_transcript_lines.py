"""Calls and co-browse leave lines in the transcript (transcript_lines.py): started, ended
with the duration, or declined; each once, seen live by both sides and kept in history."""

from __future__ import annotations

import re

from dcs_sdk import DcsClient, Event
from signaling_server.transcript_lines import duration_text
from tests.conftest import Connect
from tests.integration.test_call_signaling import live_pair


def system_lines(history: list[dict[str, object]]) -> list[str]:
    return [
        str(m["text"]) for m in history if isinstance(m["sender"], dict) and m["sender"]["role"] == "system"
    ]


async def connected_call(customer: DcsClient, agent: DcsClient, sid: str, *, video: bool) -> str:
    invite = await agent.request(Event.CALL_INVITE, {"session_id": sid, "video": video})
    call_id = str(invite["call"]["call_id"])
    await customer.wait_for(Event.CALL_STATE, lambda c: c["state"] == "ringing")
    await customer.request(Event.CALL_ANSWER, {"session_id": sid, "call_id": call_id, "accept": True})
    for side in (customer, agent):
        await side.request(Event.CALL_MEDIA, {"session_id": sid, "call_id": call_id, "state": "connected"})
    return call_id


def test_durations_read_like_a_clock() -> None:
    assert [duration_text(s) for s in (0, 7.9, 75.4, 3723)] == ["0:00", "0:07", "1:15", "1:02:03"]


async def test_a_call_and_a_declined_one_leave_lines(connect: Connect) -> None:
    customer, agent, sid = await live_pair(connect)
    call_id = await connected_call(customer, agent, sid, video=True)
    started = await customer.wait_for(
        Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "system" and "started" in m["text"]
    )
    assert started["text"] == "Video call started."
    # a second "connected" report (a reconnect, the other side again) says nothing new
    await agent.request(Event.CALL_MEDIA, {"session_id": sid, "call_id": call_id, "state": "connected"})
    await agent.request(Event.CALL_HANGUP, {"session_id": sid, "call_id": call_id})
    ended = await agent.wait_for(Event.CHAT_MESSAGE, lambda m: "ended after" in m["text"])
    assert re.fullmatch(r"Video call ended after 0:0\d\.", ended["text"]), ended["text"]

    invite = await customer.request(Event.CALL_INVITE, {"session_id": sid, "video": False})
    declined = {"session_id": sid, "call_id": invite["call"]["call_id"], "accept": False}
    await agent.request(Event.CALL_ANSWER, declined)
    await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Call declined.")

    # cancelled while it rang
    invite = await agent.request(Event.CALL_INVITE, {"session_id": sid, "video": False})
    await agent.request(Event.CALL_HANGUP, {"session_id": sid, "call_id": invite["call"]["call_id"]})
    await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["text"] == "Call ended before it connected.")

    history = await agent.history(sid)
    # each line also carries its code and arguments (the widget's locale files): stored too
    codes = [(m["line"]["code"], m["line"]["args"]) for m in history if "line" in m]
    assert ("agent_joined", {"name": "Alice"}) in codes
    assert [c for c in codes if c[0].startswith(("video_", "call_"))] == [
        ("video_started", {}),
        ("video_ended", {"duration": ended["text"].split()[-1].rstrip(".")}),
        ("call_declined", {}),
        ("call_not_connected", {}),
    ]
    lines = system_lines(history)
    calls = [
        line
        for line in lines
        if "all" in line and ("started" in line or "ended" in line or "declined" in line)
    ]
    assert calls == [
        "Video call started.",
        ended["text"],
        "Call declined.",
        "Call ended before it connected.",
    ], lines


async def test_page_sharing_leaves_lines(connect: Connect) -> None:
    customer, agent, sid = await live_pair(connect)
    ack = await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": True})
    await agent.wait_for(
        Event.CHAT_MESSAGE, lambda m: m["text"] == "The customer started sharing their page with Alice."
    )
    await customer.request(
        Event.COBROWSE_STOP, {"session_id": sid, "cobrowse_id": ack["cobrowse"]["cobrowse_id"]}
    )
    stopped = await agent.wait_for(
        Event.CHAT_MESSAGE, lambda m: m["text"].startswith("Page sharing ended after")
    )
    assert re.fullmatch(r"Page sharing ended after 0:0\d\.", stopped["text"])
    # asked for and declined: nothing was shared, so nothing to say
    await agent.request(Event.COBROWSE_REQUEST, {"session_id": sid})
    await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "requested")
    await customer.request(Event.COBROWSE_CONSENT, {"session_id": sid, "scope": "view", "accept": False})
    await customer.wait_for(Event.COBROWSE_STATE, lambda c: c["state"] == "ended")
    lines = [line for line in system_lines(await customer.history(sid)) if "shar" in line]
    assert lines == ["The customer started sharing their page with Alice.", stopped["text"]]
