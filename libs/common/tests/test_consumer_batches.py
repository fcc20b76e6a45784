"""Issue 15: a consumer handles a fetched batch in one transaction (one inbox statement, the batch
handler once, one commit, then every message acked), through a real nats-server and database.
A message that fails does not lose or hold up the good ones of its batch: the batch falls back to one
transaction per message, which retries and parks as always; a redelivered batch changes nothing.

The probe service runs without its background tasks here, so that the test fetches from the real
durable consumer itself and knows exactly which messages form the batch."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select

from ktt_common.events import Envelope
from ktt_common.pace import Pace
from ktt_common.testing import RunningService, eventually

import ktt_probe as probe


def _envelope(item: uuid.UUID | None = None, note: str = "") -> Envelope:
    return probe.ProbeHappened.envelope(probe.ProbePayload(item=item or uuid.uuid4(), note=note), subject=None,
                                        correlation_id=str(uuid.uuid4()), time=dt.datetime.now(dt.UTC))


async def _publish(rt: Any, envs: list[Envelope], *, anew: bool = False) -> None:
    """Into the stream; ``anew``: under new message ids, as a redelivery after the duplicate window."""
    for env in envs:
        await rt.bus.publish(probe.ProbeHappened.subject, env.model_dump_json().encode(),
                             msg_id=str(uuid.uuid4()) if anew else env.id)


async def _fetch(psub: Any, n: int) -> list[Any]:
    msgs: list[Any] = []
    while len(msgs) < n:
        msgs += await psub.fetch(batch=n - len(msgs), timeout=5)
    return msgs


async def _count(rt: Any, table: Any, *where: Any) -> int:
    async with rt.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


class Statements:
    """Commits and statements on the service's engine while counting."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine.sync_engine
        self.commits = 0
        self.sql: list[str] = []

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sql.append(" ".join(statement.split()))

    def inserts_into(self, table: str) -> int:
        return sum(1 for s in self.sql if s.upper().startswith(f'INSERT INTO {table.upper()} ')
                   or s.upper().startswith(f'INSERT INTO "{table.upper()}" '))

    def __enter__(self) -> Statements:
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "before_cursor_execute", self._statement)


@pytest.fixture
def manual_probe(start_probe: Callable[..., Any]) -> Callable[..., Any]:
    """The probe service with its bus connected but no consumer running: (service, runner, pull subscription)."""

    @asynccontextmanager
    async def _start(**overrides: Any) -> AsyncIterator[tuple[RunningService, Any, Any]]:
        async with start_probe(run_background=False, **overrides) as svc:
            svc.rt.bus.start()
            assert await svc.rt.bus.wait_ready(15)
            runner = svc.rt.consumer("probe")
            psub = await runner._bind()
            try:
                yield svc, runner, psub
            finally:
                await psub.unsubscribe()

    return _start


async def _all_acked(rt: Any, runner: Any) -> bool:
    info = await rt.bus.js.consumer_info("KTT_PROBE", runner.name)
    last = (await rt.bus.stream_info("probe")).state.last_seq
    return bool(info.ack_floor.stream_seq == last and info.num_ack_pending == 0)


