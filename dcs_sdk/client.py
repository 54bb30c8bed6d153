"""An async participant client: a customer, an agent or a bot, over socket.io.

    async with DcsClient("http://localhost:8700", token) as customer:
        started = await customer.start_session(page=PageInfo(url="https://shop/cart"))
        await customer.send(started.session_id, "Where is my order?")
        reply = await customer.wait_for(Event.CHAT_MESSAGE, lambda m: m["sender"]["role"] == "assistant")

Every request returns the server's ack or raises ProtocolError with its code and sentence.
Pushed events can be handled with ``on(event, fn)`` or awaited with ``wait_for``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import socketio

from .exceptions import DcsError, ProtocolError
from .protocol import Event, PageInfo, Presence
from .queue_view import QueueView

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None] | None]
Predicate = Callable[[dict[str, Any]], bool]
PUSHED = (
    Event.SESSION_STATE,
    Event.CHAT_MESSAGE,
    Event.CHAT_TYPING,
    Event.CHAT_READ,
    Event.QUEUE_SNAPSHOT,
    Event.QUEUE_CHANGES,
    Event.AGENT_STATE,
    Event.SESSION_HANDOFF,
    Event.SESSION_REVOKED,
    Event.TRANSFER_STATE,
    Event.STAFF_NOTE,
    Event.AGENT_SIGNED_OUT,
    Event.WALL_SNAPSHOT,
    Event.WALL_CHANGES,
    Event.CALL_STATE,
    Event.RTC_SIGNAL,
    Event.COBROWSE_STATE,
    Event.COBROWSE_SIGNAL,
    Event.COBROWSE_DATA,
    Event.ERROR,
)


@dataclass(frozen=True)
class Started:
    """The ack of ``session.start``."""

    session: dict[str, Any]
    messages: list[dict[str, Any]]
    # a full page: history(session_id, after_seq=messages[-1]["seq"]) gives the rest
    more: bool = False

    @property
    def session_id(self) -> str:
        return str(self.session["session_id"])


class DcsClient:
    def __init__(
        self,
        url: str,
        token: str | Callable[[], str],
        *,
        reconnection: bool = True,
        request_timeout: float = 10.0,
        inbox_size: int = 2000,
    ) -> None:
        self.url = url
        self._token = token
        self.request_timeout = request_timeout
        self.sio = socketio.AsyncClient(reconnection=reconnection, logger=False, engineio_logger=False)
        self._handlers: dict[str, list[Handler]] = {}
        self._inbox: dict[str, deque[dict[str, Any]]] = {e.value: deque(maxlen=inbox_size) for e in PUSHED}
        self._arrived = asyncio.Event()
        self.connect_error: Any = None
        for event in PUSHED:
            self.sio.on(event.value, self._receiver(event.value))
        self.sio.on("connect_error", self._on_connect_error)
        self._unanswered: set[asyncio.Future[Any]] = set()
        self.sio.on("disconnect", self._on_disconnect)
        # an agent's queue: the snapshot's first page with every change applied since
        self.queue = QueueView()
        self._queue_moved = asyncio.Event()
        self._queue_seen = False
        self.on(Event.QUEUE_SNAPSHOT, self._queue_update(self.queue.snapshot))
        self.on(Event.QUEUE_CHANGES, self._queue_update(self.queue.changes))

    # connection

    async def __aenter__(self) -> DcsClient:
        await self.connect()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self, *, wait_timeout: float = 10.0) -> None:
        """Connect and authenticate; a refused token raises ProtocolError with its code."""
        try:
            await self.sio.connect(
                self.url,
                auth=self._auth,
                transports=["websocket"],
                wait_timeout=wait_timeout,
            )
        except socketio.exceptions.ConnectionError as exc:
            data = self.connect_error
            if isinstance(data, dict) and "code" in data:
                raise ProtocolError(str(data["code"]), str(data.get("message", ""))) from exc
            raise DcsError(f"Cannot connect to {self.url}: {exc}") from exc

    def _auth(self) -> dict[str, str]:
        # Called on every (re)connect, so a token callable can hand out a fresh token.
        return {"token": self._token() if callable(self._token) else self._token}

    async def _on_connect_error(self, data: Any = None) -> None:
        # The server refuses with {"message": sentence, "data": {"code", "message"}}.
        self.connect_error = data.get("data", data) if isinstance(data, dict) else data

    async def close(self) -> None:
        """Disconnect, or stop reconnecting if the connection is down; safe to call more
        than once."""
        await self.sio.shutdown()
        # a failed reconnect attempt leaves Engine.IO's HTTP session open
        http = self.sio.eio.http
        if http is not None and not http.closed:
            await http.close()

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    # requests

    async def request(self, event: str, payload: Any) -> dict[str, Any]:
        """Send one event and return its ack; an error ack raises ProtocolError."""
        ack = await self._call(event, payload)
        if not isinstance(ack, dict):
            raise DcsError(f"The server answered {event} with {ack!r}.")
        if not ack.get("ok"):
            err = ack.get("error") or {}
            raise ProtocolError(str(err.get("code", "internal")), str(err.get("message", "")))
        return ack

    async def _call(self, event: str, payload: Any) -> Any:
        """``sio.call``, except that a connection lost before the ack came fails the request
        at once (DcsError) instead of after request_timeout: the server will not answer
        it, and the caller may send it again (same client_id) once reconnected."""
        answered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_ack(*args: Any) -> None:
            if not answered.done():
                answered.set_result(args[0] if len(args) == 1 else (list(args) or None))

        self._unanswered.add(answered)
        try:
            await self.sio.emit(event, payload, callback=on_ack)
            return await asyncio.wait_for(answered, self.request_timeout)
        except TimeoutError:
            raise socketio.exceptions.TimeoutError() from None
        finally:
            self._unanswered.discard(answered)

    async def _on_disconnect(self, *_reason: Any) -> None:
        # python-socketio handles each packet it receives in a task of its own, and forgets
        # the ack callbacks as soon as this handler returns: let the packets that arrived
        # before the connection dropped (acks the server sent before closing) be handled.
        for _ in range(3):
            await asyncio.sleep(0)
        for answered in list(self._unanswered):
            if not answered.done():
                answered.set_exception(DcsError("The connection was lost before the server answered."))

    async def start_session(
        self, session_id: str | None = None, *, page: PageInfo | None = None, after_seq: int = 0
    ) -> Started:
        payload: dict[str, Any] = {"after_seq": after_seq, "page": (page or PageInfo()).model_dump()}
        if session_id:
            payload["session_id"] = session_id
        ack = await self.request(Event.SESSION_START, payload)
        return Started(session=ack["session"], messages=ack["messages"], more=bool(ack.get("more")))

    async def send(self, session_id: str, text: str, *, client_id: str | None = None) -> int:
        """Send a chat message; returns its sequence number (the same on a retried client_id)."""
        cid = client_id or f"c_{uuid.uuid4().hex}"
        ack = await self.request(Event.CHAT_SEND, {"session_id": session_id, "client_id": cid, "text": text})
        return int(ack["seq"])

    async def typing(self, session_id: str, typing: bool = True) -> None:
        await self.request(Event.CHAT_TYPING, {"session_id": session_id, "typing": typing})

    async def escalate(self, session_id: str, reason: str = "customer_request") -> dict[str, Any]:
        ack = await self.request(Event.SESSION_ESCALATE, {"session_id": session_id, "reason": reason})
        return dict(ack["session"])

    async def leave_message(
        self, session_id: str, text: str, *, client_id: str | None = None
    ) -> dict[str, Any]:
        """No one is available: leave a message for follow-up in this session. Returns the
        ack ({"seq", "message", "session"}); a retried client_id is stored once."""
        cid = client_id or f"c_{uuid.uuid4().hex}"
        payload = {"session_id": session_id, "client_id": cid, "text": text}
        return await self.request(Event.SESSION_LEAVE_MESSAGE, payload)

    async def history(self, session_id: str, after_seq: int = 0) -> list[dict[str, Any]]:
        """Every message after ``after_seq``, in order, fetched page by page."""
        messages: list[dict[str, Any]] = []
        while True:
            ack = await self.request(Event.HISTORY_FETCH, {"session_id": session_id, "after_seq": after_seq})
            page = list(ack["messages"])
            messages.extend(page)
            if not ack.get("more") or not page:
                return messages
            after_seq = int(page[-1]["seq"])

    async def page_view(self, session_id: str, page: PageInfo) -> None:
        await self.request(Event.PAGE_VIEW, {"session_id": session_id, "page": page.model_dump()})

    async def close_session(self, session_id: str) -> dict[str, Any]:
        ack = await self.request(Event.SESSION_CLOSE, {"session_id": session_id})
        return dict(ack["session"])

    async def rate(self, session_id: str, score: int, comment: str = "") -> None:
        await self.request(Event.CSAT_SUBMIT, {"session_id": session_id, "score": score, "comment": comment})

    # agent requests

    async def set_presence(self, status: Presence) -> dict[str, Any]:
        ack = await self.request(Event.AGENT_PRESENCE, {"status": status.value})
        return dict(ack["agent"])

    async def accept(self, session_id: str) -> dict[str, Any]:
        ack = await self.request(Event.SESSION_ACCEPT, {"session_id": session_id})
        return dict(ack["handoff"])

    async def end(self, session_id: str) -> dict[str, Any]:
        ack = await self.request(Event.SESSION_END, {"session_id": session_id})
        return dict(ack["session"])

    async def wrap_up(self, session_id: str, notes: str = "", disposition: str = "") -> None:
        """Close a session in wrap-up; ``disposition``: one of the server's configured codes."""
        payload = {"session_id": session_id, "notes": notes}
        if disposition:
            payload["disposition"] = disposition
        await self.request(Event.SESSION_WRAP_UP, payload)

    async def transfer(
        self, session_id: str, queue: str | None = None, note: str = "", *, agent_id: str | None = None
    ) -> dict[str, Any]:
        """To a queue, or (``agent_id``) warm to a named agent: the ack's ``transfer`` then
        says it waits for their answer (``transfer.state`` pushes follow)."""
        target = {"queue": queue} if agent_id is None else {"agent_id": agent_id}
        return await self.request(Event.SESSION_TRANSFER, {"session_id": session_id, **target, "note": note})

    async def signout(self) -> dict[str, Any]:
        """Leave: held live sessions go back to the front of their queue, wrap-ups close.
        Returns the ack ({"handed_on": [ids], "closed": [ids]}); disconnect afterwards."""
        return await self.request(Event.AGENT_SIGNOUT, {})

    # pushed events

    def on(self, event: str, handler: Handler) -> Callable[[], None]:
        """Call ``handler`` for every ``event``; returns a function that removes it."""
        if event not in self._inbox:
            log.warning("%r is not an event the server pushes; the handler will never run", event)
        self._handlers.setdefault(event, []).append(handler)
        return lambda: self._handlers.get(event, []).remove(handler)

    def _receiver(self, event: str) -> Callable[[Any], Awaitable[None]]:
        async def receive(data: Any = None) -> None:
            payload = data if isinstance(data, dict) else {"value": data}
            self._inbox[event].append(payload)
            self._arrived.set()
            for handler in list(self._handlers.get(event, [])):
                try:
                    result = handler(payload)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("a %s handler failed", event)

        return receive

    async def wait_for(
        self,
        event: str,
        predicate: Predicate | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """The first unconsumed ``event`` (already arrived or still to come) matching ``predicate``."""
        inbox = self._inbox[event]

        async def scan() -> dict[str, Any]:
            while True:
                for item in list(inbox):
                    if predicate is None or predicate(item):
                        inbox.remove(item)
                        return item
                self._arrived.clear()
                await self._arrived.wait()

        return await asyncio.wait_for(scan(), timeout)

    def _queue_update(self, apply: Callable[[dict[str, Any]], None]) -> Handler:
        def handle(data: dict[str, Any]) -> None:
            apply(data)
            self._queue_seen = True
            self._queue_moved.set()

        return handle

    async def wait_queue(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """The agent's queue page (queue.snapshot + queue.changes) once ``predicate`` holds
        for it (at once if it holds now; without one: once the first snapshot came)."""

        async def until() -> list[dict[str, Any]]:
            while True:
                if self._queue_seen and (predicate is None or predicate(self.queue.sessions)):
                    return list(self.queue.sessions)
                self._queue_moved.clear()
                await self._queue_moved.wait()

        return await asyncio.wait_for(until(), timeout)

    def drain(self, event: str) -> list[dict[str, Any]]:
        """Everything of ``event`` that arrived and was not consumed yet."""
        inbox = self._inbox[event]
        items = list(inbox)
        inbox.clear()
        return items
