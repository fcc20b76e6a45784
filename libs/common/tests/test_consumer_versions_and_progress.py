"""Issue 12 item 4 and issue 13 defect 7, through a real nats-server and database: an unknown
version of a handled event type is parked (not acked and dropped); a handler that runs longer
than the (short) ack wait sends in-progress acks and is not redelivered meanwhile."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from sqlalchemy import func, select

from ktt_common.events import Envelope
from ktt_common.inbox import unversioned
from ktt_common.outbox import emit
from ktt_common.testing import eventually

import ktt_probe as probe


async def _count(rt, table, *where) -> int:
    async with rt.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


def test_unversioned():
    assert unversioned("ktt.voucher.AgreementSigned.v2") == "ktt.voucher.AgreementSigned"
    assert unversioned("ktt.voucher.AgreementSigned.vx") == "ktt.voucher.AgreementSigned.vx"
    assert unversioned("x") == "x"


@pytest.mark.off_contract_events("types no catalogue has, as a newer producer would send")
async def test_an_unknown_version_of_a_handled_type_is_parked_and_other_types_are_ignored(start_probe, probe_switch):
    async with start_probe() as svc:
        rt = svc.rt
        await rt.bus.wait_ready(10)

        async def publish(type_name: str) -> str:
            env = Envelope(id=str(uuid.uuid4()), source="/ktt/probe", type=type_name, time=dt.datetime.now(dt.UTC),
                           data={"item": str(uuid.uuid4()), "note": "from the future"})
            await rt.bus.publish(probe.ProbeHappened.subject, env.model_dump_json().encode(), env.id)
            return env.id

        v2 = await publish("ktt.probe.ProbeHappened.v2")
        other = await publish("ktt.probe.SomethingElse.v1")
        dl = rt.infra.dead_letter
        await eventually(lambda: _count(rt, dl), what="v2 parked")
        async with rt.sessionmaker() as s:
            letter = (await s.execute(select(dl))).one()
        assert letter.event_id == v2 and letter.event_type == "ktt.probe.ProbeHappened.v2"
        assert "unknown version" in letter.error and "ktt.probe.ProbeHappened.v1" in letter.error
        marker = None
        async with rt.sessionmaker() as s, s.begin():
            marker = await emit(s, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4()))
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == marker.id), what="marker handled")
        assert await _count(rt, probe.effects) == 1 and await _count(rt, dl) == 1  # v2 had no effect; the other type ignored
        assert letter.event_id != other


async def test_a_long_handler_sends_in_progress_acks_and_is_not_redelivered(start_probe, probe_switch):
    async with start_probe(consumer_ack_wait_seconds=1.0) as svc:
        rt = svc.rt
        runner = rt.consumers[0]
        probe_switch.gate = asyncio.Event()
        async with rt.sessionmaker() as s, s.begin():
            env = await emit(s, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4()))
        await eventually(lambda: probe_switch.calls == 1, what="handler started")
        # Three times the ack wait: without in-progress acks the server would have redelivered.
        await eventually(lambda: runner.progress_acks >= 9, timeout=20, what="in-progress acks over 3 ack waits")
        probe_switch.gate.set()
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == env.id), what="handled")
        async with rt.sessionmaker() as s, s.begin():
            marker = await emit(s, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4()))
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == marker.id), what="marker handled")
        info = await rt.bus.js.consumer_info("KTT_PROBE", runner.name)
        # Every delivery was a first one: the long message was never handed out again.
        assert info.num_redelivered == 0 and info.delivered.consumer_seq == info.delivered.stream_seq == 2
        assert info.config.ack_wait == 1.0
