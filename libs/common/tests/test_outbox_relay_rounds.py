"""Issue 15/8: the relay's rounds. A wake-up drains the outbox; each round's rows are marked published by
the statement that claims the next round (on PostgreSQL one autocommit statement), and JetStream stores
them in the outbox's order."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import ktt_probe as probe
from sqlalchemy import event, func, select

from ktt_common.outbox import emit
from ktt_common.pace import Pace
from ktt_common.relay import OutboxRelay
from ktt_common.testing import eventually


async def _emit(rt: Any, count: int) -> list[str]:
    async with rt.sessionmaker() as session, session.begin():
        return [(await emit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note=str(i)))).id
                for i in range(count)]


async def _quiet_relay(rt: Any) -> OutboxRelay:
    """Stop the service's own relay (and wait for its lease to go) and return a fresh one to drive by hand."""
    rt.relay.stop()
    lease = rt.infra.lease

    async def released() -> bool:
        async with rt.sessionmaker() as session:
            return int((await session.execute(select(func.count()).select_from(lease)
                                              .where(lease.c.name == "outbox-relay"))).scalar_one()) == 0

    await eventually(released, what="the service's relay gone with its lease")
    return OutboxRelay(rt)


def _outbox_statements(rt: Any, connections: list[Any] | None = None) -> list[str]:
    """The outbox's statements from now on; with ``connections``, also the connection (checkout) each ran
    on (appended to it; kept, so that no two checkouts share an id)."""
    seen: list[str] = []

    @event.listens_for(rt.engine.sync_engine, "before_cursor_execute")
    def _seen(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "outbox" in statement:
            seen.append(statement)
            if connections is not None:
                connections.append(conn)

    return seen


async def test_a_wake_up_drains_the_outbox_in_rounds_marked_by_the_next_claim(start_probe, probe_switch, db_backend):
    async with start_probe(outbox_batch=3) as svc:
        rt = svc.rt
        relay = await _quiet_relay(rt)
        ids = await _emit(rt, 7)
        connections: list[Any] = []
        statements = _outbox_statements(rt, connections)
        assert await relay.publish_pending() == 7
        ran, claimed_on = list(statements), list(connections)
        ob = rt.infra.outbox
        async with rt.sessionmaker() as session:
            rows = (await session.execute(select(ob.c.seq, ob.c.event_id, ob.c.published_at, ob.c.stream_seq, ob.c.attempts)
                                          .order_by(ob.c.seq))).all()
        assert [str(r.event_id) for r in rows] == ids
        assert all(r.published_at is not None and r.attempts == 1 for r in rows)  # marked when publish_pending returns
        stream_seqs = [r.stream_seq for r in rows]
        assert stream_seqs == sorted(stream_seqs) and len(set(stream_seqs)) == 7  # JetStream holds them in outbox order
        if db_backend == "postgresql":
            # Rounds of 3, 3, 1: the first claim, then three statements that each mark a round and claim
            # the next (the last finds nothing): 4 statements, no separate UPDATE and no empty round.
            assert len(ran) == 4, ran
            assert sum(s.lstrip().upper().startswith("WITH MARKED AS (UPDATE") for s in ran) == 3
            # Issue 15: all on the one connection the wake-up checked out, not a checkout a round.
            assert len({id(c) for c in claimed_on}) == 1, claimed_on
        else:
            # SQLite: a read per round and a short write transaction per mark.
            assert len(ran) == 4 + 3, ran
        await eventually(lambda: _count_effects(rt), what="the probe consumer handled all seven")
        statements.clear()
        assert await relay.publish_pending() == 0
        assert len(statements) == 1  # nothing pending: one claim, nothing to mark


async def _count_effects(rt: Any) -> bool:
    async with rt.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(probe.effects))).scalar_one()) == 7


