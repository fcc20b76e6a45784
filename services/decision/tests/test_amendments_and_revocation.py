"""Amendments (a higher version), revocation (DEC-7) and the refusals of a push at their boundaries
(DEC-2, DEC-4, DEC-8, hetu test mode), through the API with real NATS and databases."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.helpers import HETU_1900, HETU_2023_SIGN, decision_body

JUSTIFIED = "Continuing improves the client's work readiness"
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(i: int) -> str:
    """A distinct valid hetu per i (born 1.1.1980 + i days' worth of codes, individual number 002-899)."""
    digits, individual = f"{1 + i % 28:02d}0180", 2 + i // 28
    return f"{digits}-{individual:03d}{CHECK[int(digits + f'{individual:03d}') % 31]}"


async def _events(svc) -> list[dict]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.seq))).scalars().all()
    return [json.loads(r) for r in rows]


def _types(events: list[dict]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]


async def test_dec7_higher_version_amends_once_with_the_changes_and_full_data_is_shown(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).json()
    assert made["client"]["municipality"] == "Turku" and made["case_worker"]["office"] == "typake"
    # v3 after v1 (a gap is fine): extended to 18 months with a justification, phone changed.
    v3 = decision_body(version=3, period={"start": "2026-12-01", "end": "2028-05-31"}, extension_justification=JUSTIFIED)
    v3["client"]["phone"] = "+358409999999"
    r = await svc.client.post("/v1/decisions", json=v3, headers=h)
    assert r.status_code == 200, r.text
    amended = r.json()
    assert amended["id"] == made["id"] and amended["version"] == 3 and amended["period_end"] == "2028-05-31"
    assert amended["client"]["phone"] == "+358409999999" and amended["extension_justification"] == JUSTIFIED
    again = await svc.client.post("/v1/decisions", json=v3, headers=h)  # a replay of v3 publishes nothing
    assert again.status_code == 200 and again.json()["version"] == 3

    events = await _events(svc)
    assert _types(events) == ["DecisionMade", "DecisionAmended"]
    data = events[1]["data"]
    assert data["version"] == 3 and data["previous_version"] == 1 and data["period_end"] == "2028-05-31"
    assert data["changes"] == {"period_end": {"old": "2027-11-30", "new": "2028-05-31"}}
    assert data["personal_fields_changed"] == ["client.phone", "extension_justification"]
    assert "+358409999999" not in json.dumps(events)  # contact data stays here (DATA-3)

    # Shortening is an amendment too; GET shows the current version's full data, never the hetu.
    v4 = decision_body(version=4, period={"start": "2026-12-01", "end": "2027-05-31"}, form="group")
    r = await svc.client.post("/v1/decisions", json=v4, headers=h)
    assert r.status_code == 200
    changes = (await _events(svc))[-1]["data"]["changes"]
    assert changes == {"period_end": {"old": "2028-05-31", "new": "2027-05-31"}, "form": {"old": "individual", "new": "group"}}
    got = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("social_worker"))
    body = got.json()
    assert body["version"] == 4 and body["form"] == "group" and body["client"]["first_name"] == "Matti"
    assert body["plan"] == {"type": "activation_plan", "reference": "AS-2026-77", "date": "2026-11-20"}
    assert body["special"]["kind"] == "none" and body["decided_by"] == "Liisa Virkailija"
    assert HETU_1900 not in got.text and "hetu" not in got.text


async def test_dec7_lower_or_changed_versions_another_person_and_revoked_decisions_are_409(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    made = (await svc.client.post("/v1/decisions", json=decision_body(version=2), headers=h)).json()
    lower = await svc.client.post("/v1/decisions", json=decision_body(version=1), headers=h)
    assert lower.status_code == 409 and "older than the current version 2" in lower.json()["detail"]

    other_person = decision_body(version=3)
    other_person["client"]["hetu"] = HETU_2023_SIGN
    r = await svc.client.post("/v1/decisions", json=other_person, headers=h)
    assert r.status_code == 409 and "another person" in r.json()["detail"] and r.json()["rule"] == "DEC-7"
    assert HETU_2023_SIGN not in r.text and HETU_1900 not in r.text

    r = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", json={"reason": "Client moved away"},
                              headers=svc.auth("city_official"))
    assert r.status_code == 200 and r.json()["status"] == "revoked" and r.json()["revoked_on"] == "2026-11-26"
    replay = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", json={"reason": "again"}, headers=h)
    assert replay.status_code == 200 and replay.json()["revoked_reason"] == "Client moved away"
    r = await svc.client.post("/v1/decisions", json=decision_body(version=5, form="group"), headers=h)
    assert r.status_code == 409 and "revoked" in r.json()["detail"]
    same = await svc.client.post("/v1/decisions", json=decision_body(version=2), headers=h)
    assert same.status_code == 200 and same.json()["status"] == "revoked"  # a replay stays harmless

    events = await _events(svc)
    assert _types(events) == ["DecisionMade", "DecisionRevoked"]
    assert events[1]["data"] == {"decision_id": made["id"], "client_id": made["client_id"],
                                 "revoked_on": "2026-11-26", "reason": "Client moved away"}


