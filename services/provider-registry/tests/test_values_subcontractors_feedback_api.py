"""Voucher values (VOU-1, VOU-6, VOU-7), subcontractors (PRV-9), feedback and quality (PRV-12, QUA-1),
units (PRV-3, PRV-13)."""

from __future__ import annotations

import datetime as dt
import uuid

from registry_builders import (
    BUSINESS_IDS, add_product, add_unit, apply, approved_provider, as_provider, official, outbox_payloads, outbox_types,
    unit_body, values_body,
)


async def test_values_are_versioned_with_effective_dates_never_overwritten_and_published(registry, clock):
    svc = registry
    await apply(svc, "P1")
    product = await add_product(svc, "P1", priced=False)
    url = f"/v1/products/{product['id']}/values"
    assert (await svc.client.post(url, json=values_body(), headers=official(svc))).status_code == 201
    r = await svc.client.post(url, json=values_body(effective_from="2027-01-01", day_value_first_year=47.5, base_day_value="40"),
                              headers=official(svc))
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["day_value_first_year"] == "47.50"
    bad = await svc.client.post(url, json=values_body(effective_from="2026-11-29", day_value_first_year="45.555", base_day_value=None),
                                headers=official(svc))
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"body.day_value_first_year"}
    bad = await svc.client.post(url, json=values_body(effective_from="2026-11-29"), headers=official(svc))
    assert bad.status_code == 422 and bad.json()["rule"] == "VOU-1" and "never rewritten" in bad.json()["detail"]
    bad = await svc.client.post(url, json=values_body(base_day_value=None, hour_value="10.00"), headers=official(svc))
    assert bad.status_code == 422 and {e["rule"] for e in bad.json()["errors"]} == {"VOU-6", "VOU-7"}

    listed = (await svc.client.get("/v1/providers/P1/products", headers=official(svc))).json()
    assert listed[0]["current_value"]["version"] == 1 and listed[0]["current_value"]["day_value_first_year"] == "45.00"
    clock.set(dt.date(2027, 1, 1))
    listed = (await svc.client.get("/v1/providers/P1/products", headers=official(svc))).json()
    assert listed[0]["current_value"]["version"] == 2
    versions = (await svc.client.get(url, headers=as_provider(svc, "P1"))).json()
    assert [(v["version"], v["effective_from"], v["base_day_value"]) for v in versions] == [
        (1, "2026-11-30", "38.50"), (2, "2027-01-01", "40.00")]
    published = await outbox_payloads(svc, "PriceListChanged")
    assert len(published) == 2
    assert published[1]["new_version"]["day_value_first_year_cents"] == 4750
    assert [v["base_day_value_cents"] for v in published[1]["versions"]] == [3850, 4000]
    assert published[1]["versions"][0]["set_by"] == "liisa.virkailija" and published[1]["currency"] == "EUR"


