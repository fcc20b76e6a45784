"""Issue 13 defects 2-4 through the decision API: extreme values, unchecked dates and loose input
are each a 422 naming the field and the rule, nothing is written and nothing is published."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from ktt_decision.clients.models import Client
from ktt_decision.decisions.models import Decision
from tests.helpers import HETU_1900, decision_body

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(ddmmyy: str, sign: str, individual: str = "123") -> str:
    return f"{ddmmyy}{sign}{individual}{CHECK[int(ddmmyy + individual) % 31]}"


async def _counts(svc) -> tuple[int, int, int]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        return (await s.scalar(select(func.count()).select_from(Decision)),
                await s.scalar(select(func.count()).select_from(Client)),
                await s.scalar(select(func.count()).select_from(outbox)))


def _error(r, field: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    matching = [e for e in r.json()["errors"] if e["field"] == field]
    assert matching, r.json()
    return matching[0]


def _with_client(**client) -> dict:
    body = decision_body()
    body["client"].update(client)
    return body


@pytest.mark.parametrize(("body", "field", "rule"), [
    (decision_body(version=2**63), "body.version", None),            # used to reach a 64-bit column: a 500
    (decision_body(version=2**31), "body.version", None),
    (decision_body(version=True), "body.version", None),             # JSON true is no version
    (decision_body(version="1"), "body.version", None),              # nor is a string
    (decision_body(version=1.5), "body.version", None),
    (_with_client(interpreter_needed="yes"), "body.client.interpreter_needed", None),
    (_with_client(interpreter_needed=1), "body.client.interpreter_needed", None),
    (_with_client(email="not-an-email"), "body.client.email", None),
    (_with_client(email="a@b"), "body.client.email", None),
    (decision_body(period={"start": "9998-06-01", "end": "9999-12-31"}), "body.period.start", "DEC-4"),
    (decision_body(decided_on="2026-11-27"), "body.decided_on", "DEC-3"),   # the test clock says 2026-11-26
    (decision_body(decided_on="9999-12-31"), "body.decided_on", "DEC-3"),
    (decision_body(plan={"type": "activation_plan", "reference": "AS-1", "date": "0001-01-01"}), "body.plan.date", "DEC-2"),
    (decision_body(plan={"type": "activation_plan", "reference": "AS-1", "date": "1999-05-01"}), "body.plan.date", "DEC-2"),
    (decision_body(plan={"type": "multisectoral_plan", "reference": "MS-1", "date": "2014-12-31"}), "body.plan.date", "DEC-2"),
    (_with_client(hetu=hetu("010152", "+")), "body.client.hetu", "DEC-3"),    # born 1852
    (_with_client(hetu=hetu("010120", "A")), "body.client.hetu", "DEC-3"),    # born 2020: a child
    (_with_client(hetu="１３１０５２-３０８Ｔ"), "body.client.hetu", "DEC-3"),  # full-width digits
])
async def test_bad_decisions_are_a_422_naming_field_and_rule_and_nothing_is_written(decision_service, body, field, rule):
    svc = decision_service
    before = await _counts(svc)
    r = await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))
    error = _error(r, field)
    assert error.get("rule") == rule
    if rule:
        assert rule in r.json()["detail"]
    assert await _counts(svc) == before


async def test_plausible_edges_still_pass(decision_service):
    svc = decision_service
    body = _with_client(hetu=hetu("271126", "-"))  # 100 years old on the test clock's day
    body["plan"] = {"type": "activation_plan", "reference": "AS-1", "date": "2001-09-01"}
    body["decided_on"] = "2026-11-26"
    r = await svc.client.post("/v1/decisions", json=body, headers=svc.auth("integrator"))
    assert r.status_code == 201, r.text


async def test_a_full_width_hetu_does_not_find_an_existing_client(decision_service):
    """Refused, not normalised (docs/decisions.md): a person is matched on exactly the code the
    population register holds."""
    svc = decision_service
    made = await svc.client.post("/v1/decisions", json=decision_body(), headers=svc.auth("integrator"))
    assert made.status_code == 201
    official = svc.auth("city_official")
    found = await svc.client.post("/v1/clients/lookup", json={"hetu": HETU_1900}, headers=official)
    assert found.status_code == 200 and found.json()["client_id"] == made.json()["client_id"]
    wide = HETU_1900.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789T"})
    r = await svc.client.post("/v1/clients/lookup", json={"hetu": wide}, headers=official)
    assert _error(r, "body.hetu")["rule"] == "DEC-3" and "ASCII" in r.json()["detail"]
    assert HETU_1900 not in r.text and wide not in r.text


@pytest.mark.parametrize(("revoked_on", "hint"), [
    ("2026-11-24", "before that"),          # the decision was made 2026-11-25
    ("2027-12-01", "period ends on 2027-11-30"),
    ("2199-12-31", "period ends on 2027-11-30"),
    ("9999-12-31", "between 1900-01-01 and 2199-12-31"),
])
async def test_dec7_revocation_day_within_the_decision_and_its_period(decision_service, revoked_on, hint):
    svc = decision_service
    h = svc.auth("integrator")
    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).json()
    before = await _counts(svc)
    r = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", headers=h,
                              json={"reason": "moved away", "revoked_on": revoked_on})
    assert _error(r, "body.revoked_on")["rule"] == "DEC-7" and r.json()["rule"] == "DEC-7"
    assert hint in r.json()["detail"]
    assert await _counts(svc) == before  # no DecisionRevoked published, nothing changed
    got = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official"))
    assert got.json()["status"] == "active" and got.json()["revoked_on"] is None
    ok = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", headers=h,
                               json={"reason": "moved away", "revoked_on": "2027-11-30"})
    assert ok.status_code == 200 and ok.json()["revoked_on"] == "2027-11-30"


async def test_unknown_fields_and_loose_types_in_the_admin_clock_are_refused(decision_service):
    svc = decision_service
    admin = svc.auth("admin")
    for body, field in (({"dat": "2027-01-01"}, "body.dat"), ({"reset": "yes"}, "body.reset"),
                        ({"date": "9999-12-31"}, "body.date"), ({"now": "0001-01-01T00:00:00Z"}, "body.now")):
        r = await svc.client.post("/v1/admin/clock", json=body, headers=admin)
        _error(r, field)
    assert json.loads((await svc.client.get("/v1/admin/clock", headers=admin)).text)["offset_seconds"] == 0
