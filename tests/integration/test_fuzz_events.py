"""Property: random and malformed events never crash the server or corrupt a session.

One server takes every example, so damage would accumulate: after each example the
server must still answer, every ack must be ok or carry a code and a sentence (never
``internal``), and the session's messages must stay gapless and in order.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dcs_sdk import DcsClient, ErrorCode, Event, ProtocolError
from dcs_sdk.protocol import INBOUND
from tests.conftest import Connect

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
event_names = st.one_of(st.sampled_from([e.value for e in INBOUND]), st.text(min_size=1, max_size=30))


def near_valid(session_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Payloads close to real ones, with fields swapped, dropped or of the wrong type."""
    fields = {
        "session_id": st.one_of(st.just(session_id), st.text(max_size=70), json_value),
        "client_id": st.one_of(st.uuids().map(lambda u: f"c_{u.hex}"), st.text(max_size=70)),
        "text": st.one_of(st.text(min_size=1, max_size=200), st.text(max_size=5000), json_value),
        "typing": st.one_of(st.booleans(), json_value),
        "score": st.one_of(st.integers(-5, 10), json_value),
        "after_seq": st.one_of(st.integers(-5, 10_000), json_value),
        "page": st.one_of(
            st.fixed_dictionaries({"url": st.text(max_size=50), "title": st.text(max_size=20)}), json_value
        ),
        "status": st.one_of(st.sampled_from(["available", "away", "offline"]), json_value),
        "queue": st.one_of(st.sampled_from(["general", "billing"]), st.text(max_size=50)),
    }
    return st.fixed_dictionaries({}, optional=fields)


async def check_healthy(client: DcsClient, session_id: str) -> None:
    history = await client.history(session_id)
    assert [m["seq"] for m in history] == list(range(1, len(history) + 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_random_events_never_crash_or_corrupt(connect: Connect, data: st.DataObject) -> None:
    customer = await connect("customer", "fuzz-customer")
    session_id = (await customer.start_session()).session_id
    for _ in range(data.draw(st.integers(1, 6))):
        event = data.draw(event_names)
        payload = data.draw(st.one_of(near_valid(session_id), json_value))
        try:
            ack = await customer.request(event, payload)
            assert ack["ok"] is True
        except ProtocolError as exc:
            assert exc.code != ErrorCode.INTERNAL, f"{event} {payload!r} -> {exc}"
            assert exc.message
    assert customer.connected
    await check_healthy(customer, session_id)
    other = await connect("customer", "bystander")
    await other.send((await other.start_session()).session_id, "still works")


async def test_non_object_and_multi_argument_events(connect: Connect) -> None:
    customer = await connect("customer", "v1")
    session_id = (await customer.start_session()).session_id
    for payload in (None, 1, "x", [1, 2], True):
        ack = await customer.sio.call(Event.CHAT_SEND, payload, timeout=5)
        assert ack["ok"] is False and ack["error"]["code"] == ErrorCode.BAD_PAYLOAD
    ack = await customer.sio.call(Event.CHAT_SEND, ({"a": 1}, {"b": 2}), timeout=5)
    assert ack["ok"] is False and ack["error"]["code"] == ErrorCode.BAD_PAYLOAD
    await check_healthy(customer, session_id)