async def test_a_fetched_batch_is_handled_in_one_transaction(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        rt = svc.rt
        envs = [_envelope() for _ in range(12)]
        await _publish(rt, envs)
        msgs = await _fetch(psub, len(envs))
        with Statements(rt.engine) as seen:
            await runner.handle_fetched(msgs)
        assert seen.commits == 1
        assert seen.inserts_into("inbox") == 1  # the inbox keys of all twelve in one statement
        assert probe_switch.batches == 1 and probe_switch.calls == 12
        assert await _count(rt, probe.effects) == 12
        assert await _count(rt, rt.infra.inbox) == 12
        await eventually(lambda: _all_acked(rt, runner), what="every message acked")


async def test_a_lone_message_goes_the_one_message_way(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        await _publish(svc.rt, [_envelope()])
        await runner.handle_fetched(await _fetch(psub, 1))
        assert (probe_switch.batches, probe_switch.calls) == (0, 1)
        await eventually(lambda: _all_acked(svc.rt, runner), what="every message acked")


async def test_a_failing_message_does_not_hold_up_the_good_ones_and_is_parked_as_always(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        rt = svc.rt
        bad = uuid.uuid4()
        probe_switch.failing_items = {bad}
        envs = [_envelope(), _envelope(), _envelope(bad, "bad"), _envelope(), _envelope()]
        await _publish(rt, envs)
        with Statements(rt.engine) as seen:
            await runner.handle_fetched(await _fetch(psub, len(envs)))
        # The batch's transaction failed and was rolled back; each message then had its own.
        assert probe_switch.batches == 1
        assert seen.commits == 4
        good = [e.id for e in envs if e.id != envs[2].id]
        assert await _count(rt, probe.effects, probe.effects.c.event_id.in_(good)) == 4
        assert await _count(rt, probe.effects, probe.effects.c.event_id == envs[2].id) == 0
        # The bad one comes back after its backoff, alone now, and is parked at the delivery cap.
        dl = rt.infra.dead_letter
        while await _count(rt, dl) == 0:
            await runner.handle_fetched(await _fetch(psub, 1))
        async with rt.sessionmaker() as session:
            letter = (await session.execute(select(dl))).one()
        assert letter.event_id == envs[2].id and letter.deliveries == rt.settings.consumer_max_deliver
        assert await _count(rt, probe.effects) == 4
        await eventually(lambda: _all_acked(rt, runner), what="every message acked")


@pytest.mark.off_contract_events("a body that is not JSON")
async def test_a_poison_message_is_parked_at_once_beside_the_batch(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        rt = svc.rt
        envs = [_envelope() for _ in range(3)]
        await _publish(rt, envs[:2])
        await rt.bus.publish(probe.ProbeHappened.subject, b"{not json", msg_id=str(uuid.uuid4()))
        await _publish(rt, envs[2:])
        with Statements(rt.engine) as seen:
            await runner.handle_fetched(await _fetch(psub, 4))
        assert seen.commits == 2  # the batch of three, the parking of the poison
        assert probe_switch.batches == 1 and await _count(rt, probe.effects) == 3
        async with rt.sessionmaker() as session:
            letter = (await session.execute(select(rt.infra.dead_letter))).one()
        assert letter.deliveries == 1 and "not a valid event envelope" in letter.error
        await eventually(lambda: _all_acked(rt, runner), what="every message acked")


async def test_a_redelivered_batch_changes_nothing(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        rt = svc.rt
        envs = [_envelope() for _ in range(6)]
        await _publish(rt, envs)
        await runner.handle_fetched(await _fetch(psub, 6))
        assert probe_switch.calls == 6
        # The same events again, half of them twice within the one fetch.
        await _publish(rt, envs + envs[:3], anew=True)
        with Statements(rt.engine) as seen:
            await runner.handle_fetched(await _fetch(psub, 9))
        assert probe_switch.calls == 6 and probe_switch.batches == 1  # no handler ran
        assert seen.commits == 1 and seen.inserts_into("inbox") == 1
        assert await _count(rt, probe.effects) == 6
        await eventually(lambda: _all_acked(rt, runner), what="every message acked")


async def test_the_same_event_twice_in_one_fetch_is_handled_once(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        rt = svc.rt
        env, other = _envelope(), _envelope()
        await _publish(rt, [env, other])
        await _publish(rt, [env], anew=True)
        await runner.handle_fetched(await _fetch(psub, 3))
        assert probe_switch.calls == 2
        assert await _count(rt, probe.effects, probe.effects.c.event_id == env.id) == 1
        await eventually(lambda: _all_acked(rt, runner), what="every message acked")


def _ids(msgs: list[Any]) -> list[str]:
    return [Envelope.model_validate_json(m.data).id for m in msgs]


async def test_messages_that_keep_coming_are_gathered_into_one_batch(manual_probe, probe_switch):
    """Issue 15: below saturation each fetch brings one message; while they keep coming, the consumer goes
    on fetching for a short window (up to CONSUMER_BATCH) so that the batch handler gets them together.
    A message after a pause is not held back."""
    async with manual_probe(consumer_batch=4) as (svc, runner, psub):
        rt = svc.rt
        runner._pace = Pace(600.0)  # a window no test outlives: gather() returns early only when it must
        await _publish(rt, [_envelope()])
        lone = await asyncio.wait_for(runner.gather(psub, await _fetch(psub, 1)), 10)  # after a pause: at once
        assert len(lone) == 1
        await runner.handle_fetched(lone)
        envs = [_envelope(note=str(i)) for i in range(4)]
        await _publish(rt, envs[:1])
        gathering = asyncio.create_task(runner.gather(psub, await _fetch(psub, 1)))
        await _publish(rt, envs[1:])
        msgs = await asyncio.wait_for(gathering, 10)  # ends when CONSUMER_BATCH messages are there
        assert _ids(msgs) == [e.id for e in envs]  # in stream order
        await runner.handle_fetched(msgs)
        assert (probe_switch.batches, probe_switch.calls) == (1, 5)
        assert await _count(rt, probe.effects) == 5
        await eventually(lambda: _all_acked(rt, runner), what="every message acked")


async def test_a_stopping_consumer_does_not_gather(manual_probe, probe_switch):
    async with manual_probe() as (svc, runner, psub):
        runner._pace = Pace(600.0)
        runner._pace.arrived()  # messages have been coming
        await _publish(svc.rt, [_envelope()])
        first = await _fetch(psub, 1)
        runner.stop()
        assert len(await asyncio.wait_for(runner.gather(psub, first), 10)) == 1
