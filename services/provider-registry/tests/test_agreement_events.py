"""Agreements from the voucher service drive occupancy (PRV-6) and end the client's waiting (PRV-7);
redelivered and re-published events count nothing twice."""

from __future__ import annotations

import datetime as dt
import uuid

from ktt_common.testing import eventually
from ktt_contracts.agreement import AgreementEnded, AgreementSigned

from registry_builders import BUSINESS_IDS, approved_provider, as_provider, official, outbox_payloads


def _signed(p: dict, client_id: uuid.UUID, agreement_id: uuid.UUID) -> dict:
    return {
        "agreement_id": str(agreement_id), "voucher_id": str(uuid.uuid4()), "decision_id": str(uuid.uuid4()),
        "client_id": str(client_id), "provider_id": p["provider_id"], "unit_id": p["unit"]["id"], "product_id": p["product"]["id"],
        "product_kind": "individual", "form": "individual", "start": "2026-12-07", "end": "2027-11-30",
        "periods": [{"period_id": str(uuid.uuid4()), "seq": 1, "start": "2026-12-07", "end": "2027-05-31",
                     "schedule": [{"weekday": "mon", "start": "09:00", "end": "14:00"}], "goals": "routine",
                     "evaluation_due": "2027-05-24"}],
        "values": {"price_version": 1, "day_value_first_year_cents": 4500, "base_day_value_cents": 3850},
        "base_value_from": "2027-12-07", "signed_on": "2026-12-01",
    }


def _ended(p: dict, client_id: uuid.UUID, agreement_id: uuid.UUID) -> dict:
    return {"agreement_id": str(agreement_id), "voucher_id": str(uuid.uuid4()), "client_id": str(client_id),
            "provider_id": p["provider_id"], "unit_id": p["unit"]["id"], "ended_on": "2027-01-15", "kind": "mutual",
            "reason": "moved to work trial", "early": True}


async def _publish(svc, event_type, payload: dict, envelope=None):
    env = envelope or event_type.envelope(payload, subject=payload["agreement_id"], correlation_id=None,
                                          time=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC))
    await svc.rt.bus.publish(event_type.subject, env.model_dump_json().encode(), str(uuid.uuid4()))
    return env


async def _occupied(svc, unit_id: str) -> int:
    return (await svc.client.get(f"/v1/units/{unit_id}", headers=official(svc))).json()["occupied"]


