"""Every metric the server exports, declared once with fixed label names and buckets.

One registry per app (not prometheus-client's global one), so several servers in one
process (the tests) each count their own. docs/deployment.md ("Metrics") lists them all;
tests/unit/test_metrics_docs.py keeps that table and this file in step.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from dcs_sdk.protocol import ErrorCode, Event

from .fast import FastCollector, FastCounter, FastHistogram

# No *_created series beside every counter and histogram: they double the series for a
# start time Prometheus does not need (it handles counter resets itself).
disable_created_metrics()  # type: ignore[no-untyped-call]

# Labels take values from closed sets only: anything else becomes "other", so a client
# cannot grow the number of series.
ESCALATION_REASONS = frozenset({"customer_request", "unmatched", "frustration", "left_message"})
EVENT_NAMES = frozenset(e.value for e in Event)
ERROR_CODES = frozenset(c.value for c in ErrorCode)
CALL_OUTCOMES = ("connected", "declined", "cancelled", "failed")
COBROWSE_PATHS = ("peer", "turn", "relay")
SESSION_OUTCOMES = ("contained", "abandoned", "handled")
CSAT_SCORES = ("1", "2", "3", "4", "5")
STORE_WRITES = ("messages", "transition", "create_session", "update_session")

# Buckets (seconds) sized to what each measures: people waiting, people typing, machines.
WAIT_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
RESPONSE_BUCKETS = (1, 5, 10, 20, 30, 60, 120, 300, 600)
HANDLE_BUCKETS = (30, 60, 120, 300, 600, 900, 1800, 3600, 7200)
FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CALL_BUCKETS = (0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60)
GC_BUCKETS = (*FAST_BUCKETS, 5.0)  # a thaw can take seconds
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 900, 3600)


class Metrics:
    """The counters and histograms; gauges are computed at scrape time (collector.py)."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes...
        PlatformCollector(registry=r)  # python_info
        self.queue_wait = Histogram(
            "dcs_queue_wait_seconds",
            "Time from queued to accepted by an agent.",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.first_response = Histogram(
            "dcs_first_response_seconds",
            "Time from accepted to the agent's first reply (once per session).",
            buckets=RESPONSE_BUCKETS,
            registry=r,
        )
        self.handle_time = Histogram(
            "dcs_handle_seconds",
            "Time from accepted to ended, wrap-up included.",
            buckets=HANDLE_BUCKETS,
            registry=r,
        )
        # The hot path's: plain integers, exported at scrape time (fast.py).
        self.relay_latency = FastHistogram(
            "dcs_message_relay_seconds",
            "A chat.send from its arrival to the message stored and relayed to the session.",
            FAST_BUCKETS,
        )
        self.store_write = FastHistogram(
            "dcs_store_write_seconds",
            "One store write: a message batch, a transition, a session created or updated.",
            FAST_BUCKETS,
            label="kind",
        )
        self.events = FastCounter(
            "dcs_events", "Inbound socket.io events, by name.", "event", (*sorted(EVENT_NAMES), "other")
        )
        # Observed by dcs-server's collector tuning (gc_tuning.py), from the collector's callback.
        self.gc_pause = FastHistogram(
            "dcs_gc_pause_seconds",
            "A garbage collection, which pauses the event loop: by generation, and thaw (the"
            " periodic full collection over the frozen objects).",
            GC_BUCKETS,
            label="generation",
        )
        r.register(FastCollector(self.relay_latency, self.store_write, self.events, self.gc_pause))
        self.escalations = Counter(
            "dcs_escalations",
            "Sessions the assistant handed to the queue, by reason.",
            ["reason"],
            registry=r,
        )
        self.ended = Counter(
            "dcs_sessions_ended",
            "Sessions ended: contained (by the assistant, never queued), abandoned (left "
            "while queued), handled (by an agent).",
            ["outcome"],
            registry=r,
        )
        self.transfers = Counter(
            "dcs_transfers", "Live sessions sent back to a queue (transfers, hand-ons).", registry=r
        )
        self.csat = Counter("dcs_csat", "CSAT ratings, by score.", ["score"], registry=r)
        self.errors = Counter(
            "dcs_event_errors",
            "Inbound events answered with an error, by name and code.",
            ["event", "code"],
            registry=r,
        )
        self.calls = Counter("dcs_calls", "Calls by how their set-up ended.", ["outcome"], registry=r)
        self.call_setup = Histogram(
            "dcs_call_setup_seconds",
            "A call from invite to both sides connected.",
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.cobrowse = Counter(
            "dcs_cobrowse_sessions",
            "Co-browse shares that ended, by the path they took.",
            ["path"],
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "dcs_webhook_deliveries",
            "Webhook delivery attempts, by endpoint and result (delivered, failed, gave_up).",
            ["endpoint", "result"],
            registry=r,
        )
        self.webhook_lag = Histogram(
            "dcs_webhook_delivery_lag_seconds",
            "From the change that made a webhook event to its delivery (2xx) to an endpoint.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        # Every labelled series exists from the start (at 0), so a rate() has a baseline and
        # a scrape shows what may appear.
        for reason in (*ESCALATION_REASONS, "other"):
            self.escalations.labels(reason)
        for outcome in SESSION_OUTCOMES:
            self.ended.labels(outcome)
        for score in CSAT_SCORES:
            self.csat.labels(score)
        for outcome in CALL_OUTCOMES:
            self.calls.labels(outcome)
        for path in COBROWSE_PATHS:
            self.cobrowse.labels(path)
        self.store_timers = {kind: self.store_write.child(kind) for kind in STORE_WRITES}

    def time_store_write(self, kind: str, seconds: float) -> None:
        timer = self.store_timers.get(kind)
        if timer is not None:
            timer.observe(seconds)

    def escalated(self, reason: str) -> None:
        label = "left_message" if reason == "left a message" else reason
        self.escalations.labels(label if label in ESCALATION_REASONS else "other").inc()

    def event_error(self, event: str, code: str) -> None:
        self.errors.labels(
            event if event in EVENT_NAMES else "other", code if code in ERROR_CODES else "other"
        ).inc()
