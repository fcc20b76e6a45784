"""DATA-1: the client's written consent to share plan data with a chosen provider."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.helpers import decision_body


async def _client_id(svc) -> str:
    return (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))).json()["client_id"]


async def _event_types(svc) -> list[tuple[str, dict]]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.seq))).scalars().all()
    return [(json.loads(r)["type"].split(".")[2], json.loads(r)["data"]) for r in rows]


async def test_data1_record_check_withdraw_a_consent(decision_service, announce_provider):
    svc = decision_service
    await announce_provider(svc, "P1")
    client_id = await _client_id(svc)
    official = svc.auth("city_official", subject="liisa")
    body = {"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-20", "valid_until": "2027-11-30"}
    r = await svc.client.post(f"/v1/clients/{client_id}/consents", json=body, headers=official)
    assert r.status_code == 201, r.text
    consent = r.json()
    assert consent["active"] and consent["recorded_by"] == "liisa" and consent["scope"] == ["plan"]
    again = await svc.client.post(f"/v1/clients/{client_id}/consents", json=body, headers=svc.auth("social_worker"))
    assert again.status_code == 200 and again.json()["id"] == consent["id"]  # the same consent: one row, one event

    check = f"/v1/clients/{client_id}/consents/check"
    r = await svc.client.get(check, params={"provider_id": "P1", "scope": "plan"}, headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 200 and r.json()["allowed"] is True and r.json()["consent_id"] == consent["id"]
    r = await svc.client.get(check, params={"provider_id": "P2"}, headers=svc.auth("integrator"))
    assert r.json()["allowed"] is False and r.json()["scope"] == "plan"
    r = await svc.client.get(check, params={"provider_id": "P1", "scope": "decision"}, headers=svc.auth("social_worker"))
    assert r.json()["allowed"] is False  # outside the consent's scope

    r = await svc.client.post(f"/v1/clients/{client_id}/consents/{consent['id']}/withdraw", headers=official)
    assert r.status_code == 200 and r.json()["withdrawn_on"] == "2026-11-26" and r.json()["active"] is False
    r = await svc.client.post(f"/v1/clients/{client_id}/consents/{consent['id']}/withdraw", json={}, headers=official)
    assert r.status_code == 200  # withdrawing again is harmless
    r = await svc.client.get(check, params={"provider_id": "P1"}, headers=svc.auth("provider", provider_id="P1"))
    assert r.json()["allowed"] is False

    listed = await svc.client.get(f"/v1/clients/{client_id}/consents", headers=svc.auth("social_worker"))
    assert [c["id"] for c in listed.json()] == [consent["id"]]
    events = await _event_types(svc)
    assert [t for t, _ in events] == ["DecisionMade", "ConsentRecorded", "ConsentWithdrawn"]
    assert events[1][1] == {"consent_id": consent["id"], "client_id": client_id, "provider_id": "P1", "scope": ["plan"],
                            "given_on": "2026-11-20", "valid_until": "2027-11-30"}
    assert events[2][1]["withdrawn_on"] == "2026-11-26"


async def test_data1_a_provider_cannot_check_or_record_another_providers_consent(decision_service, announce_provider):
    svc = decision_service
    await announce_provider(svc, "P1")
    client_id = await _client_id(svc)
    await svc.client.post(f"/v1/clients/{client_id}/consents", headers=svc.auth("city_official"),
                          json={"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-20"})
    r = await svc.client.get(f"/v1/clients/{client_id}/consents/check", params={"provider_id": "P1"},
                             headers=svc.auth("provider", provider_id="P2"))
    assert r.status_code == 403 and r.json()["rule"] == "DATA-3" and "allowed" not in r.text
    r = await svc.client.post(f"/v1/clients/{client_id}/consents", headers=svc.auth("provider", provider_id="P1"),
                              json={"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-20"})
    assert r.status_code == 403
    r = await svc.client.get(f"/v1/clients/{client_id}/consents", headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 403


async def test_data1_consent_dates_are_checked_and_unknown_clients_are_404(decision_service, announce_provider):
    svc = decision_service
    await announce_provider(svc, "P1")
    client_id = await _client_id(svc)
    h = svc.auth("city_official")
    r = await svc.client.post(f"/v1/clients/{client_id}/consents", headers=h,
                              json={"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-27", "valid_until": "2026-11-26"})
    assert r.status_code == 422 and r.json()["rule"] == "DATA-1"
    assert {e["field"] for e in r.json()["errors"]} == {"body.given_on", "body.valid_until"}
    r = await svc.client.post(f"/v1/clients/{client_id}/consents", headers=h,
                              json={"provider_id": "P1", "scope": ["everything"], "given_on": "2026-11-20"})
    assert r.status_code == 422
    r = await svc.client.post("/v1/clients/00000000-0000-4000-8000-000000000000/consents", headers=h,
                              json={"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-20"})
    assert r.status_code == 404
    assert [t for t, _ in await _event_types(svc)] == ["DecisionMade"]


async def test_data1_a_provider_sees_plan_data_only_with_the_clients_consent(decision_service, announce_provider):
    svc = decision_service
    await announce_provider(svc, "P1")
    client_id = await _client_id(svc)
    p1 = svc.auth("provider", provider_id="P1")
    r = await svc.client.get(f"/v1/clients/{client_id}/plan", headers=p1)
    assert r.status_code == 403 and r.json()["rule"] == "DATA-1"
    body = {"provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-20"}
    assert (await svc.client.post(f"/v1/clients/{client_id}/consents", json=body, headers=svc.auth("city_official"))).status_code == 201
    r = await svc.client.get(f"/v1/clients/{client_id}/plan", headers=p1)
    assert r.status_code == 200
    [plan] = r.json()
    assert plan["plan"] == {"type": "activation_plan", "reference": "AS-2026-77", "date": "2026-11-20"}
    r = await svc.client.get(f"/v1/clients/{client_id}/plan", headers=svc.auth("provider", provider_id="P2"))
    assert r.status_code == 403  # the consent names P1 only
    assert (await svc.client.get(f"/v1/clients/{client_id}/plan", headers=svc.auth("social_worker"))).status_code == 200


async def test_data1_a_consent_names_a_provider_the_registry_knows(decision_service, announce_provider):
    """Issue 13 defect 4: a consent for a provider that does not exist, or was removed, is refused;
    a consent already recorded answers as before on a replay."""
    svc = decision_service
    client_id = await _client_id(svc)
    h = svc.auth("city_official")
    url = f"/v1/clients/{client_id}/consents"
    body = {"provider_id": "NO-SUCH-PROVIDER", "scope": ["plan"], "given_on": "2026-11-20"}
    r = await svc.client.post(url, json=body, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "DATA-1"
    assert r.json()["errors"][0]["field"] == "body.provider_id" and "provider registry" in r.json()["detail"]

    await announce_provider(svc, "P7")
    first = await svc.client.post(url, json=body | {"provider_id": "P7"}, headers=h)
    assert first.status_code == 201, first.text
    await announce_provider(svc, "P7", "removed")
    replay = await svc.client.post(url, json=body | {"provider_id": "P7"}, headers=h)
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    r = await svc.client.post(url, json=body | {"provider_id": "P7", "given_on": "2026-11-21"}, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "DATA-1" and "removed" in r.json()["detail"]
    events = [t for t, _ in await _event_types(svc)]
    assert events.count("ConsentRecorded") == 1