async def test_dec7_revoke_roles_and_unknown_decision(decision_service):
    svc = decision_service
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()
    for role, claims in (("social_worker", {}), ("provider", {"provider_id": "P1"})):
        r = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", json={"reason": "x"}, headers=svc.auth(role, **claims))
        assert r.status_code == 403
    r = await svc.client.post("/v1/decisions/00000000-0000-4000-8000-000000000000/revoke", json={"reason": "x"},
                              headers=svc.auth("integrator"))
    assert r.status_code == 404
    r = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", json={"reason": ""}, headers=svc.auth("integrator"))
    assert r.status_code == 422
    r = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 403  # a provider cannot read decisions
    assert _types(await _events(svc)) == ["DecisionMade"]


async def test_refusals_at_their_boundaries_through_the_api(decision_service):
    """DEC-4 (3 / 12 / 24 months), DEC-2 (plan date) and DEC-8 (home municipality), each on both
    sides of its boundary; every refusal names its rule and nothing is published for it."""
    svc = decision_service
    h = svc.auth("integrator")
    cases = [  # (period end, justification, plan date, municipality, expected rule or None)
        ("2027-02-28", None, "2026-11-20", "Turku", None),          # exactly 3 months
        ("2027-02-27", None, "2026-11-20", "Turku", "DEC-4"),       # a day less
        ("2027-11-30", None, "2026-11-20", "Turku", None),          # exactly 12 months without justification
        ("2027-12-01", None, "2026-11-20", "Turku", "DEC-4"),       # a day more without justification
        ("2028-11-30", JUSTIFIED, "2026-11-20", "Turku", None),     # exactly 24 months with justification
        ("2028-12-01", JUSTIFIED, "2026-11-20", "Turku", "DEC-4"),  # a day more
        ("2027-11-30", None, "2026-11-25", "Turku", None),          # plan dated on the decision day
        ("2027-11-30", None, "2026-11-26", "Turku", "DEC-2"),       # plan dated a day after
        ("2027-11-30", None, "2026-11-20", " tURKU ", None),          # the city, in any case
        ("2027-11-30", None, "2026-11-20", "Kaarina", "DEC-8"),     # outside the city, check on by default
    ]
    accepted = 0
    for i, (end, justification, plan_date, municipality, rule) in enumerate(cases):
        body = decision_body(source_id=f"B-{i}", period={"start": "2026-12-01", "end": end},
                             extension_justification=justification,
                             plan={"type": "activation_plan", "reference": "AS-1", "date": plan_date})
        body["client"]["municipality"] = municipality
        body["client"]["hetu"] = hetu(i)  # a client each: one client's decisions never overlap (DEC-4)
        r = await svc.client.post("/v1/decisions", json=body, headers=h)
        if rule is None:
            assert r.status_code == 201, (i, r.text)
            accepted += 1
        else:
            assert r.status_code == 422, (i, r.text)
            assert r.json()["rule"] == rule and {e["rule"] for e in r.json()["errors"]} == {rule}, (i, r.text)
    assert _types(await _events(svc)) == ["DecisionMade"] * accepted


async def test_all_refusals_are_reported_at_once(decision_service):
    svc = decision_service
    body = decision_body(period={"start": "2026-12-01", "end": "2027-01-31"},
                         plan={"type": "activation_plan", "reference": "AS-1", "date": "2026-12-24"},
                         special={"kind": "assessment_period"})
    body["client"]["municipality"] = "Raisio"
    body["client"]["hetu"] = "131052-308A"
    r = await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))
    assert r.status_code == 422
    assert {e["rule"] for e in r.json()["errors"]} == {"DEC-3", "DEC-4", "DEC-2", "VOU-8", "DEC-8"}
    assert "rule" not in r.json()  # several rules: each named in its error


async def test_dec8_check_off_accepts_other_municipalities_and_test_mode_accepts_temporary_codes(start_decision):
    async with start_decision(home_municipality_check=False, hetu_test_mode=True) as svc:
        body = decision_body()
        body["client"]["municipality"] = "Kaarina"
        body["client"]["hetu"] = "010190-999W"  # individual number 999: a temporary code
        r = await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))
        assert r.status_code == 201, r.text
        assert r.json()["client"]["municipality"] == "Kaarina"
    async with start_decision(home_municipality="Kaarina") as svc:
        body = decision_body()
        body["client"]["municipality"] = "KAARINA"
        assert (await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))).status_code == 201
        r = await svc.client.post("/v1/decisions", json=decision_body(source_id="T"), headers=svc.auth("integrator"))
        assert r.status_code == 422 and r.json()["rule"] == "DEC-8" and "Kaarina" in r.json()["detail"]


async def test_dec7_the_same_amendment_pushed_three_times_concurrently_amends_once(decision_service):
    import asyncio

    svc = decision_service
    h = svc.auth("integrator")
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).json()
    v2 = decision_body(version=2, period={"start": "2026-12-01", "end": "2027-08-31"})
    replies = await asyncio.gather(*(svc.client.post("/v1/decisions", json=v2, headers=h) for _ in range(3)))
    assert [r.status_code for r in replies] == [200, 200, 200], [r.text for r in replies]
    assert {r.json()["version"] for r in replies} == {2} and {r.json()["id"] for r in replies} == {made["id"]}
    assert _types(await _events(svc)) == ["DecisionMade", "DecisionAmended"]
