"""The approved list for the TE office and its changes (PRV-15)."""

from __future__ import annotations

import csv
import datetime as dt
import io

from registry_builders import BUSINESS_IDS, add_unit, apply, approved_provider, outbox_payloads, outbox_types, set_status


async def test_prv_15_the_list_holds_approved_providers_with_units_legal_form_business_id_and_approval_dates(registry, clock):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], unit={"name": "Keskusta"})
    await add_unit(svc, "P1", name="Itä", street_address="Itäinen Pitkäkatu 1", postal_code="20700")
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    await approved_provider(svc, "P3", business_id=BUSINESS_IDS[2])
    await apply(svc, "P4", business_id=BUSINESS_IDS[3])                      # applied: not on the list
    await set_status(svc, "P3", "suspended", reason="remarks")              # suspended: off the list
    clock.set(dt.date(2026, 12, 14))
    await set_status(svc, "P2", "suspended", reason="remarks")
    await set_status(svc, "P2", "approved", reason="remarks handled")       # reinstated: on the list since today

    r = await svc.client.get("/v1/approved-list", headers=svc.auth("integrator"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    listed = {p["provider_id"]: p for p in r.json()}
    assert set(listed) == {"P1", "P2"}
    p1, p2 = listed["P1"], listed["P2"]
    assert (p1["business_id"], p1["legal_form"], p1["approved_on"], p1["first_approved_on"]) == (
        BUSINESS_IDS[0], "registered_association", "2026-11-30", "2026-11-30")
    assert [u["name"] for u in p1["units"]] == ["Itä", "Keskusta"] and p1["units"][0]["postal_code"] == "20700"
    assert (p2["approved_on"], p2["first_approved_on"]) == ("2026-12-14", "2026-11-30")
    assert (await svc.client.get("/v1/approved-list", headers=svc.auth("city_official"))).status_code == 200
    for role, claims in (("provider", {"provider_id": "P1"}), ("client", {"client_id": "0c0ffee0-0000-4000-8000-000000000001"})):
        assert (await svc.client.get("/v1/approved-list", headers=svc.auth(role, **claims))).status_code == 403


async def test_prv_15_the_list_as_csv_one_row_per_unit_never_a_formula(registry):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], unit={"name": "=HYPERLINK(\"http://x\")"})
    for request in ({"params": {"format": "csv"}}, {"headers": {"Accept": "text/csv"}}):
        headers = svc.auth("integrator") | request.get("headers", {})
        r = await svc.client.get("/v1/approved-list", params=request.get("params"), headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "text/csv; charset=utf-8"
        assert r.headers["content-disposition"] == 'attachment; filename="approved-list-2026-11-30.csv"'
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [(row["provider_id"], row["business_id"], row["legal_form"], row["approved_on"], row["unit_name"]) for row in rows] == [
            ("P1", BUSINESS_IDS[0], "registered_association", "2026-11-30", "'=HYPERLINK(\"http://x\")")]
    r = await svc.client.get("/v1/approved-list", params={"format": "xml"}, headers=svc.auth("integrator"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.format"


async def test_prv_15_entering_and_leaving_the_list_is_published_once_each(registry, clock):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    assert (await set_status(svc, "P1", "approved", reason="again")).status_code == 200  # replay: no change
    clock.set(dt.date(2026, 12, 10))
    for target, reason in (("suspended", "repeated remarks"), ("approved", "remarks handled"), ("suspended", "no reports"),
                           ("removed", "criteria not met"), ("removed", "criteria not met")):
        assert (await set_status(svc, "P1", target, reason=reason)).status_code == 200
    changes = await outbox_payloads(svc, "ProviderListChanged")
    assert [(c["change"], c["reason"], c["changed_on"]) for c in changes] == [
        ("added", "meets the criteria", "2026-11-30"), ("removed", "repeated remarks", "2026-12-10"),
        ("added", "remarks handled", "2026-12-10"), ("removed", "no reports", "2026-12-10")]
    assert {(c["provider_id"], c["name"], c["business_id"]) for c in changes} == {("P1", "Provider P1", BUSINESS_IDS[0])}
    assert (await outbox_types(svc))["ProviderRemoved"] == 1  # the removal is published, the list did not change again
    assert (await svc.client.get("/v1/approved-list", headers=svc.auth("integrator"))).json() == []
