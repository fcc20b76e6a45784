"""Transactional outbox: an event row is written in the same transaction as the state change;
the relay publishes it with the ``Nats-Msg-Id`` header and retries until NATS takes it.

Around the publishing loop: first the relay takes the service's ``outbox-relay`` lease (one
replica publishes at a time, so order holds); after it, the bookkeeping counts a failed row's
attempts and parks it at ``OUTBOX_MAX_ATTEMPTS`` (shown by ``GET /v1/admin/outbox``) so that one
row that NATS can never take (e.g. too large) does not block the rest. Connection-level failures
(NATS down, timeouts) are retried without counting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import nats.errors as nats_errors
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError
from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import bindparam, case, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ktt_common import bulk
from ktt_common.bus import PUBLISH_ACK_TIMEOUT_SECONDS
from ktt_common.db import is_sqlite, statement_for
from ktt_common.events import Envelope, EventType
from ktt_common.identifiers import contains_hetu
from ktt_common.lease import Lease
from ktt_common.logging import get_logger
from ktt_common.metrics import EVENTS_PUBLISHED, OUTBOX_ERRORS, OUTBOX_PARKED
from ktt_common.request_context import correlation_id_var

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime

log = get_logger(__name__)

# How long the relay waits for JetStream to acknowledge a pipelined batch after its last send: as
# long as a single publish does.
ACK_TIMEOUT_SECONDS = PUBLISH_ACK_TIMEOUT_SECONDS

# Failures that say nothing about the row itself: retried for ever, never counted towards parking.
TRANSIENT_PUBLISH_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError, TimeoutError, nats_errors.TimeoutError, nats_errors.ConnectionClosedError,
    nats_errors.ConnectionReconnectingError, nats_errors.ConnectionDrainingError, nats_errors.NoRespondersError,
    nats_errors.OutboundBufferLimitError, nats_errors.StaleConnectionError, nats_errors.FlushTimeoutError,
    NoStreamResponseError,
    # 503 from JetStream: in a cluster, the stream has no leader for a moment (an election after a
    # node was lost, issue 16). Says nothing about the row.
    ServiceUnavailableError,
)


def runtime_of(session: AsyncSession) -> Runtime:
    runtime: Runtime = session.info["runtime"]
    return runtime


def _outbox_row(rt: Runtime, event_type: EventType[Any], payload: BaseModel | dict[str, Any], subject: str | None,
                correlation_id: str | None) -> tuple[Envelope, dict[str, Any]]:
    if event_type.service != rt.settings.service:
        raise ValueError(f"{rt.settings.service} may not publish {event_type.type}")
    envelope = event_type.envelope(
        payload, subject=subject, correlation_id=correlation_id or correlation_id_var.get(), time=rt.clock.now()
    )
    return envelope, _row(event_type, envelope.id, envelope.model_dump_json())


def _row(event_type: EventType[Any], event_id: str, raw: str) -> dict[str, Any]:
    if contains_hetu(raw):
        # DATA-4: events carry the pseudonymous client id, never a personal identity code.
        raise ValueError(f"DATA-4: refusing to publish {event_type.type}: it contains a personal identity code")
    return {"event_id": uuid.UUID(event_id), "subject": event_type.subject, "event_type": event_type.type,
                "envelope": raw, "created_at": dt.datetime.now(dt.UTC), "attempts": 0}


_EMPTY_DATA_TAIL = '"data":{}}'


def _fast_row(rt: Runtime, event_type: EventType[Any], payload: BaseModel | dict[str, Any], subject: str | None,
              correlation_id: str | None, time: dt.datetime) -> dict[str, Any]:
    """The outbox row of :func:`_outbox_row` (the same envelope JSON, byte for byte), built once:
    the payload is validated by its contract and serialised straight to JSON, then put into the
    envelope's JSON, instead of being dumped to Python, copied into an Envelope and dumped again."""
    if event_type.service != rt.settings.service:
        raise ValueError(f"{rt.settings.service} may not publish {event_type.type}")
    model = payload if isinstance(payload, event_type.payload) else event_type.payload.model_validate(payload)
    head = Envelope.model_construct(
        specversion="1.0", id=str(uuid.uuid4()), source=f"/ktt/{event_type.service}", type=event_type.type, subject=subject,
        time=time, datacontenttype="application/json", correlationid=correlation_id,
        dataschema=event_type.dataschema, data={},
    )
    head_json = head.model_dump_json()
    assert head_json.endswith(_EMPTY_DATA_TAIL)
    raw = head_json[:-len(_EMPTY_DATA_TAIL)] + '"data":' + model.model_dump_json() + "}"
    return _row(event_type, head.id, raw)