async def test_prv_9_subcontractors_declared_forbidden_with_reason_and_never_chained(registry):
    svc = registry
    await apply(svc, "P1")
    url, h = "/v1/providers/P1/subcontractors", as_provider(svc, "P1")
    r = await svc.client.post(url, json={"name": "Siivous Oy", "business_id": BUSINESS_IDS[1], "services": "cleaning"}, headers=h)
    assert r.status_code == 201 and r.json()["status"] == "declared"
    first = r.json()
    r = await svc.client.post(url, headers=h, json={"name": "Ali-Siivous", "business_id": BUSINESS_IDS[2], "services": "windows",
                                                    "engaged_by_subcontractor_id": first["id"]})
    assert r.status_code == 422 and r.json()["rule"] == "PRV-9" and "chaining" in r.json()["detail"]
    assert "Siivous Oy" in r.json()["detail"]
    r = await svc.client.post(url, json={"name": "Itse", "business_id": BUSINESS_IDS[0], "services": "x" * 5}, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-9"
    r = await svc.client.post(url, json={"name": "Siivous Oy", "business_id": BUSINESS_IDS[1], "services": "again"}, headers=h)
    assert r.status_code == 409
    # Only the city forbids, with a reason; published once.
    forbid = f"/v1/subcontractors/{first['id']}/forbid"
    assert (await svc.client.post(forbid, json={"reason": "tax debts"}, headers=h)).status_code == 403
    for _ in range(2):
        r = await svc.client.post(forbid, json={"reason": "tax debts"}, headers=official(svc))
        assert r.status_code == 200 and r.json()["status"] == "forbidden" and r.json()["forbidden_reason"] == "tax debts"
    [event] = await outbox_payloads(svc, "SubcontractorForbidden")
    assert (event["provider_id"], event["business_id"], event["reason"]) == ("P1", BUSINESS_IDS[1], "tax debts")
    # Officials declare nothing on a provider's behalf.
    r = await svc.client.post(url, json={"name": "X", "business_id": BUSINESS_IDS[3], "services": "cleaning"}, headers=official(svc))
    assert r.status_code == 403


async def test_prv_12_complaints_move_received_being_handled_resolved_and_qua_1_figures(registry, clock):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    client_id = str(uuid.uuid4())
    me = svc.auth("client", client_id=client_id)
    url = "/v1/providers/P1/feedback"
    for rating in (5, 4, 2):
        r = await svc.client.post(url, json={"kind": "feedback", "rating": rating, "comment": "ok"}, headers=me)
        assert r.status_code == 201 and r.json()["channel"] == "voucher_system" and r.json()["client_id"] == client_id
    complaint = (await svc.client.post(url, json={"kind": "complaint", "comment": "the instructor never came",
                                                  "unit_id": p["unit"]["id"]}, headers=me)).json()
    assert complaint["status"] == "received"
    # A provider forwards a complaint it received directly.
    r = await svc.client.post(url, headers=as_provider(svc, "P1"), json={
        "kind": "complaint", "comment": "told us by phone", "received_on": "2026-11-20", "client_id": str(uuid.uuid4())})
    assert r.status_code == 201 and r.json()["channel"] == "provider_forwarded" and r.json()["received_on"] == "2026-11-20"
    r = await svc.client.post(url, json={"kind": "reminder", "comment": "late reports"}, headers=me)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-12"
    assert (await svc.client.post(url, json={"kind": "reminder", "comment": "late monthly reports"}, headers=official(svc))).status_code == 201

    status_url = f"/v1/feedback/{complaint['id']}/status"
    assert (await svc.client.put(status_url, json={"status": "resolved"}, headers=official(svc))).json()["rule"] == "PRV-12"
    assert (await svc.client.put(status_url, json={"status": "being_handled"}, headers=as_provider(svc, "P1"))).status_code == 403
    r = await svc.client.put(status_url, json={"status": "being_handled"}, headers=official(svc))
    assert r.json()["status"] == "being_handled"
    r = await svc.client.put(status_url, json={"status": "resolved", "resolution": "instructor replaced"}, headers=official(svc))
    assert r.json()["status"] == "resolved" and r.json()["resolved_on"] == "2026-11-30"
    r = await svc.client.put(status_url, json={"status": "being_handled"}, headers=official(svc))
    assert r.status_code == 409

    q = await svc.client.get("/v1/providers/P1/quality", params={"from": "2026-11-01", "to": "2026-11-30"}, headers=official(svc))
    assert q.status_code == 200
    figures = q.json()
    assert (figures["feedback_count"], figures["average_rating"], figures["ratings"], figures["complaints"]) == (3, "3.67", 3, 2)
    assert figures["complaints_by_status"] == {"received": 1, "being_handled": 0, "resolved": 1}
    assert (figures["reminders"], figures["forwarded_by_provider"]) == (1, 1)
    narrow = (await svc.client.get("/v1/providers/P1/quality", params={"from": "2026-11-01", "to": "2026-11-25"},
                                   headers=official(svc))).json()
    assert (narrow["complaints"], narrow["feedback_count"], narrow["average_rating"]) == (1, 0, None)
    assert (await svc.client.get("/v1/providers/P1/quality", params={"from": "2026-11-01", "to": "2026-11-30"},
                                 headers=as_provider(svc, "P1"))).status_code == 403


async def test_prv_3_and_prv_13_a_unit_lists_every_gap_and_is_published(registry):
    svc = registry
    await apply(svc, "P1")
    body = unit_body(foli_reachable=False, languages=["fi"], premises={"handles_food": True}, meals={"snack": False, "food_heating": True})
    r = await svc.client.post("/v1/providers/P1/units", json=body, headers=as_provider(svc, "P1"))
    assert r.status_code == 422
    assert {(e["field"], e["rule"]) for e in r.json()["errors"]} == {
        ("body.foli_reachable", "PRV-3"), ("body.languages", "PRV-3"), ("body.premises.rescue_check_on", "PRV-3"),
        ("body.premises.health_check_on", "PRV-3"), ("body.premises.food_check_on", "PRV-3"), ("body.meals.snack", "PRV-13")}
    unit = await add_unit(svc, "P1", service_producer_code="SPC-1")
    r = await svc.client.post("/v1/providers/P1/units", json=unit_body(service_producer_code="SPC-1"), headers=as_provider(svc, "P1"))
    assert r.status_code == 409
    r = await svc.client.patch(f"/v1/units/{unit['id']}", json={"languages": ["fi", "en"]}, headers=as_provider(svc, "P1"))
    assert r.status_code == 422 and r.json()["rule"] == "PRV-3"
    r = await svc.client.patch(f"/v1/units/{unit['id']}", json={"languages": ["fi", "sv", "ar"], "district": None} , headers=as_provider(svc, "P1"))
    assert r.status_code == 422  # district is not a field a patch may send
    r = await svc.client.patch(f"/v1/units/{unit['id']}", json={"languages": ["fi", "sv", "ar"]}, headers=as_provider(svc, "P1"))
    assert r.status_code == 200 and r.json()["languages"] == ["ar", "fi", "sv"]
    events = await outbox_payloads(svc, "UnitChanged")
    assert len(events) == 2 and events[-1]["languages"] == ["ar", "fi", "sv"]
    assert events[0]["service_producer_code"] == "SPC-1" and events[0]["responsible_person_name"] == "Ville Vastaava"
    assert (await outbox_types(svc))["UnitChanged"] == 2
