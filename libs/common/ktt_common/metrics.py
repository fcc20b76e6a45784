"""Prometheus metrics shared by every service (labelled by service, registered once per process).

Counters count what happened in this process; the gauges below them are what an operator alerts
on (issue 17 item 6) and are read fresh from the database and JetStream on every scrape
(:func:`refresh_gauges`), so they hold across restarts and replicas: the outbox backlog and the
age of its oldest row, parked outbox rows and dead letters, each consumer's lag (num_pending of its
durable JetStream consumer) and each job's last successful run. The ``*_created`` series that
prometheus_client adds to every counter and histogram are switched off: they duplicate nothing an
alert needs and double the series count."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics
from sqlalchemy import func, select

from ktt_common.logging import get_logger

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime

disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated

log = get_logger(__name__)

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

# -- what an operator alerts on, refreshed per scrape -------------------------------------------
OUTBOX_BACKLOG = Gauge("ktt_outbox_backlog", "Outbox rows not yet published (parked rows excluded)", ["service"])
OUTBOX_OLDEST_AGE = Gauge("ktt_outbox_oldest_age_seconds",
                          "Age of the oldest unpublished outbox row (0 when the backlog is empty)", ["service"])
OUTBOX_PARKED_ROWS = Gauge("ktt_outbox_parked_rows", "Outbox rows parked and waiting for an operator", ["service"])
DEAD_LETTERS_WAITING = Gauge("ktt_dead_letters_waiting", "Dead letters not yet replayed", ["service", "consumer"])
CONSUMER_LAG = Gauge("ktt_consumer_lag_messages",
                     "Messages in the stream not yet delivered to the durable consumer (JetStream num_pending)",
                     ["service", "consumer"])
CONSUMER_ACK_PENDING = Gauge("ktt_consumer_ack_pending_messages",
                             "Messages delivered to the durable consumer and not yet acknowledged", ["service", "consumer"])
JOB_LAST_SUCCESS = Gauge("ktt_job_last_success_timestamp_seconds",
                         "Unix time the job last finished without error (absent until it has)", ["service", "job"])


async def refresh_gauges(rt: Runtime) -> None:
    """Set the gauges from the service's database and JetStream. A part that cannot be read (NATS
    down) leaves its gauges as they were: readiness and ktt_nats_connected say that."""
    service = rt.settings.service
    infra = rt.infra
    now = dt.datetime.now(dt.UTC)
    async with rt.sessionmaker() as s:
        outbox = infra.outbox
        pending = (outbox.c.published_at.is_(None)) & (outbox.c.parked_at.is_(None))
        backlog, oldest = (await s.execute(select(func.count(), func.min(outbox.c.created_at)).where(pending))).one()
        parked = (await s.execute(select(func.count()).where(outbox.c.parked_at.is_not(None)))).scalar_one()
        letters: dict[str, int] = dict((await s.execute(
            select(infra.dead_letter.c.consumer, func.count())
            .where(infra.dead_letter.c.replayed_at.is_(None)).group_by(infra.dead_letter.c.consumer))).all())
        job_run = infra.job_run
        last_ok = (await s.execute(
            select(job_run.c.job, func.max(job_run.c.finished_at))
            .where(job_run.c.finished_at.is_not(None), job_run.c.error.is_(None)).group_by(job_run.c.job))).all()
    OUTBOX_BACKLOG.labels(service).set(backlog)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    OUTBOX_OLDEST_AGE.labels(service).set(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    OUTBOX_PARKED_ROWS.labels(service).set(parked)
    for consumer in rt.consumers:
        DEAD_LETTERS_WAITING.labels(service, consumer.name).set(letters.get(consumer.name, 0))
    succeeded = set()
    for job, finished in last_ok:
        if finished.tzinfo is None:
            finished = finished.replace(tzinfo=dt.UTC)
        JOB_LAST_SUCCESS.labels(service, job).set(finished.timestamp())
        succeeded.add(job)
    for job in set(rt.jobs.jobs) - succeeded:  # never succeeded here: no series, rather than a stale one
        try:
            JOB_LAST_SUCCESS.remove(service, job)
        except KeyError:
            pass
    js = rt.bus.js
    if js is None or not rt.bus.connected:
        return
    from ktt_common.events import stream_name

    for consumer in rt.consumers:
        try:
            info = await js.consumer_info(stream_name(consumer.sub.producer), consumer.name, timeout=2)
        except Exception as exc:  # not bound yet, or NATS went away mid-scrape
            log.debug("metrics_consumer_info_failed", consumer=consumer.name, error=type(exc).__name__)
            continue
        CONSUMER_LAG.labels(service, consumer.name).set(info.num_pending or 0)
        CONSUMER_ACK_PENDING.labels(service, consumer.name).set(info.num_ack_pending or 0)