def _wake_relay_after_commit(session: AsyncSession, rt: Runtime) -> None:
    from sqlalchemy import event as sa_event

    if not sa_event.contains(session.sync_session, "after_commit", rt.relay.wake):
        sa_event.listen(session.sync_session, "after_commit", rt.relay.wake, once=True)


async def emit(
    session: AsyncSession,
    event_type: EventType[Any],
    payload: BaseModel | dict[str, Any],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
    revision_of: str | None = None,
) -> Envelope:
    """Write an event to the outbox inside the caller's transaction. It is published after commit.

    ``revision_of`` (e.g. ``"unit:<id>"``) numbers the event in that entity's revisions, into the
    payload's ``revision`` field (see :mod:`ktt_common.revisions`)."""
    rt = runtime_of(session)
    if revision_of is not None:
        payload = await _with_revision(session, event_type, payload, revision_of)
    envelope, row = _outbox_row(rt, event_type, payload, subject, correlation_id)
    outbox = rt.infra.outbox
    # Built once, executed with the row (SQLAlchemy caches its compiled form by the row's keys).
    await session.execute(statement_for(outbox, "insert", lambda: insert(outbox)), row)
    _wake_relay_after_commit(session, rt)
    return envelope


OUTBOX_AT_COMMIT = "ktt_outbox_at_commit"


