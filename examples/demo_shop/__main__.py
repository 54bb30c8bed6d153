"""`make demo`: the DCS server, the demo shop at / and the agent console at /console, on SQLite."""

from __future__ import annotations

import argparse
import os

from aiohttp import web

from signaling_server.app import DEMO_KEY, create_app
from signaling_server.config import load_config
from signaling_server.demo import DEMO_AGENTS

from .server import KNOWLEDGE_BASE, add_shop_routes
from .workspace import DEMO_CANNED_RESPONSES, DEMO_DISPOSITIONS


def build_app(
    port: int | None = None, data_dir: str | None = None, database_url: str | None = None
) -> web.Application:
    config = load_config(
        os.environ.get("DCS_CONFIG"),
        demo=True,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        assistant_options={"knowledge_base": str(KNOWLEDGE_BASE)},
        # the demo's wrap-up codes and canned responses, unless the environment sets its own
        dispositions=None if "DCS_DISPOSITIONS" in os.environ else DEMO_DISPOSITIONS,
        canned_responses=None if "DCS_CANNED_RESPONSES" in os.environ else DEMO_CANNED_RESPONSES,
    )
    app = create_app(config)
    add_shop_routes(app, app[DEMO_KEY], issuer=config.issuer, audience=config.audience)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.demo_shop", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("DCS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DCS_PORT", "8700")))
    parser.add_argument("--data-dir", default=None, help="keys and SQLite file (default .dcs)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    app = build_app(args.port, args.data_dir, args.database_url)
    base = f"http://{args.host}:{args.port}"
    agents = "\n".join(
        f"    {a['name']:<14} ({a['id']}; queues: {', '.join(a['skills'])})" for a in DEMO_AGENTS
    )
    print(
        f"\nDCS demo is running.\n"
        f"  Demo shop (customer):  {base}/\n"
        f"  Agent console:         {base}/console\n"
        f"  Demo agents (pick one on the console's sign-in):\n{agents}\n"
        f"Open the shop and the console side by side; press Ctrl+C to stop.\n",
        flush=True,
    )
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
