"""The indexed room bookkeeping (signaling_server/rooms.py) keeps exactly the rooms
python-socketio's own manager keeps, through connects, joins, leaves, closes and
disconnects in any order, and a disconnect costs its own rooms, not a scan of all."""

from __future__ import annotations

import random
import time
from typing import Any

import socketio

from signaling_server.rooms import IndexedAsyncManager


def managers() -> tuple[Any, Any]:
    plain, indexed = socketio.AsyncManager(), IndexedAsyncManager()
    for manager in (plain, indexed):
        socketio.AsyncServer(client_manager=manager)  # the server wires itself in
    return plain, indexed


def shape(manager: Any) -> dict[Any, set[str]]:
    """Each room's members as Engine.IO sids (the same in both managers; their socket.io
    sids differ), a socket's own room named by its Engine.IO sid too."""
    rooms = manager.rooms.get("/", {})
    eio_of = dict(rooms.get(None, {}))
    return {eio_of.get(room, room): set(members.values()) for room, members in rooms.items()}


async def test_the_index_keeps_the_same_rooms_as_python_socketio() -> None:
    plain, indexed = managers()
    rng = random.Random(7)
    connected: list[tuple[str, str]] = []  # (plain sid, indexed sid) of one Engine.IO sid
    for step in range(3000):
        op = rng.random()
        if op < 0.3 or not connected:
            plain_sid = await plain.connect(f"e{step}", "/")
            connected.append((plain_sid, await indexed.connect(f"e{step}", "/")))
        elif op < 0.85:
            pair, room = rng.choice(connected), f"session:{rng.randrange(40)}"
            if op < 0.6:
                await plain.enter_room(pair[0], "/", room)
                await indexed.enter_room(pair[1], "/", room)
            elif op < 0.8:
                await plain.leave_room(pair[0], "/", room)
                await indexed.leave_room(pair[1], "/", room)
            else:
                await plain.close_room(room, "/")
                await indexed.close_room(room, "/")
        else:
            plain_sid, indexed_sid = connected.pop(rng.randrange(len(connected)))
            await plain.disconnect(plain_sid, "/")
            await indexed.disconnect(indexed_sid, "/")
        assert shape(indexed) == shape(plain), f"step {step}"


async def test_a_disconnect_does_not_scan_every_room() -> None:
    _, indexed = managers()
    sids = [await indexed.connect(f"e{i}", "/") for i in range(20_000)]
    for i, sid in enumerate(sids):
        await indexed.enter_room(sid, "/", f"session:{i}")
    started = time.perf_counter()
    for sid in sids[:5000]:
        await indexed.disconnect(sid, "/")
    # python-socketio's scan of 40,000 rooms per disconnect takes minutes for these 5,000
    assert time.perf_counter() - started < 2.0
    assert len(indexed.rooms["/"][None]) == 15_000
    assert all(f"session:{i}" not in indexed.rooms["/"] for i in range(5000))
