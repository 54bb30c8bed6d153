"""A customer written in Python: chat, ask for a person, take the agent's call, talk, record.

Start the demo (server, shop, agent console), then this customer::

    python -m examples.demo_shop
    python examples/python_customer.py --server http://127.0.0.1:8700 \\
        --token-url http://127.0.0.1:8700/api/dcs-token --play hello.wav --record agent.wav

Sign in to the console (http://127.0.0.1:8700/console) as a demo agent, take the session
from the queue and press the call button. The customer answers, sends ``--play`` (any file
FFmpeg reads; omit it to only listen) and records what the agent sends to ``--record``
(WAV). It hangs up after ``--seconds``, or earlier when the agent hangs up.

The token comes from the shop's token endpoint, as the widget gets it: the shop remembers the
visitor by a cookie, so every token fetched here names the same customer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository's packages importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiortc.contrib.media import MediaPlayer, MediaRecorder  # noqa: E402

from dcs_sdk import DcsClient, Event, PageInfo  # noqa: E402
from dcs_sdk.rtc import CallPeer  # noqa: E402

log = logging.getLogger("python_customer")
TOKEN_REFRESH_S = 240  # the demo's tokens live 10 minutes; reconnects need a fresh one


class TokenSource:
    """Customer tokens from the site's token endpoint, refreshed in the background."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = ""
        # unsafe=True: keep the visitor cookie even for a server addressed by IP (127.0.0.1)
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def fetch(self) -> str:
        async with self.http.get(self.url) as response:
            response.raise_for_status()
            self.token = str((await response.json())["token"])
        return self.token

    async def keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(TOKEN_REFRESH_S)
            try:
                await self.fetch()
            except (aiohttp.ClientError, KeyError, ValueError) as exc:
                log.warning("could not refresh the token: %s", exc)

    def __call__(self) -> str:
        return self.token

    async def close(self) -> None:
        await self.http.close()


_shown: set[int] = set()


def show_message(message: dict[str, Any]) -> None:
    """Log what the assistant, the agent and the system say (once each: history and pushes overlap)."""
    sender = message.get("sender") or {}
    if message.get("seq") in _shown:
        return
    _shown.add(int(message.get("seq", 0)))
    if sender.get("role") != "customer":
        log.info("%s (%s): %s", sender.get("name") or sender.get("role"), sender.get("role"), message["text"])


async def run(args: argparse.Namespace) -> int:
    tokens = TokenSource(args.token_url)
    refresh: asyncio.Task[None] | None = None
    client: DcsClient | None = None
    peer: CallPeer | None = None
    try:
        log.info("1. fetching a customer token from %s", args.token_url)
        await tokens.fetch()
        refresh = asyncio.create_task(tokens.keep_fresh())

        log.info("2. connecting to %s", args.server)
        client = DcsClient(args.server, tokens)
        await client.connect()
        client.on(Event.CHAT_MESSAGE, show_message)

        started = await client.start_session(page=PageInfo(url=args.page_url, title="Python customer"))
        sid, session = started.session_id, started.session
        log.info("3. session %s (%s)", sid, session["state"])
        for message in started.messages:
            show_message(message)

        if session["state"] != "live":
            if args.message:
                await client.send(sid, args.message)
            session = await client.escalate(sid, "python_customer")
            log.info(
                "4. asked for a person: %s, position %s, about %s s",
                session["state"],
                session.get("position"),
                session.get("estimated_wait_s"),
            )
            if session["state"] != "live":
                log.info("5. waiting for an agent to take the session (up to %s s)", args.wait)
                session = await client.wait_for(
                    Event.SESSION_STATE,
                    lambda s: s.get("session_id") == sid and s.get("state") in ("live", "wrap_up", "ended"),
                    timeout=args.wait,
                )
                if session["state"] != "live":
                    log.error("the session is %s; no call today", session["state"])
                    return 1
        agent = session.get("agent") or {}
        log.info("6. %s joined; waiting for their call", agent.get("name") or "an agent")

        player = MediaPlayer(args.play, loop=args.loop) if args.play else None
        recorder = MediaRecorder(args.record) if args.record else None
        peer = CallPeer(client, sid, player=player, recorder=recorder)
        call = await peer.wait_for_invite(timeout=args.wait)
        log.info("7. %s is calling (video: %s); accepting", call["inviter"]["name"], call["video"])
        began = time.monotonic()
        await peer.accept(call)
        await peer.wait_connected(timeout=30)
        log.info(
            "8. connected in %.0f ms; talking for up to %s s", (time.monotonic() - began) * 1000, args.seconds
        )

        try:
            ended = await peer.wait_ended(timeout=args.seconds)
            reason = (ended or {}).get("reason") or "the call ended"
            log.info("9. %s", reason)
        except TimeoutError:
            log.info("9. %s s are up: hanging up", args.seconds)
            await peer.hangup()
        return 0
    finally:
        if peer is not None:
            await peer.close()
        if client is not None:
            await client.close()
        if refresh is not None:
            refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresh
        await tokens.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--server", default="http://127.0.0.1:8700", help="the DCS server")
    parser.add_argument("--token-url", default="http://127.0.0.1:8700/api/dcs-token", help="GET -> {token}")
    parser.add_argument("--play", help="audio to send (WAV or anything FFmpeg reads); silent without it")
    parser.add_argument("--loop", action="store_true", help="repeat --play until the call ends")
    parser.add_argument("--record", help="write the agent's audio to this WAV file")
    parser.add_argument("--seconds", type=float, default=20.0, help="hang up after this long (default 20)")
    parser.add_argument("--wait", type=float, default=300.0, help="how long to wait for an agent and a call")
    parser.add_argument("--message", default="Hello, I'd like to talk to someone.", help="first chat message")
    parser.add_argument(
        "--page-url", default="https://shop.example/orders", help="page reported to the agent"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the peer's signaling steps too")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("dcs_sdk.rtc").setLevel(logging.INFO if args.verbose else logging.WARNING)
    for chatty in ("aioice", "aiortc"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        code = asyncio.run(run(args))
        recording = Path(args.record) if args.record else None
        if recording is not None and recording.exists():
            log.info("10. the agent's audio is in %s (%d bytes)", recording, recording.stat().st_size)
        sys.exit(code)
    except KeyboardInterrupt:
        sys.exit(130)
    except TimeoutError:
        log.error("gave up waiting (see --wait)")
        sys.exit(2)


if __name__ == "__main__":
    main()
