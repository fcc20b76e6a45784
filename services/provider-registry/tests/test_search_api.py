"""Public search (PRV-4, PRV-5, PRV-7): approved providers only, every filter honoured, no login."""

from __future__ import annotations

from registry_builders import BUSINESS_IDS, add_product, add_unit, apply, approved_provider, set_status


async def _city(svc) -> dict:
    p1 = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0], product={"themes": ["immigrants"]}, unit={
        "name": "Keskustan paja", "languages": ["fi", "sv", "en"], "step_free_access": True, "postal_code": "20100",
        "district": "Keskusta"})
    p2 = await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1], kind="group", instructors=2,
                                 product={"themes": ["young_people"]}, unit={
        "name": "Nummen paja", "languages": ["fi", "sv"], "step_free_access": False, "postal_code": "20500", "district": "Nummi"})
    # Matching everything, but not approved: never found.
    await apply(svc, "P3", business_id=BUSINESS_IDS[2], name="Provider P3")
    await add_unit(svc, "P3", languages=["fi", "sv", "en"], postal_code="20100", district="Keskusta")
    await add_product(svc, "P3", themes=["immigrants", "young_people"])
    await approved_provider(svc, "P4", business_id=BUSINESS_IDS[3], product={"themes": ["immigrants"]},
                            unit={"languages": ["fi", "sv", "en"], "postal_code": "20100", "district": "Keskusta"})
    assert (await set_status(svc, "P4", "suspended", "quality remarks")).status_code == 200
    return {"P1": p1, "P2": p2}


async def _found(svc, **params) -> list[str]:
    r = await svc.client.get("/v1/providers/search", params=params)
    assert r.status_code == 200, r.text
    return [h["provider_id"] for h in r.json()]


async def test_search_returns_only_approved_providers_and_honours_every_filter(registry):
    svc = registry
    await _city(svc)
    assert await _found(svc) == ["P1", "P2"]
    cases = [
        ({"language": "en"}, ["P1"]), ({"language": "SV"}, ["P1", "P2"]), ({"language": "de"}, []),
        ({"accessible": "true"}, ["P1"]), ({"accessible": "false"}, ["P2"]),
        ({"form": "individual"}, ["P1"]), ({"form": "group"}, ["P2"]),
        ({"theme": "immigrants"}, ["P1"]), ({"theme": "young_people"}, ["P2"]), ({"theme": "it_skills"}, []),
        ({"has_free_places": "true"}, ["P1"]), ({"has_free_places": "false"}, ["P2"]),
        ({"postal_code": "20500"}, ["P2"]), ({"postal_code": "20100"}, ["P1"]),
        ({"district": "keskusta"}, ["P1"]), ({"district": "Nummi"}, ["P2"]),
        ({"language": "en", "form": "group"}, []), ({"accessible": "true", "theme": "immigrants", "has_free_places": "true"}, ["P1"]),
    ]
    for params, expected in cases:
        assert await _found(svc, **params) == expected, params


async def test_a_hit_gives_presentation_units_contacts_products_values_places_and_queue_time(registry):
    svc = registry
    await _city(svc)
    [hit] = (await svc.client.get("/v1/providers/search", params={"language": "en"})).json()
    assert hit["presentation"].startswith("Teemme") and hit["phone_hours"] == "Mon-Fri 9-11"
    assert hit["contact"]["email"] == "info@tyopaja.fi" and hit["website"]
    [unit] = hit["units"]
    assert (unit["name"], unit["free_places"], unit["responsible_person"], unit["phone_hours"]) == (
        "Keskustan paja", 25, "Ville Vastaava", "Mon-Thu 9-10")
    assert unit["queues"][0]["expected_wait_days"] == 0 and unit["queues"][0]["queued"] == 0
    [product] = hit["products"]
    assert product["current_value"] == {"effective_from": "2026-11-30", "day_value_first_year": "45.00",
                                        "base_day_value": "38.50", "hour_value": None}
    assert product["description"] and product["themes"] == ["immigrants"]


async def test_search_needs_no_login_and_refuses_bad_filters_plainly(registry):
    svc = registry
    assert (await svc.client.get("/v1/providers/search")).json() == []
    r = await svc.client.get("/v1/providers/search", params={"form": "solo", "postal_code": "2010"})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"query.form", "query.postal_code"}
