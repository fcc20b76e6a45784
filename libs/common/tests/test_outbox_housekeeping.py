"""Issue 12 item 2: the outbox never jams (a row NATS can never take is parked after
OUTBOX_MAX_ATTEMPTS and the relay goes on), one relay per service publishes at a time (lease),
and published outbox rows and old inbox keys are purged after their retention (a daily job)."""

from __future__ import annotations

import datetime as dt
import uuid

import ktt_probe as probe
from sqlalchemy import func, insert, select

from ktt_common.lease import Lease
from ktt_common.outbox import emit
from ktt_common.relay import OutboxRelay
from ktt_common.testing import eventually


async def _emit_probe(rt, note: str = ""):
    async with rt.sessionmaker() as session, session.begin():
        return await emit(session, probe.ProbeHappened, probe.ProbePayload(item=uuid.uuid4(), note=note))


async def _count(rt, table, *where) -> int:
    async with rt.sessionmaker() as session:
        return (await session.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def test_a_row_too_large_for_nats_is_parked_and_the_relay_goes_on(start_probe, probe_switch):
    async with start_probe(outbox_max_attempts=3) as svc:
        rt, admin = svc.rt, svc.auth("admin")
        too_large = await _emit_probe(rt, "x" * 1_100_000)  # over nats-server's 1 MB max_payload
        behind = await _emit_probe(rt, "behind it")
        ob = rt.infra.outbox
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == behind.id), timeout=20,
                         what="the event behind the unpublishable one handled")
        # The consumer may handle the event before the relay has recorded it as published: wait for that.

        async def outbox_settled() -> dict | None:
            answer = (await svc.client.get("/v1/admin/outbox", headers=admin)).json()
            return answer if answer["pending"] == 0 else None

        body = await eventually(outbox_settled, timeout=20, what="the outbox with nothing pending")
        assert len(body["parked"]) == 1
        parked = body["parked"][0]
        assert parked["event_id"] == too_large.id and parked["attempts"] == 3 and parked["size"] > 1_000_000
        assert "payload" in parked["last_error"].lower()
        assert await _count(rt, probe.effects, probe.effects.c.event_id == too_large.id) == 0
        # Requeued by an operator it fails again and is parked again: it never blocks the rest.
        r = await svc.client.post(f"/v1/admin/outbox/{parked['seq']}/retry", headers=admin)
        assert r.status_code == 200
        third = await _emit_probe(rt, "third")
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == third.id), timeout=20, what="third")
        await eventually(lambda: _count(rt, ob, ob.c.parked_at.is_not(None)), what="parked again")
        r = await svc.client.post("/v1/admin/outbox/999999/retry", headers=admin)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_only_the_relay_holding_the_lease_publishes(start_probe, probe_switch):
    async with start_probe() as svc:
        rt = svc.rt
        await _emit_probe(rt, "warm up")
        await eventually(lambda: _count(rt, probe.effects), what="first event handled by the running relay")
        rt.relay.stop()  # the running relay keeps its lease until it leaves
        async def released() -> bool:
            return await _count(rt, rt.infra.lease, rt.infra.lease.c.name == "outbox-relay") == 0

        await eventually(released, what="the stopped relay released its lease")
        replica_a, replica_b = OutboxRelay(rt), OutboxRelay(rt)
        env = await _emit_probe(rt, "ordered")
        assert await replica_a.publish_pending() == 1
        await _emit_probe(rt, "second")
        assert await replica_b.publish_pending() == 0  # a's lease runs: b publishes nothing
        assert await _count(rt, rt.infra.outbox, rt.infra.outbox.c.published_at.is_(None)) == 1
        # a dies; once its lease has expired b takes over.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=rt.settings.outbox_lease_seconds + 1)
        assert await Lease(rt, "outbox-relay", rt.settings.outbox_lease_seconds, replica_b.lease.holder).acquire(now=later)
        assert await replica_b.publish_pending() == 1
        assert await replica_a.publish_pending() == 0
        await eventually(lambda: _count(rt, probe.effects, probe.effects.c.event_id == env.id), what="published once")


async def test_lease_is_exclusive_until_it_expires(start_probe):
    async with start_probe() as svc:
        now = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
        a, b = Lease(svc.rt, "x", 10, "a"), Lease(svc.rt, "x", 10, "b")
        assert await a.acquire(now) and not await b.acquire(now)
        assert await a.acquire(now + dt.timedelta(seconds=9))  # renewed by its holder
        assert not await b.acquire(now + dt.timedelta(seconds=18))
        assert await b.acquire(now + dt.timedelta(seconds=20)) and not await a.acquire(now + dt.timedelta(seconds=21))
        await b.release()
        assert await a.acquire(now + dt.timedelta(seconds=21))


async def test_bus_retention_purges_old_published_rows_and_inbox_keys_only(start_probe):
    async with start_probe(outbox_retention_days=7, inbox_retention_days=30) as svc:
        rt, admin = svc.rt, svc.auth("admin")
        ob, inbox = rt.infra.outbox, rt.infra.inbox
        rt.relay.stop()  # the rows below are not for publishing

        async def relay_left() -> bool:
            return await _count(rt, rt.infra.lease) == 0

        await eventually(relay_left, what="relay stopped")
        day = dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
        rows = [  # (published days ago or None, parked)
            (None, False), (None, True), (3, False), (8, False), (40, False),
        ]
        async with rt.sessionmaker() as s, s.begin():
            for ago, parked in rows:
                await s.execute(insert(ob).values(
                    event_id=uuid.uuid4(), subject="ktt.probe.ProbeHappened", event_type="x", envelope="{}",
                    created_at=day - dt.timedelta(days=50), attempts=0,
                    published_at=None if ago is None else day - dt.timedelta(days=ago),
                    parked_at=day if parked else None))
            for ago in (1, 29, 31, 90):
                await s.execute(insert(inbox).values(event_id=uuid.uuid4(), consumer="c", event_type="x",
                                                     handled_at=day - dt.timedelta(days=ago)))
        r = await svc.client.post("/v1/admin/jobs/bus-retention/run", params={"date": "2026-11-26"}, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json()["result"] == {"outbox_purged": 2, "inbox_purged": 2, "idempotency_keys_purged": 0}
        assert await _count(rt, ob) == 3 and await _count(rt, ob, ob.c.parked_at.is_not(None)) == 1
        assert await _count(rt, inbox) == 2
