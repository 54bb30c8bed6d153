"""socket.io room bookkeeping that stays cheap with many connections.

python-socketio finds the rooms of a socket that disconnects by scanning every room of the
namespace (a copy of the dict and a membership test per room). Each connection has a room
of its own, each customer their session's room: with 10,000 connected that is 20,000 tests
per disconnect, and a burst of 5,000 disconnecting at once costs minutes of the event loop.
Here each socket's rooms are also indexed by socket, so a disconnect leaves exactly its own
rooms. The mixin goes in front of any python-socketio manager (the in-process one, or the
Redis one when processes share rooms: cluster/).
"""

from __future__ import annotations

from typing import Any

import socketio


class IndexedRooms:
    """Mixin for a socketio.BaseManager subclass: the rooms each socket joined.

    Every socket is in the namespace's room (None) and its own (its sid), which need no
    index; the others are kept per namespace and sid, as the room's name while there is one
    (a customer's session room) and as a set beyond, so the index costs little memory."""

    rooms: dict[str, dict[Any, Any]]
    callbacks: dict[str, Any]
    pending_connect: dict[str, list[str]]
    pending_disconnect: dict[str, list[str]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._joined: dict[str, dict[str, Any]] = {}  # namespace -> sid -> room | {rooms}

    def basic_enter_room(self, sid: str, namespace: str, room: Any, eio_sid: str | None = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)  # type: ignore[misc]
        if room is None or room == sid:
            return
        joined = self._joined.setdefault(namespace, {})
        have = joined.get(sid)
        if have is None:
            joined[sid] = room
        elif isinstance(have, set):
            have.add(room)
        elif have != room:
            joined[sid] = {have, room}

    def basic_leave_room(self, sid: str, namespace: str, room: Any) -> None:
        super().basic_leave_room(sid, namespace, room)  # type: ignore[misc]
        joined = self._joined.get(namespace)
        have = joined.get(sid) if joined is not None else None
        if joined is None or have is None:
            return
        if isinstance(have, set):
            have.discard(room)
            if not have:
                del joined[sid]
        elif have == room:
            del joined[sid]

    def basic_disconnect(self, sid: str, namespace: str, **kwargs: Any) -> None:
        # as BaseManager.basic_disconnect, without the scan of every room
        if namespace not in self.rooms:
            return
        have = self._joined.get(namespace, {}).pop(sid, None)
        extra = have if isinstance(have, set) else () if have is None else (have,)
        for room in (*extra, sid, None):
            self.basic_leave_room(sid, namespace, room)
        self.callbacks.pop(sid, None)
        for pending in (self.pending_connect, self.pending_disconnect):
            waiting = pending.get(namespace)
            if waiting is not None and sid in waiting:
                waiting.remove(sid)
                if not waiting:
                    del pending[namespace]


class IndexedAsyncManager(IndexedRooms, socketio.AsyncManager):  # type: ignore[misc]
    """The in-process manager (one server process), rooms indexed by socket."""
