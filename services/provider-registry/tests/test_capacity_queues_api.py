"""Capacity (PRV-6), groups (PRV-5), queues (PRV-7) and units unable to take clients (PRV-8)."""

from __future__ import annotations

import datetime as dt
import uuid

from registry_builders import (
    BUSINESS_IDS, add_instructors, add_product, approved_provider, as_provider, official, outbox_payloads, outbox_types,
)

TODAY = dt.date(2026, 11, 30)


def day(n: int) -> str:
    return (TODAY + dt.timedelta(days=n)).isoformat()


async def set_occupancy(svc, unit_id: str, n: int):
    return await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": n}, headers=official(svc))


async def join(svc, p: dict, client_id: uuid.UUID | None = None, product: dict | None = None):
    product_id = (product or p["product"])["id"]
    return await svc.client.post(f"/v1/units/{p['unit']['id']}/queues/{product_id}",
                                 json={"client_id": str(client_id or uuid.uuid4())}, headers=as_provider(svc, p["provider_id"]))


async def test_prv_6_the_25th_client_per_instructor_is_accepted_and_the_26th_refused(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], instructors=1)
    unit_id = p["unit"]["id"]
    r = await set_occupancy(svc, unit_id, 25)
    assert r.status_code == 200 and (r.json()["capacity"], r.json()["free_places"]) == (25, 0)
    r = await set_occupancy(svc, unit_id, 26)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-6" and "add an instructor" in r.json()["detail"]
    await add_instructors(svc, p["unit"], 1)
    assert (await set_occupancy(svc, unit_id, 50)).json()["free_places"] == 0
    assert (await set_occupancy(svc, unit_id, 51)).status_code == 422
    assert (await set_occupancy(svc, unit_id, 26)).status_code == 200
    # An instructor cannot leave while the other one alone would have 26 clients.
    leaving = p["instructors"][0]["id"]
    r = await svc.client.delete(f"/v1/units/{unit_id}/instructors/{leaving}", headers=as_provider(svc, "P1"))
    assert r.status_code == 422 and r.json()["rule"] == "PRV-6"
    assert (await set_occupancy(svc, unit_id, 25)).status_code == 200
    r = await svc.client.delete(f"/v1/units/{unit_id}/instructors/{leaving}", headers=as_provider(svc, "P1"))
    assert r.status_code == 204
    assert (await svc.client.get(f"/v1/units/{unit_id}", headers=official(svc))).json()["capacity"] == 25
    # Only an official records occupancy, and setting the same number again publishes nothing.
    assert (await svc.client.put(f"/v1/units/{unit_id}/occupancy", json={"occupied": 1}, headers=as_provider(svc, "P1"))).status_code == 403
    before = (await outbox_types(svc))["CapacityChanged"]
    assert (await set_occupancy(svc, unit_id, 25)).status_code == 200
    assert (await outbox_types(svc))["CapacityChanged"] == before
    last = (await outbox_payloads(svc, "CapacityChanged"))[-1]
    assert (last["instructors"], last["capacity"], last["occupied"], last["free_places"]) == (1, 25, 25, 0)


async def test_prv_6_group_places_responsibles_and_large_groups(start_registry):
    async with start_registry(large_group_over=12) as svc:
        p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], kind="group", instructors=2)
        lead, second = (i["id"] for i in p["instructors"])
        base = {"product_id": p["product"]["id"], "name": "Kevään ryhmä", "starts_on": day(14), "ends_on": day(120),
                "lead_instructor_id": lead, "second_responsible_id": second}
        url, h = f"/v1/units/{p['unit']['id']}/groups", as_provider(svc, "P1")
        for places, present, ok in ((7, 1, False), (16, 2, False), (12, 1, True), (13, 1, False), (13, 2, True), (8, 1, True)):
            r = await svc.client.post(url, json=base | {"places": places, "instructors_present": present}, headers=h)
            assert (r.status_code == 201) is ok, (places, present, r.text)
            if not ok:
                assert r.json()["rule"] == "PRV-6"
        r = await svc.client.post(url, json=base | {"places": 10, "instructors_present": 1, "second_responsible_id": lead}, headers=h)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.second_responsible_id"
        r = await svc.client.post(url, json=base | {"places": 10, "instructors_present": 1, "ends_on": day(14)}, headers=h)
        assert r.status_code == 422 and r.json()["rule"] == "PRV-5"
        assert (await outbox_types(svc))["GroupAnnounced"] == 3


