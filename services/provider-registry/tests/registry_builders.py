"""Small builders of registry test data: request bodies, and API steps that compose them."""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select

TODAY = "2026-11-30"
BUSINESS_IDS = ["0204819-8", "1234567-1", "2345678-0", "0145077-5", "7654321-2"]
IBAN = "FI21 1234 5600 0007 85"


def official(svc: Any) -> dict[str, str]:
    return svc.auth("city_official", subject="liisa.virkailija")


def as_provider(svc: Any, provider_id: str) -> dict[str, str]:
    return svc.auth("provider", provider_id=provider_id, subject=f"staff-of-{provider_id}")


def provider_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Turun Työpaja ry",
        "business_id": BUSINESS_IDS[0],
        "legal_form": "registered_association",
        "registration": {"register": "avi", "number": "AVI-123", "date": "2025-01-15"},
        "data_protection_officer": {"name": "Tiina Tietosuoja", "email": "tietosuoja@tyopaja.fi"},
        "contact": {"phone": "+35821000000", "email": "info@tyopaja.fi", "address": "Linnankatu 1, 20100 Turku"},
        "website": "https://tyopaja.example.fi",
        "supplier_number": "S-1001",
        "payment_terms_days": 14,
        "iban": IBAN,
        "presentation": "Teemme puutöitä ja kierrätystä. We do woodwork and recycling.",
        "phone_hours": "Mon-Fri 9-11",
    }
    body = copy.deepcopy(body)
    body.update(overrides)
    return body


def unit_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Työpaja Keskusta",
        "street_address": "Linnankatu 1",
        "postal_code": "20100",
        "city": "Turku",
        "district": "Keskusta",
        "service_producer_code": f"SPC-{uuid.uuid4().hex[:8]}",
        "responsible_person": {"name": "Ville Vastaava", "qualification": "sosionomi (AMK)", "phone": "+358401111111",
                               "degree": {"level": "bachelor", "title": "sosionomi (AMK)", "institution": "Turun AMK"}},
        "foli_reachable": True,
        "step_free_access": True,
        "suits_partial_work_ability": True,
        "languages": ["fi", "sv", "en"],
        "phone_hours": "Mon-Thu 9-10",
        "premises": {"rescue_check_on": "2026-03-01", "health_check_on": "2026-03-02", "handles_food": False},
        "meals": {"snack": True, "food_heating": True, "warm_meal": True},
    }
    body = copy.deepcopy(body)
    body.update(overrides)
    return body


def product_body(kind: str = "individual", **overrides: Any) -> dict[str, Any]:
    body = {"kind": kind, "name": f"{kind} KTT", "description": "Puutyötä ja kierrätystä omaan tahtiin, selkokielellä.",
            "tasks": ["woodwork", "recycling"], "themes": []}
    body.update(overrides)
    return body


def values_body(**overrides: Any) -> dict[str, Any]:
    body = {"effective_from": TODAY, "day_value_first_year": "45.00", "base_day_value": "38.50", "reason": "price list 2027"}
    body.update(overrides)
    return body


def insurance_body(**overrides: Any) -> dict[str, Any]:
    body = {"insurer": "LähiTapiola", "policy_number": "VAS-77", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}
    body.update(overrides)
    return body


async def apply(svc: Any, provider_id: str, **overrides: Any) -> dict[str, Any]:
    r = await svc.client.post("/v1/providers", json=provider_body(**overrides), headers=as_provider(svc, provider_id))
    assert r.status_code == 201, r.text
    return r.json()


async def add_unit(svc: Any, provider_id: str, **overrides: Any) -> dict[str, Any]:
    r = await svc.client.post(f"/v1/providers/{provider_id}/units", json=unit_body(**overrides), headers=as_provider(svc, provider_id))
    assert r.status_code == 201, r.text
    return r.json()


async def add_instructors(svc: Any, unit: dict[str, Any], n: int = 1) -> list[dict[str, Any]]:
    made = []
    for i in range(n):
        r = await svc.client.post(f"/v1/units/{unit['id']}/instructors",
                                  json={"name": f"Ohjaaja {i + 1}", "qualification": "yhteisöpedagogi", "methods": ["imba", "vat"]},
                                  headers=as_provider(svc, unit["provider_id"]))
        assert r.status_code == 201, r.text
        made.append(r.json())
    return made


