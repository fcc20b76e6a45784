"""Issue 12 item 3: registry copies are applied by the registry's per-entity revision (not by the
producer's wall clock), and the voucher service numbers each agreement's events for its consumers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ktt_common.events import Envelope
from ktt_common.testing import eventually
from ktt_contracts.decision import DecisionRevoked
from ktt_contracts.registry import CapacityChanged
from ktt_voucher.agreements.models import CapacityCopy

from .test_agreements import publish
from .test_agreements import clock, svc, world  # noqa: F401  (fixtures)

T0 = dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC)


def _capacity(unit_id: uuid.UUID, occupied: int, revision: int | None, time: dt.datetime) -> Envelope:
    payload: dict[str, Any] = {"provider_id": "P1", "unit_id": str(unit_id), "instructors": 1, "capacity": 25,
                               "occupied": occupied, "free_places": 25 - occupied, "taking_clients": True,
                               "changed_on": "2026-11-26"}
    if revision is not None:
        payload["revision"] = revision
    return CapacityChanged.envelope(payload, subject=str(unit_id), correlation_id=None, time=time)


async def _copy(svc: Any, unit_id: uuid.UUID) -> CapacityCopy:
    async with svc.rt.sessionmaker() as s:
        copy = await s.get(CapacityCopy, unit_id)
        assert copy is not None
        return copy


async def test_registry_copies_follow_the_revision_not_the_producers_clock(svc):
    consumer = svc.rt.consumer("provider-registry")
    unit = uuid.uuid4()
    assert await consumer.process(_capacity(unit, 5, revision=2, time=T0)) == "handled"
    # Revision 1 arrives late, stamped later by a producer clock that ran ahead: it changes nothing.
    assert await consumer.process(_capacity(unit, 9, revision=1, time=T0 + dt.timedelta(minutes=5))) == "handled"
    copy = await _copy(svc, unit)
    assert (copy.occupied, copy.revision) == (5, 2)
    # An event from before revisions (none carried) never overrides a numbered copy...
    assert await consumer.process(_capacity(unit, 7, revision=None, time=T0 + dt.timedelta(hours=1))) == "handled"
    assert (await _copy(svc, unit)).occupied == 5
    # ...and the next revision applies even when its clock is behind.
    assert await consumer.process(_capacity(unit, 6, revision=3, time=T0 - dt.timedelta(hours=1))) == "handled"
    copy = await _copy(svc, unit)
    assert (copy.occupied, copy.revision) == (6, 3)


async def test_unnumbered_copies_still_go_by_the_producers_time(svc):
    consumer = svc.rt.consumer("provider-registry")
    unit = uuid.uuid4()
    await consumer.process(_capacity(unit, 5, revision=None, time=T0))
    await consumer.process(_capacity(unit, 9, revision=None, time=T0 - dt.timedelta(minutes=1)))
    assert (await _copy(svc, unit)).occupied == 5
    await consumer.process(_capacity(unit, 4, revision=1, time=T0 - dt.timedelta(minutes=2)))  # numbered: newer
    assert (await _copy(svc, unit)).occupied == 4


async def test_each_agreements_events_are_numbered_in_order(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)
    await publish(svc, DecisionRevoked, {"decision_id": str(voucher.decision_id), "client_id": str(voucher.client_id),
                                         "revoked_on": "2026-12-20", "reason": "moved away"})

    async def agreement_events() -> list[tuple[str, int]]:
        out = []
        for row in await world.svc_outbox():
            if row["type"].startswith("ktt.voucher.Agreement") and row["data"].get("agreement_id") == signed["id"]:
                out.append((row["type"].split(".")[2], row["data"]["revision"]))
        return out

    await eventually(lambda: _has_end(agreement_events), what="agreement ended")
    events = await agreement_events()
    assert events[0] == ("AgreementSigned", 1) and events[-1][0] == "AgreementEnded"
    assert [rev for _kind, rev in events] == list(range(1, len(events) + 1))


async def _has_end(agreement_events: Any) -> bool:
    return any(kind == "AgreementEnded" for kind, _rev in await agreement_events())