async def test_signed_and_ended_agreements_move_occupancy_once_and_end_the_clients_wait(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    unit_id = p["unit"]["id"]
    await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": 24}, headers=official(svc))
    waiting, other = uuid.uuid4(), uuid.uuid4()
    for client in (waiting, other):
        r = await svc.client.post(f"/v1/units/{unit_id}/queues/{p['product']['id']}", json={"client_id": str(client)},
                                  headers=as_provider(svc, "P1"))
        assert r.status_code == 201, r.text
    agreement = uuid.uuid4()
    env = await _publish(svc, AgreementSigned, _signed(p, waiting, agreement))
    await _publish(svc, AgreementSigned, {}, envelope=env)                          # redelivered under a new message id
    await _publish(svc, AgreementSigned, _signed(p, waiting, agreement))            # re-published as a new event
    marker_client, marker = uuid.uuid4(), uuid.uuid4()
    await _publish(svc, AgreementSigned, _signed(p, marker_client, marker))         # handled after the others
    await eventually(lambda: _occupied_is(svc, unit_id, 26), what="two agreements counted")
    queue = (await svc.client.get(f"/v1/units/{unit_id}/queues/{p['product']['id']}", headers=official(svc))).json()
    assert [q["client_id"] for q in queue] == [str(other)]
    changes = [c for c in await outbox_payloads(svc, "QueueChanged") if c["change"] == "started"]
    assert [c["client_id"] for c in changes] == [str(waiting)]
    capacity = await outbox_payloads(svc, "CapacityChanged")
    assert [c["occupied"] for c in capacity][-2:] == [25, 26]

    env = await _publish(svc, AgreementEnded, _ended(p, waiting, agreement))
    await _publish(svc, AgreementEnded, {}, envelope=env)
    await _publish(svc, AgreementEnded, _ended(p, marker_client, marker))
    await eventually(lambda: _occupied_is(svc, unit_id, 24), what="two places freed")
    assert [c["occupied"] for c in await outbox_payloads(svc, "CapacityChanged")][-2:] == [25, 24]


async def _occupied_is(svc, unit_id: str, n: int) -> bool:
    return await _occupied(svc, unit_id) == n


async def test_capacity_changed_tells_the_free_places_whenever_an_agreement_moves_occupancy(registry):
    """PRV-6 / PRV-7: the voucher service keeps its copy of a unit's free places from CapacityChanged;
    every signed or ended individual agreement publishes capacity, occupancy and free places at once,
    a group agreement (group places are not the unit's individual places) publishes none."""
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    unit_id = p["unit"]["id"]
    await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": 24}, headers=official(svc))

    async def capacity_events() -> list[tuple[int, int, int, int]]:
        return [(c["capacity"], c["occupied"], c["free_places"], c["instructors"])
                for c in await outbox_payloads(svc, "CapacityChanged") if c["unit_id"] == unit_id]

    before = await capacity_events()
    assert before[-1] == (25, 24, 1, 1)
    individual, group = uuid.uuid4(), uuid.uuid4()
    await _publish(svc, AgreementSigned, _signed(p, uuid.uuid4(), individual))
    await eventually(lambda: _occupied_is(svc, unit_id, 25), what="individual agreement counted")
    assert (await capacity_events())[len(before):] == [(25, 25, 0, 1)]
    r = await svc.client.get(f"/v1/units/{unit_id}", headers=official(svc))
    assert r.json()["free_places"] == 0
    await _publish(svc, AgreementSigned, _signed(p, uuid.uuid4(), group) | {"form": "group", "product_kind": "group"})
    await _publish(svc, AgreementEnded, _ended(p, uuid.uuid4(), individual))  # handled after the group agreement
    await eventually(lambda: _occupied_is(svc, unit_id, 24), what="place freed")
    assert (await capacity_events())[len(before):] == [(25, 25, 0, 1), (25, 24, 1, 1)]


async def test_an_end_before_its_start_leaves_no_phantom_occupied_place(registry):
    """Issue 12 item 3, PRV-6: AgreementEnded handled before AgreementSigned is remembered; the late
    start is recorded but takes no place, and neither event counts again when re-published."""
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    unit_id = p["unit"]["id"]
    await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": 10}, headers=official(svc))
    client, agreement = uuid.uuid4(), uuid.uuid4()
    await _publish(svc, AgreementEnded, _ended(p, client, agreement) | {"revision": 2})
    await _publish(svc, AgreementSigned, _signed(p, client, agreement) | {"revision": 1})
    await _publish(svc, AgreementEnded, _ended(p, client, agreement) | {"revision": 2})  # re-published
    marker = uuid.uuid4()
    await _publish(svc, AgreementSigned, _signed(p, uuid.uuid4(), marker) | {"revision": 1})  # handled after the others
    await eventually(lambda: _occupied_is(svc, unit_id, 11), what="only the marker agreement counted")
    from sqlalchemy import select

    from ktt_registry.models import AgreementPlace

    async with svc.rt.sessionmaker() as s:
        place = (await s.execute(select(AgreementPlace).where(AgreementPlace.agreement_id == agreement))).scalar_one()
    assert place.signed_on == dt.date(2026, 12, 1) and place.ended_on == dt.date(2027, 1, 15) and place.revision == 2
    assert place.form == "individual" and str(place.product_id) == p["product"]["id"]


async def test_registry_events_carry_a_revision_per_entity(registry):
    """Issue 12 item 3: the voucher service applies registry copies by these revisions."""
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    unit_id = p["unit"]["id"]
    await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": 3}, headers=official(svc))
    await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": 4}, headers=official(svc))
    capacity = [c["revision"] for c in await outbox_payloads(svc, "CapacityChanged") if c["unit_id"] == unit_id]
    assert capacity == list(range(1, len(capacity) + 1)) and len(capacity) >= 2
    for kind in ("ProviderApplied", "ProviderApproved", "UnitChanged", "ProductChanged"):
        events = await outbox_payloads(svc, kind)
        assert events and all(isinstance(e["revision"], int) and e["revision"] >= 1 for e in events), kind
    provider_revisions = []
    for kind in ("ProviderApplied", "ProviderApproved", "ProviderChanged"):
        provider_revisions += [e["revision"] for e in await outbox_payloads(svc, kind) if e["provider_id"] == p["provider_id"]]
    assert sorted(provider_revisions) == list(range(1, len(provider_revisions) + 1))  # one sequence per provider, no gaps
