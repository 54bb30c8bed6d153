"""Honest waiting: is anyone there to serve a queue now, and if not, why and until when.

A queue is available while it is open (its opening hours, if configured, say so) and at
least one connected agent who serves it is ``available``. Waiting customers get this in
every ``session.state`` (``availability``), at once on escalation and again whenever it
changes: an agent connects, leaves or changes presence, or the opening hours begin or end
(a timer wakes at each boundary). The wait estimate is only given while the queue is
available and real waits have been measured (routing.py); waits that ran while the queue
was unavailable, and left messages, are not measurements of the queue.

Opening hours (``opening_hours``, in ``opening_hours_timezone``), one string per queue,
``"*"`` for every queue not named; a queue with none is always open:

    "Mon-Fri 09:00-17:00"               weekdays
    "Mon-Fri 09:00-12:30, 13:30-17:00"   several ranges a day
    "Mon-Fri 09:00-17:00; Sat 10:00-14:00"
    "Mon,Wed,Fri 08:00-12:00"            day lists
    "Fri-Mon 22:00-06:00"                a range past midnight runs into the next day
    "daily 08:00-20:00", "24/7", "closed"
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dcs_sdk.exceptions import ConfigError
from dcs_sdk.protocol import SessionState

from .routing import Router, Waiting

log = logging.getLogger(__name__)

DAY = 24 * 60  # minutes
WEEK = 7 * DAY
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_QUEUE_KEY = re.compile(r"^(\*|[a-z0-9_-]{1,40})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# the timer re-checks at least this often, so a clock that jumps is caught up with
MAX_SLEEP_S = 3600.0

CLOSED = "closed"  # outside the queue's opening hours
NO_AGENTS = "no_agents"  # open, but no agent who serves the queue is available


def _day(word: str, where: str) -> int:
    key = word.strip().lower()
    for i, name in enumerate(DAY_NAMES):
        if key in (DAYS[i], name.lower()):
            return i
    raise ConfigError(f"{where}: {word.strip()!r} is not a day (use Mon, Tue, Wed, Thu, Fri, Sat, Sun).")


def _days(text: str, where: str) -> list[int]:
    if text.lower() in ("daily", "everyday"):
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        if not part.strip():
            raise ConfigError(f"{where}: an empty day in {text!r}.")
        first, _, last = part.partition("-")
        start = _day(first, where)
        end = _day(last, where) if last else start
        span = (end - start) % 7
        days.extend((start + k) % 7 for k in range(span + 1))
    return days


def _minute(text: str, where: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise ConfigError(f"{where}: {text.strip()!r} is not a time of day (write it as HH:MM, e.g. 09:00).")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ConfigError(f"{where}: {text.strip()!r} is not a time of day (00:00 to 24:00).")
    return hours * 60 + minutes


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


@dataclass(frozen=True)
class Schedule:
    """When one queue is open: merged spans of the week, in minutes from Monday 00:00."""

    spans: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, spec: str, where: str = "opening hours") -> Schedule:
        text = " ".join(spec.split())
        if not text:
            raise ConfigError(f"{where}: empty; write e.g. 'Mon-Fri 09:00-17:00', '24/7' or 'closed'.")
        if text.lower() in ("24/7", "always"):
            return cls(((0, WEEK),))
        if text.lower() in ("closed", "never"):
            return cls(())
        spans: list[tuple[int, int]] = []
        for rule in text.split(";"):
            rule = rule.strip()
            if not rule:
                continue
            days_text, _, times_text = rule.partition(" ")
            if not times_text.strip():
                raise ConfigError(f"{where}: {rule!r} needs days and times, e.g. 'Mon-Fri 09:00-17:00'.")
            days = _days(days_text, where)
            for span in times_text.split(","):
                opens, dash, closes = span.partition("-")
                if not dash:
                    raise ConfigError(f"{where}: {span.strip()!r} is not a time range (e.g. 09:00-17:00).")
                start, end = _minute(opens, where), _minute(closes, where)
                if start == end:
                    raise ConfigError(f"{where}: {span.strip()!r} opens and closes at the same time.")
                if end < start:  # past midnight: into the next day
                    end += DAY
                for day in days:
                    a, b = day * DAY + start, day * DAY + end
                    if b <= WEEK:
                        spans.append((a, b))
                    else:  # Sunday night into Monday morning
                        spans.extend([(a, WEEK), (0, b - WEEK)])
        if not spans:
            raise ConfigError(f"{where}: no opening times in {spec!r}.")
        return cls(_merge(spans))

    def is_open(self, minute: float) -> bool:
        return any(start <= minute < end for start, end in self.spans)

    def _wraps(self) -> bool:
        return bool(self.spans) and self.spans[0][0] == 0 and self.spans[-1][1] == WEEK

    def openings(self) -> list[int]:
        """Minutes of the week at which the queue opens (after being closed)."""
        wraps = self._wraps()
        return [s for s, _ in self.spans if not (s == 0 and wraps) and s != WEEK]

    def changes(self) -> list[int]:
        """Minutes of the week at which the queue opens or closes."""
        wraps = self._wraps()
        closings = [e for _, e in self.spans if not (e == WEEK and wraps)]
        return sorted({*self.openings(), *(e % WEEK for e in closings)})


class OpeningHours:
    """Opening hours per queue, in one time zone."""

    def __init__(self, schedules: Mapping[str, Schedule] | None = None, timezone: str = "UTC") -> None:
        self.schedules = dict(schedules or {})
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)

    @classmethod
    def from_config(cls, spec: Mapping[str, Any], timezone: str) -> OpeningHours:
        """From ``opening_hours`` and ``opening_hours_timezone``; ConfigError saying what is wrong."""
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"opening_hours_timezone: {timezone!r} is not a time zone (use an IANA name such as "
                "'Europe/Berlin' or 'UTC')."
            ) from exc
        schedules: dict[str, Schedule] = {}
        for queue, text in spec.items():
            where = f"opening_hours[{queue!r}]"
            if not isinstance(queue, str) or not _QUEUE_KEY.match(queue):
                raise ConfigError(f"{where}: not a queue name (lowercase letters, digits, - and _; or '*').")
            if not isinstance(text, str):
                raise ConfigError(f"{where}: must be a string such as 'Mon-Fri 09:00-17:00', not {text!r}.")
            schedules[queue] = Schedule.parse(text, where)
        return cls(schedules, timezone)

    def schedule_for(self, queue: str) -> Schedule | None:
        return self.schedules.get(queue, self.schedules.get("*"))

    def _local(self, now: float) -> tuple[datetime, float]:
        local = datetime.fromtimestamp(now, self.tz)
        minute = local.weekday() * DAY + local.hour * 60 + local.minute + local.second / 60
        return local, minute

    def _at(self, monday: date, minute: int) -> float:
        day = monday + timedelta(days=minute // DAY)
        hour, rest = divmod(minute % DAY, 60)
        return datetime(day.year, day.month, day.day, hour, rest, tzinfo=self.tz).timestamp()

    def _next(self, now: float, minutes: list[int]) -> float | None:
        if not minutes:
            return None
        local, _ = self._local(now)
        monday = local.date() - timedelta(days=local.weekday())
        for week in (0, 1, 2):
            for minute in minutes:
                at = self._at(monday + timedelta(weeks=week), minute)
                if at > now:
                    return at
        return None

    def is_open(self, queue: str, now: float) -> bool:
        schedule = self.schedule_for(queue)
        return schedule is None or schedule.is_open(self._local(now)[1])

    def next_opening(self, queue: str, now: float) -> float | None:
        schedule = self.schedule_for(queue)
        return self._next(now, schedule.openings()) if schedule else None

    def next_change(self, now: float) -> float | None:
        """The next moment any queue opens or closes."""
        times = [self._next(now, s.changes()) for s in self.schedules.values()]
        return min((t for t in times if t is not None), default=None)

    def describe(self, at: float, now: float) -> str:
        """'at 09:00', 'tomorrow at 09:00' or 'on Monday at 09:00' (with the time zone)."""
        when, today = datetime.fromtimestamp(at, self.tz), datetime.fromtimestamp(now, self.tz).date()
        clock = f"{when:%H:%M} ({self.timezone})"
        if when.date() == today:
            return f"at {clock}"
        if when.date() == today + timedelta(days=1):
            return f"tomorrow at {clock}"
        if when.date() < today + timedelta(days=7):
            return f"on {DAY_NAMES[when.weekday()]} at {clock}"
        return f"on {when:%Y-%m-%d} at {clock}"


@dataclass(frozen=True)
class Status:
    """Whether a queue can be served now; the wire's ``availability``."""

    available: bool
    reason: str | None = None  # CLOSED or NO_AGENTS
    opens_at: float | None = None  # when closed: the next opening (epoch seconds)
    message: str = ""

    def to_wire(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "reason": self.reason,
            "opens_at": int(self.opens_at * 1000) if self.opens_at is not None else None,
            "message": self.message,
        }