async def test_prv_5_group_dates_and_full_places_are_announced_once_per_change(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], kind="group", instructors=2)
    lead, second = (i["id"] for i in p["instructors"])
    r = await svc.client.post(f"/v1/units/{p['unit']['id']}/groups", headers=as_provider(svc, "P1"), json={
        "product_id": p["product"]["id"], "name": "Ryhmä A", "starts_on": day(14), "ends_on": day(120), "places": 10,
        "lead_instructor_id": lead, "second_responsible_id": second, "instructors_present": 1})
    group = r.json()
    for _ in range(2):  # the second, identical announcement changes nothing
        r = await svc.client.patch(f"/v1/groups/{group['id']}", json={"places_full": True, "starts_on": day(21)}, headers=as_provider(svc, "P1"))
        assert r.status_code == 200 and r.json()["places_full"] is True
    announced = await outbox_payloads(svc, "GroupAnnounced")
    assert [(a["starts_on"], a["places_full"]) for a in announced] == [(day(14), False), (day(21), True)]
    assert announced[1]["lead_instructor"] == "Ohjaaja 1" and announced[1]["second_responsible"] == "Ohjaaja 2"
    r = await svc.client.put(f"/v1/groups/{group['id']}/enrolment", json={"enrolled": 11}, headers=official(svc))
    assert r.status_code == 422 and r.json()["rule"] == "PRV-6"


async def test_prv_7_an_estimated_wait_of_30_days_is_accepted_and_31_refused(start_registry):
    """Capacity 25, all taken: one place frees every turnover/25 days; 750 -> 30 days, 775 -> 31 days."""
    async with start_registry(queue_turnover_days=750) as svc:
        p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
        await set_occupancy(svc, p["unit"]["id"], 25)
        r = await join(svc, p)
        assert r.status_code == 201, r.text
        assert (r.json()["position"], r.json()["expected_start"]) == (1, day(30))
        # The next client would wait 60 days: refused, naming the rule and the units with free places now.
        other = await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1], unit={"name": "Vapaa yksikkö"})
        r = await join(svc, p)
        assert r.status_code == 422 and r.json()["rule"] == "PRV-7"
        assert r.json()["estimated_wait_days"] == 60 and "Vapaa yksikkö" in r.json()["detail"]
        assert [a["unit_id"] for a in r.json()["alternatives"]] == [other["unit"]["id"]]
        assert r.json()["alternatives"][0]["free_places"] == 25
        assert (await outbox_types(svc))["QueueChanged"] == 1
    async with start_registry(queue_turnover_days=775) as svc:
        p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
        await set_occupancy(svc, p["unit"]["id"], 25)
        r = await join(svc, p)
        assert r.status_code == 422 and r.json()["rule"] == "PRV-7" and r.json()["estimated_wait_days"] == 31
        assert "no other unit has free places" in r.json()["detail"]
        assert (await outbox_types(svc))["QueueChanged"] == 0


