"""VOU-9: a representative (asiainhoitaja) the client authorised to act for them: recorded
idempotently, listed, withdrawn, published for the voucher service; never a hetu (DATA-4);
reads and writes audited."""

from __future__ import annotations

import json

from sqlalchemy import select

from ktt_common.identifiers import contains_hetu
from tests.helpers import decision_body


async def _client_id(svc) -> str:
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))
    assert r.status_code == 201, r.text
    return r.json()["client_id"]


def _rep(**over) -> dict:
    body = {"name": "Maija Meikäläinen", "phone": "+358401111111", "email": None, "relation": "sister",
            "authorised_on": "2026-11-20", "valid_until": "2027-11-30", "scope": ["handle_voucher", "choose_provider"]}
    return body | over


async def _events(svc, name: str | None = None) -> list[dict]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = [json.loads(r) for r in (await s.execute(select(outbox.c.envelope).order_by(outbox.c.seq))).scalars()]
    return [e for e in rows if name is None or e["type"] == f"ktt.decision.{name}.v1"]


async def test_vou9_record_replay_list_and_withdraw_with_events(decision_service):
    svc = decision_service
    client_id = await _client_id(svc)
    url = f"/v1/clients/{client_id}/representatives"
    worker = svc.auth("social_worker", subject="sanna")

    r = await svc.client.post(url, json=_rep(), headers=worker)
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["scope"] == ["choose_provider", "handle_voucher"] and rep["active"] is True
    assert rep["recorded_by"] == "sanna" and rep["relation"] == "sister" and "hetu" not in rep

    # The same authorisation again (the name in other case and spacing, the scope in another order):
    # the stored one, nothing published.
    again = await svc.client.post(url, json=_rep(name="  maija   MEIKÄLÄINEN", scope=["choose_provider", "handle_voucher"]),
                                  headers=svc.auth("city_official"))
    assert again.status_code == 200 and again.json()["id"] == rep["id"] and again.json()["name"] == "Maija Meikäläinen"
    other = await svc.client.post(url, json=_rep(scope=["choose_provider", "sign_agreement"]), headers=worker)
    assert other.status_code == 409 and other.json()["rule"] == "VOU-9" and rep["id"] in other.json()["detail"]

    [authorised] = await _events(svc, "RepresentativeAuthorised")
    assert authorised["subject"] == client_id
    assert authorised["data"] == {"representative_id": rep["id"], "client_id": client_id, "name": "Maija Meikäläinen",
                                  "scope": ["choose_provider", "handle_voucher"], "authorised_on": "2026-11-20",
                                  "valid_until": "2027-11-30"}

    listed = await svc.client.get(url, headers=svc.auth("city_official", subject="liisa"))
    assert listed.status_code == 200 and [x["id"] for x in listed.json()] == [rep["id"]]

    # Withdrawn today: no longer acting; withdrawing again changes and publishes nothing.
    w = await svc.client.post(f"{url}/{rep['id']}/withdraw", json={}, headers=worker)
    assert w.status_code == 200 and w.json()["withdrawn_on"] == "2026-11-26" and w.json()["active"] is False
    w2 = await svc.client.post(f"{url}/{rep['id']}/withdraw", json={"withdrawn_on": "2026-11-25"}, headers=worker)
    assert w2.status_code == 200 and w2.json()["withdrawn_on"] == "2026-11-26"
    [withdrawn] = await _events(svc, "RepresentativeWithdrawn")
    assert withdrawn["data"] == authorised["data"] | {"withdrawn_on": "2026-11-26"}
    assert not contains_hetu(json.dumps(await _events(svc)))

    audit = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s:
        actions = (await s.execute(select(audit.c.action, audit.c.actor).where(audit.c.action.like("representative.%"))
                                   .order_by(audit.c.id))).all()
    assert [tuple(a) for a in actions] == [("representative.record", "sanna"), ("representative.list", "liisa"),
                                           ("representative.withdraw", "sanna")]


async def test_vou9_refusals_at_their_boundaries(decision_service):
    svc = decision_service
    client_id = await _client_id(svc)
    url = f"/v1/clients/{client_id}/representatives"
    h = svc.auth("city_official")
    cases = [  # (body changes, expected status, rule, field)
        ({"authorised_on": "2026-11-27", "valid_until": None}, 422, "VOU-9", "body.authorised_on"),  # tomorrow
        ({"valid_until": "2026-11-19"}, 422, "VOU-9", "body.valid_until"),  # before the authorisation
        ({"phone": None, "email": None}, 422, "VOU-9", "body.phone"),  # cannot be reached
        ({"name": "Maija 131052-308T"}, 422, "DATA-4", "body.name"),  # no hetu, anywhere
        ({"relation": "hetu 131052-308T"}, 422, "DATA-4", "body.relation"),
        ({"hetu": "131052-308T"}, 422, None, "body.hetu"),  # not collected at all
        ({"scope": []}, 422, None, "body.scope"),
        ({"scope": ["pay_bills"]}, 422, None, "body.scope.0"),
        ({"authorised_on": "9999-12-31", "valid_until": None}, 422, "VOU-9", "body.authorised_on"),
    ]
    for change, status, rule, field in cases:
        r = await svc.client.post(url, json=_rep(**change), headers=h)
        assert r.status_code == status, (change, r.text)
        assert r.json().get("rule") == rule and field in {e["field"] for e in r.json()["errors"]}, (change, r.text)
        assert "131052-308T" not in r.text
    # At the boundaries: authorised today, valid for that one day.
    r = await svc.client.post(url, json=_rep(authorised_on="2026-11-26", valid_until="2026-11-26", phone=None,
                                             email="maija@example.fi"), headers=h)
    assert r.status_code == 201 and r.json()["active"] is True
    rep = r.json()
    for withdrawn_on in ("2026-11-25", "2026-11-27"):  # before the authorisation, in the future
        w = await svc.client.post(f"{url}/{rep['id']}/withdraw", json={"withdrawn_on": withdrawn_on}, headers=h)
        assert w.status_code == 422 and w.json()["rule"] == "VOU-9" and w.json()["errors"][0]["field"] == "body.withdrawn_on"
    assert [e["type"].split(".")[2] for e in await _events(svc)] == ["DecisionMade", "RepresentativeAuthorised"]


async def test_vou9_roles_and_unknown_ids(decision_service):
    svc = decision_service
    client_id = await _client_id(svc)
    url = f"/v1/clients/{client_id}/representatives"
    for role, claims in (("integrator", {}), ("provider", {"provider_id": "P1"}), ("client", {"client_id": client_id})):
        assert (await svc.client.post(url, json=_rep(), headers=svc.auth(role, **claims))).status_code == 403
        assert (await svc.client.get(url, headers=svc.auth(role, **claims))).status_code == 403
    unknown = "/v1/clients/00000000-0000-4000-8000-000000000000/representatives"
    assert (await svc.client.post(unknown, json=_rep(), headers=svc.auth("city_official"))).status_code == 404
    assert (await svc.client.get(unknown, headers=svc.auth("city_official"))).status_code == 404
    r = await svc.client.post(f"{url}/00000000-0000-4000-8000-000000000000/withdraw", json={},
                              headers=svc.auth("city_official"))
    assert r.status_code == 404
