"""DEC-4 across a client's decisions (no overlap, 24 months in all, a justification past the normal
year; revoked decisions do not count), VOU-3's receipt date, and bad input that must be a 4xx
(DATA-4 hetu-shaped text in what is published, dates past the calendar), through the API."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from tests.helpers import HETU_2023_SIGN, decision_body

JUSTIFIED = "Continuing improves the client's work readiness"


async def _events(svc) -> list[dict]:
    outbox = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.seq))).scalars().all()
    return [json.loads(r) for r in rows]


def _types(events: list[dict]) -> list[str]:
    return [e["type"].split(".")[2] for e in events]


def _period(start: str, end: str) -> dict:
    return {"start": start, "end": end}


async def test_dec4_one_clients_decisions_never_overlap_and_total_at_most_24_months(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    a = await svc.client.post("/v1/decisions", json=decision_body(source_id="A"), headers=h)  # 1.12.2026-30.11.2027
    assert a.status_code == 201, a.text

    # Sharing the last day of A: refused, naming A's period and the start to move.
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="B", period=_period("2027-11-30", "2028-11-29"), extension_justification=JUSTIFIED))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["rule"] == "DEC-4"
    assert [(e["field"], e["rule"]) for e in problem["errors"]] == [("body.period.start", "DEC-4")]
    assert "effica/A" in problem["detail"] and "2026-12-01 to 2027-11-30" in problem["detail"]

    # The day after A: no overlap, but past the normal year in all it needs a justification.
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="B", period=_period("2027-12-01", "2028-11-30")))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.extension_justification"
    assert r.json()["rule"] == "DEC-4"
    b = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="B", period=_period("2027-12-01", "2028-11-30"), extension_justification=JUSTIFIED))
    assert b.status_code == 201, b.text  # exactly 24 months in all

    # Any day more is past the client's 24 months.
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="C", period=_period("2028-12-01", "2029-02-28"), extension_justification=JUSTIFIED))
    assert r.status_code == 422 and r.json()["rule"] == "DEC-4"
    assert r.json()["errors"][0]["field"] == "body.period.end" and "no voucher-bought KTT left" in r.json()["detail"]

    # Another client's decisions are theirs: the same period is fine.
    other = decision_body(source_id="OTHER")
    other["client"]["hetu"] = HETU_2023_SIGN
    assert (await svc.client.post("/v1/decisions", json=other, headers=h)).status_code == 201

    # Revoked decisions do not count: with A revoked, C fits, and a decision may take A's old days.
    r = await svc.client.post(f"/v1/decisions/{a.json()['id']}/revoke", json={"reason": "made in error"}, headers=h)
    assert r.status_code == 200
    c = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="C", period=_period("2028-12-01", "2029-02-28"), extension_justification=JUSTIFIED))
    assert c.status_code == 201, c.text
    d = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="D", period=_period("2026-12-01", "2027-02-28")))
    assert d.status_code == 201, d.text  # the client's first 3 months: no justification needed

    # Replays stay harmless, also of the revoked A.
    assert (await svc.client.post("/v1/decisions", json=decision_body(source_id="A"), headers=h)).status_code == 200
    replay = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="B", period=_period("2027-12-01", "2028-11-30"), extension_justification=JUSTIFIED))
    assert replay.status_code == 200 and replay.json()["id"] == b.json()["id"]
    assert _types(await _events(svc)) == ["DecisionMade"] * 3 + ["DecisionRevoked"] + ["DecisionMade"] * 2


async def test_dec4_an_amendment_may_not_move_into_another_decision(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    a = (await svc.client.post("/v1/decisions", json=decision_body(source_id="A",
                                                                   period=_period("2026-12-01", "2027-05-31")),
                               headers=h)).json()
    b_body = decision_body(source_id="B", period=_period("2027-06-01", "2027-11-30"))
    assert (await svc.client.post("/v1/decisions", json=b_body, headers=h)).status_code == 201
    # Extending A by a day runs into B: refused on the end, naming B.
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="A", version=2, period=_period("2026-12-01", "2027-06-01")))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "body.period.end" and "effica/B" in r.json()["detail"]
    # B moved a day earlier runs into A: refused on the start.
    moved = b_body | {"version": 2, "period": _period("2027-05-31", "2027-11-30")}
    r = await svc.client.post("/v1/decisions", headers=h, json=moved)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.period.start"
    # A shortened below 3 months is refused as ever (DEC-4 is for the decision's period); to 3 months is fine.
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="A", version=2, period=_period("2026-12-01", "2027-02-27")))
    assert r.status_code == 422 and r.json()["rule"] == "DEC-4" and "2027-02-28" in r.json()["detail"]
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="A", version=2, period=_period("2026-12-01", "2027-02-28")))
    assert r.status_code == 200 and r.json()["id"] == a["id"] and r.json()["period_end"] == "2027-02-28"
    # An amendment of A that keeps its period is no overlap with itself.
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        source_id="A", version=3, period=_period("2026-12-01", "2027-02-28"), form="group"))
    assert r.status_code == 200, r.text
    assert _types(await _events(svc)) == ["DecisionMade", "DecisionMade", "DecisionAmended", "DecisionAmended"]


async def test_dec4_two_overlapping_decisions_pushed_at_once_one_is_refused(decision_service):
    """The client row is locked for the check: two pushes cannot both pass against the same state."""
    svc = decision_service
    h = svc.auth("integrator")
    first = decision_body(source_id="FIRST", period=_period("2025-01-01", "2025-03-31"))
    assert (await svc.client.post("/v1/decisions", headers=h, json=first)).status_code == 201
    bodies = [decision_body(source_id=f"X{i}", period=_period("2026-12-01", "2027-05-31")) for i in range(2)]
    replies = await asyncio.gather(*(svc.client.post("/v1/decisions", json=b, headers=h) for b in bodies))
    assert sorted(r.status_code for r in replies) == [201, 422], [r.text for r in replies]
    refused = next(r for r in replies if r.status_code == 422).json()
    assert refused["rule"] == "DEC-4" and "2026-12-01 to 2027-05-31" in refused["detail"]


async def test_vou3_receipt_date_defaults_to_the_decision_day_and_travels_in_the_events(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    made = await svc.client.post("/v1/decisions", json=decision_body(), headers=h)
    assert made.status_code == 201 and made.json()["received_on"] == "2026-11-25"
    # Sent explicitly as the decision day: the same version, a replay.
    again = await svc.client.post("/v1/decisions", json=decision_body(received_on="2026-11-25"), headers=h)
    assert again.status_code == 200
    # A later receipt day is a change of the decision: an amendment that names it.
    r = await svc.client.post("/v1/decisions", json=decision_body(version=2, received_on="2026-11-26"), headers=h)
    assert r.status_code == 200 and r.json()["received_on"] == "2026-11-26"
    events = await _events(svc)
    assert _types(events) == ["DecisionMade", "DecisionAmended"]
    assert events[0]["data"]["received_on"] == "2026-11-25"
    assert events[1]["data"]["received_on"] == "2026-11-26"
    assert events[1]["data"]["changes"] == {"received_on": {"old": "2026-11-25", "new": "2026-11-26"}}
    got = await svc.client.get(f"/v1/decisions/{made.json()['id']}", headers=svc.auth("city_official"))
    assert got.json()["received_on"] == "2026-11-26"


async def test_vou3_receipt_date_before_the_decision_or_in_the_future_is_refused(decision_service):
    svc = decision_service
    h = svc.auth("integrator")
    for received_on, hint in (("2026-11-24", "before it was made"), ("2026-11-27", "future"),
                              ("9999-12-31", "between 1900-01-01 and 2199-12-31 (VOU-3)")):
        r = await svc.client.post("/v1/decisions", json=decision_body(received_on=received_on), headers=h)
        assert r.status_code == 422, (received_on, r.text)
        assert r.json()["rule"] == "VOU-3" and r.json()["errors"][0]["field"] == "body.received_on"
        assert hint in r.json()["detail"]
    r = await svc.client.post("/v1/decisions", json=decision_body(received_on="2026-11-26"), headers=h)  # today
    assert r.status_code == 201 and r.json()["received_on"] == "2026-11-26"
    assert _types(await _events(svc)) == ["DecisionMade"]


async def test_bad_input_is_a_4xx_never_a_500(decision_service):
    """DATA-4: hetu-shaped text in what would be published is refused (it used to fail at emit);
    a period starting past the calendar's reach is a DEC-4 refusal (issue 13: the shared date bounds)."""
    svc = decision_service
    h = svc.auth("integrator")
    r = await svc.client.post("/v1/decisions", json=decision_body(source_id="EFF-131052-308T"), headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "DATA-4" and r.json()["errors"][0]["field"] == "body.source_id"
    assert "131052-308T" not in r.text
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        plan={"type": "activation_plan", "reference": "131052-308T", "date": "2026-11-20"}))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.plan.reference"
    r = await svc.client.post("/v1/decisions", headers=h, json=decision_body(
        period=_period("9998-06-01", "9999-12-31"), extension_justification=JUSTIFIED))
    assert r.status_code == 422 and r.json()["rule"] == "DEC-4"

    made = (await svc.client.post("/v1/decisions", json=decision_body(), headers=h)).json()
    r = await svc.client.post(f"/v1/decisions/{made['id']}/revoke", json={"reason": "asiakas 131052-308T muutti"}, headers=h)
    assert r.status_code == 422 and r.json()["rule"] == "DATA-4" and r.json()["errors"][0]["field"] == "body.reason"
    got = await svc.client.get(f"/v1/decisions/{made['id']}", headers=svc.auth("city_official"))
    assert got.json()["status"] == "active"
    r = await svc.client.post(f"/v1/clients/{made['client_id']}/consents", headers=svc.auth("city_official"),
                              json={"provider_id": "131052-308T", "scope": ["plan"], "given_on": "2026-11-20"})
    assert r.status_code == 422 and r.json()["rule"] == "DATA-4"
    assert _types(await _events(svc)) == ["DecisionMade"]
