"""Opening hours: parsed strictly with clear errors, evaluated in the configured time zone,
and a timer that tells waiting customers when a queue opens or closes."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dcs_sdk import ConfigError, Presence, Role
from dcs_sdk.tokens import Claims
from signaling_server import Config, create_app
from signaling_server.availability import Availability, OpeningHours, Schedule
from signaling_server.config import load_config
from signaling_server.routing import Router, Waiting

BERLIN = ZoneInfo("Europe/Berlin")


def at(year: int, month: int, day: int, hour: int, minute: int, tz: ZoneInfo = BERLIN) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=tz).timestamp()


def hours(spec: dict[str, str], timezone: str = "Europe/Berlin") -> OpeningHours:
    return OpeningHours.from_config(spec, timezone)


def test_weekday_hours_in_the_configured_zone() -> None:
    h = hours({"general": "Mon-Fri 09:00-12:30, 13:30-17:00; Sat 10:00-14:00"})
    # 2025-03-05 is a Wednesday
    assert h.is_open("general", at(2025, 3, 5, 9, 0))
    assert not h.is_open("general", at(2025, 3, 5, 8, 59))
    assert not h.is_open("general", at(2025, 3, 5, 12, 45))  # lunch
    assert not h.is_open("general", at(2025, 3, 5, 17, 0))
    assert h.is_open("general", at(2025, 3, 8, 13, 59)) and not h.is_open("general", at(2025, 3, 9, 12, 0))
    # 07:30 UTC is 08:30 in Berlin (closed), 08:30 UTC is 09:30 (open): the zone is honoured
    assert not h.is_open("general", at(2025, 3, 5, 7, 30, tz=ZoneInfo("UTC")))
    assert h.is_open("general", at(2025, 3, 5, 8, 30, tz=ZoneInfo("UTC")))
    assert h.next_opening("general", at(2025, 3, 5, 12, 45)) == at(2025, 3, 5, 13, 30)
    assert h.next_opening("general", at(2025, 3, 8, 15, 0)) == at(2025, 3, 10, 9, 0)  # Sat -> Mon
    assert h.describe(at(2025, 3, 10, 9, 0), at(2025, 3, 8, 15, 0)) == "on Monday at 09:00 (Europe/Berlin)"
    assert h.describe(at(2025, 3, 6, 9, 0), at(2025, 3, 5, 18, 0)) == "tomorrow at 09:00 (Europe/Berlin)"
    assert h.describe(at(2025, 3, 5, 13, 30), at(2025, 3, 5, 12, 0)) == "at 13:30 (Europe/Berlin)"
    # queues without hours (and without "*") are always open
    assert h.is_open("billing", at(2025, 3, 9, 3, 0)) and h.next_opening("billing", 0) is None


def test_ranges_past_midnight_lists_and_defaults() -> None:
    h = hours({"night": "Fri-Mon 22:00-06:00", "*": "Mon,Wed 08:00-10:00", "vip": "24/7", "off": "closed"})
    assert h.is_open("night", at(2025, 3, 10, 5, 59))  # Monday morning, from Sunday night
    assert not h.is_open("night", at(2025, 3, 11, 6, 0))  # Tuesday 06:00
    assert h.is_open("night", at(2025, 3, 10, 23, 0)) and not h.is_open("night", at(2025, 3, 12, 23, 0))
    assert h.is_open("other", at(2025, 3, 12, 9, 0)) and not h.is_open("other", at(2025, 3, 13, 9, 0))
    assert h.is_open("vip", at(2025, 3, 9, 3, 0)) and h.next_opening("vip", time.time()) is None
    assert not h.is_open("off", time.time()) and h.next_opening("off", time.time()) is None
    assert Schedule.parse("daily 00:00-24:00").changes() == []  # always open: nothing changes
    assert Schedule.parse("Sun 22:00-24:00; Mon 00:00-02:00").changes() == [120, 9960]


def test_daylight_saving_time() -> None:
    h = hours({"general": "daily 09:00-17:00"})
    # Berlin moves to summer time on 2025-03-30: 09:00 is then 07:00 UTC, not 08:00
    assert h.next_opening("general", at(2025, 3, 29, 18, 0)) == at(2025, 3, 30, 9, 0)
    assert at(2025, 3, 30, 9, 0) == datetime(2025, 3, 30, 7, 0, tzinfo=ZoneInfo("UTC")).timestamp()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Mon-Fry 09:00-17:00", "opening_hours['general']: 'Fry' is not a day (use Mon, Tue,"),
        ("Mon-Fri 9-17", "'9' is not a time of day (write it as HH:MM"),
        ("Mon-Fri 09:00", "'09:00' is not a time range (e.g. 09:00-17:00)"),
        ("Mon 25:00-26:00", "'25:00' is not a time of day (00:00 to 24:00)"),
        ("Mon 09:61-10:00", "'09:61' is not a time of day"),
        ("Mon-Fri", "'Mon-Fri' needs days and times"),
        ("Mon 10:00-10:00", "'10:00-10:00' opens and closes at the same time"),
        ("   ", "empty; write e.g. 'Mon-Fri 09:00-17:00'"),
        ("Mon,,Tue 09:00-10:00", "an empty day in 'Mon,,Tue'"),
        (";", "no opening times in ';'"),
    ],
)
def test_bad_hours_are_config_errors_that_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        hours({"general": spec})
    assert message in str(raised.value)


def test_bad_keys_values_and_zones() -> None:
    with pytest.raises(ConfigError, match=r"opening_hours\['Sales Team'\]: not a queue name"):
        hours({"Sales Team": "24/7"})
    with pytest.raises(ConfigError, match=r"opening_hours\['general'\]: must be a string"):
        OpeningHours.from_config({"general": 9}, "UTC")
    for zone in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(ConfigError, match="opening_hours_timezone: .* is not a time zone"):
            hours({}, zone)


def test_config_file_environment_and_server_start(tmp_path: Path) -> None:
    path = tmp_path / "dcs.toml"
    path.write_text(
        '[dcs]\nopening_hours_timezone = "Europe/Berlin"\n'
        '[dcs.opening_hours]\ngeneral = "Mon-Fri 09:00-17:00"\n"*" = "24/7"\n'
    )
    config = load_config(str(path))
    assert config.opening_hours == {"general": "Mon-Fri 09:00-17:00", "*": "24/7"}
    from_env = load_config(env={"DCS_OPENING_HOURS": '{"billing": "Sat 10:00-14:00"}'})
    assert from_env.opening_hours == {"billing": "Sat 10:00-14:00"}
    # the server refuses to start on bad hours, with the reason
    bad = Config(data_dir=str(tmp_path), opening_hours={"general": "Mon-Fri 09:00-17:60"})
    with pytest.raises(ConfigError, match=r"opening_hours\['general'\]: '17:60' is not a time of day"):
        create_app(bad)
    with pytest.raises(ConfigError, match="'Mars/Olympus' is not a time zone"):
        create_app(Config(data_dir=str(tmp_path), opening_hours_timezone="Mars/Olympus"))


def waiting(session_id: str, queue: str = "general") -> Waiting:
    return Waiting(session_id, queue, time.time(), "", "", "", "", "v1", "")


def agent(router: Router, sub: str = "alice", skills: tuple[str, ...] = ("*",)) -> None:
    claims = Claims(sub=sub, role=Role.AGENT, name=sub, expires_at=time.time() + 60, skills=skills)
    router.agent_connected(claims, f"sid-{sub}")


async def test_the_timer_wakes_waiting_customers_when_the_queue_opens() -> None:
    router = Router()
    agent(router)
    router.enqueue(waiting("s_waiting_0001"))
    h = hours({"general": "daily 09:00-17:00"}, "UTC")
    # a clock that reads 0.3 s before 09:00 UTC now, and runs on in real time
    opening = datetime(2025, 3, 5, 9, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    offset = opening - 0.3 - time.time()
    availability = Availability(router, h, clock=lambda: time.time() + offset)
    before = availability.waiting_state(waiting("s_waiting_0001"))
    assert (
        before["availability"]["reason"] == "closed" and before["availability"]["opens_at"] == opening * 1000
    )
    pushed: list[dict[str, object]] = []

    async def on_change() -> None:
        pushed.append(availability.waiting_state(waiting("s_waiting_0001")))

    availability.start(on_change)
    try:
        await asyncio.sleep(0.1)
        assert pushed == []  # nothing before the opening
        for _ in range(50):
            if pushed:
                break
            await asyncio.sleep(0.05)
        assert pushed and pushed[0]["availability"] == {
            "available": True,
            "reason": None,
            "opens_at": None,
            "message": "",
        }
    finally:
        await availability.shutdown()


def test_no_timer_without_opening_hours() -> None:
    availability = Availability(Router())

    async def never() -> None:
        raise AssertionError("no hours, nothing to tell")

    async def run() -> None:
        availability.start(never)
        assert availability._timer is None

    asyncio.run(run())


def test_estimates_weigh_each_measured_wait_by_the_agents_then() -> None:
    router = Router()
    agent(router, "alice")
    agent(router, "bob")
    agent(router, "carol", skills=("billing",))
    router.enqueue(waiting("s_waiting_0001"))
    router.enqueue(waiting("s_waiting_0002"))
    assert router.estimated_wait_s("s_waiting_0001") is None  # nothing measured in the queue
    router.record_wait("general", 10.0)  # with alice and bob available: 20 agent-seconds
    assert router.estimated_wait_s("s_waiting_0001") == 10  # 1 x 20 / 2
    assert router.estimated_wait_s("s_waiting_0002") == 20  # 2 x 20 / 2
    router.set_presence("bob", Presence.AWAY)
    assert router.estimated_wait_s("s_waiting_0001") == 20  # half the agents: twice the wait
    router.set_presence("alice", Presence.AWAY)
    assert router.estimated_wait_s("s_waiting_0001") is None  # nobody: no estimate
    router.enqueue(waiting("s_waiting_0003", "billing"))
    assert router.estimated_wait_s("s_waiting_0003") is None  # billing measured nothing
