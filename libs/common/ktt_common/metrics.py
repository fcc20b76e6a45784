"""Prometheus metrics shared by every service (labelled by service, registered once per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("ktt_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "ktt_http_request_duration_seconds", "HTTP request duration", ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter("ktt_events_published_total", "Events published by the outbox relay", ["service", "type", "duplicate"])
OUTBOX_ERRORS = Counter("ktt_outbox_publish_errors_total", "Failed outbox publish attempts", ["service"])
OUTBOX_PARKED = Counter("ktt_outbox_parked_total", "Outbox rows parked after OUTBOX_MAX_ATTEMPTS failures", ["service"])
EVENTS_HANDLED = Counter("ktt_events_handled_total", "Events handled by consumers", ["service", "consumer", "outcome"])
DEAD_LETTERS = Counter("ktt_dead_letters_total", "Messages parked after repeated failure", ["service", "consumer"])
NATS_CONNECTED = Gauge("ktt_nats_connected", "1 when the service is connected to NATS", ["service"])
JOB_RUNS = Counter("ktt_job_runs_total", "Daily job runs", ["service", "job", "outcome"])
