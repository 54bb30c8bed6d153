"""HTTP surface (console CSP, assets, health) and durability across a server restart."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
from aiohttp.test_utils import TestServer

from dcs_sdk import DcsClient, Event
from signaling_server import Config, create_app
from tests.conftest import Connect


async def test_console_is_served_with_a_strict_csp(dcs_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{dcs_url}/healthz") as resp:
            assert resp.status == 200 and (await resp.json()) == {"ok": True}
        async with http.get(f"{dcs_url}/console") as resp:
            assert resp.status == 200
            directives = [d.split() for d in resp.headers["Content-Security-Policy"].split(";")]
            csp = {d[0]: d[1:] for d in directives if d}
            assert csp["script-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
            # inline styles are allowed for the co-browse replay (csp.py says why); with no
            # customer site configured, nothing may be fetched from another origin
            assert csp["default-src"] == ["'self'"] and csp["img-src"] == ["'self'", "data:"]
            assert csp["font-src"] == ["'self'", "data:"] and csp["style-src"] == [
                "'self'",
                "'unsafe-inline'",
            ]
            assert csp["frame-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
            assert resp.headers["X-Frame-Options"] == "DENY"
        async with http.get(f"{dcs_url}/console/config.json") as resp:
            assert (await resp.json())["demo"] is False
        async with http.get(f"{dcs_url}/widget/dcs-widget.js") as resp:
            assert resp.status == 200 and "javascript" in resp.headers["Content-Type"]
            assert resp.headers["Access-Control-Allow-Origin"] == "*"


async def console_policy(config: Config) -> dict[str, list[str]]:
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http, http.get(server.make_url("/console")) as resp:
            assert resp.status == 200
            directives = [d.split() for d in resp.headers["Content-Security-Policy"].split(";")]
    finally:
        await server.close()
    return {d[0]: d[1:] for d in directives if d}


async def test_the_replay_may_load_the_sites_assets_never_their_scripts(server_config: Config) -> None:
    """The co-browse replay loads the customer's site's images, fonts and stylesheets (from
    allowed_origins and cobrowse_asset_origins); scripts stay the console's own, and an entry
    that is not an origin cannot add to the policy."""
    sites = ("https://shop.example", "https://www.shop.example/", "http://127.0.0.1:8123")
    config = replace(
        server_config,
        allowed_origins=(*sites, "https://evil.example; script-src *", "javascript:alert(1)"),
        cobrowse_asset_origins=("https://*.cdn.example", "https://shop.example", "'unsafe-eval'"),
    )
    csp = await console_policy(config)
    want = [
        "https://shop.example",
        "https://www.shop.example",
        "http://127.0.0.1:8123",
        "https://*.cdn.example",
    ]
    assert csp["img-src"] == ["'self'", "data:", *want]
    assert csp["font-src"] == ["'self'", "data:", *want]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'", *want]
    assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-src"] == ["'none'"]
    assert "evil.example" not in str(csp) and "unsafe-eval" not in str(csp)

    # any origin may connect: any origin's images, fonts and stylesheets, still no scripts
    csp = await console_policy(replace(server_config, allowed_origins=("*",)))
    assert csp["img-src"] == ["'self'", "data:", "*"] and csp["font-src"] == ["'self'", "data:", "*"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'", "*"]
    assert csp["script-src"] == ["'self'"] and csp["default-src"] == ["'self'"]


async def test_queued_and_live_sessions_survive_a_restart(server_config: Config, mint: object) -> None:
    make = mint  # type: ignore[assignment]

    async def serve() -> tuple[TestServer, str]:
        server = TestServer(create_app(server_config), host="127.0.0.1")
        await server.start_server()
        return server, str(server.make_url("")).rstrip("/")

    server, url = await serve()
    async with DcsClient(url, make("customer", "v1")) as c1, DcsClient(url, make("customer", "v2")) as c2:
        s1 = (await c1.start_session()).session_id
        s2 = (await c2.start_session()).session_id
        await c1.escalate(s1)
        await c2.escalate(s2)
        async with DcsClient(url, make("agent", "alice", name="Alice")) as agent:
            await agent.accept(s1)
            await agent.send(s1, "before the restart")
    await server.close()

    server, url = await serve()
    try:
        async with DcsClient(url, make("agent", "alice", name="Alice")) as agent:
            handoff = await agent.wait_for(Event.SESSION_HANDOFF)
            assert handoff["session"]["session_id"] == s1 and handoff["session"]["state"] == "live"
            assert "before the restart" in [m["text"] for m in handoff["transcript"]]
            snapshot = await agent.wait_for(Event.QUEUE_SNAPSHOT)
            assert [i["session_id"] for i in snapshot["sessions"]] == [s2]
            state = await agent.wait_for(Event.AGENT_STATE)
            assert state["sessions"] == [s1]
        async with DcsClient(url, make("customer", "v2")) as c2:
            resumed = await c2.start_session(s2)
            assert resumed.session["state"] == "queued" and resumed.session["position"] == 1
    finally:
        await server.close()


async def test_typing_goes_to_the_other_side_only(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    sid = (await customer.start_session()).session_id
    await customer.escalate(sid)
    agent = await connect("agent", "alice", name="Alice")
    await agent.accept(sid)
    await agent.typing(sid, True)
    got = await customer.wait_for(Event.CHAT_TYPING)
    assert got["sender"] == {"role": "agent", "id": "alice", "name": "Alice"}
    assert agent.drain(Event.CHAT_TYPING) == []
