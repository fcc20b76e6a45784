"""Reports and evaluations (REP-1..REP-6, ATT-11, VOU-7, VOU-8): due from PeriodEnding and the
daily job, late the day after, submitted with every missing field listed at once, signed by the
client (REP-2), returned and resubmitted, accepted; each provider reads its own only (DATA-3)."""

from __future__ import annotations

import datetime as dt
import uuid

from attendance_builders import absent, present, statuses

D = dt.date
PLAN = {"next_service": "work_trial", "where": "Turun Kierrätyskeskus", "to_whom": "Kaisa Kokeilu", "when": "2027-12-01"}
FINAL = {"kind": "final_evaluation", "goals": "arjen rytmi", "results": "rytmi löytyi", "strengths": "tarkkuus",
         "development_areas": "asiakaspalvelu", "follow_up_plan": PLAN}


def two_periods(first_end: D = D(2027, 3, 7)) -> list[dict]:
    day = [{"weekday": w, "start": "09:00", "end": "14:00"} for w in ("mon", "tue", "wed", "thu")]
    second = first_end + dt.timedelta(days=1)
    return [{"period_id": str(uuid.uuid4()), "seq": 1, "start": "2026-12-07", "end": first_end.isoformat(), "schedule": day,
             "goals": "rytmi", "evaluation_due": (first_end - dt.timedelta(days=7)).isoformat()},
            {"period_id": str(uuid.uuid4()), "seq": 2, "start": second.isoformat(), "end": "2027-11-30", "schedule": day,
             "goals": "eteneminen", "evaluation_due": "2027-11-23"}]


async def test_rep3_an_interim_evaluation_is_due_a_week_before_the_period_ends_and_late_the_day_after(att):
    periods = two_periods(D(2027, 3, 7))
    a = await att.signed(periods=periods)
    assert await att.period_ending(a, periods[0]) == "handled"
    [due] = await att.reports(att.provider(), kind="interim_evaluation")
    assert (due["state"], due["due_on"], due["period_id"], due["month"]) == ("due", "2027-02-28", periods[0]["period_id"], "2027-03")
    assert D.fromisoformat(due["due_on"]) == D(2027, 3, 7) - dt.timedelta(days=7)  # exactly a week before (REP-3)
    assert await att.period_ending(a, periods[0]) == "handled"  # the same fact again (a new event id): still one report
    assert len(await att.reports(kind="interim_evaluation")) == 1

    await att.run_job("reports-due", D(2027, 2, 28))  # on the due day it is still due
    assert [r["state"] for r in await att.reports(kind="interim_evaluation")] == ["due"]
    await att.run_job("reports-due", D(2027, 3, 1))
    [late] = await att.reports(kind="interim_evaluation")
    assert (late["state"], late["late"]) == ("late", True)
    assert [e["action"] for e in late["history"]] == ["due", "late"]
    await att.run_job("reports-due", D(2027, 3, 1))  # the job again publishes nothing new
    published = [e for e in await att.published("ReportLate") if e["kind"] == "interim_evaluation"]
    assert len(published) == 1 and published[0]["period_id"] == periods[0]["period_id"]

    # Delivered late, signed on paper: submitted, still marked late.
    att.clock.set(D(2027, 3, 2))
    body = {"agreement_id": a["agreement_id"], "kind": "interim_evaluation", "period_id": periods[0]["period_id"],
            "progress": "hyvä", "next_period_goals": "4 päivää viikossa", "signature": {"signed_on": "2027-03-02"}}
    submitted = await att.report(body, expect=201)
    assert (submitted["id"], submitted["state"], submitted["late"]) == (late["id"], "submitted", True)
    [event] = await att.published("ReportSubmitted")
    assert (event["kind"], event["late"], event["due_on"], event["month"]) == ("interim_evaluation", True, "2027-02-28", "2027-03")


async def test_rep3_a_final_period_of_a_group_client_makes_the_group_evaluation_due(att):
    a = await att.signed(form="group", product_kind="group")
    assert await att.period_ending(a, a["periods"][0], kind="final") == "handled"
    [due] = await att.reports(client_id=a["client_id"])
    assert (due["kind"], due["due_on"]) == ("group_evaluation", "2027-11-23")  # REP-6, a week before the end
    body = {"agreement_id": a["agreement_id"], "kind": "group_evaluation", "functional_capacity": "hyvä"}
    problem = await att.report(body, expect=422)
    assert problem["rule"] == "REP-6"
    assert {(e["field"], e["rule"]) for e in problem["errors"]} == {("body.work_readiness", "REP-6"),
                                                                    ("body.follow_up_plan", "REP-6")}


