"""The decision API as an integrator meets it: idempotent pushes and clear refusals."""

from __future__ import annotations

import datetime as dt

import jwt
from sqlalchemy import func, select

from ktt_common.settings import DEV_JWT_SECRET

from tests.helpers import HETU_1900, decision_body


async def _outbox_rows(svc) -> int:
    async with svc.rt.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(svc.rt.infra.outbox))).scalar_one()


async def test_push_creates_then_replay_returns_the_same_and_publishes_nothing(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    first = await svc.client.post("/v1/decisions", json=decision_body(), headers=h)
    assert first.status_code == 201, first.text
    body = first.json()
    assert {"id", "client_id", "version", "status"} <= body.keys()
    assert HETU_1900 not in first.text  # DATA-4: never echoed
    again = await svc.client.post("/v1/decisions", json=decision_body(), headers=h)
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert await _outbox_rows(svc) == 1  # DecisionMade once

    got = await svc.client.get(f"/v1/decisions/{body['id']}", headers=svc.auth("city_official"))
    assert got.status_code == 200 and got.json()["client_id"] == body["client_id"]
    listed = await svc.client.get("/v1/decisions", params={"client_id": body["client_id"]}, headers=svc.auth("social_worker"))
    assert [d["id"] for d in listed.json()] == [body["id"]]


async def test_same_version_with_other_content_is_a_conflict(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    assert (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).status_code == 201
    changed = decision_body(form="group")
    r = await svc.client.post("/v1/decisions", json=changed, headers=h)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert "different content" in r.json()["detail"]
    assert await _outbox_rows(svc) == 1


async def test_same_person_gets_the_same_client_id_and_a_2023_sign_is_another_person(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    a = (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).json()
    # The client's next decision follows the first (DEC-4: never overlapping; past a year, justified).
    b = (await svc.client.post("/v1/decisions", json=decision_body(
        source_id="EFF-2", period={"start": "2027-12-01", "end": "2028-11-30"},
        extension_justification="Continuing improves work readiness"), headers=h)).json()
    assert a["client_id"] == b["client_id"] and a["id"] != b["id"]
    other = decision_body(source_id="EFF-3")
    other["client"]["hetu"] = "131052W308T"
    c = await svc.client.post("/v1/decisions", json=other, headers=h)
    assert c.status_code == 201 and c.json()["client_id"] != a["client_id"]

    r = await svc.client.post("/v1/clients/lookup", json={"hetu": HETU_1900}, headers=svc.auth("city_official"))
    assert r.status_code == 200 and r.json() == {"client_id": a["client_id"]}


async def test_hetu_is_stored_encrypted_and_found_by_keyed_hash(decision_service):
    svc = decision_service
    await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))
    from ktt_decision.clients.models import Client

    async with svc.rt.sessionmaker() as s:
        client = (await s.execute(select(Client))).scalar_one()
    assert HETU_1900 not in client.hetu_encrypted and HETU_1900 not in client.hetu_lookup
    assert "131052" not in client.hetu_lookup


async def test_bad_json_wrong_types_and_missing_fields_are_422_problems(decision_service):
    svc = decision_service
    h = svc.auth("integrator") | {"content-type": "application/json"}
    r = await svc.client.post("/v1/decisions", content=b'{"source_system": ', headers=h)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["type"] == "json_invalid"

    wrong = decision_body(version="first", period={"start": "2026-13-01", "end": "2027-11-30"})
    r = await svc.client.post("/v1/decisions", json=wrong, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"body.version", "body.period.start"} <= fields

    missing = decision_body()
    del missing["client"]["first_name"], missing["plan"]
    r = await svc.client.post("/v1/decisions", json=missing, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"body.client.first_name", "body.plan"}
    assert all(e["message"] for e in r.json()["errors"])
    assert await _outbox_rows(svc) == 0


async def test_rule_refusals_name_the_rule_and_the_field(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    bad_hetu = decision_body()
    bad_hetu["client"]["hetu"] = "131052-308A"
    r = await svc.client.post("/v1/decisions", json=bad_hetu, headers=h)
    assert r.status_code == 422
    problem = r.json()
    assert problem["rule"] == "DEC-3" and problem["errors"][0]["field"] == "body.client.hetu"
    assert "131052-308A" not in r.text  # the bad code is not echoed either

    short = decision_body(period={"start": "2026-12-01", "end": "2027-02-27"})
    r = await svc.client.post("/v1/decisions", json=short, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "DEC-4"
    assert "2027-02-28" in r.json()["detail"]  # says what to change

    several = decision_body(plan={"type": "activation_plan", "reference": "X", "date": "2026-11-26"},
                            special={"kind": "intensive_coaching"})
    r = await svc.client.post("/v1/decisions", json=several, headers=h)
    assert r.status_code == 422
    assert {e["rule"] for e in r.json()["errors"]} == {"DEC-2", "VOU-7"}
    assert await _outbox_rows(svc) == 0


async def test_temporary_hetu_refused_outside_test_mode(decision_service):
    svc = decision_service
    body = decision_body()
    body["client"]["hetu"] = _temporary("010190", "999", "-")
    r = await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))
    assert r.status_code == 422 and "test mode" in r.json()["detail"]


def _temporary(ddmmyy: str, nnn: str, sign: str) -> str:
    return f"{ddmmyy}{sign}{nnn}" + "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(ddmmyy + nnn) % 31]


async def test_authentication_and_roles(decision_service):
    svc = decision_service
    r = await svc.client.post("/v1/decisions", json=decision_body())
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401 and r.json()["title"] == "Authentication required"
    forged = jwt.encode({"sub": "x", "role": "integrator", "iss": "ktt-dev", "aud": "ktt",
                         "exp": int(dt.datetime.now(dt.UTC).timestamp()) + 60}, "another-key-entirely-32-bytes-long!", algorithm="HS256")
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    expired = jwt.encode({"sub": "x", "role": "integrator", "iss": "ktt-dev", "aud": "ktt",
                          "iat": int(dt.datetime.now(dt.UTC).timestamp()) - 3600,
                          "exp": int(dt.datetime.now(dt.UTC).timestamp()) - 60}, DEV_JWT_SECRET, algorithm="HS256")
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 403 and "provider" in r.json()["detail"]
    r = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("client", client_id="6f1c0e64-0d7e-4c1f-9d55-1c4a3b2e7f10"))
    assert r.status_code == 403
    assert await _outbox_rows(svc) == 0


async def test_audit_log_records_reads_and_writes_without_hetu(decision_service):
    svc = decision_service
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator", subject="effica-bot"))).json()
    await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official", subject="liisa"))
    audit = svc.rt.infra.audit_log
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(audit).order_by(audit.c.id))).all()
    assert [(r.actor, r.action) for r in rows] == [("effica-bot", "decision.create"), ("liisa", "decision.read")]
    assert all(r.client_ids == [made["client_id"]] for r in rows)
    assert HETU_1900 not in repr(rows)