async def add_product(svc: Any, provider_id: str, kind: str = "individual", priced: bool = True, **overrides: Any) -> dict[str, Any]:
    r = await svc.client.post(f"/v1/providers/{provider_id}/products", json=product_body(kind, **overrides),
                              headers=as_provider(svc, provider_id))
    assert r.status_code == 201, r.text
    product = r.json()
    if priced:
        values = values_body() if kind != "intensive_coaching" else {"effective_from": TODAY, "hour_value": "60.00"}
        r = await svc.client.post(f"/v1/products/{product['id']}/values", json=values, headers=official(svc))
        assert r.status_code == 201, r.text
    return product


async def insure(svc: Any, provider_id: str, **overrides: Any) -> None:
    r = await svc.client.put(f"/v1/providers/{provider_id}/insurance", json=insurance_body(**overrides),
                             headers=as_provider(svc, provider_id))
    assert r.status_code == 200, r.text


def social_guidance_body(**overrides: Any) -> dict[str, Any]:
    body = {"name": "Sanna Sosionomi", "qualification": "bachelor_of_social_services", "registration_number": "1234567890",
            "availability": "on site Mon-Fri 8-16, by phone otherwise"}
    body.update(overrides)
    return body


def staff_body(*members: dict[str, Any]) -> dict[str, Any]:
    return {"staff": list(members) or [
        {"name": "Ville Vastaava", "role": "responsible person", "qualification": "sosionomi (AMK)", "education_level": "bachelor"},
        {"name": "Ohjaaja 1", "role": "instructor", "qualification": "yhteisöpedagogi", "responsibilities": "woodwork"},
    ]}


def inspection_body(**overrides: Any) -> dict[str, Any]:
    body = {"inspected_on": "2026-11-02", "inspector": "Irma Tarkastaja", "outcome": "approved", "remarks": None,
            "avi_statement_on": "2026-11-05"}
    body.update(overrides)
    return body


async def add_social_guidance(svc: Any, provider_id: str, **overrides: Any) -> dict[str, Any]:
    r = await svc.client.post(f"/v1/providers/{provider_id}/social-guidance", json=social_guidance_body(**overrides),
                              headers=as_provider(svc, provider_id))
    assert r.status_code == 201, r.text
    return r.json()


async def report_staff(svc: Any, provider_id: str, *members: dict[str, Any]) -> dict[str, Any]:
    r = await svc.client.put(f"/v1/providers/{provider_id}/staff", json=staff_body(*members), headers=as_provider(svc, provider_id))
    assert r.status_code == 200, r.text
    return r.json()


async def inspect(svc: Any, unit: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    r = await svc.client.post(f"/v1/units/{unit['id']}/inspections", json=inspection_body(**overrides), headers=official(svc))
    assert r.status_code == 201, r.text
    return r.json()


async def set_status(svc: Any, provider_id: str, status: str, reason: str = "meets the criteria") -> Any:
    return await svc.client.post(f"/v1/providers/{provider_id}/status", json={"status": status, "reason": reason}, headers=official(svc))


async def approved_provider(svc: Any, provider_id: str, *, business_id: str, kind: str = "individual", instructors: int = 1,
                            unit: dict[str, Any] | None = None, product: dict[str, Any] | None = None) -> dict[str, Any]:
    """An approved provider with one unit, its instructors and one priced product, meeting every approval
    precondition: insurance (PRV-10), social guidance and the staff report (PRV-16), the unit's
    responsible person's degree (PRV-16, in unit_body) and an approving inspection (PRV-17)."""
    await apply(svc, provider_id, business_id=business_id, name=f"Provider {provider_id}")
    made_unit = await add_unit(svc, provider_id, **(unit or {}))
    staff = await add_instructors(svc, made_unit, instructors)
    made_product = await add_product(svc, provider_id, kind, **(product or {}))
    await insure(svc, provider_id)
    await add_social_guidance(svc, provider_id)
    await report_staff(svc, provider_id)
    await inspect(svc, made_unit)
    r = await set_status(svc, provider_id, "approved")
    assert r.status_code == 200, r.text
    return {"provider_id": provider_id, "unit": made_unit, "product": made_product, "instructors": staff}


async def outbox_types(svc: Any) -> Counter[str]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.event_type))).scalars().all()
    return Counter(t.split(".")[2] for t in rows)


async def outbox_payloads(svc: Any, name: str) -> list[dict[str, Any]]:
    import json

    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.seq))).scalars().all()
    envelopes = [json.loads(r) for r in rows]
    return [e["data"] for e in envelopes if e["type"].split(".")[2] == name]
