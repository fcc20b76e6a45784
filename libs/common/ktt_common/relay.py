"""The outbox relay: publishes a service's unpublished outbox rows (written by :mod:`ktt_common.outbox`)
with the ``Nats-Msg-Id`` header and retries until NATS takes them.

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
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import nats.errors as nats_errors
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError
from sqlalchemy import bindparam, case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from ktt_common.bus import PUBLISH_ACK_TIMEOUT_SECONDS
from ktt_common.db import is_sqlite, statement_for
from ktt_common.lease import Lease
from ktt_common.logging import get_logger
from ktt_common.metrics import EVENTS_PUBLISHED, OUTBOX_ERRORS, OUTBOX_PARKED
from ktt_common.pace import Pace

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
        self._stopped = asyncio.Event()  # set by stop(): ends a linger at once
        # Issue 15: after a wake-up that follows the previous one closely, linger before claiming.
        self._pace = Pace(rt.settings.outbox_linger_seconds)
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
        self._stopped.set()
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
                continue  # the fallback poll: claim at once
            await self._linger()
        self._lease_fresh_until = 0.0
        try:
            await self._flush_marks()
        except Exception:
            pass  # published rows left unmarked are sent again and dropped by JetStream as duplicates
        try:
            await self.lease.release()  # a replica may take over at once
        except Exception:
            pass

    async def _linger(self) -> None:
        """When commits keep coming (this wake-up follows the previous one closely), wait a little so that
        the next claim takes the rows of the commits made meanwhile too; a wake-up after a pause claims at
        once. Their order, the lease and failures are the claim's business, unchanged; stop() ends it."""
        linger = self._pace.arrived()
        if linger and not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=linger)

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