async def test_att11_the_monthly_follow_up_carries_the_months_realised_days_from_the_log(att):
    a = await att.signed()
    december = [D(2026, 12, d) for d in (7, 8, 9, 10, 14, 15, 16, 17, 21, 22, 23)]
    entries = [absent(a, d, "sick_with_certificate", certificate=True) if d.day in (9, 16) else present(a, d) for d in december]
    assert set(statuses(await att.post(entries + [present(a, D(2027, 1, 4))]))) == {"accepted"}
    logged = [e for e in await att.log(a, **{"from": "2026-12-01", "to": "2026-12-31"}) if e["realised"]]

    body = {"agreement_id": a["agreement_id"], "kind": "monthly_follow_up", "month": "2026-12"}
    problem = await att.report(body, expect=422)  # the assessment is the report's point
    assert (problem["rule"], [e["field"] for e in problem["errors"]]) == ("ATT-11", ["body.assessment"])
    assert await att.reports(kind="monthly_follow_up") == []  # nothing half-written
    body["assessment"] = "Asiakas on päässyt hyvin mukaan."
    report = await att.report(body)
    assert report["realised_days"] == len(logged) == 9
    assert (report["state"], report["due_on"], report["late"], report["recipients"]) == (
        "submitted", "2027-01-03", True, ["case_worker"])  # submitted on 29.1.: late (ATT-11)
    again = await att.report(body, expect=200)  # a replay: the stored report, no second event
    assert again["id"] == report["id"]
    [event] = await att.published("ReportSubmitted")
    assert (event["month"], event["kind"], event["report_id"]) == ("2026-12", "monthly_follow_up", report["id"])
    changed = await att.report({**body, "assessment": "toisin"}, expect=409)  # submitted: the case worker returns it
    assert changed["rule"] == "REP-1"
    ahead = await att.report({**body, "month": "2027-02"}, expect=422)
    assert (ahead["rule"], ahead["errors"][0]["field"]) == ("ATT-11", "body.month")
    # The job makes January's follow-up due on 1.2. (December's stays as submitted).
    result = await att.run_job("reports-due", D(2027, 2, 1))
    assert (result["month"], result["due_created"]) == ("2027-01", 1)
    assert (await att.run_job("reports-due", D(2027, 2, 1)))["due_created"] == 0
    assert {(r["month"], r["state"], r["due_on"]) for r in await att.reports(kind="monthly_follow_up")} == {
        ("2026-12", "submitted", "2027-01-03"), ("2027-01", "due", "2027-02-03")}


async def test_vou7_coaching_hours_over_the_approved_hours_are_refused(att):
    a = await att.signed(approved_hours=10, product_kind="intensive_coaching")
    january = [D(2027, 1, d) for d in (4, 5, 11, 12)]

    def hours(days, each):
        return {"agreement_id": a["agreement_id"], "kind": "coaching_hours", "month": f"{days[0]:%Y-%m}",
                "hours": [{"date": d.isoformat(), "hours": each, "content": "työnhakuvalmennus"} for d in days]}

    over = await att.report(hours(january, 3), expect=422)  # 12 h > 10 approved
    assert over["rule"] == "VOU-7" and over["errors"][0]["field"] == "body.hours" and "10" in over["errors"][0]["message"]
    report = await att.report(hours(january, 2))  # 8 h
    assert (report["state"], report["signature"]) == ("awaiting_signature", None)  # VOU-7 / REP-2: the client signs
    assert await att.published("ReportSubmitted") == []
    december = await att.report(hours([D(2026, 12, 7), D(2026, 12, 8)], 1.5), expect=422)  # 8 + 3 > 10
    assert december["rule"] == "VOU-7"
    assert (await att.report(hours([D(2026, 12, 7)], 2)))["state"] == "awaiting_signature"  # exactly 10
    # The client signs with their own login; another client cannot.
    other = att.svc.auth("client", client_id=str(uuid.uuid4()))
    r = await att.client.post(f"/v1/reports/{report['id']}/signature", json={}, headers=other)
    assert r.status_code == 404 and r.json()["rule"] == "DATA-3"
    r = await att.client.post(f"/v1/reports/{report['id']}/signature", json={},
                              headers=att.svc.auth("client", client_id=a["client_id"]))
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["signature"]["method"]) == ("submitted", "client_login")
    # No approved hours at all: nothing to report (VOU-7).
    b = await att.signed()
    none = await att.report({**hours(january, 1), "agreement_id": b["agreement_id"]}, expect=422)
    assert none["rule"] == "VOU-7"


async def test_rep4_a_final_evaluation_without_a_follow_up_plan_is_refused(att):
    a = await att.signed()
    empty = await att.report({"agreement_id": a["agreement_id"], "kind": "final_evaluation"}, expect=422)
    assert {e["field"] for e in empty["errors"]} == {"body.goals", "body.results", "body.strengths",
                                                      "body.development_areas", "body.follow_up_plan"}
    assert {e["rule"] for e in empty["errors"]} == {"REP-4"} and empty["rule"] == "REP-4"
    no_plan = {k: v for k, v in FINAL.items() if k != "follow_up_plan"}
    problem = await att.report({"agreement_id": a["agreement_id"], **no_plan}, expect=422)
    assert (problem["rule"], [e["field"] for e in problem["errors"]]) == ("REP-4", ["body.follow_up_plan"])
    partial = {**FINAL, "follow_up_plan": {"next_service": "education", "where": "Turun ammatti-instituutti"}}
    problem = await att.report({"agreement_id": a["agreement_id"], **partial}, expect=422)
    assert [e["field"] for e in problem["errors"]] == ["body.follow_up_plan.to_whom", "body.follow_up_plan.when"]
    hetu = await att.report({"agreement_id": a["agreement_id"], **FINAL, "results": "katso 131052-308T"}, expect=422)
    assert (hetu["rule"], hetu["errors"][0]["field"]) == ("DATA-4", "body.results")
    assert await att.reports(client_id=a["client_id"]) == []  # nothing half-written


