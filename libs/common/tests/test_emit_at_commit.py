"""Issue 15: ``emit_at_commit`` queues an event's outbox row and writes it at commit, in the statement that
appends the transaction's audit rows. The row must share the transaction's fate: written with it on commit,
gone with it on rollback, and never carried into the session's next transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from ktt_common.audit import audit, verify_chain
from ktt_common.outbox import emit, emit_at_commit

import ktt_probe as probe


class _Refused(Exception):
    pass


async def _outbox_ids(rt: Any) -> set[str]:
    ob = rt.infra.outbox
    async with rt.sessionmaker() as session:
        return {str(v) for v in (await session.execute(select(ob.c.event_id))).scalars()}


async def _audit_actions(rt: Any) -> list[str]:
    log = rt.infra.audit_log
    async with rt.sessionmaker() as session:
        return list((await session.execute(select(log.c.action).order_by(log.c.id))).scalars())


async def test_the_queued_row_is_written_with_the_commit_and_its_audit_row(start_probe):
    async with start_probe() as svc:
        rt = svc.rt
        async with rt.sessionmaker() as session, session.begin():
            event_id = emit_at_commit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note="kept"))
            await audit(session, "test", "probe.kept", "probe")
            assert event_id not in await _outbox_ids(rt)  # not before the commit
        assert event_id in await _outbox_ids(rt)
        assert "probe.kept" in await _audit_actions(rt)
        async with rt.sessionmaker() as session:
            assert (await verify_chain(session, rt.infra)).ok  # the combined statement keeps the chain


async def test_a_rolled_back_transaction_drops_the_queued_row_and_the_next_one_does_not_carry_it(start_probe):
    async with start_probe() as svc:
        rt = svc.rt
        before = await _outbox_ids(rt)
        async with rt.sessionmaker() as session:
            try:
                async with session.begin():
                    dropped = emit_at_commit(session, probe.ProbeHappened,
                                             probe.ProbePayload(item=uuid.uuid4(), note="dropped"))
                    await audit(session, "test", "probe.dropped", "probe")
                    raise _Refused
            except _Refused:
                pass
            # The same session goes on: its next transaction commits only what it made itself.
            async with session.begin():
                kept = (await emit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note="next"))).id
        after = await _outbox_ids(rt)
        assert dropped not in after
        assert after - before == {kept}
        assert "probe.dropped" not in await _audit_actions(rt)
        ob = rt.infra.outbox
        async with rt.sessionmaker() as session:
            assert (await session.execute(select(func.count()).select_from(ob)
                                          .where(ob.c.event_id == uuid.UUID(dropped)))).scalar_one() == 0