async def test_prv_7_one_month_of_waiting_is_a_calendar_month_not_30_days(start_registry, clock):
    """Joining on 31.1.2027 the latest start is 28.2. (28 days); joining on 31.12.2026 it is 31.1. (31 days)."""
    async def full_unit(svc):
        clock.set(TODAY)
        p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
        await set_occupancy(svc, p["unit"]["id"], 25)
        return p

    async with start_registry(queue_turnover_days=725) as svc:  # capacity 25: a place frees every 29 days
        p = await full_unit(svc)
        clock.set(dt.date(2027, 1, 31))
        r = await join(svc, p)
        assert r.status_code == 422 and r.json()["rule"] == "PRV-7", r.text
        problem = r.json()
        assert (problem["estimated_start"], problem["latest_start"], problem["estimated_wait_days"]) == ("2027-03-01", "2027-02-28", 29)
        assert "calendar month" in problem["detail"] and "2027-02-28" in problem["detail"]
    async with start_registry(queue_turnover_days=700) as svc:  # every 28 days: 28.2. is the last day within the month
        p = await full_unit(svc)
        clock.set(dt.date(2027, 1, 31))
        r = await join(svc, p)
        assert r.status_code == 201 and r.json()["expected_start"] == "2027-02-28", r.text
    async with start_registry(queue_turnover_days=775) as svc:  # every 31 days: from 31.12. that is 31.1., within the month
        p = await full_unit(svc)
        clock.set(dt.date(2026, 12, 31))
        r = await join(svc, p)
        assert r.status_code == 201 and r.json()["expected_start"] == "2027-01-31", r.text


async def test_prv_7_the_unit_wide_rank_is_published_for_products_sharing_the_units_places(registry):
    """Individual KTT and an assessment period share the unit's places: one line, ranked by arrival;
    a rank that moves is published even when no expected start does."""
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    assessment = await add_product(svc, "P1", "assessment_period")
    await set_occupancy(svc, p["unit"]["id"], 20)  # five places free: everybody can start today
    c1, c2, c3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = (await join(svc, p, c1)).json()
    second = (await join(svc, p, c2, product=assessment)).json()
    third = (await join(svc, p, c3)).json()
    assert [(e["position"], e["unit_position"], e["expected_start"]) for e in (first, second, third)] == [
        (1, 1, day(0)), (1, 2, day(0)), (2, 3, day(0))]
    before = len(await outbox_payloads(svc, "QueueChanged"))
    r = await svc.client.post(f"/v1/queue-entries/{first['id']}/leave", json={"outcome": "withdrew"}, headers=as_provider(svc, "P1"))
    assert r.status_code == 200
    changes = (await outbox_payloads(svc, "QueueChanged"))[before:]
    by_product = {c["product_id"]: c for c in changes}
    assert by_product[p["product"]["id"]]["change"] == "left"
    assert [(e["client_id"], e["position"], e["unit_position"]) for e in by_product[p["product"]["id"]]["entries"]] == [
        (str(c3), 1, 2)]
    assert by_product[assessment["id"]]["change"] == "recomputed"
    assert [(e["client_id"], e["unit_position"], e["expected_start"]) for e in by_product[assessment["id"]]["entries"]] == [
        (str(c2), 1, day(0))]
    queue = (await svc.client.get(f"/v1/units/{p['unit']['id']}/queues/{assessment['id']}", headers=official(svc))).json()
    assert [q["unit_position"] for q in queue] == [1]


async def test_prv_6_a_new_unit_publishes_its_places_from_the_start(registry):
    """CapacityChanged for every unit from its creation: no instructor yet, so no places."""
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], instructors=2)
    first = [c for c in await outbox_payloads(svc, "CapacityChanged") if c["unit_id"] == p["unit"]["id"]]
    assert [(c["instructors"], c["capacity"], c["occupied"], c["free_places"]) for c in first] == [(0, 0, 0, 0), (1, 25, 0, 25), (2, 50, 0, 50)]


