"""Voice and video calls in real Chromium: demo shop widget <-> agent console, with real packets.

Each test runs inside a private network namespace (tests/netns.py), with Chromium and the
in-process demo server both inside it: ICE finds the veth pair's 10.99.0.1/10.99.0.2 (and,
with --allow-loopback-in-peer-connection, 127.0.0.1) host candidates, and no packet can leave
the machine. Chromium's fake devices send a beeping tone and a moving test pattern, so
getStats() (read through the ``window.__dcsCall`` debugging hook) shows whether media flows.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiortc.contrib.media import MediaPlayer, MediaRecorder
from playwright.async_api import Page, expect

from dcs_sdk import DcsClient, PageInfo
from dcs_sdk.rtc import CallPeer
from tests import netns
from tests.e2e.pages import Contexts, W, live_session, open_console, part, send_from_console, send_from_widget
from tests.integration.test_rtc_python_peer import analyse, wait_for_packets, write_tone

CALL_TIMEOUT_MS = 15_000
PYTHON_TONE_HZ = 660
SILENT_ENERGY = 1e-6  # inbound audio energy over 1.5 s below this: silence

# Totals over the current connection's streams, by kind.
STATS_JS = """
async () => {
  const hook = window.__dcsCall;
  if (!hook || !hook.pc) return null;
  const report = await hook.stats();
  const out = {
    pcId: hook.pcId,
    audio: {bytes: 0, packets: 0, energy: 0},
    video: {bytes: 0, packets: 0, frames: 0},
    sent: {audio: 0, video: 0},
  };
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && (s.kind === "audio" || s.kind === "video")) {
      const k = out[s.kind];
      k.bytes += s.bytesReceived || 0;
      k.packets += s.packetsReceived || 0;
      if (s.kind === "audio") {
        k.energy += s.totalAudioEnergy || 0;
      } else {
        k.frames += s.framesDecoded || 0;
      }
    } else if (s.type === "outbound-rtp" && (s.kind === "audio" || s.kind === "video")) {
      out.sent[s.kind] += s.bytesSent || 0;
    }
  });
  return out;
}
"""

# Record every data-state the call bar shows (the console's "reconnecting" may be brief).
WATCH_STATES_JS = """
(selector) => {
  window.__callStates = [];
  const seen = new WeakSet();
  const watch = () => {
    for (const el of document.querySelectorAll(selector)) {
      if (seen.has(el)) continue;
      seen.add(el);
      new MutationObserver(() => window.__callStates.push(el.getAttribute("data-state")))
        .observe(el, {attributes: true, attributeFilter: ["data-state"]});
    }
  };
  watch();
  new MutationObserver(watch).observe(document.body, {childList: true, subtree: true});
}
"""


def call_state(page: Page, scope: str = "") -> Any:
    return page.locator(part("call-state", scope)).locator("visible=true")


async def expect_state(page: Page, state: str, scope: str = "") -> None:
    """The call bar of `page` (scope W: the widget's) shows `state` in its data-state."""
    await expect(call_state(page, scope)).to_have_attribute("data-state", state, timeout=CALL_TIMEOUT_MS)


async def stats(page: Page) -> dict[str, Any]:
    result = await page.evaluate(STATS_JS)
    assert result is not None, "no call connection on this page"
    return dict(result)


async def wait_rising(page: Page, kind: str, timeout: float = 10.0, key: str = "bytes") -> dict[str, Any]:  # noqa: ASYNC109
    """Wait until stats()[kind][key] has risen twice in a row (media keeps flowing)."""
    deadline = time.monotonic() + timeout
    first = await stats(page)
    rises = 0
    last = first
    while rises < 2:
        assert time.monotonic() < deadline, f"{kind} {key} did not keep rising: {first} -> {last}"
        await asyncio.sleep(0.4)
        now = await stats(page)
        if now["pcId"] != last["pcId"]:
            first, rises = now, 0  # a fresh connection: count again
        elif now[kind][key] > last[kind][key]:
            rises += 1
        last = now
    return last


async def audio_energy_over(page: Page, seconds: float) -> float:
    before = await stats(page)
    await asyncio.sleep(seconds)
    after = await stats(page)
    assert after["pcId"] == before["pcId"]
    return float(after["audio"]["energy"] - before["audio"]["energy"])


async def until_silent(page: Page, quiet: float = 1.0, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    """Wait until the audio `page` plays out has added no energy for `quiet` seconds: what
    was in flight has played out (a loaded machine's jitter buffer grows). The audio level
    alone cannot tell: it reads 0 between the fake microphone's short beeps too, and those
    come twice a second."""
    deadline = time.monotonic() + timeout
    start = await stats(page)
    since = time.monotonic()
    while time.monotonic() - since < quiet:
        assert time.monotonic() < deadline, f"the inbound audio did not go silent for {quiet} s"
        await asyncio.sleep(0.1)
        now = await stats(page)
        sound = now["audio"]["energy"] - start["audio"]["energy"] > SILENT_ENERGY / 10
        if sound or now["pcId"] != start["pcId"]:
            start, since = now, time.monotonic()  # count again


async def chat_both_ways(customer: Page, agent: Page, tag: str) -> None:
    await send_from_widget(customer, f"customer says {tag}")
    await expect(agent.locator(part("message")).filter(has_text=f"customer says {tag}")).to_have_count(1)
    await send_from_console(agent, f"agent says {tag}")
    await expect(customer.locator(part("message", W)).filter(has_text=f"agent says {tag}")).to_have_count(1)


async def agent_rings_customer_accepts(customer: Page, agent: Page, *, video: bool = False) -> float:
    """The agent calls, the customer accepts; returns the seconds from accept to connected."""
    await agent.locator(part("video-start" if video else "call-start")).click()
    await expect(call_state(agent)).to_have_attribute("data-state", "ringing")
    prompt = customer.locator(part("call-prompt", W))
    await expect(prompt).to_be_visible()
    assert await prompt.get_attribute("role") == "alertdialog"
    accept = customer.locator(part("call-accept", W))
    await expect(accept).to_be_focused()  # focus moved to the prompt
    started = time.monotonic()
    await accept.click()
    for page, scope in ((customer, W), (agent, "")):
        await expect_state(page, "connected", scope)
    return time.monotonic() - started


@netns.isolated
async def test_voice_call_then_video_mute_and_hang_up_from_each_side(
    contexts: Contexts, shop_url: str
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)

    # 1. the agent rings; the customer's browser asks for the microphone only on accept
    assert await customer.evaluate("window.__dcsCall") is None
    loaded_call_code = (
        "performance.getEntriesByType('resource').some(e => /\\/dcs-call-[A-Z0-9]+\\.js$/.test(e.name))"
    )
    assert await customer.evaluate(loaded_call_code) is False  # the first script has no call code
    setup_s = await agent_rings_customer_accepts(customer, agent)
    assert await customer.evaluate(loaded_call_code) is True  # loaded when the call rang
    print(f"voice call: connected {setup_s * 1000:.0f} ms after the customer's accept")
    await expect(customer.locator(part("call-duration", W))).to_have_text(re.compile(r"^0:0[0-9]$"))
    for page in (customer, agent):
        await wait_rising(page, "audio")
    await chat_both_ways(customer, agent, "during the voice call")

    # 2. video: both turn their cameras on; each sees the other's (and its own) video
    await agent.locator(part("call-camera")).click()
    await expect(agent.locator(part("call-camera"))).to_have_attribute("data-on", "true")
    await expect(agent.locator(part("call-camera"))).to_have_text("Turn camera off")  # says what a press does
    await expect(customer.locator(part("remote-video", W))).to_be_visible(timeout=CALL_TIMEOUT_MS)
    await customer.locator(part("call-camera", W)).click()
    await expect(agent.locator(part("remote-video"))).to_be_visible(timeout=CALL_TIMEOUT_MS)
    await expect(customer.locator(part("local-video", W))).to_be_visible()
    for page in (customer, agent):
        await wait_rising(page, "video")
        await wait_rising(page, "video", key="frames")
        await wait_rising(page, "audio")
    for video in ("remote-video", "local-video"):
        assert await customer.locator(part(video, W)).evaluate("v => v.muted && v.playsInline") is True

    # 3. the customer mutes: the agent hears silence; unmutes: sound again
    assert await audio_energy_over(agent, 1.5) > 0
    mute = customer.locator(part("call-mute", W))
    await mute.click()
    await expect(mute).to_have_attribute("data-on", "true")
    await expect(mute).to_have_text("Unmute")
    await expect(agent.locator(part("call-bar"))).to_contain_text("is muted")
    await until_silent(agent)  # what was in flight played out
    muted_energy = await audio_energy_over(agent, 1.5)
    await mute.click()
    await expect(mute).to_have_attribute("data-on", "false")
    await expect(mute).to_have_text("Mute")
    await expect(agent.locator(part("call-bar"))).not_to_contain_text("is muted")
    await wait_rising(agent, "audio", key="energy")  # the sound is back (after the jitter buffer)
    unmuted_energy = await audio_energy_over(agent, 1.5)
    print(f"agent's inbound audio energy over 1.5 s: muted {muted_energy:.6f}, unmuted {unmuted_energy:.6f}")
    assert muted_energy < SILENT_ENERGY < unmuted_energy

    # 4. the agent hangs up: both show ended; the chat goes on
    await agent.locator(part("call-hangup")).click()
    for page, scope in ((customer, W), (agent, "")):
        await expect(call_state(page, scope)).to_have_attribute("data-state", "ended")
        await expect(call_state(page, scope)).to_have_text("Call ended")
    await chat_both_ways(customer, agent, "after the first call")

    # 5. the customer calls this time; the agent accepts; the customer hangs up
    await customer.locator(part("call-start", W)).click()
    await expect(call_state(customer, W)).to_have_attribute("data-state", "ringing")
    await expect(call_state(customer, W)).to_have_text("Calling…")
    await expect(agent.locator(part("call-prompt"))).to_be_visible()
    started = time.monotonic()
    await agent.locator(part("call-accept")).click()
    for page, scope in ((customer, W), (agent, "")):
        await expect_state(page, "connected", scope)
    print(f"customer's call: connected {(time.monotonic() - started) * 1000:.0f} ms after the agent's accept")
    for page in (customer, agent):
        await wait_rising(page, "audio")
    await customer.locator(part("call-hangup", W)).click()
    for page, scope in ((customer, W), (agent, "")):
        await expect(call_state(page, scope)).to_have_attribute("data-state", "ended")
    await expect(customer.locator(part("call-start", W))).to_be_visible()
    await chat_both_ways(customer, agent, "after the second call")
    assert not errors, errors


@netns.isolated
async def test_customer_reload_mid_call_rejoins_by_itself(contexts: Contexts, shop_url: str) -> None:
    customer, agent, errors = await live_session(contexts, shop_url)
    await agent_rings_customer_accepts(customer, agent)
    for page in (customer, agent):
        await wait_rising(page, "audio")
    agent_pc = (await stats(agent))["pcId"]
    await agent.evaluate(WATCH_STATES_JS, "[data-part='call-state']")

    for step, url in enumerate((None, f"{shop_url}/orders")):  # reload, then another page
        customer_pc = (await stats(customer))["pcId"]
        started = time.monotonic()
        await (customer.reload() if url is None else customer.goto(url))
        # no prompt, no click anywhere: the reloaded page rejoins the call under way
        await expect_state(customer, "connected", W)
        await expect_state(agent, "connected")
        print(f"rejoined {(time.monotonic() - started) * 1000:.0f} ms after the page left (step {step + 1})")
        await expect(customer.locator(part("call-prompt", W))).to_be_hidden()
        customer_after = await wait_rising(customer, "audio")
        agent_after = await wait_rising(agent, "audio")
        # both sides are on fresh connections with new pc ids
        assert customer_after["pcId"] != customer_pc
        assert agent_after["pcId"] != agent_pc
        agent_pc = agent_after["pcId"]
        await chat_both_ways(customer, agent, f"after leaving the page {step + 1}")

    states = await agent.evaluate("window.__callStates")
    assert "reconnecting" in states, states  # the console showed it meanwhile
    assert states[-1] == "connected"

    # the agent reloads the console: it signs in again and rejoins the call the same way
    customer_pc = (await stats(customer))["pcId"]
    started = time.monotonic()
    await agent.reload()
    await expect_state(agent, "connected")
    await expect_state(customer, "connected", W)
    print(f"the console rejoined {(time.monotonic() - started) * 1000:.0f} ms after its reload")
    assert (await wait_rising(customer, "audio"))["pcId"] != customer_pc
    await wait_rising(agent, "audio")
    await expect(customer.locator(part("call-duration", W))).to_have_text(re.compile(r"^0:[0-5][0-9]$"))
    await agent.locator(part("call-hangup")).click()
    for page, scope in ((customer, W), (agent, "")):
        await expect(call_state(page, scope)).to_have_attribute("data-state", "ended")
    assert not errors, errors


@netns.isolated
async def test_browser_agent_calls_a_python_customer(
    contexts: Contexts, shop_url: str, tmp_path: Path
) -> None:
    """The console calls a customer written in Python (dcs_sdk.rtc.CallPeer): audio both ways."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # one visitor cookie
    token = ""

    async def fetch_token() -> None:
        nonlocal token
        async with http.get(f"{shop_url}/api/dcs-token") as response:
            token = str((await response.json())["token"])

    await fetch_token()
    client = DcsClient(shop_url, lambda: token)
    recording = tmp_path / "agent.wav"
    peer: CallPeer | None = None
    try:
        await client.connect()
        kiosk = PageInfo(url=f"{shop_url}/kiosk", title="Kiosk")
        sid = (await client.start_session(page=kiosk)).session["session_id"]
        await client.escalate(sid)
        agent = await open_console(contexts, shop_url)
        errors: list[str] = []
        agent.on("pageerror", lambda exc: errors.append(str(exc)))
        await agent.locator(part("queue-item")).first.locator(part("accept")).click()
        await expect(agent.locator(part("call-start"))).to_be_visible()

        tone = write_tone(tmp_path / "customer_tone.wav", PYTHON_TONE_HZ)
        peer = CallPeer(
            client, sid, player=MediaPlayer(str(tone), loop=True), recorder=MediaRecorder(str(recording))
        )
        await agent.locator(part("call-start")).click()
        ringing = await peer.wait_for_invite(timeout=10)
        assert ringing["inviter"]["role"] == "agent" and ringing["video"] is False
        started = time.monotonic()
        await peer.accept(ringing)
        await peer.wait_connected(15)
        await expect_state(agent, "connected")
        setup_ms = (time.monotonic() - started) * 1000
        print(f"browser agent <-> Python customer: connected {setup_ms:.0f} ms after accept")

        # the Python customer's tone reaches the agent; the agent's fake microphone reaches Python
        await wait_rising(agent, "audio")
        await wait_rising(agent, "audio", key="energy")
        assert (await stats(agent))["sent"]["audio"] > 0
        await wait_for_packets(peer, 50)

        # the agent restarts ICE: aiortc answers on a fresh connection (new ICE credentials and
        # DTLS fingerprint) under the same pc_id, and Chromium carries on with it
        first_pc = peer.pc
        agent_pc = (await stats(agent))["pcId"]
        await agent.evaluate("window.__dcsCall.pc.restartIce()")
        deadline = time.monotonic() + 20
        while peer.pc is first_pc or peer.connection_state != "connected":
            assert time.monotonic() < deadline, "the Python customer did not take the ICE restart"
            await asyncio.sleep(0.1)
        await wait_for_packets(peer, 150)  # 3 s of the agent's audio, on the fresh connection
        # the agent's connection restarted in place, and the Python side still sends: its
        # player feeds every new connection through its own relay subscription
        assert (await stats(agent))["pcId"] == agent_pc
        await wait_rising(agent, "sent", key="audio")  # outbound: bytes the agent sends
        await wait_rising(agent, "audio")  # inbound: the Python customer's tone, after the restart
        await wait_rising(agent, "audio", key="energy")
        await expect(call_state(agent)).to_have_attribute("data-state", "connected")
        await agent.locator(part("call-hangup")).click()
        ended = await peer.wait_ended(timeout=10)
        assert ended is not None and ended["reason"] == "hung up by agent"
        await expect(call_state(agent)).to_have_attribute("data-state", "ended")
        assert not errors, errors
    finally:
        if peer is not None:
            await peer.close()
        await client.close()
        await http.close()

    seconds, rms, hz = analyse(recording)
    print(f"recorded {seconds:.1f} s of the agent's (fake, beeping) microphone: RMS {rms:.0f}, ~{hz:.0f} Hz")
    assert seconds > 1.0
    assert rms > 300  # silence is 0; Chromium's fake microphone beeps


# The customer's browser refuses the microphone, as after "Block" in the permission prompt
# (which the Permissions API then reports as "denied").
DENY_MEDIA_JS = """
if (navigator.mediaDevices) {
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
}
if (navigator.permissions) {
  const query = navigator.permissions.query.bind(navigator.permissions);
  navigator.permissions.query = (d) =>
    d && d.name === "microphone" ? Promise.resolve({state: "denied"}) : query(d);
}
"""

# The microphone is allowed (no prompt), but it cannot be opened: another app holds it.
BUSY_MIC_JS = """
if (navigator.mediaDevices) {
  navigator.mediaDevices.getUserMedia = () =>
    Promise.reject(new DOMException("Could not start audio source", "NotReadableError"));
}
"""


@netns.isolated
async def test_microphone_denied_says_so_ends_cleanly_and_the_chat_goes_on(
    contexts: Contexts, shop_url: str
) -> None:
    customer, agent, errors = await live_session(contexts, shop_url, customer_init=DENY_MEDIA_JS)
    error = customer.locator(part("call-error", W))

    # the customer presses Call: no call is made, and the widget says why
    await customer.locator(part("call-start", W)).click()
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("microphone is blocked")
    assert await error.get_attribute("role") == "alert"
    await expect(customer.locator(part("call-start", W))).to_be_visible()
    await expect(customer.locator(part("call-bar", W))).to_be_hidden()
    await expect(agent.locator(part("call-prompt"))).to_be_hidden()

    # the agent calls; the customer accepts, the microphone is refused: the call ends for both
    await agent.locator(part("call-start")).click()
    await expect(customer.locator(part("call-prompt", W))).to_be_visible()
    await expect(error).to_be_hidden()  # a new call, a clean slate
    await customer.locator(part("call-accept", W)).click()
    await expect(error).to_contain_text("microphone is blocked")
    for page, scope in ((customer, W), (agent, "")):
        await expect(call_state(page, scope)).to_have_attribute("data-state", "ended")
        await expect(call_state(page, scope)).to_have_text("Call declined")
    await expect(customer.locator(part("call-prompt", W))).to_be_hidden()
    assert await customer.evaluate("window.__dcsCall && window.__dcsCall.pc") is None

    # the chat carries on, and the agent can call again later
    await chat_both_ways(customer, agent, "after the refused microphone")
    await expect(agent.locator(part("call-start"))).to_be_visible()
    assert not errors, errors


@netns.isolated
async def test_allowed_microphone_that_will_not_open_ends_the_answered_call_with_a_message(
    contexts: Contexts, shop_url: str
) -> None:
    # with the permission already granted the widget answers at once and opens the
    # microphone meanwhile (docs/architecture.md, "Call set-up time"); when it then fails,
    # the answered call ends for both, the widget says why, and the chat goes on
    customer, agent, errors = await live_session(contexts, shop_url, customer_init=BUSY_MIC_JS)
    error = customer.locator(part("call-error", W))
    await agent.locator(part("call-start")).click()
    await expect(customer.locator(part("call-prompt", W))).to_be_visible()
    await customer.locator(part("call-accept", W)).click()
    await expect(error).to_contain_text("could not be started")
    for page, scope in ((customer, W), (agent, "")):
        await expect(call_state(page, scope)).to_have_attribute("data-state", "ended")
        await expect(call_state(page, scope)).to_have_text("Call ended")
    assert await customer.evaluate("window.__dcsCall && window.__dcsCall.pc") is None
    await chat_both_ways(customer, agent, "after the busy microphone")
    await expect(agent.locator(part("call-start"))).to_be_visible()
    assert not errors, errors
