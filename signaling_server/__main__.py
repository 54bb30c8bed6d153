"""The ``dcs-server`` command."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from dcs_sdk.exceptions import ConfigError

from .app import METRICS, create_app
from .config import load_config
from .gc_tuning import tune_for_server
from .logs import banner

# aiohttp waits this long for request handlers still running after the shutdown hook, then
# as long again for their cancellation (its default is 60 s).
SHUTDOWN_TIMEOUT_S = 0.25
LISTEN_BACKLOG = 4096


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dcs-server",
        description="Run the DCS signaling server: sessions, routing, chat and the agent console.",
        epilog="Settings come from --config (TOML), then DCS_* environment variables, then flags.",
    )
    parser.add_argument("--config", help="a TOML file of settings (see README)")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8700)")
    parser.add_argument("--database-url", help="sqlite+aiosqlite:///file.db or postgresql+asyncpg://...")
    parser.add_argument("--data-dir", help="folder for the default SQLite file and demo keys")
    parser.add_argument("--public-keys-file", help="JWKS or PEM file of trusted token keys")
    parser.add_argument("--jwks-url", help="a JWKS URL of trusted token keys")
    parser.add_argument("--assistant", help="virtual assistant as module:Class")
    parser.add_argument("--demo", action="store_true", default=None, help="demo keys and demo agents")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        config = load_config(
            args.config,
            host=args.host,
            port=args.port,
            database_url=args.database_url,
            data_dir=args.data_dir,
            public_keys_file=args.public_keys_file,
            jwks_url=args.jwks_url,
            assistant=args.assistant,
            demo=args.demo,
            log_level=args.log_level,
        )
        app = create_app(config)
        tune_for_server(app, pauses=app[METRICS].gc_pause, thaw_every_s=config.gc_thaw_interval_s)
    except ConfigError as exc:
        sys.exit(f"dcs-server: {exc}")
    started = f"DCS server on http://{config.host}:{config.port}  (agent console: /console)"
    print(banner(started, config.log_format), flush=True)
    # One access-log line per socket.io poll drowns everything else; keep it for DEBUG.
    access_log = logging.getLogger("aiohttp.access") if config.log_level.upper() == "DEBUG" else None
    # SIGTERM/SIGINT: the app's on_shutdown hook (lifecycle.py) finishes in-flight events and
    # closes every connection within shutdown_grace_s; what is still open after that (a
    # client that does not read) gets SHUTDOWN_TIMEOUT_S more before aiohttp cuts it.
    web.run_app(
        app,
        host=config.host,
        port=config.port,
        print=None,
        access_log=access_log,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        # reconnect bursts (a restart, a network blip) queue thousands of connects at once;
        # aiohttp's default of 128 drops most of them (the kernel caps it at somaxconn)
        backlog=LISTEN_BACKLOG,
    )


if __name__ == "__main__":
    main()
