"""Month reporting per unit (ATT-10, BIL-2): confirmation lists what is missing, a confirmed month
takes corrections only, and an unconfirmed month is late after the 3rd of the next month."""

from __future__ import annotations

import datetime as dt
import uuid

from ktt_common.clock import is_public_holiday

from attendance_builders import absent, closed, days, present, rules_of, statuses

DECEMBER = [d for d in days(dt.date(2026, 12, 7), dt.date(2026, 12, 31), {0, 1, 2, 3})]


async def _confirm(att, month, unit_id, provider="P1", expect=201):
    r = await att.client.post(f"/v1/months/{month}/confirm", json={"unit_id": unit_id}, headers=att.provider(provider))
    assert r.status_code == expect, r.text
    return r.json()


def _december_entries(a, skip=()):
    out = []
    for d in DECEMBER:
        if d in skip:
            continue
        out.append(closed(a, d) if is_public_holiday(d) else present(a, d))
    return out


async def test_a_month_is_confirmed_once_every_scheduled_day_has_an_entry(att):
    unit = uuid.uuid4()
    a = await att.signed(unit_id=unit)
    b = await att.signed(unit_id=unit, start=dt.date(2026, 12, 14))
    missing_a, missing_b = dt.date(2026, 12, 15), dt.date(2026, 12, 30)
    entries = _december_entries(a, skip={missing_a, dt.date(2026, 12, 24)})  # a holiday needs no entry
    entries += [absent(b, d, "unauthorised") if d == dt.date(2026, 12, 14) else present(b, d)
                for d in DECEMBER if d >= dt.date(2026, 12, 14) and d not in (missing_b, dt.date(2026, 12, 24))]
    assert set(statuses(await att.post(entries))) == {"accepted"}
    att.clock.set(dt.date(2027, 1, 2))
    problem = await _confirm(att, "2026-12", str(unit), expect=422)
    assert problem["rule"] == "ATT-10"
    assert {m["agreement_id"]: m["days"] for m in problem["missing"]} == {a["agreement_id"]: ["2026-12-15"],
                                                                           b["agreement_id"]: ["2026-12-30"]}
    await att.post([present(a, missing_a), absent(b, missing_b, "sick_with_certificate", certificate=True)])
    report = await _confirm(att, "2026-12", str(unit))
    assert report["status"] == "confirmed" and report["late"] is False and report["due_on"] == "2027-01-03"
    again = await _confirm(att, "2026-12", str(unit), expect=200)
    assert again["id"] == report["id"]
    [published] = await att.published("MonthReported")
    assert published["month"] == "2026-12" and published["confirmed_on"] == "2027-01-02" and published["late"] is False
    figures = {x["agreement_id"]: x for x in published["agreements"]}
    assert figures[a["agreement_id"]]["realised_days"] == 15  # 16 scheduled, Christmas Eve without service
    assert (figures[b["agreement_id"]]["realised_days"], figures[b["agreement_id"]]["absence_days"]) == (9, 2)
    # Others' units, months that have not ended and no months at all.
    assert (await _confirm(att, "2026-12", str(unit), provider="P2", expect=404))["rule"] == "DATA-3"
    assert (await _confirm(att, "2027-01", str(unit), expect=422))["rule"] == "ATT-10"
    for month in ("9999-12", "0000-01", "2027-13", "27-1"):
        r = await att.client.post(f"/v1/months/{month}/confirm", json={"unit_id": str(unit)}, headers=att.provider())
        assert r.status_code == 422, (month, r.text)


async def test_a_correction_after_confirmation_is_flagged_for_billing(att):
    unit = uuid.uuid4()
    a = await att.signed(unit_id=unit)
    await att.post(_december_entries(a))
    att.clock.set(dt.date(2027, 1, 3))
    await _confirm(att, "2026-12", str(unit))
    att.clock.set(dt.date(2027, 1, 5))
    silent = await att.post([absent(a, dt.date(2026, 12, 8), "unauthorised"), present(a, dt.date(2026, 12, 7))])
    assert statuses(silent) == ["rejected", "unchanged"]  # the same content again is no change at all
    assert rules_of(silent)[0] == "ATT-10" and "correction" in silent["results"][0]["message"]
    fixed = await att.post([absent(a, dt.date(2026, 12, 8), "unauthorised", correction=True), present(a, "2027-01-04")])
    assert statuses(fixed) == ["revised", "accepted"]
    assert [r["correction"] for r in fixed["results"]] == [True, False]
    recorded = await att.published("AttendanceRecorded")
    day = next(d for d in recorded[-1]["days"] if d["date"] == "2026-12-08")
    assert day["correction"] is True and day["realised"] is False and day["revision"] == 2
    assert day["previous"]["realised"] is True and day["previous"]["hours"] == 5.0
    january = next(d for d in recorded[-1]["days"] if d["date"] == "2027-01-04")
    assert january["correction"] is False
    log = {e["date"]: e for e in await att.log(a)}
    assert log["2026-12-08"]["correction"] is True and log["2026-12-08"]["revision"] == 2


async def test_an_unconfirmed_month_is_late_after_the_3rd_published_once(att):
    unit_late, unit_ok = uuid.uuid4(), uuid.uuid4()
    a = await att.signed(unit_id=unit_late)
    b = await att.signed("P2", unit_id=unit_ok)
    await att.post(_december_entries(b), provider_id="P2")
    att.clock.set(dt.date(2027, 1, 3))
    await _confirm(att, "2026-12", str(unit_ok), provider="P2")
    assert await att.run_job("months-late", dt.date(2027, 1, 3)) == {"month": "2026-11", "late": 0}
    assert await att.run_job("months-late", dt.date(2027, 1, 4)) == {"month": "2026-12", "late": 1}
    assert await att.run_job("months-late", dt.date(2027, 1, 4)) == {"month": "2026-12", "late": 0}
    [late] = await att.published("MonthReportLate")
    assert (late["unit_id"], late["month"], late["due_on"], late["agreement_ids"]) == (
        str(unit_late), "2026-12", "2027-01-03", [a["agreement_id"]])
    r = await att.client.get("/v1/month-reports", params={"status": "late"}, headers=att.official())
    assert [(x["unit_id"], x["status"]) for x in r.json()] == [(str(unit_late), "late")]
    att.clock.set(dt.date(2027, 1, 5))
    await att.post(_december_entries(a))
    report = await _confirm(att, "2026-12", str(unit_late))
    assert report["status"] == "confirmed" and report["late"] is True
    assert (await att.published("MonthReported"))[-1]["late"] is True
    r = await att.client.get("/v1/month-reports", headers=att.provider("P2"))
    assert [x["unit_id"] for x in r.json()] == [str(unit_ok)]
