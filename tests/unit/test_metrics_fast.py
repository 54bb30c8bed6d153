"""The hot path's plain-integer histogram exports what prometheus-client's own Histogram
would for the same observations (bucket edges included: a value equal to a bound counts in
that bound's bucket)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from signaling_server.metrics.fast import FastCollector, FastHistogram

BUCKETS = (0.001, 0.01, 0.1, 1.0)
VALUES = (0.0, 0.0005, 0.001, 0.0010001, 0.05, 0.1, 0.7, 1.0, 3.0, 250.0)


def test_fast_histogram_exposes_what_the_library_histogram_does() -> None:
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    reference = Histogram("x_seconds", "doc", buckets=BUCKETS, registry=theirs)
    fast = FastHistogram("x_seconds", "doc", BUCKETS)
    ours.register(FastCollector(fast))
    for value in VALUES:
        reference.observe(value)
        fast.observe(value)
    lines = [line for line in generate_latest(theirs).decode().splitlines() if "_created" not in line]
    assert generate_latest(ours).decode().splitlines() == lines