async def test_rows_published_before_the_lease_was_lost_are_still_marked(start_probe, probe_switch):
    """A relay that loses its lease between rounds marks what it has published and stops publishing."""
    async with start_probe() as svc:
        rt = svc.rt
        relay = await _quiet_relay(rt)
        await _emit(rt, 2)
        real_hold = relay._hold_lease
        calls = 0

        async def lease_lost_after_first_round() -> bool:
            nonlocal calls
            calls += 1
            return calls == 1 and await real_hold()

        relay._hold_lease = lease_lost_after_first_round  # type: ignore[method-assign]
        assert await relay.publish_pending() == 2
        ob = rt.infra.outbox
        async with rt.sessionmaker() as session:
            assert (await session.execute(select(func.count()).select_from(ob).where(ob.c.published_at.is_(None)))).scalar_one() == 0
        await _emit(rt, 1)
        assert await relay.publish_pending() == 0  # no lease: nothing more published


async def test_commits_that_keep_coming_are_claimed_in_one_round(start_probe, probe_switch):
    """Issue 15: a wake-up that follows the previous one closely lingers, so the commits made meanwhile are
    claimed and published in one round (in their order) instead of a round each."""
    async with start_probe(outbox_linger_seconds=1.0, outbox_poll_seconds=60.0) as svc:
        rt = svc.rt
        relay = await _quiet_relay(rt)
        rounds: list[list[str]] = []
        real_publish = relay._publish

        async def publish(rows: Any) -> Any:
            rounds.append([str(r.event_id) for r in rows])
            return await real_publish(rows)

        relay._publish = publish  # type: ignore[method-assign]
        wake_ups = _counted_wake_ups(relay)
        task = asyncio.create_task(relay.run())
        try:
            await eventually(lambda: wake_ups == [0], what="the relay's first look, at nothing")
            first = await _emit(rt, 1)
            relay.wake()
            # The wake-up that published it is over (a commit during it would be claimed by its next round).
            await eventually(lambda: wake_ups[-1:] == [1], what="the first commit published")
            later = []
            for _ in range(3):
                later += await _emit(rt, 1)
                relay.wake()
            await eventually(lambda: sum(map(len, rounds)) == 4, what="all four published")
            assert rounds == [first, later]
            await eventually(lambda: _none_pending(relay), what="all four marked published")
        finally:
            relay.stop()
            await asyncio.wait_for(task, 10)


async def test_a_wake_up_after_a_pause_claims_at_once_and_stop_ends_a_linger(start_probe, probe_switch):
    async with start_probe(outbox_poll_seconds=60.0) as svc:
        rt = svc.rt
        relay = await _quiet_relay(rt)
        relay._pace = Pace(600.0)  # a linger that no test outlives
        lingers: list[float] = []
        real_arrived = relay._pace.arrived
        relay._pace.arrived = lambda: lingers.append(real_arrived()) or lingers[-1]  # type: ignore[method-assign]
        wake_ups = _counted_wake_ups(relay)
        task = asyncio.create_task(relay.run())
        try:
            await eventually(lambda: wake_ups == [0], what="the relay's first look, at nothing")
            await _emit(rt, 1)
            relay.wake()  # the first wake-up after a pause: no linger
            await eventually(lambda: _none_pending(relay), what="the lone commit published at once")
            await _emit(rt, 1)
            relay.wake()  # close after the previous one: lingers (600 s)
            await eventually(lambda: lingers == [0.0, 600.0], what="the second wake-up lingering")
            assert await relay.pending_count() == 1  # not claimed while it lingers
        finally:
            relay.stop()
            await asyncio.wait_for(task, 10)  # stop ends the linger
        assert await relay.pending_count() == 1  # left for the next relay


async def _none_pending(relay: OutboxRelay) -> bool:
    return await relay.pending_count() == 0


def _counted_wake_ups(relay: OutboxRelay) -> list[int]:
    """What each of the relay's calls of publish_pending (a wake-up or a poll) published, once it returned."""
    wake_ups: list[int] = []
    real_pending = relay.publish_pending

    async def publish_pending() -> int:
        wake_ups.append(await real_pending())
        return wake_ups[-1]

    relay.publish_pending = publish_pending  # type: ignore[method-assign]
    return wake_ups
