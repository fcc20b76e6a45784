"""Kela TT3 notices per client and review period (ATT-6), the allowance basis (DEC-5), the month
grid per unit (ATT-10) and the city's spot check (ATT-12)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from ktt_attendance.notices.documents import TEXTS as NOTICE_TEXTS
from ktt_common.pdf_check import assert_accessible, inspect_pdf
from ktt_contracts.decision import DecisionMade

from attendance_builders import absent, closed, days, present

D = dt.date


async def _decision(att, client_id, basis, language="fi"):
    payload = {"decision_id": str(uuid.uuid4()), "client_id": str(client_id), "source_system": "effica", "source_id": "E-1",
               "version": 1, "decided_on": "2026-11-25", "period_start": "2026-12-01", "period_end": "2027-11-30",
               "form": "individual", "benefit_basis": basis, "voucher_kind": "regular", "case_worker_office": "typake",
               "language": language}
    env = DecisionMade.envelope(payload, subject=payload["decision_id"], correlation_id=None,
                                time=dt.datetime(2026, 11, 26, tzinfo=dt.UTC))
    assert await att.svc.rt.consumer("decision").process(env) == "handled"


async def _notices(att, **params):
    r = await att.client.get("/v1/absence-notices", params={"limit": 1000, **params}, headers=att.official())
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_tt3_covers_exactly_its_review_periods_absence_days(att):
    """ATT-6: periods of two weeks from TT3_PERIOD_ANCHOR (Mon 5.1.2026): 4.1.-17.1.2027 ends before 18.1."""
    kela, fund, social, present_only = (uuid.uuid4() for _ in range(4))
    a = await att.signed(client_id=kela)
    b = await att.signed(client_id=fund, provider_id="P1")
    c = await att.signed(client_id=social)
    d = await att.signed(client_id=present_only)
    await _decision(att, kela, "labour_market_subsidy", "sv")
    await _decision(att, fund, "unemployment_allowance")
    await _decision(att, social, "social_assistance")
    await att.post([absent(a, D(2026, 12, 31)), absent(a, D(2027, 1, 4), "sick_with_certificate", certificate=True),
                    present(a, D(2027, 1, 5)), closed(a, D(2027, 1, 6)), absent(a, D(2027, 1, 12)),
                    absent(a, D(2027, 1, 14), "child_illness", certificate=True), absent(a, D(2027, 1, 18)),
                    absent(b, D(2027, 1, 13), "doctor_visit", certificate=True), absent(c, D(2027, 1, 13)),
                    present(d, D(2027, 1, 13))])
    result = await att.run_job("absence-notices", D(2027, 1, 18))
    assert result == {"period": "2027-01-04/2027-01-17", "created": 2, "social_assistance_skipped": 1}
    assert (await att.run_job("absence-notices", D(2027, 1, 18)))["created"] == 0  # the same day again
    assert (await att.run_job("absence-notices", D(2027, 1, 29)))["created"] == 0  # still the same period (today)
    notices = {n["client_id"]: n for n in await _notices(att, status="pending")}
    assert set(notices) == {str(kela), str(fund)}
    mine = notices[str(kela)]
    assert (mine["period_start"], mine["period_end"], mine["recipient"], mine["language"]) == (
        "2027-01-04", "2027-01-17", "kela", "sv")
    assert [(x["date"], x["reason"], x["authorised"]) for x in mine["days"]] == [
        ("2027-01-04", "sick_with_certificate", True), ("2027-01-12", "unauthorised", False),
        ("2027-01-14", "child_illness", True)]
    assert (mine["absence_days"], mine["unauthorised_days"], mine["to_employment_authority"]) == (3, 1, True)
    assert notices[str(fund)]["recipient"] == "unemployment_fund" and notices[str(fund)]["to_employment_authority"] is False
    events = await att.published("AbsenceNoticeCreated")
    assert sorted(e["client_id"] for e in events) == sorted([str(kela), str(fund)])
    for lang in ("fi", "sv"):
        r = await att.client.get(f"/v1/absence-notices/{mine['id']}/pdf", params={"lang": lang}, headers=att.official())
        assert r.status_code == 200 and r.content.startswith(b"%PDF") and r.headers["content-type"] == "application/pdf"
        printed = inspect_pdf(r.content)  # issue 17: tagged, /Lang, embedded fonts, title; the days as a table
        assert_accessible(printed, lang=lang, title=NOTICE_TEXTS[lang]["title"])
        assert printed.roles.count("Document/Table/TR") == 3 + 1 + 3  # the head rows, then a header row and one per day
        assert "Document/H2" in printed.roles and "4.1.2027" in printed.text
    assert (await att.client.get(f"/v1/absence-notices/{mine['id']}", headers=att.provider())).status_code == 403
    r = await att.client.post(f"/v1/absence-notices/{mine['id']}/mark-sent", json={"sent_on": "9999-12-31"}, headers=att.official())
    assert r.status_code == 422
    r = await att.client.post(f"/v1/absence-notices/{mine['id']}/mark-sent", json={}, headers=att.official())
    assert r.json()["status"] == "sent" and r.json()["sent_on"] == "2027-01-29"
    assert [n["client_id"] for n in await _notices(att, status="pending")] == [str(fund)]
    # An official says the fund client is paid by Kela after all: the next notice goes to Kela.
    r = await att.client.put(f"/v1/clients/{fund}/benefit-payer", json={"payer": "kela"}, headers=att.official())
    assert r.json()["payer"] == "kela"
    await att.post([absent(b, D(2027, 1, 19))])
    att.clock.set(D(2027, 2, 1))
    await att.run_job("absence-notices", D(2027, 2, 1))
    latest = [n for n in await _notices(att, client_id=str(fund)) if n["period_start"] == "2027-01-18"]
    assert latest[0]["recipient"] == "kela"


async def test_the_allowance_basis_counts_attended_days_only(att):
    """DEC-5: 9 EUR (900 cents) per attended day; absences and closures earn nothing."""
    client, social, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    a = await att.signed(client_id=client)
    s = await att.signed(client_id=social)
    u = await att.signed(client_id=unknown)
    await _decision(att, client, "labour_market_subsidy")
    await _decision(att, social, "social_assistance")
    await att.post([present(a, D(2027, 1, 4)), present(a, D(2027, 1, 5)), closed(a, D(2027, 1, 6)), absent(a, D(2027, 1, 7)),
                    present(a, D(2026, 12, 31)), present(s, D(2027, 1, 4)), present(u, D(2027, 1, 4))])
    r = await att.client.get("/v1/allowances", params={"month": "2027-01"}, headers=att.official())
    by_client = {x["client_id"]: x for x in r.json()}
    assert (by_client[str(client)]["allowance"], by_client[str(client)]["attended_days"], by_client[str(client)]["amount_cents"]) == (
        "expense_allowance", ["2027-01-04", "2027-01-05"], 1800)
    assert (by_client[str(social)]["allowance"], by_client[str(social)]["amount_cents"]) == ("activity_allowance", 900)
    assert (by_client[str(unknown)]["allowance"], by_client[str(unknown)]["amount_cents"]) == (None, 0)
    r = await att.client.get("/v1/allowances", params={"month": "2027-01", "client_id": str(client)}, headers=att.official())
    assert [x["client_id"] for x in r.json()] == [str(client)]
    assert (await att.client.get("/v1/allowances", params={"month": "2027-1"}, headers=att.official())).status_code == 422
    assert (await att.client.get("/v1/allowances", params={"month": "2027-01"}, headers=att.provider())).status_code == 403


async def test_the_month_grid_shows_each_client_day_and_what_is_missing(att):
    unit = uuid.uuid4()
    a = await att.signed(unit_id=unit)
    await att.post([present(a, D(2027, 1, 4)), absent(a, D(2027, 1, 5), "sick_with_certificate", certificate=True),
                    closed(a, D(2027, 1, 6)), absent(a, D(2027, 1, 7))])
    r = await att.client.get(f"/v1/units/{unit}/months/2027-01/grid", headers=att.provider())
    [row] = r.json()["rows"]
    assert {k: row["days"][k] for k in ("2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07", "2027-01-11")} == {
        "2027-01-04": "P", "2027-01-05": "A", "2027-01-06": "N", "2027-01-07": "U", "2027-01-11": "?"}
    assert row["realised_days"] == 1 and "2027-01-29" not in row["days"]  # a Friday: not scheduled
    assert len(row["missing"]) == len([d for d in days(D(2027, 1, 11), D(2027, 1, 28), {0, 1, 2, 3})])
    assert (await att.client.get(f"/v1/units/{unit}/months/2027-01/grid", headers=att.provider("P2"))).status_code == 404
    assert (await att.client.get(f"/v1/units/{unit}/months/2027-01/grid", headers=att.official())).status_code == 200


async def test_a_spot_check_samples_a_providers_month_and_is_audited(att):
    """ATT-12."""
    a, other = await att.signed(), await att.signed("P2")
    await att.post([present(a, d) for d in days(D(2027, 1, 4), D(2027, 1, 28), {0, 1, 2, 3})])
    await att.post([present(other, D(2027, 1, 4))], provider_id="P2")
    r = await att.client.post("/v1/spot-checks", json={"provider_id": "P1", "month": "2027-01", "sample_size": 5},
                              headers=att.official())
    body = r.json()
    assert body["population"] == 16 and len(body["sample"]) == 5
    assert {e["agreement_id"] for e in body["sample"]} == {a["agreement_id"]}
    audit = att.svc.rt.infra.audit_log
    async with att.svc.rt.sessionmaker() as session:
        [row] = (await session.execute(select(audit.c.details).where(audit.c.action == "daily_log.spot_check"))).all()
    assert sorted(row.details["entry_ids"]) == sorted(e["id"] for e in body["sample"])
    assert (await att.client.post("/v1/spot-checks", json={"provider_id": "P1", "month": "2027-01"},
                                  headers=att.provider())).status_code == 403
