"""Providers: application checks (PRV-1, PRV-2), the approval state machine with its preconditions,
publication exactly once, and DATA-3 for provider users."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from ktt_registry.models import Provider
from registry_builders import (
    BUSINESS_IDS, add_instructors, add_product, add_social_guidance, add_unit, apply, approved_provider, as_provider, inspect,
    inspection_body, insure, official, outbox_payloads, outbox_types, provider_body, report_staff, set_status,
    social_guidance_body, staff_body, unit_body, values_body,
)


async def test_company_forms_are_refused_citing_prv_2(registry):
    """PRV-2: KTT is never bought from a company."""
    svc = registry
    for form in ("limited_company", "public_limited_company", "partnership", "sole_trader", "cooperative"):
        r = await svc.client.post("/v1/providers", json=provider_body(legal_form=form), headers=as_provider(svc, "P1"))
        assert r.status_code == 422, form
        assert r.json()["rule"] == "PRV-2" and "company" in r.json()["detail"]
    r = await svc.client.post("/v1/providers", json=provider_body(legal_form="registered_foundation"), headers=as_provider(svc, "P1"))
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "applied" and r.json()["business_id"] == BUSINESS_IDS[0]
    assert (await outbox_types(svc))["ProviderApplied"] == 1


async def test_prv_2_a_public_organiser_cannot_apply_or_be_approved_as_a_voucher_provider(registry):
    """PRV-2 (amended): a municipality, joint municipal authority or state agency provides KTT by contract."""
    svc = registry
    for form in ("municipality", "joint_municipal_authority", "state_agency"):
        r = await svc.client.post("/v1/providers", json=provider_body(legal_form=form), headers=official(svc))
        assert r.status_code == 422, form
        problem = r.json()
        assert problem["rule"] == "PRV-2" and [e["field"] for e in problem["errors"]] == ["body.legal_form"]
        assert "contract" in problem["detail"] and "not by voucher" in problem["detail"]
    assert (await outbox_types(svc))["ProviderApplied"] == 0
    # A public organiser that applied before the amendment is not approved either, whatever else it has.
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await set_status(svc, "P1", "suspended", reason="remarks")
    async with svc.rt.sessionmaker() as session, session.begin():
        await session.execute(update(Provider).where(Provider.id == "P1").values(legal_form="municipality"))
    r = await set_status(svc, "P1", "approved", reason="remarks handled")
    assert r.status_code == 422 and r.json()["rule"] == "PRV-2"
    assert [e["field"] for e in r.json()["errors"]] == ["legal_form"] and "not by voucher" in r.json()["detail"]
    assert (await outbox_types(svc))["ProviderApproved"] == 1


async def test_business_id_and_iban_are_validated_and_all_errors_listed_at_once(registry):
    """PRV-1: a Y-tunnus with the wrong check digit and a bad IBAN are both reported in one answer."""
    svc = registry
    r = await svc.client.post("/v1/providers", json=provider_body(business_id="0204819-7", iban="FI21 1234 5600 0007 86",
                                                                    legal_form="limited_company"),
                              headers=official(svc))
    assert r.status_code == 422
    by_field = {e["field"]: e for e in r.json()["errors"]}
    assert set(by_field) == {"body.business_id", "body.iban", "body.legal_form"}
    assert "check digit" in by_field["body.business_id"]["message"] and by_field["body.business_id"]["rule"] == "PRV-1"
    assert "IBAN" in by_field["body.iban"]["message"]
    r = await svc.client.post("/v1/providers", json=provider_body(business_id="12345", iban="not an iban"), headers=official(svc))
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"body.business_id", "body.iban"}
    # Valid input in loose spacing is stored in canonical form.
    r = await svc.client.post("/v1/providers", json=provider_body(id="P9", business_id="02048198"), headers=official(svc))
    assert r.status_code == 201 and r.json()["business_id"] == "0204819-8" and r.json()["iban"] == "FI2112345600000785"
    assert (await outbox_types(svc)) == {"ProviderApplied": 1}


async def test_a_provider_applies_only_under_its_own_id_and_duplicates_conflict(registry):
    """DATA-3: the new provider's id is the one in the applicant's token."""
    svc = registry
    r = await svc.client.post("/v1/providers", json=provider_body(id="OTHER"), headers=as_provider(svc, "P1"))
    assert r.status_code == 403 and r.json()["rule"] == "DATA-3"
    r = await svc.client.post("/v1/providers", json=provider_body(), headers=as_provider(svc, "P1"))
    assert r.status_code == 201 and r.json()["id"] == "P1"
    again = await svc.client.post("/v1/providers", json=provider_body(), headers=as_provider(svc, "P1"))
    assert again.status_code == 409
    same_business = await svc.client.post("/v1/providers", json=provider_body(), headers=as_provider(svc, "P2"))
    assert same_business.status_code == 409 and "business ID" in same_business.json()["detail"]
    assert (await outbox_types(svc)) == {"ProviderApplied": 1}


async def test_approval_lists_every_missing_precondition_at_once(registry):
    """PRV-1, PRV-3, PRV-10, PRV-16, VOU-1: a bare application lacks a unit, insurance, a priced product,
    social guidance and the staff report."""
    svc = registry
    await apply(svc, "P1")
    r = await set_status(svc, "P1", "approved")
    assert r.status_code == 422
    errors = {e["field"]: e["rule"] for e in r.json()["errors"]}
    assert errors == {"units": "PRV-3", "insurance": "PRV-10", "products": "VOU-1", "social_guidance": "PRV-16",
                      "staff": "PRV-16"}
    # Expired insurance, an unpriced product, a unit that is neither inspected nor led by a graduate: listed at once.
    unit = await add_unit(svc, "P1", responsible_person={"name": "Ville Vastaava", "qualification": "artesaani"})
    await add_product(svc, "P1", priced=False)
    await insure(svc, "P1", valid_from="2025-01-01", valid_until="2026-11-29")
    await add_social_guidance(svc, "P1")
    await report_staff(svc, "P1")
    r = await set_status(svc, "P1", "approved")
    assert {e["field"]: e["rule"] for e in r.json()["errors"]} == {
        "insurance": "PRV-10", "products": "VOU-1", f"units.{unit['id']}.responsible_person.degree": "PRV-16",
        f"units.{unit['id']}.inspection": "PRV-17"}
    assert "2026-11-29" in r.json()["detail"] and "Työpaja Keskusta" in r.json()["detail"]
    assert (await outbox_types(svc))["ProviderApproved"] == 0


async def test_prv_16_and_prv_17_every_unit_needs_social_guidance_a_graduate_in_charge_and_approved_premises(registry):
    """PRV-16: social guidance covers each unit (its own or a provider-wide arrangement) and each unit's
    responsible person has a higher-education degree. PRV-17: the latest inspection approved the premises."""
    svc = registry
    await apply(svc, "P1")
    first = await add_unit(svc, "P1", name="Ensimmäinen")
    second = await add_unit(svc, "P1", name="Toinen")
    await add_product(svc, "P1")
    await insure(svc, "P1")
    await report_staff(svc, "P1")
    await add_social_guidance(svc, "P1", unit_id=first["id"])          # covers the first unit only
    await inspect(svc, first, outcome="remarks", remarks="fire exit signs missing; fixed within a month")
    await inspect(svc, second, outcome="approved", inspected_on="2026-10-01", avi_statement_on="2026-10-02")
    await inspect(svc, second, outcome="rejected", inspected_on="2026-11-20", remarks="no accessible toilet", avi_statement_on=None)
    r = await set_status(svc, "P1", "approved")
    assert r.status_code == 422
    assert {e["field"]: e["rule"] for e in r.json()["errors"]} == {
        f"units.{second['id']}.social_guidance": "PRV-16", f"units.{second['id']}.inspection": "PRV-17"}
    assert "Toinen" in r.json()["detail"] and "rejected" in r.json()["detail"]
    # A provider-wide arrangement covers the second unit; a new inspection approves its premises.
    await add_social_guidance(svc, "P1", name="Sami Sosiaalityöntekijä", qualification="social_worker", registration_number="9876543210")
    inspection = await inspect(svc, second, outcome="approved", inspected_on="2026-11-27", avi_statement_on=None)
    r = await set_status(svc, "P1", "approved")
    assert r.status_code == 200, r.text
    # The statement to AVI is recorded once it is given, after the inspection and not in advance.
    url = f"/v1/inspections/{inspection['id']}/avi-statement"
    r = await svc.client.put(url, json={"given_on": "2026-11-26"}, headers=official(svc))
    assert r.status_code == 422 and r.json()["rule"] == "PRV-17"
    r = await svc.client.put(url, json={"given_on": "2026-12-01"}, headers=official(svc))
    assert r.status_code == 422 and r.json()["rule"] == "PRV-17"
    for _ in range(2):
        r = await svc.client.put(url, json={"given_on": "2026-11-28"}, headers=official(svc))
        assert r.status_code == 200 and r.json()["avi_statement_on"] == "2026-11-28"
    r = await svc.client.put(url, json={"given_on": "2026-11-29"}, headers=official(svc))
    assert r.status_code == 409 and r.json()["rule"] == "PRV-17"
    listed = (await svc.client.get(f"/v1/units/{second['id']}/inspections", headers=as_provider(svc, "P1"))).json()
    assert [i["outcome"] for i in listed] == ["approved", "rejected", "approved"]


async def test_prv_17_only_an_official_inspects_and_an_inspection_says_what_it_found(registry):
    svc = registry
    await apply(svc, "P1")
    unit = await add_unit(svc, "P1")
    url = f"/v1/units/{unit['id']}/inspections"
    r = await svc.client.post(url, json=inspection_body(), headers=as_provider(svc, "P1"))
    assert r.status_code == 403
    r = await svc.client.post(url, json=inspection_body(outcome="remarks", inspected_on="2026-12-01", avi_statement_on="2026-11-01"),
                              headers=official(svc))
    assert r.status_code == 422 and r.json()["rule"] == "PRV-17"
    assert {e["field"] for e in r.json()["errors"]} == {"body.inspected_on", "body.remarks", "body.avi_statement_on"}
    r = await svc.client.post(url, json=inspection_body(outcome="excellent"), headers=official(svc))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.outcome"
    assert (await svc.client.get(url, headers=official(svc))).json() == []


async def test_prv_16_social_guidance_is_qualified_and_never_left_uncovered_while_approved(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    url, h = "/v1/providers/P1/social-guidance", as_provider(svc, "P1")
    r = await svc.client.post(url, json=social_guidance_body(qualification="practical_nurse"), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.qualification"
    r = await svc.client.post(url, json=social_guidance_body(registration_number=""), headers=h)
    assert r.status_code == 422
    r = await svc.client.post(url, json=social_guidance_body(unit_id=str(uuid.uuid4())), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.unit_id"
    [current] = (await svc.client.get(url, headers=official(svc))).json()
    r = await svc.client.post(f"/v1/social-guidance/{current['id']}/end", headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-16" and p["unit"]["name"] in r.json()["detail"]
    assert (await svc.client.get(url, headers=official(svc))).json()[0]["active"] is True  # nothing changed
    replacement = await add_social_guidance(svc, "P1", unit_id=p["unit"]["id"], name="Uusi Sosionomi")
    r = await svc.client.post(f"/v1/social-guidance/{current['id']}/end", headers=h)
    assert r.status_code == 200 and (r.json()["active"], r.json()["ended_on"]) == (False, "2026-11-30")
    assert [g["id"] for g in (await svc.client.get(url, headers=official(svc))).json() if g["active"]] == [replacement["id"]]


async def test_prv_16_the_staff_report_replaces_the_last_and_never_holds_a_hetu(registry):
    svc = registry
    await apply(svc, "P1")
    unit = await add_unit(svc, "P1")
    url, h = "/v1/providers/P1/staff", as_provider(svc, "P1")
    empty = (await svc.client.get(url, headers=official(svc))).json()
    assert (empty["reported_on"], empty["staff"]) == (None, [])
    r = await svc.client.put(url, json=staff_body({"name": "Olli Ohjaaja 131052-308T", "role": "instructor", "qualification": "artesaani"}),
                             headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-16" and r.json()["errors"][0]["field"] == "body.staff.0.name"
    assert "131052-308T" not in r.text
    r = await svc.client.put(url, json={"staff": []}, headers=h)
    assert r.status_code == 422
    await report_staff(svc, "P1")
    report = await report_staff(svc, "P1", {"name": "Olli Ohjaaja", "role": "instructor", "qualification": "artesaani",
                                            "unit_id": unit["id"], "education_level": "vocational"})
    assert [(m["name"], m["unit_id"]) for m in report["staff"]] == [("Olli Ohjaaja", unit["id"])]
    assert report["reported_on"] == "2026-11-30" and report["reported_by"] == "staff-of-P1"
    assert (await svc.client.get(url, headers=as_provider(svc, "P2"))).status_code == 404  # DATA-3: never confirmed


async def test_every_transition_is_published_exactly_once_and_replays_publish_nothing(registry):
    """PRV-1 / PRV-11: applied -> approved -> suspended -> approved -> suspended -> removed."""
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    assert (await set_status(svc, "P1", "approved")).status_code == 200  # replay: no change
    for target in ("suspended", "suspended", "approved", "suspended", "removed", "removed"):
        r = await set_status(svc, "P1", target, reason=f"because {target}")
        assert r.status_code == 200 and r.json()["status"] == target
    counts = await outbox_types(svc)
    assert (counts["ProviderApproved"], counts["ProviderSuspended"], counts["ProviderRemoved"]) == (2, 2, 1)
    removed = (await outbox_payloads(svc, "ProviderRemoved"))[0]
    assert removed["previous_status"] == "suspended" and removed["reason"] == "because removed"
    assert removed["changed_by"] == "liisa.virkailija" and removed["iban"] == "FI2112345600000785"
    history = (await svc.client.get("/v1/providers/P1/status-history", headers=official(svc))).json()
    assert [(h["from"], h["to"]) for h in history] == [
        ("applied", "approved"), ("approved", "suspended"), ("suspended", "approved"), ("approved", "suspended"),
        ("suspended", "removed")]
    # Removed is final; a removed provider cannot come back.
    r = await set_status(svc, "P1", "approved")
    assert r.status_code == 409 and r.json()["rule"] == "PRV-1" and "final" in r.json()["detail"]
    assert await outbox_types(svc) == counts


async def test_transitions_outside_the_state_machine_are_refused(registry):
    svc = registry
    await apply(svc, "P1")
    for target in ("suspended", "removed"):
        r = await set_status(svc, "P1", target)
        assert r.status_code == 409 and "allowed: approved" in r.json()["detail"]
    r = await svc.client.post("/v1/providers/P1/status", json={"status": "approved", "reason": ""}, headers=official(svc))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reason"


async def test_only_a_city_official_approves_and_sets_values(registry):
    svc = registry
    await apply(svc, "P1")
    unit = await add_unit(svc, "P1")
    await add_instructors(svc, unit)
    product = await add_product(svc, "P1", priced=False)
    r = await svc.client.post("/v1/providers/P1/status", json={"status": "approved", "reason": "self"}, headers=as_provider(svc, "P1"))
    assert r.status_code == 403
    r = await svc.client.post(f"/v1/products/{product['id']}/values", json=values_body(), headers=as_provider(svc, "P1"))
    assert r.status_code == 403
    r = await svc.client.post(f"/v1/products/{product['id']}/values", json=values_body(), headers=svc.auth("social_worker"))
    assert r.status_code == 403
    assert (await outbox_types(svc))["PriceListChanged"] == 0


async def test_a_provider_user_cannot_touch_another_providers_data(registry):
    """DATA-3: P2's staff can neither read nor change P1, its units or products, nor any value."""
    svc = registry
    p1 = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await apply(svc, "P2", business_id=BUSINESS_IDS[1])
    other = as_provider(svc, "P2")
    before = await outbox_types(svc)
    unit_id, product_id = p1["unit"]["id"], p1["product"]["id"]
    attempts = [
        svc.client.get("/v1/providers/P1", headers=other),
        svc.client.patch("/v1/providers/P1", json={"name": "Hijacked"}, headers=other),
        svc.client.put("/v1/providers/P1/insurance", json={"insurer": "x", "policy_number": "y", "valid_from": "2026-01-01",
                                                           "valid_until": "2027-01-01"}, headers=other),
        svc.client.post("/v1/providers/P1/units", json=unit_body(), headers=other),
        svc.client.post("/v1/providers/P1/products", json={"kind": "group", "name": "x", "description": "x" * 20}, headers=other),
        svc.client.patch(f"/v1/units/{unit_id}", json={"name": "Hijacked"}, headers=other),
        svc.client.put(f"/v1/units/{unit_id}/availability", json={"taking_clients": False, "reason": "closed"}, headers=other),
        svc.client.post(f"/v1/units/{unit_id}/instructors", json={"name": "x", "qualification": "y"}, headers=other),
        svc.client.patch(f"/v1/products/{product_id}", json={"name": "Hijacked"}, headers=other),
        svc.client.post(f"/v1/products/{product_id}/values", json=values_body(), headers=other),
        svc.client.post("/v1/providers/P1/subcontractors", json={"name": "x", "business_id": BUSINESS_IDS[2], "services": "cleaning"},
                        headers=other),
    ]
    statuses = [(await a).status_code for a in attempts]
    # Another provider's resource is answered as a missing one (404, issue 12 item 7); only setting
    # values is refused by role (403: a city official's act, whoever's the product).
    assert statuses == [404] * 9 + [403, 404], statuses
    theirs = (await svc.client.get("/v1/providers/P1", headers=other)).json()
    missing = (await svc.client.get("/v1/providers/P9", headers=official(svc))).json()
    assert {**theirs, "detail": theirs["detail"].replace("P1", "P9"), "instance": None} == \
        {**missing, "instance": None}
    listed = (await svc.client.get("/v1/providers", headers=other)).json()
    assert [p["id"] for p in listed] == ["P2"]
    assert (await svc.client.get("/v1/providers/P1", headers=official(svc))).json()["name"] == "Provider P1"
    assert await outbox_types(svc) == before
    # Its own data it may change.
    r = await svc.client.patch("/v1/providers/P2", json={"presentation": "Selkokielinen esittely."}, headers=other)
    assert r.status_code == 200 and r.json()["presentation"] == "Selkokielinen esittely."
    await svc.client.patch("/v1/providers/P2", json={"presentation": "Selkokielinen esittely."}, headers=other)
    [changed] = [c for c in await outbox_payloads(svc, "ProviderChanged")  # the same change again publishes nothing
                 if c["changed_fields"] != ["insurance_valid_until"]]
    assert (changed["provider_id"], changed["changed_fields"]) == ("P2", ["presentation"])
    r = await svc.client.patch("/v1/providers/P2", json={"iban": "FI21 1234 5600 0007 86"}, headers=other)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.iban"
