"""Steps of a client's path that several cross-service tests take, through the public APIs only."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from ktt_common.testing import eventually


class ServiceClient(Protocol):
    """A service the journeys call: in process (``ktt_common.testing.RunningService``) or over HTTP (``tools.demo.Remote``)."""

    client: httpx.AsyncClient

    def auth(self, role: str, **claims: Any) -> dict[str, str]: ...


DRAFT_TERMS = {"absence_reporting_and_certificates": True, "sanctions_for_unauthorised_absence": True,
               "no_participation_under_influence": True, "termination_and_complaint_terms": True,
               "self_monitoring_plan": True, "orientation_folder": True, "fire_safety_induction": True}


async def approved_provider(registry: ServiceClient, provider_id: str = "P1",
                            deputies: tuple[str, ...] = (), *, name: str = "Turun Työpaja ry", business_id: str = "0204819-8",
                            iban: str = "FI2112345600000785", supplier_number: str = "S-1",
                            unit_name: str = "Työpaja Keskusta", producer_code: str = "SPC-1") -> tuple[dict[str, Any], dict[str, Any]]:
    """A provider applies with a unit, an instructor and a product; Typake prices (45.00 € a day, 38.50 € after the
    first year), inspects and approves it (PRV-1..PRV-17). Returns the unit and the product. ``registry`` is anything
    with an httpx ``client`` and ``auth(role, **claims)``: an in-process service or one over HTTP (make demo)."""
    official = registry.auth("city_official")
    staff = registry.auth("provider", provider_id=provider_id)

    async def ok(method: str, url: str, body: dict[str, Any], who: dict[str, str], status: int = 201) -> dict[str, Any]:
        r = await registry.client.request(method, url, json=body, headers=who)
        assert r.status_code == status, r.text
        answer: dict[str, Any] = r.json()
        return answer

    await ok("POST", "/v1/providers", {
        "name": name, "business_id": business_id, "legal_form": "registered_association",
        "registration": {"register": "avi", "number": "AVI-1", "date": "2025-01-15"},
        "data_protection_officer": {"name": "Tiina Tietosuoja", "email": "dpo@tyopaja.example"},
        "contact": {"phone": "+35821000000", "email": "info@tyopaja.example", "address": "Linnankatu 1, 20100 Turku"},
        "website": "https://tyopaja.example", "supplier_number": supplier_number, "payment_terms_days": 14,
        "iban": iban, "presentation": "Puutöitä ja kierrätystä.", "phone_hours": "Mon-Fri 9-11"}, staff)
    unit = await ok("POST", f"/v1/providers/{provider_id}/units", {
        "name": unit_name, "street_address": "Linnankatu 1", "postal_code": "20100", "city": "Turku",
        "district": "Keskusta", "service_producer_code": producer_code,
        "responsible_person": {"name": "Ville Vastaava", "qualification": "sosionomi (AMK)", "phone": "+358401111111",
                               "degree": {"level": "bachelor", "title": "sosionomi (AMK)"},
                               "signing_deputies": list(deputies)},
        "foli_reachable": True, "step_free_access": True, "suits_partial_work_ability": True, "languages": ["fi", "sv"],
        "phone_hours": "Mon-Thu 9-10", "premises": {"rescue_check_on": "2026-03-01", "health_check_on": "2026-03-02",
                                                     "handles_food": False},
        "meals": {"snack": True, "food_heating": True, "warm_meal": False}}, staff)
    await ok("POST", f"/v1/units/{unit['id']}/instructors",
             {"name": "Ohjaaja Olli", "qualification": "yhteisöpedagogi", "methods": ["imba"]}, staff)
    product = await ok("POST", f"/v1/providers/{provider_id}/products", {
        "kind": "individual", "name": "Yksilöllinen KTT", "description": "Puutyötä omaan tahtiin.", "tasks": ["puutyö"],
        "themes": []}, staff)
    await ok("POST", f"/v1/products/{product['id']}/values", {
        "effective_from": "2026-11-30", "day_value_first_year": "45.00", "base_day_value": "38.50", "reason": "price list"},
        official)
    await ok("PUT", f"/v1/providers/{provider_id}/insurance", {
        "insurer": "Vakuutus Oy", "policy_number": "V-1", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}, staff, 200)
    await ok("POST", f"/v1/providers/{provider_id}/social-guidance", {
        "name": "Sanna Sosionomi", "qualification": "bachelor_of_social_services", "registration_number": "1234567890",
        "availability": "on site Mon-Fri 8-16"}, staff)
    await ok("PUT", f"/v1/providers/{provider_id}/staff", {"staff": [
        {"name": "Ville Vastaava", "role": "responsible person", "qualification": "sosionomi (AMK)"},
        {"name": "Ohjaaja Olli", "role": "instructor", "qualification": "yhteisöpedagogi"}]}, staff, 200)
    await ok("POST", f"/v1/units/{unit['id']}/inspections", {
        "inspected_on": "2026-11-02", "inspector": "Irma Tarkastaja", "outcome": "approved", "avi_statement_on": "2026-11-05"},
        official)
    await ok("POST", f"/v1/providers/{provider_id}/status", {"status": "approved", "reason": "meets the criteria"}, official, 200)
    return unit, product


async def signed_agreement(voucher: ServiceClient, issued: dict[str, Any], unit: dict[str, Any], product: dict[str, Any],
                           provider_id: str = "P1", **overrides: Any) -> dict[str, Any]:
    """The provider drafts on the voucher number once the registry's facts have arrived; the responsible person and the
    instructor sign with the provider's login, the client through the voucher link (AGR-1, AGR-7)."""
    provider = voucher.auth("provider", provider_id=provider_id)
    draft = {
        "voucher_number": issued["number"], "unit_id": unit["id"], "product_id": product["id"],
        "start_date": "2026-12-07", "end_date": "2027-05-31",
        "schedule": [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("mon", "tue", "wed")],
        "tasks": ["puutyöt"], "goals": "Arjen rytmi", "instructor": {"name": "Ohjaaja Olli", "phone": "+358401111111"},
        "client_contact": {"phone": "+358402222222"},
        "case_worker": {"name": "Liisa Virkailija", "email": "liisa.virkailija@turku.example"},
        "individual_coaching": "1 h a week", "parallel_services": [], "work_cards": [], "terms": DRAFT_TERMS,
    } | overrides

    async def drafted() -> dict[str, Any] | None:
        r = await voucher.client.post("/v1/agreements", json=draft, headers=provider)
        return r.json() if r.status_code == 201 else None

    agreement = await eventually(drafted, what="agreement drafted after the registry's events")
    for party, name in (("responsible_person", "Ville Vastaava"), ("instructor", "Ohjaaja Olli")):
        r = await voucher.client.post(f"/v1/agreements/{agreement['id']}/signatures", headers=provider,
                                      json={"party": party, "name": name, "place": "Turku"})
        assert r.status_code == 200, r.text
    link = await voucher.client.post(f"/v1/vouchers/{issued['id']}/links", headers=voucher.auth("city_official"), json={})
    assert link.status_code == 201, link.text
    r = await voucher.client.post(f"{link.json()['url']}/agreements/{agreement['id']}/signatures",
                                  json={"party": "client", "name": "Asiakas", "place": "Turku"})
    assert r.status_code == 200 and r.json()["state"] == "signed", r.text
    signed: dict[str, Any] = r.json()
    return signed


async def monthly_follow_up(attendance: ServiceClient, agreement_id: str, month: str, provider_id: str = "P1",
                            assessment: str = "Asiakas on kiinnittynyt hyvin toimintaan.") -> dict[str, Any]:
    """The provider submits the month's follow-up of its client to the case worker (ATT-11), the report
    billing waits for (BIL-3)."""
    r = await attendance.client.post("/v1/reports", headers=attendance.auth("provider", provider_id=provider_id),
                                     json={"agreement_id": agreement_id, "kind": "monthly_follow_up", "month": month,
                                           "assessment": assessment})
    assert r.status_code == 201, r.text
    report: dict[str, Any] = r.json()
    return report