def emit_at_commit(
    session: AsyncSession,
    event_type: EventType[Any],
    payload: BaseModel | dict[str, Any],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """:func:`emit`, the row written when the transaction commits, in the statement that appends its
    audit rows (:func:`ktt_common.audit.append_rows`: one round trip on PostgreSQL). The row is built and
    checked now (the same envelope, DATA-4 included); returns the event id.

    Only for a change that no savepoint can roll back on its own: like audit rows, the queued row is
    dropped only with the whole transaction."""
    rt = runtime_of(session)
    row = _fast_row(rt, event_type, payload, subject, correlation_id or correlation_id_var.get(), rt.clock.now())
    session.info.setdefault(OUTBOX_AT_COMMIT, (rt.infra.outbox, []))[1].append(row)
    _wake_relay_after_commit(session, rt)
    return str(row["event_id"])


async def _with_revision(session: AsyncSession, event_type: EventType[Any], payload: BaseModel | dict[str, Any],
                         entity: str) -> BaseModel | dict[str, Any]:
    from ktt_common.revisions import next_revision

    if "revision" not in event_type.payload.model_fields:
        raise ValueError(f"{event_type.type} has no revision field")
    revision = await next_revision(session, entity)
    return payload.model_copy(update={"revision": revision}) if isinstance(payload, BaseModel) else {**payload, "revision": revision}


async def emit_many(
    session: AsyncSession,
    events: Iterable[tuple[EventType[Any], BaseModel | dict[str, Any], str | None]],
    *,
    correlation_id: str | None = None,
    correlation_ids: Sequence[str | None] | None = None,
) -> list[str]:
    """Write many events (type, payload, subject) to the outbox in one statement, in the caller's
    transaction and in the given order; the same checks and the same envelopes as :func:`emit`.
    ``correlation_ids``: one per event (a batch of consumed events each carries its own), else
    ``correlation_id`` for all. Returns the events' ids."""
    rt = runtime_of(session)
    correlation_id = correlation_id or correlation_id_var.get()
    events = list(events)
    if correlation_ids is not None and len(correlation_ids) != len(events):
        raise ValueError("one correlation id per event")
    each = [c or correlation_id for c in correlation_ids] if correlation_ids is not None else [correlation_id] * len(events)
    rows = _batch_rows(rt.settings.service, events, each, rt.clock.now())
    if rows:
        # One unnest statement on PostgreSQL; ``seq`` (the publication order) follows the list.
        await bulk.write_rows(session, rt.infra.outbox, rows, ordered=True)
        _wake_relay_after_commit(session, rt)
    return [str(row["event_id"]) for row in rows]


# Stand-ins for the values that differ between a batch's envelopes; rendered once per event type
# by the Envelope model itself, then cut out (they cannot occur in the fixed fields around them).
_ID_SLOT, _SUBJECT_SLOT, _CORRELATION_SLOT = '"@@id@@"', '"@@subject@@"', '"@@correlationid@@"'


class _Template:
    """One event type's envelope JSON for one batch (its ``time``), cut around the values that
    differ between events: ``parts[0] + id + parts[1] + subject + parts[2] + correlation id +
    parts[3] + payload + "}"``, each value as JSON. The very bytes ``Envelope.model_dump_json`` makes."""

    __slots__ = ("event_type", "parts", "subject", "type_name")

    def __init__(self, service: str, event_type: EventType[Any], time: dt.datetime) -> None:
        if event_type.service != service:
            raise ValueError(f"{service} may not publish {event_type.type}")
        head = Envelope.model_construct(
            specversion="1.0", id=_ID_SLOT[1:-1], source=f"/ktt/{event_type.service}", type=event_type.type,
            subject=_SUBJECT_SLOT[1:-1], time=time, datacontenttype="application/json",
            correlationid=_CORRELATION_SLOT[1:-1], dataschema=event_type.dataschema, data={},
        ).model_dump_json()
        first, rest = head.split(_ID_SLOT)
        second, rest = rest.split(_SUBJECT_SLOT)
        third, rest = rest.split(_CORRELATION_SLOT)
        if not rest.endswith(_EMPTY_DATA_TAIL):
            raise AssertionError(f"the envelope no longer ends with its data: {head}")
        self.parts = (first, second, third, rest[:-len(_EMPTY_DATA_TAIL)] + '"data":')
        self.event_type = event_type
        # One object for every row of the type: a column holding one value is sent once (ktt_common.bulk).
        self.subject = event_type.subject
        self.type_name = event_type.type


def _batch_rows(service: str, events: list[tuple[EventType[Any], BaseModel | dict[str, Any], str | None]],
                correlation_ids: list[str | None], time: dt.datetime) -> list[dict[str, Any]]:
    """The outbox rows of :func:`_outbox_row` for a batch of events (the same envelope JSON, byte
    for byte; fresh ids), with the per-event work cut to what differs between events: each payload
    is validated by its contract and serialised to JSON once; the envelope around it is one
    template per event type; the DATA-4 scan runs once over the whole batch's JSON."""
    if not events:
        return []
    templates: dict[EventType[Any], _Template] = {}
    as_json: dict[str | None, str] = {}  # subjects and correlation ids, most of them repeated
    raw_ids = os.urandom(16 * len(events))  # one read of the random source, as uuid.uuid4() reads it
    created_at = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    for i, ((event_type, payload, subject), correlation) in enumerate(zip(events, correlation_ids)):
        template = templates.get(event_type)
        if template is None:
            template = templates[event_type] = _Template(service, event_type, time)
        model = payload if isinstance(payload, event_type.payload) else event_type.payload.model_validate(payload)
        event_id = uuid.UUID(bytes=raw_ids[16 * i:16 * i + 16], version=4)
        subject_json = as_json.get(subject) or as_json.setdefault(subject, to_json(subject).decode())
        correlation_json = as_json.get(correlation) or as_json.setdefault(correlation, to_json(correlation).decode())
        first, second, third, fourth = template.parts
        raw = f'{first}"{event_id}"{second}{subject_json}{third}{correlation_json}{fourth}{model.model_dump_json()}}}'
        rows.append({"event_id": event_id, "subject": template.subject, "event_type": template.type_name,
                     "envelope": raw, "created_at": created_at, "attempts": 0})
    _refuse_hetu(rows)
    return rows


def _refuse_hetu(rows: list[dict[str, Any]]) -> None:
    """DATA-4: events carry the pseudonymous client id, never a personal identity code. One scan
    of the batch's envelopes joined: each is a JSON object (``{`` ... ``}``) and a match neither
    spans nor looks past a brace, so the joined text holds one exactly when one of them does;
    only then is each envelope scanned, to name the event."""
    if not contains_hetu("".join(row["envelope"] for row in rows)):
        return
    for row in rows:
        if contains_hetu(row["envelope"]):
            raise ValueError(f"DATA-4: refusing to publish {row['event_type']}: it contains a personal identity code")
    # Not reached (see above); were it, the batch is refused all the same.
    raise ValueError("DATA-4: refusing to publish the batch: it contains a personal identity code")


class OutboxRelay:
    """Publishes unpublished outbox rows in order; woken after each commit, polls as a fallback.

    A wake-up drains the outbox in rounds: claim the oldest pending rows, publish them pipelined, and
    mark them published in the statement that claims the next round (PostgreSQL: one autocommit
    statement), so one batch costs two statements, the last finding nothing more. Rows are not locked:
    the lease keeps one relay publishing; a relay that stalled past its lease sends the same rows in
    the same order as its successor, and JetStream keeps the first of each ``Nats-Msg-Id``."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._wake = asyncio.Event()
        self._stopping = False
        self._sqlite = is_sqlite(rt.settings.database_url or "")
        self.lease = Lease(rt, "outbox-relay", rt.settings.outbox_lease_seconds)
        # Until when (monotonic) the lease taken last is known to run with time to spare: the relay
        # renews it every third of its time instead of every round (issue 15: a round per commit).
        self._lease_fresh_until = 0.0
        # Rows JetStream acknowledged that are not yet marked published: (seq, stream_seq). Marked by
        # the next claim's statement; kept across a failed statement (marking again is harmless).
        self._unmarked: list[tuple[int, int]] = []
        # PostgreSQL: the claims run on autocommit connections of an engine made so once (issue 15: setting
        # the isolation level per round cloned the connection each time), one connection per wake-up.
        self._autocommit = None if self._sqlite else rt.engine.execution_options(isolation_level="AUTOCOMMIT")

    def wake(self, *_: Any) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        delay = self.rt.settings.outbox_poll_seconds
        while not self._stopping:
            try:
                await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database busy or gone: try again shortly
                log.warning("outbox_relay_error", error=str(exc) or type(exc).__name__)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
        self._lease_fresh_until = 0.0
        try:
            await self._flush_marks()
        except Exception:
            pass  # published rows left unmarked are sent again and dropped by JetStream as duplicates
        try:
            await self.lease.release()  # a replica may take over at once
        except Exception:
            pass

    async def publish_pending(self) -> int:
        """Publish until nothing is pending (or a row fails, or the lease is lost); return how many
        rows were published. Stops at the first failure so that events of one entity keep their
        order. Every row published is marked when it returns."""
        self._wake.clear()
        if not self.rt.bus.connected or not await self._hold_lease():  # NATS down, or another replica publishes
            await self._flush_marks()
            return 0
        published = 0
        async with self._claim_connection() as conn:
            while True:
                # Cleared before each claim: a commit from now on is either seen by the claim or wakes the
                # relay again (cleared after the wait, a commit already published by a later round of this
                # wake-up would bring one more, empty, round).
                self._wake.clear()
                rows = await self._mark_and_claim(conn)
                if not rows:
                    return published
                done, failure = await self._publish(rows)
                published += len(done)
                if failure is not None:
                    async with self.rt.sessionmaker() as session, session.begin():
                        await self._mark(session, done, failure)
                    return published
                self._unmarked = [(d["b_seq"], d["b_stream_seq"]) for d in done]
                if self._stopping or not await self._hold_lease():
                    await self._flush_marks()
                    return published

    @contextlib.asynccontextmanager
    async def _claim_connection(self) -> AsyncIterator[AsyncConnection | None]:
        """PostgreSQL: the autocommit connection that this wake-up's claims share, checked out once and
        returned when the wake-up ends (never held while the relay waits); SQLite: none (its claims
        read in short sessions, see :meth:`_mark_and_claim`)."""
        if self._autocommit is None:
            yield None
            return
        async with self._autocommit.connect() as conn:
            yield conn

    async def _hold_lease(self) -> bool:
        """Take or renew the relay's lease, at most every third of its time: a held lease still has
        two thirds of its time to run when the relay relies on it without asking the database."""
        now = time.monotonic()
        if now < self._lease_fresh_until:
            return True
        if await self.lease.acquire():
            self._lease_fresh_until = now + self.lease.ttl.total_seconds() / 3
            return True
        self._lease_fresh_until = 0.0
        return False

    async def _flush_marks(self) -> None:
        if self._unmarked:
            async with self.rt.sessionmaker() as session, session.begin():
                await self._mark(session, [{"b_seq": seq, "b_stream_seq": stream_seq} for seq, stream_seq in self._unmarked], None)
            self._unmarked = []

    async def _mark_and_claim(self, conn: AsyncConnection | None) -> list[Any]:
        """Mark the rows of the previous round published and claim the next round's rows (on ``conn``,
        autocommit, on PostgreSQL)."""
        if conn is None:
            # SQLite has one writer: never hold its write lock while waiting on NATS. Mark in a short
            # transaction, then read. A crash in between publishing and marking re-publishes rows
            # that JetStream then drops as duplicates (same Nats-Msg-Id), so nothing is lost or doubled.
            await self._flush_marks()
            async with self.rt.sessionmaker() as session:
                return list((await session.execute(self._pending_query())).all())
        batch = self.rt.settings.outbox_batch
        if self._unmarked:
            statement = self._claim_statements()[1]
            params: dict[str, Any] = {"now": dt.datetime.now(dt.UTC), "seqs": [seq for seq, _ in self._unmarked],
                                      "stream_seqs": [stream_seq for _, stream_seq in self._unmarked], "batch": batch}
        else:
            statement, params = self._claim_statements()[0], {"batch": batch}
        # One autocommit statement (no BEGIN/COMMIT).
        rows = list((await conn.execute(statement, params)).all())
        self._unmarked = []
        return rows

    def _claim_statements(self) -> tuple[Any, Any]:
        """(claim, mark the last round and claim), built once per outbox table. In the second, the claim
        reads the snapshot from before the CTE's UPDATE, so it leaves out the rows being marked by their seq."""
        outbox = self.rt.infra.outbox

        def build() -> tuple[Any, Any]:
            claim = text(
                f'SELECT seq, event_id, subject, event_type, envelope FROM "{outbox.name}" '
                "WHERE published_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT :batch"
            )
            mark_and_claim = text(
                f'WITH marked AS (UPDATE "{outbox.name}" AS o SET published_at = :now, stream_seq = u.stream_seq, '
                "attempts = o.attempts + 1, last_error = NULL "
                "FROM unnest(CAST(:seqs AS bigint[]), CAST(:stream_seqs AS bigint[])) AS u(seq, stream_seq) "
                "WHERE o.seq = u.seq RETURNING o.seq) "
                f'SELECT seq, event_id, subject, event_type, envelope FROM "{outbox.name}" '
                "WHERE published_at IS NULL AND parked_at IS NULL AND seq <> ALL(CAST(:seqs AS bigint[])) "
                "ORDER BY seq LIMIT :batch"
            )
            return claim, mark_and_claim

        statements: tuple[Any, Any] = statement_for(outbox, "relay_claims", build)
        return statements

    def _pending_query(self) -> Any:
        outbox = self.rt.infra.outbox
        return (
            select(outbox.c.seq, outbox.c.event_id, outbox.c.subject, outbox.c.event_type, outbox.c.envelope)
            .where(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None))
            .order_by(outbox.c.seq)
            .limit(self.rt.settings.outbox_batch)
        )

    async def _publish(self, rows: Any) -> tuple[list[dict[str, Any]], tuple[int, str, bool] | None]:
        """Publish ``rows`` in order, pipelined: every message is sent on the one connection (so
        JetStream stores them in this order) before the acknowledgements are awaited together.
        What counts as published is the acknowledged prefix: from the first failure on, nothing
        is marked (a later row that NATS took anyway is sent again next round and dropped by
        JetStream as a duplicate of its Nats-Msg-Id), and sending stops at a failure to send."""
        done: list[dict[str, Any]] = []
        sent: list[tuple[Any, Any]] = []
        failure: tuple[int, str, bool] | None = None
        for row in rows:
            try:
                pending = await self.rt.bus.publish_pipelined(row.subject, row.envelope.encode(), str(row.event_id))
            except Exception as exc:
                failure = self._failed(row, exc)
                break
            sent.append((row, pending))
        if sent:
            await asyncio.wait([pending for _, pending in sent], timeout=ACK_TIMEOUT_SECONDS)
        for row, pending in sent:
            if not pending.done():
                pending.cancel()
                failure = self._failed(row, TimeoutError(f"no acknowledgement within {ACK_TIMEOUT_SECONDS:g} s"))
                break
            error = pending.exception()
            if error is not None:
                failure = self._failed(row, error)
                if isinstance(error, NoStreamResponseError):
                    try:
                        await self.rt.bus.ensure_streams()  # the stream was deleted: recreate it for the next round
                    except Exception as again:
                        log.warning("outbox_stream_recreate_failed", error=str(again) or type(again).__name__)
                break
            ack = pending.result()
            EVENTS_PUBLISHED.labels(self.rt.settings.service, row.event_type, str(bool(ack.duplicate)).lower()).inc()
            if ack.duplicate:
                log.info("outbox_duplicate_acknowledged", event_id=str(row.event_id), stream_seq=ack.seq)
            done.append({"b_seq": row.seq, "b_stream_seq": ack.seq})
        for _, pending in sent[len(done) + 1:]:
            # After a failure the rest no longer matter (see above): drop them without waiting.
            if not pending.done():
                pending.cancel()
            elif not pending.cancelled():
                pending.exception()
        return done, failure

    def _failed(self, row: Any, exc: BaseException) -> tuple[int, str, bool]:
        """(seq, error, transient): a transient failure says nothing about the row itself and never
        counts towards parking it."""
        OUTBOX_ERRORS.labels(self.rt.settings.service).inc()
        error = (str(exc) or type(exc).__name__)[:1000]
        log.warning("outbox_publish_failed", event_id=str(row.event_id), error=error)
        return row.seq, error, isinstance(exc, TRANSIENT_PUBLISH_ERRORS)

    async def _mark(self, session: AsyncSession, done: list[dict[str, Any]], failure: tuple[int, str, bool] | None) -> None:
        outbox = self.rt.infra.outbox
        now = dt.datetime.now(dt.UTC)
        if done and not self._sqlite:
            # One statement for the whole batch (an executemany is a round trip per row).
            await session.execute(text(
                f'UPDATE "{outbox.name}" AS o SET published_at = :now, stream_seq = u.stream_seq, '
                "attempts = o.attempts + 1, last_error = NULL "
                "FROM unnest(CAST(:seqs AS bigint[]), CAST(:stream_seqs AS bigint[])) AS u(seq, stream_seq) WHERE o.seq = u.seq"),
                {"now": now, "seqs": [d["b_seq"] for d in done], "stream_seqs": [d["b_stream_seq"] for d in done]})
        elif done:
            await session.execute(
                update(outbox)
                .where(outbox.c.seq == bindparam("b_seq"))
                .values(published_at=now, stream_seq=bindparam("b_stream_seq"),
                        attempts=outbox.c.attempts + 1, last_error=None),
                done,
            )
        if failure is not None:
            await self._count_failure(session, *failure)

    async def _count_failure(self, session: AsyncSession, seq: int, error: str, transient: bool) -> None:
        """Record the error; count the attempt unless the failure was the connection's, and park
        the row at OUTBOX_MAX_ATTEMPTS so that the relay goes on with the next one."""
        outbox = self.rt.infra.outbox
        if transient:
            await session.execute(update(outbox).where(outbox.c.seq == seq).values(last_error=error))
            return
        cap = self.rt.settings.outbox_max_attempts
        await session.execute(
            update(outbox).where(outbox.c.seq == seq).values(
                attempts=outbox.c.attempts + 1, last_error=error,
                parked_at=case((outbox.c.attempts + 1 >= cap, dt.datetime.now(dt.UTC)), else_=None),
            )
        )
        if (await session.execute(select(outbox.c.parked_at).where(outbox.c.seq == seq))).scalar() is not None:
            OUTBOX_PARKED.labels(self.rt.settings.service).inc()
            log.error("outbox_row_parked", seq=seq, attempts=cap, error=error)

    async def pending_count(self) -> int:
        outbox = self.rt.infra.outbox
        async with self.rt.sessionmaker() as session:
            return int((await session.execute(
                select(func.count()).where(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None))
            )).scalar_one())