LEAVE_A_MESSAGE = "Leave a message and we'll reply in this chat."


class Availability:
    def __init__(
        self,
        router: Router,
        hours: OpeningHours | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.router = router
        self.hours = hours or OpeningHours()
        self.clock = clock
        # queue -> the last moment it was seen unavailable: waits that include it are no
        # measurement of the queue
        self._unavailable_at: dict[str, float] = {}
        self._timer: asyncio.Task[None] | None = None

    # questions

    def status(self, queue: str) -> Status:
        now = self.clock()
        if not self.hours.is_open(queue, now):
            opens = self.hours.next_opening(queue, now)
            when = f"; we open again {self.hours.describe(opens, now)}" if opens is not None else ""
            status = Status(False, CLOSED, opens, f"We're closed right now{when}.")
        elif self.router.serving(queue) == 0:
            status = Status(False, NO_AGENTS, None, "No one is available right now.")
        else:
            return Status(True)
        self._unavailable_at[queue] = now
        return status

    def estimated_wait_s(self, session_id: str, queue: str) -> int | None:
        """The router's estimate, only while the queue can be served."""
        if not self.status(queue).available:
            return None
        return self.router.estimated_wait_s(session_id)

    def queued_line(self, queue: str) -> tuple[str, dict[str, Any]]:
        """What the customer is told on joining the queue: the English, and the line's code
        and arguments (sessions.system_line) for the widget's language."""
        status = self.status(queue)
        if status.available:
            text = "You're in the queue. An agent will join this chat shortly."
            return text, {"code": "queued", "args": {}}
        opens = int(status.opens_at * 1000) if status.opens_at is not None else None
        args = {"reason": status.reason, "opens_at": opens}
        return f"{status.message} {LEAVE_A_MESSAGE}", {"code": "queued_unavailable", "args": args}

    def counts_as_wait(self, queue: str, queued_at: float | None, left_message_at: float | None) -> bool:
        """Whether an accepted session's wait measures the queue: not a left message, and
        the queue was not seen unavailable while it waited."""
        if queued_at is None or left_message_at is not None:
            return False
        return self._unavailable_at.get(queue, -math.inf) < queued_at

    def waiting_state(
        self, item: Waiting, *, position: int | None = None, status: Status | None = None
    ) -> dict[str, Any]:
        """The ``session.state`` of a waiting session, from the router alone (``position``
        and ``status`` when the caller knows them already, as for a whole queue)."""
        status = status or self.status(item.queue)
        position = position or self.router.position(item.session_id)
        estimate = self.router.estimate(item.queue, position) if status.available and position else None
        return {
            "session_id": item.session_id,
            "state": SessionState.QUEUED.value,
            "queue": item.queue,
            "position": position,
            "estimated_wait_s": estimate,
            "availability": status.to_wire(),
            "left_message_at": int(item.left_message_at * 1000) if item.left_message_at else None,
            "agent": None,
            "csat": None,
        }

    # the opening-hours timer

    def start(self, on_change: Callable[[], Awaitable[None]]) -> None:
        """Call ``on_change`` whenever a queue opens or closes (no timer without hours)."""
        if self.hours.schedules and self._timer is None:
            self._timer = asyncio.get_running_loop().create_task(self._run(on_change))

    async def _run(self, on_change: Callable[[], Awaitable[None]]) -> None:
        while True:
            now = self.clock()
            change = self.hours.next_change(now)
            delay = MAX_SLEEP_S if change is None else min(MAX_SLEEP_S, max(0.0, change - now) + 0.05)
            await asyncio.sleep(delay)
            try:
                await on_change()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telling waiting customers about opening hours failed")

    async def shutdown(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
