"""Demo mode: demo agents the console can sign in as, with tokens minted by the server.

Only mounted with ``--demo``. A real deployment gives the console an agent token minted by
its own backend (see README, "Agent sign-in"), so none of this runs there.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from aiohttp import web

from dcs_sdk.tokens import AccessToken, SigningKey

from .config import Config

DEMO_AGENTS: Final[list[dict[str, Any]]] = [
    {"id": "alice", "name": "Alice Martin", "skills": ["*"], "max_sessions": 3},
    {"id": "bob", "name": "Bob Chen", "skills": ["general", "returns"], "max_sessions": 2},
    {"id": "carol", "name": "Carol Diaz", "skills": ["billing", "general"], "max_sessions": 3},
    # a supervisor overseeing every queue (``skills``: the queues overseen)
    {"id": "sam", "name": "Sam Rivera", "skills": ["*"], "role": "supervisor"},
]


def demo_agent_token(
    key: SigningKey, config: Config, agent_id: str, ttl: timedelta = timedelta(minutes=15)
) -> str:
    agent = next((a for a in DEMO_AGENTS if a["id"] == agent_id), None)
    if agent is None:
        raise KeyError(agent_id)
    token = AccessToken(key, issuer=config.issuer, audience=config.audience, ttl=ttl).with_identity(
        agent["id"], name=agent["name"]
    )
    if agent.get("role") == "supervisor":
        return token.as_supervisor(queues=agent["skills"]).to_jwt()
    return token.as_agent(skills=agent["skills"], max_sessions=agent["max_sessions"]).to_jwt()


def add_demo_routes(app: web.Application, key: SigningKey, config: Config) -> None:
    from .app import CONSOLE_SETTINGS

    app[CONSOLE_SETTINGS] = {
        "demo": True,
        "demo_agents": [
            {"id": a["id"], "name": a["name"], "skills": a["skills"], "role": a.get("role", "agent")}
            for a in DEMO_AGENTS
        ],
        "demo_token_url": "/demo/agent-token",
    }

    async def agent_token(request: web.Request) -> web.Response:
        agent_id = request.query.get("agent", "")
        try:
            token = demo_agent_token(key, config, agent_id)
        except KeyError:
            return web.json_response(
                {"error": {"code": "not_found", "message": f"No demo agent {agent_id!r}."}}, status=404
            )
        return web.json_response({"token": token}, headers={"Cache-Control": "no-store"})

    app.router.add_get("/demo/agent-token", agent_token)
