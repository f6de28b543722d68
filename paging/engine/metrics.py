"""Prometheus metrics of the paging engine (exposed at ``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

notifications = Counter(
    "watchbill_notifications_total",
    "Messages handed to a channel, by channel and outcome (sent, temporary, permanent).",
    ["channel", "outcome"],
)
handoff_delay = Histogram(
    "watchbill_handoff_delay_seconds",
    "From a notification's send_at to the moment its channel is called.",
    buckets=LATENCY_BUCKETS,
)
escalation_lateness = Histogram(
    "watchbill_escalation_lateness_seconds",
    "From an escalation step's due time to the moment the engine takes it.",
    buckets=LATENCY_BUCKETS,
)
escalation_steps = Counter(
    "watchbill_escalation_steps_total", "Escalation steps taken by the engine.", ["kind"]
)
takeovers = Counter(
    "watchbill_claim_takeovers_total",
    "Claims whose lease lapsed and that another pass took over, by what the re-check found.",
    ["found"],
)
engine_passes = Counter(
    "watchbill_engine_passes_total",
    "Passes of the engine over what is due (woken by a commit, a timer or the sweep).",
)