async def test_a_returned_report_is_completed_resubmitted_and_accepted(att):
    a = await att.signed()
    await att.decided(a["client_id"], office="social_work")
    body = {"agreement_id": a["agreement_id"], **FINAL, "work_cards": ["hygieniapassi"],
            "signature": {"signed_on": "2027-01-28"}}
    report = await att.report(body)
    assert (report["state"], report["recipients"]) == ("submitted", ["case_worker", "typake", "social_worker"])  # REP-4
    assert report["period_id"] == a["periods"][0]["period_id"] and report["due_on"] == "2027-11-23"
    provider_return = await att.client.post(f"/v1/reports/{report['id']}/return", json={"comment": "x"}, headers=att.provider())
    assert provider_return.status_code == 403
    r = await att.client.post(f"/v1/reports/{report['id']}/return", headers=att.official(),
                              json={"comment": "Jatkosuunnitelmasta puuttuu yhteyshenkilön puhelinnumero."})
    assert r.status_code == 200 and r.json()["state"] == "returned", r.text
    r = await att.client.get(f"/v1/reports/{report['id']}", headers=att.provider())
    assert r.json()["returned_comment"].startswith("Jatkosuunnitelmasta")
    completed = {**body, "follow_up_plan": {**PLAN, "to_whom": "Kaisa Kokeilu, 040 123 4567"}}
    completed.pop("signature")
    resubmitted = await att.report(completed)
    assert (resubmitted["id"], resubmitted["state"]) == (report["id"], "awaiting_signature")  # REP-2: signed anew
    r = await att.client.post(f"/v1/reports/{report['id']}/signature", json={"signed_on": "2027-01-29"}, headers=att.provider())
    assert r.status_code == 200 and r.json()["state"] == "submitted", r.text
    r = await att.client.post(f"/v1/reports/{report['id']}/accept", headers=att.official())
    assert r.status_code == 200 and (r.json()["state"], r.json()["accepted_on"]) == ("accepted", "2027-01-29")
    again = await att.client.post(f"/v1/reports/{report['id']}/accept", headers=att.official())
    assert again.status_code == 200
    assert [(h["action"], h["state"]) for h in again.json()["history"]] == [
        ("submitted", "submitted"), ("returned", "returned"), ("submitted", "awaiting_signature"),
        ("submitted", "submitted"), ("accepted", "accepted")]
    assert [len(await att.published(n)) for n in ("ReportSubmitted", "ReportReturned", "ReportAccepted")] == [2, 1, 1]
    late_return = await att.client.post(f"/v1/reports/{report['id']}/return", json={"comment": "x"}, headers=att.official())
    assert late_return.status_code == 409 and late_return.json()["rule"] == "REP-1"


async def test_a_provider_reads_its_own_reports_only_and_the_inbox_is_oldest_first(att):
    mine, theirs = await att.signed("P1"), await att.signed("P2")
    for facts, provider, month in ((mine, "P1", "2027-01"), (theirs, "P2", "2026-12")):
        await att.report({"agreement_id": facts["agreement_id"], "kind": "monthly_follow_up", "month": month,
                          "assessment": "ok"}, provider_id=provider)
    [own] = await att.reports(att.provider("P1"))
    assert own["agreement_id"] == mine["agreement_id"]
    assert await att.reports(att.provider("P1"), provider_id="P2") == []
    r = await att.client.get(f"/v1/reports/{own['id']}", headers=att.provider("P2"))
    assert r.status_code == 404 and r.json()["rule"] == "DATA-3"
    r = await att.client.post(f"/v1/reports/{own['id']}/signature", json={"signed_on": "2027-01-29"}, headers=att.provider("P2"))
    assert r.status_code == 404
    stolen = await att.report({"agreement_id": mine["agreement_id"], "kind": "monthly_follow_up", "month": "2026-12",
                               "assessment": "ok"}, provider_id="P2", expect=404)
    assert stolen["rule"] == "DATA-3"
    inbox = await att.reports(state="submitted")  # the case worker's: oldest due first
    assert [r["due_on"] for r in inbox] == ["2027-01-03", "2027-02-03"]
    r = await att.client.get("/v1/reports", params={"limit": 1, "offset": 1}, headers=att.official())
    assert (r.json()["total"], [x["month"] for x in r.json()["items"]]) == (2, ["2027-01"])
