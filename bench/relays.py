"""The reference servers the benches measure DCS against: a bare python-socketio relay (join
a room, re-emit to it, no auth, validation or storage), optionally storing each message in
SQLite (WAL, synchronous=NORMAL, as DCS's default) and committing before it relays it.

Each is the source of a script, run as ``python -c SOURCE PORT [DB_PATH]``.
"""

from __future__ import annotations

_STORE = """
import sqlite3, time
db = sqlite3.connect(sys.argv[2], isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL"):
    db.execute("PRAGMA " + pragma)
db.execute("CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, room TEXT, text TEXT, ts REAL)")
"""

_COMMIT = """
    db.execute("BEGIN")
    row = (data["room"], data["text"], time.time())
    db.execute("INSERT INTO messages (room, text, ts) VALUES (?, ?, ?)", row)
    db.execute("COMMIT")"""


def relay_source(*, durable: bool = False, server_options: str = "", prelude: str = "") -> str:
    """The script of a bare relay; ``durable`` commits each message (to argv[2]) first;
    ``server_options`` are extra AsyncServer keyword arguments, ``prelude`` runs first."""
    options = f", {server_options}" if server_options else ""
    return f"""{prelude}
import sys
import socketio
from aiohttp import web
{_STORE if durable else ""}
sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins=[]{options})
app = web.Application()
sio.attach(app)

@sio.on("join")
async def join(sid, room):
    await sio.enter_room(sid, room)
    return {{"ok": True}}

@sio.on("msg")
async def msg(sid, data):{_COMMIT if durable else ""}
    await sio.emit("msg", data, room=data["room"], skip_sid=sid)
    return {{"ok": True}}

web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