async def test_prv_7_first_come_first_served_with_expected_starts_and_every_change_published(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    unit_id, product_id = p["unit"]["id"], p["product"]["id"]
    await set_occupancy(svc, unit_id, 23)  # two places free; then one frees every 365/25 = 14.6 days
    clients = [uuid.uuid4() for _ in range(4)]
    entries = [(await join(svc, p, c)).json() for c in clients]
    assert [(e["position"], e["expected_start"]) for e in entries] == [(1, day(0)), (2, day(0)), (3, day(15)), (4, day(30))]
    r = await join(svc, p, clients[0])
    assert r.status_code == 409  # already queued
    # The first client starts: the others move up.
    r = await svc.client.post(f"/v1/queue-entries/{entries[0]['id']}/leave", json={"outcome": "started"}, headers=as_provider(svc, "P1"))
    assert r.status_code == 200 and r.json()["outcome"] == "started"
    queue = (await svc.client.get(f"/v1/units/{unit_id}/queues/{product_id}", headers=official(svc))).json()
    assert [(q["client_id"], q["position"], q["expected_start"]) for q in queue] == [
        (str(clients[1]), 1, day(0)), (str(clients[2]), 2, day(0)), (str(clients[3]), 3, day(15))]
    # ...and takes a place: the expected starts move back, published at once.
    await set_occupancy(svc, unit_id, 24)
    queue = (await svc.client.get(f"/v1/units/{unit_id}/queues/{product_id}", headers=official(svc))).json()
    assert [q["expected_start"] for q in queue] == [day(0), day(15), day(30)]
    changes = await outbox_payloads(svc, "QueueChanged")
    assert [c["change"] for c in changes] == ["joined"] * 4 + ["started", "recomputed"]
    assert [e["expected_start"] for e in changes[-1]["entries"]] == [day(0), day(15), day(30)]
    assert changes[4]["client_id"] == str(clients[0]) and len(changes[4]["entries"]) == 3
    # Leaving twice publishes nothing new.
    await svc.client.post(f"/v1/queue-entries/{entries[0]['id']}/leave", json={"outcome": "started"}, headers=as_provider(svc, "P1"))
    assert (await outbox_types(svc))["QueueChanged"] == 6
    # Another provider sees nothing of this queue (DATA-3).
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    r = await svc.client.get(f"/v1/units/{unit_id}/queues/{product_id}", headers=as_provider(svc, "P2"))
    assert r.status_code == 404


async def test_prv_7_group_queue_follows_announced_groups(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], kind="group", instructors=2)
    r = await join(svc, p)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-7" and "no group with free places" in r.json()["detail"]
    lead, second = (i["id"] for i in p["instructors"])
    await svc.client.post(f"/v1/units/{p['unit']['id']}/groups", headers=as_provider(svc, "P1"), json={
        "product_id": p["product"]["id"], "name": "Ryhmä", "starts_on": day(20), "ends_on": day(110), "places": 8,
        "lead_instructor_id": lead, "second_responsible_id": second, "instructors_present": 1})
    r = await join(svc, p)
    assert r.status_code == 201 and r.json()["expected_start"] == day(20)


async def test_prv_8_a_unit_unable_to_take_clients_is_published_and_closes_its_queue(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    url, h = f"/v1/units/{p['unit']['id']}/availability", as_provider(svc, "P1")
    r = await svc.client.put(url, json={"taking_clients": False}, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-8"
    before = await outbox_types(svc)
    for _ in range(2):
        r = await svc.client.put(url, json={"taking_clients": False, "reason": "water damage in the workshop"}, headers=h)
        assert r.status_code == 200 and r.json()["free_places"] == 0 and r.json()["unable_reason"] == "water damage in the workshop"
    after = await outbox_types(svc)
    assert (after["UnitChanged"] - before["UnitChanged"], after["CapacityChanged"] - before["CapacityChanged"]) == (1, 1)
    unit_event = (await outbox_payloads(svc, "UnitChanged"))[-1]
    assert unit_event["taking_clients"] is False and unit_event["unable_reason"] == "water damage in the workshop"
    r = await join(svc, p)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-8"
    r = await svc.client.put(url, json={"taking_clients": True}, headers=h)
    assert r.status_code == 200 and r.json()["free_places"] == 25
    assert (await join(svc, p)).status_code == 201


async def test_prv_1_only_approved_providers_take_queued_clients(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await svc.client.post("/v1/providers/P1/status", json={"status": "suspended", "reason": "remarks"}, headers=official(svc))
    r = await join(svc, p)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-1"
    # The intensive coaching product gets an hour value.
    product = await add_product(svc, "P1", "intensive_coaching")
    values = (await svc.client.get(f"/v1/products/{product['id']}/values", headers=official(svc))).json()
    assert values[0]["hour_value"] == "60.00" and values[0]["day_value_first_year"] is None
