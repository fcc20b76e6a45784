"""Further quality measures (QUA-2): the city's spot checks and visits, client panels, the provider's
self-monitoring plan and annual report, complaints to the social ombudsman and kantelut, all counted
in the quality figures (QUA-1)."""

from __future__ import annotations

import datetime as dt

from registry_builders import BUSINESS_IDS, approved_provider, as_provider, official


async def record(svc, body: dict, headers=None):
    return await svc.client.post("/v1/providers/P1/quality-records", json=body, headers=headers or official(svc))


async def test_qua_2_the_city_records_checks_visits_and_panels_and_receives_plans_and_reports(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    made = [
        await record(svc, {"kind": "spot_check", "occurred_on": "2026-11-10", "unit_id": p["unit"]["id"],
                           "summary": "no instructor present at 9:30"}),
        await record(svc, {"kind": "visit", "occurred_on": "2026-10-05", "summary": "premises fine"}),
        await record(svc, {"kind": "client_panel", "occurred_on": "2026-11-20", "participants": 7, "summary": "meals"}),
        await record(svc, {"kind": "self_monitoring_plan", "occurred_on": "2026-03-01"}),
        await record(svc, {"kind": "annual_report", "occurred_on": "2026-04-15", "year": 2025}),
        await record(svc, {"kind": "self_monitoring_plan"}, headers=as_provider(svc, "P1")),       # handed in today
    ]
    assert [r.status_code for r in made] == [201] * 6, [r.text for r in made]
    assert (made[5].json()["occurred_on"], made[5].json()["recorded_by"]) == ("2026-11-30", "staff-of-P1")

    refused = {
        "provider records a spot check": await record(svc, {"kind": "spot_check", "summary": "fine"}, headers=as_provider(svc, "P1")),
        "provider backdates": await record(svc, {"kind": "annual_report", "year": 2026, "occurred_on": "2026-11-01"},
                                           headers=as_provider(svc, "P1")),
        "visit without findings": await record(svc, {"kind": "visit", "occurred_on": "2026-11-01"}),
        "in the future": await record(svc, {"kind": "visit", "occurred_on": "2026-12-01", "summary": "x"}),
        "report for a year not begun": await record(svc, {"kind": "annual_report", "year": 2027}),
        "report without a year": await record(svc, {"kind": "annual_report"}),
        "participants of a visit": await record(svc, {"kind": "visit", "participants": 3, "summary": "x"}),
        "another provider's unit": await record(svc, {"kind": "visit", "summary": "x", "unit_id": "00000000-0000-4000-8000-000000000000"}),
    }
    assert {k: r.status_code for k, r in refused.items()} == {
        "provider records a spot check": 403, "provider backdates": 422, "visit without findings": 422, "in the future": 422,
        "report for a year not begun": 422, "report without a year": 422, "participants of a visit": 422,
        "another provider's unit": 422}
    assert all(r.json().get("rule") == "QUA-2" for k, r in refused.items() if k != "another provider's unit")
    again = await record(svc, {"kind": "annual_report", "occurred_on": "2026-05-01", "year": 2025})
    assert again.status_code == 409 and again.json()["rule"] == "QUA-2"

    listed = (await svc.client.get("/v1/providers/P1/quality-records", params={"kind": "self_monitoring_plan"},
                                   headers=as_provider(svc, "P1"))).json()
    assert [r["occurred_on"] for r in listed] == ["2026-03-01", "2026-11-30"]
    assert (await svc.client.get("/v1/providers/P1/quality-records", headers=as_provider(svc, "P2"))).status_code == 404


async def test_qua_2_ombudsman_complaints_and_kantelut_are_recorded_by_officials_and_counted(registry):
    svc = registry
    p = await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    url = "/v1/providers/P1/feedback"
    for kind in ("ombudsman_complaint", "formal_complaint"):
        r = await svc.client.post(url, json={"kind": kind, "comment": "client treated unequally"}, headers=official(svc))
        assert r.status_code == 201 and (r.json()["kind"], r.json()["channel"], r.json()["status"]) == (kind, "city", None)
        for who in (svc.auth("client", client_id="4b0e5b2e-5b5a-4c55-9e0b-3d8c2d7b6a10"), as_provider(svc, "P1")):
            r = await svc.client.post(url, json={"kind": kind, "comment": "x"}, headers=who)
            assert r.status_code == 422 and r.json()["rule"] == "QUA-2"
    r = await svc.client.post(url, json={"kind": "formal_complaint"}, headers=svc.auth("social_worker"))
    assert r.status_code == 422  # a kantelu says what it is about
    r = await svc.client.post(url, json={"kind": "formal_complaint", "comment": "kantelu to AVI"}, headers=svc.auth("social_worker"))
    assert r.status_code == 201
    await record(svc, {"kind": "spot_check", "occurred_on": "2026-11-10", "unit_id": p["unit"]["id"], "summary": "ok"})
    await record(svc, {"kind": "visit", "occurred_on": "2026-10-05", "summary": "ok"})
    await record(svc, {"kind": "client_panel", "occurred_on": "2026-11-20", "summary": "ok"})
    await record(svc, {"kind": "self_monitoring_plan", "occurred_on": "2026-03-01"})
    await record(svc, {"kind": "annual_report", "occurred_on": "2026-04-15", "year": 2025})

    async def figures(start: str, end: str) -> dict:
        r = await svc.client.get("/v1/providers/P1/quality", params={"from": start, "to": end}, headers=official(svc))
        assert r.status_code == 200, r.text
        return r.json()

    whole = await figures("2026-01-01", "2026-11-30")
    assert {k: whole[k] for k in ("ombudsman_complaints", "formal_complaints", "spot_checks", "visits", "client_panels",
                                  "self_monitoring_plans_received", "annual_reports_received", "complaints")} == {
        "ombudsman_complaints": 1, "formal_complaints": 2, "spot_checks": 1, "visits": 1, "client_panels": 1,
        "self_monitoring_plans_received": 1, "annual_reports_received": 1, "complaints": 0}
    assert (whole["latest_self_monitoring_plan_on"], whole["latest_annual_report_year"]) == ("2026-03-01", 2025)
    autumn = await figures("2026-10-01", "2026-10-31")
    assert (autumn["visits"], autumn["spot_checks"], autumn["formal_complaints"], autumn["self_monitoring_plans_received"]) == (1, 0, 0, 0)
    assert autumn["latest_self_monitoring_plan_on"] == "2026-03-01"  # the newest plan by then, received before the period
    early = await figures("2026-01-01", "2026-02-28")
    assert (early["latest_self_monitoring_plan_on"], early["latest_annual_report_year"]) == (None, None)
    listed = (await svc.client.get(url, params={"kind": "formal_complaint"}, headers=official(svc))).json()
    assert len(listed) == 2
    assert dt.date.fromisoformat(listed[0]["received_on"]) == dt.date(2026, 11, 30)
