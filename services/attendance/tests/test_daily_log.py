"""Posting the daily log: per-entry answers, idempotency and revisions, every validation at its
boundary, provider isolation, CSV beside JSON, malformed batches (ATT-1, ATT-3, ATT-9, AGR-14, DATA-3)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select

from attendance_builders import absent, closed, days, present, rules_of, statuses
from ktt_attendance.log.models import LogEntry, LogEntryRevision

MON = dt.date(2027, 1, 18)
TUE, WED, THU, FRI = (MON + dt.timedelta(days=i) for i in range(1, 5))


async def _count(att, model) -> int:
    async with att.svc.rt.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_hours_at_the_boundary_4_accepted_and_3_5_refused(att):
    """ATT-9 / AGR-6: a present day lasts 4 to 8 hours."""
    a = await att.signed()
    answer = await att.post([present(a, MON, hours=4), present(a, TUE, hours=3.5), present(a, WED, hours=8),
                             present(a, THU, hours=8.25), present(a, dt.date(2027, 1, 11), hours=None, start="09:00", end="13:00")])
    assert statuses(answer) == ["accepted", "rejected", "accepted", "rejected", "accepted"]
    assert rules_of(answer)[1] == rules_of(answer)[3] == "ATT-9"
    assert "3.5 h" in answer["results"][1]["message"]
    assert answer["counts"] == {"accepted": 3, "unchanged": 0, "revised": 0, "rejected": 2}
    log = await att.log(a)
    assert [(e["date"], e["hours"], e["revision"]) for e in log] == [
        ("2027-01-11", 4.0, 1), ("2027-01-18", 4.0, 1), ("2027-01-20", 8.0, 1)]


async def test_a_fifth_realised_day_in_a_week_is_refused_across_a_change_of_provider(att):
    """ATT-9 / AGR-18: at most 4 realised days in a calendar week for the client, across agreements."""
    client = uuid.uuid4()
    old = await att.signed("P1", client_id=client)
    await att.ended(old, TUE, kind="provider_change")
    new = await att.signed("P2", client_id=client, start=WED,
                           schedule=[{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("wed", "thu", "fri")])
    assert statuses(await att.post([present(old, MON), present(old, TUE)])) == ["accepted", "accepted"]
    answer = await att.post([present(new, FRI), present(new, WED), present(new, THU)], provider_id="P2")
    assert statuses(answer) == ["rejected", "accepted", "accepted"]  # checked in date order: Friday is the 5th
    assert rules_of(answer)[0] == "ATT-9" and "week of 2027-01-18" in answer["results"][0]["message"]
    # An absence frees nothing, a revision to absent does.
    answer = await att.post([absent(old, TUE, "sick_with_certificate", certificate=True)])
    assert statuses(answer) == ["revised"]
    assert statuses(await att.post([present(new, FRI)], provider_id="P2")) == ["accepted"]
    # Within one agreement too: a pre-agreed Friday (AGR-14) beyond four days.
    a = await att.signed("P3")
    await att.deviation(a, dt.date(2027, 2, 5), provider_id="P3")
    att.clock.set(dt.date(2027, 2, 5))
    week = [present(a, d) for d in days(dt.date(2027, 2, 1), dt.date(2027, 2, 5))]
    answer = await att.post(week, provider_id="P3")
    assert statuses(answer) == ["accepted"] * 4 + ["rejected"] and rules_of(answer)[4] == "ATT-9"


async def test_an_unscheduled_day_needs_a_deviation_recorded_the_day_before(att):
    """AGR-14: a deviation is recorded beforehand; on the day itself it is refused."""
    a = await att.signed()
    saturday = dt.date(2027, 1, 30)
    sunday = dt.date(2027, 1, 31)
    att.clock.set(dt.date(2027, 1, 29))
    await att.deviation(a, saturday, kind="job_interview")
    att.clock.set(saturday)
    refused = await att.deviation(a, saturday, kind="group_coaching", expect=409)  # another deviation for that day
    assert refused["rule"] == "AGR-14"
    assert (await att.deviation(a, saturday, kind="job_interview", expect=200))["kind"] == "job_interview"  # the same again
    att.clock.set(sunday)
    on_the_day = await att.deviation(a, sunday, expect=422)
    assert on_the_day["rule"] == "AGR-14" and "2027-01-30" in on_the_day["detail"]  # the last day to record it
    answer = await att.post([present(a, saturday, deviation="job_interview"), present(a, sunday), present(a, "2027-01-22")])
    assert statuses(answer) == ["accepted", "rejected", "rejected"]
    assert rules_of(answer)[1:] == ["AGR-14", "AGR-14"]
    log = await att.log(a)
    assert [(e["date"], e["deviation"]) for e in log] == [("2027-01-30", "job_interview")]
    # A deviation named in an entry must be the one recorded.
    assert rules_of(await att.post([present(a, saturday, deviation="group_coaching")])) == ["AGR-14"]
    # Extreme days are a 422, never a 500.
    for day in ("9999-12-31", "0001-01-01"):
        assert (await att.deviation(a, day, expect=422))["rule"] == "AGR-14"


async def test_a_mixed_batch_keeps_its_good_entries(att):
    a = await att.signed()
    answer = await att.post([
        present(a, MON),                                  # good
        present(a, "2027-02-01"),                         # ATT-1: in the future
        present(a, "2026-12-04"),                         # AGR-16: before the start (a visit is free)
        absent(a, TUE, "sick_without_certificate"),       # good: unauthorised (ATT-3)
        closed(a, "2027-01-06"),                          # good: Epiphany, a public holiday
        absent(a, "2026-12-24"),                          # a public holiday is no absence
        closed(a, WED, not_organised_reason="public_holiday"),  # 20.1. is no public holiday (AGR-9)
        present(a, "9999-12-31"), present(a, "0001-01-01"),
        present(a, THU, note="asiakas 131052-308T"),      # DATA-4
    ])
    assert statuses(answer) == ["accepted", "rejected", "rejected", "accepted", "accepted", "rejected", "rejected",
                                "rejected", "rejected", "rejected"]
    assert rules_of(answer) == [None, "ATT-1", "AGR-16", None, None, "ATT-1", "AGR-9", "ATT-1", "AGR-16", "DATA-4"]
    assert answer["counts"] == {"accepted": 3, "unchanged": 0, "revised": 0, "rejected": 7}
    log = {e["date"]: e for e in await att.log(a)}
    assert set(log) == {"2027-01-18", "2027-01-19", "2027-01-06"}
    assert log["2027-01-19"]["authorised"] is False and log["2027-01-06"]["not_organised_reason"] == "public_holiday"
    assert log["2027-01-06"]["realised"] is False and log["2027-01-18"]["realised"] is True
    recorded = await att.published("AttendanceRecorded")
    assert len(recorded) == 1 and [d["date"] for d in recorded[0]["days"]] == ["2027-01-06", "2027-01-18", "2027-01-19"]
    assert [(d["kind"], d["realised"]) for d in recorded[0]["days"]] == [("not_organised", False), ("present", True),
                                                                       ("absent", False)]
    absences = await att.published("AbsenceReported")
    assert [(x["date"], x["reason"], x["authorised"], x["revision"]) for x in absences] == [
        ("2027-01-19", "sick_without_certificate", False, 1)]


async def test_the_same_batch_twice_changes_nothing_and_a_changed_entry_is_a_revision(att):
    a, b = await att.signed(), await att.signed()
    batch = [present(a, MON), absent(a, TUE, "doctor_visit", certificate=True), present(b, MON)]
    first = await att.post(batch)
    assert statuses(first) == ["accepted"] * 3
    events = len(await att.published())
    again = await att.post(batch)
    assert statuses(again) == ["unchanged"] * 3
    assert [r["entry_id"] for r in again["results"]] == [r["entry_id"] for r in first["results"]]
    assert len(await att.published()) == events  # no second event
    assert await _count(att, LogEntryRevision) == 0
    changed = await att.post([present(a, MON, hours=6), absent(a, TUE, "doctor_visit", certificate=True)])
    assert statuses(changed) == ["revised", "unchanged"] and changed["results"][0]["revision"] == 2
    recorded = (await att.published("AttendanceRecorded"))[-1]
    assert recorded["days"][0]["previous"]["hours"] == 5.0 and recorded["days"][0]["hours"] == 6.0
    assert recorded["days"][0]["revision"] == 2 and recorded["days"][0]["correction"] is False
    entry_id = changed["results"][0]["entry_id"]
    r = await att.client.get(f"/v1/daily-log/entries/{entry_id}/revisions", headers=att.official())
    history = r.json()
    assert [h["revision"] for h in history] == [1, 2]
    assert history[0]["changes"] == {"minutes": {"old": 300, "new": 360}}
    assert history[0]["recorded_by"] == "staff-P1"
    log = await att.log(a)
    assert [(e["date"], e["revision"]) for e in log] == [("2027-01-18", 2), ("2027-01-19", 1)]


async def test_new_and_revised_entries_of_one_batch_are_written_apart_and_new_ids_are_time_ordered(att):
    """A batch's new entries are inserted (time-ordered ids, UUID version 7) and its revised ones
    upserted with their history, the two in one batch; a later batch's new ids sort after earlier ones."""
    a, b = await att.signed(), await att.signed()
    first = await att.post([present(a, MON), present(b, MON)])
    assert {uuid.UUID(r["entry_id"]).version for r in first["results"]} == {7}
    mixed = await att.post([present(b, TUE), present(a, MON, hours=6), present(a, TUE), absent(b, WED)])
    assert statuses(mixed) == ["accepted", "revised", "accepted", "accepted"]
    assert [r["revision"] for r in mixed["results"]] == [1, 2, 1, 1]
    assert mixed["results"][1]["entry_id"] == first["results"][0]["entry_id"]  # a revision keeps its entry's id
    new_ids = [uuid.UUID(r["entry_id"]) for i, r in enumerate(mixed["results"]) if i != 1]
    assert {u.version for u in new_ids} == {7}
    assert min(new_ids) > max(uuid.UUID(r["entry_id"]) for r in first["results"])
    assert await _count(att, LogEntry) == 5 and await _count(att, LogEntryRevision) == 1
    assert [(e["date"], e["revision"], e["hours"]) for e in await att.log(a)] == [("2027-01-18", 2, 6.0), ("2027-01-19", 1, 5.0)]
    assert [(e["date"], e["kind"]) for e in await att.log(b)] == [("2027-01-18", "present"), ("2027-01-19", "present"),
                                                                   ("2027-01-20", "absent")]


async def test_provider_isolation_another_providers_agreement_is_refused_per_entry(att):
    """DATA-3: refused like an unknown agreement, never revealed; the provider's own entries stand."""
    mine, theirs = await att.signed("P1"), await att.signed("P2")
    unknown = {**theirs, "agreement_id": str(uuid.uuid4())}
    answer = await att.post([present(mine, MON), present(theirs, MON), present(unknown, MON)])
    assert statuses(answer) == ["accepted", "rejected", "rejected"]
    assert rules_of(answer) == [None, "DATA-3", "DATA-3"]
    assert (answer["results"][1]["message"].replace(theirs["agreement_id"], "X")
            == answer["results"][2]["message"].replace(unknown["agreement_id"], "X"))
    assert await att.log(theirs) == []
    r = await att.client.get("/v1/daily-log", params={"agreement_id": theirs["agreement_id"]}, headers=att.provider("P1"))
    assert r.status_code == 404
    r = await att.client.get("/v1/daily-log", params={"client_id": theirs["client_id"]}, headers=att.provider("P1"))
    assert r.status_code == 200 and r.json()["items"] == []
    entry = answer["results"][0]["entry_id"]
    r = await att.client.get(f"/v1/daily-log/entries/{entry}/revisions", headers=att.provider("P2"))
    assert r.status_code == 404


async def test_a_csv_batch_equals_its_json_twin(att):
    a = await att.signed()
    json_entries = [present(a, MON, hours=4.5, tasks="puutyöt, maalaus"), absent(a, TUE, "child_illness", certificate=True,
                                                                              same_day_contact=True),
                    present(a, WED, hours=None, start="09:00", end="13:30", coaching_hours=1, content="CV"),
                    closed(a, THU, not_organised_reason="provider_closure", note="water damage")]
    csv_text = ("agreement_id,date,kind,hours,start,end,tasks,reason,certificate,same_day_contact,coaching_hours,content,"
                "not_organised_reason,note\n"
                f'{a["agreement_id"]},2027-01-18,present,4.5,,,"puutyöt, maalaus",,,,,,,\n'
                f'{a["agreement_id"]},2027-01-19,absent,,,,,child_illness,true,true,,,,\n'
                f'{a["agreement_id"]},2027-01-20,present,,09:00,13:30,woodwork,,,,1,CV,,\n'
                f'{a["agreement_id"]},2027-01-21,not_organised,,,,,,,,,,provider_closure,water damage\n')
    first = await att.post_csv(csv_text)
    assert statuses(first) == ["accepted"] * 4
    twin = await att.post(json_entries)
    assert statuses(twin) == ["unchanged"] * 4  # the same content, entry by entry
    # A spreadsheet in Finnish locale: semicolons, decimal commas, a byte-order mark.
    b = await att.signed()
    semicolons = ("\ufeffagreement_id;date;kind;hours;tasks\n"
                  f"{b['agreement_id']};2027-01-18;present;4,5;puutyöt, maalaus\n\n")
    assert statuses(await att.post_csv(semicolons)) == ["accepted"]
    assert statuses(await att.post([present(b, MON, hours=4.5, tasks="puutyöt, maalaus")])) == ["unchanged"]


async def test_a_malformed_batch_is_one_problem_naming_every_bad_row_and_writes_nothing(att):
    a = await att.signed()
    r = await att.client.post("/v1/daily-log", json={"entries": [
        present(a, MON), {**present(a, TUE), "hours": "four"}, {"agreement_id": "nope", "date": "2027-13-01", "kind": "present"},
        absent(a, WED, reason=None), {**present(a, THU), "reason": "unauthorised"}, present(a, MON, hours=6),
    ]}, headers=att.provider())
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["bad_rows"] == [1, 2, 3, 4, 5]
    fields = {e["field"] for e in problem["errors"]}
    assert {"entries.1.hours", "entries.2.agreement_id", "entries.2.date", "entries.3", "entries.4"} <= fields
    assert "nothing was written" in problem["detail"]
    r = await att.client.post("/v1/daily-log", json={"entries": [present(a, MON), present(a, MON, hours=6)]}, headers=att.provider())
    assert r.status_code == 422 and r.json()["bad_rows"] == [1]  # one client-day twice
    too_many = [present(a, MON + dt.timedelta(days=i % 3)) for i in range(5001)]
    r = await att.client.post("/v1/daily-log", json={"entries": too_many}, headers=att.provider())
    assert r.status_code == 413 and "5001" in r.json()["detail"]
    for body, ctype in ((b"not json", "application/json"), (b"{}", "application/json"), (b"<xml/>", "application/xml"),
                        (b"agreement_id,date,kind,colour\n", "text/csv"), (b"\xff\xfe", "text/csv"),
                        (f"agreement_id,date,kind\n{a['agreement_id']},2027-01-18\n".encode(), "text/csv")):
        r = await att.client.post("/v1/daily-log", content=body, headers={**att.provider(), "Content-Type": ctype})
        assert 400 <= r.status_code < 500, (body, r.status_code)
    csv_bad = (f"agreement_id,date,kind,hours\n{a['agreement_id']},2027-01-18,present,5\n"
               f"{a['agreement_id']},2027-01-19,present,lots\n")
    r = await att.client.post("/v1/daily-log", content=csv_bad.encode(), headers={**att.provider(), "Content-Type": "text/csv"})
    assert r.status_code == 422 and r.json()["bad_rows"] == [1] and "line 3" in r.text
    assert await _count(att, LogEntry) == 0
    assert await att.published() == []


async def test_absences_are_published_with_their_authorisation(att):
    """ATT-3: sickness without a certificate, being sent away and an unauthorised absence are
    unauthorised; a certified sickness, doctor's visit or child's illness is authorised."""
    a = await att.signed()
    entries = [absent(a, d, reason, certificate=cert) for d, reason, cert in (
        (dt.date(2027, 1, 4), "sick_with_certificate", True), (dt.date(2027, 1, 5), "sick_without_certificate", False),
        (dt.date(2027, 1, 7), "doctor_visit", False), (dt.date(2027, 1, 11), "sent_away_influence", False),
        (dt.date(2027, 1, 12), "child_illness", True), (dt.date(2027, 1, 13), "job_interview", False))]
    assert statuses(await att.post(entries)) == ["accepted"] * 6
    reported = {x["date"]: (x["reason"], x["authorised"]) for x in await att.published("AbsenceReported")}
    assert reported == {"2027-01-04": ("sick_with_certificate", True), "2027-01-05": ("sick_without_certificate", False),
                        "2027-01-07": ("doctor_visit", False), "2027-01-11": ("sent_away_influence", False),
                        "2027-01-12": ("child_illness", True), "2027-01-13": ("job_interview", True)}
    # A correction that brings the certificate is published again with the next revision.
    assert statuses(await att.post([absent(a, "2027-01-05", "sick_with_certificate", certificate=True)])) == ["revised"]
    last = (await att.published("AbsenceReported"))[-1]
    assert (last["date"], last["authorised"], last["revision"]) == ("2027-01-05", True, 2)


async def test_reading_the_log_is_paginated_and_audited(att):
    a = await att.signed()
    await att.post([present(a, d) for d in days(dt.date(2027, 1, 4), dt.date(2027, 1, 28), {0, 1, 2, 3})])
    r = await att.client.get("/v1/daily-log", params={"agreement_id": a["agreement_id"], "from": "2027-01-10",
                                                      "to": "2027-01-20", "limit": 3, "offset": 3}, headers=att.official())
    page = r.json()
    assert page["total"] == 7 and [e["date"] for e in page["items"]] == ["2027-01-14", "2027-01-18", "2027-01-19"]
    r = await att.client.get("/v1/daily-log", params={"client_id": a["client_id"], "limit": 1000}, headers=att.official())
    assert r.json()["total"] == 16
    audit = att.svc.rt.infra.audit_log
    async with att.svc.rt.sessionmaker() as session:
        reads = (await session.execute(select(audit.c.action, audit.c.client_ids).where(audit.c.action == "daily_log.read"))).all()
    assert len(reads) == 2 and all(row.client_ids == [a["client_id"]] for row in reads)
    for params in ({"agreement_id": a["agreement_id"], "from": "2027-02-01", "to": "2027-01-01"}, {},
                   {"agreement_id": a["agreement_id"], "from": "9999-12-31", "to": "9999-12-31"}):
        r = await att.client.get("/v1/daily-log", params=params, headers=att.official())
        assert r.status_code in (200, 422), r.text
    assert (await att.client.get("/v1/daily-log", params={"client_id": a["client_id"]},
                                 headers=att.svc.auth("client", client_id=a["client_id"]))).status_code == 403


async def test_the_231st_realised_day_in_12_months_is_refused_across_a_change_of_provider(att):
    """ATT-9 / AGR-11. Four days a week never reach 230 in 12 months (docs/decisions.md), so the
    first provider's days are loaded as an import from before the weekly limit held."""
    from ktt_common import bulk

    client = uuid.uuid4()
    old = await att.signed("P1", client_id=client, start=dt.date(2026, 1, 5), end=dt.date(2026, 11, 20),
                           schedule=[{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("mon", "tue", "wed", "thu")])
    history = [d for d in days(dt.date(2026, 1, 5), dt.date(2026, 11, 20), {0, 1, 2, 3, 4})][:229]
    now = dt.datetime.now(dt.UTC)
    rows = [dict(id=uuid.uuid4(), agreement_id=uuid.UUID(old["agreement_id"]), date=d, client_id=client, provider_id="P1",
                 unit_id=uuid.UUID(old["unit_id"]), kind="present", start_time=None, end_time=None, minutes=300, tasks=None,
                 note=None, deviation=None, absence_reason=None, certificate=None, authorised=None, same_day_contact=None,
                 not_organised_reason=None, coaching_minutes=None, coaching_content=None, realised=True, revision=1,
                 correction=False, batch_id=uuid.uuid4(), recorded_at=now, recorded_by="import") for d in history]
    async with att.svc.rt.sessionmaker() as session, session.begin():
        await bulk.write_rows(session, LogEntry.__table__, rows)
    new = await att.signed("P2", client_id=client, start=dt.date(2026, 11, 23))
    answer = await att.post([present(new, "2026-11-24"), present(new, "2026-11-23"), present(new, "2027-01-05")],
                            provider_id="P2")
    assert statuses(answer) == ["rejected", "accepted", "accepted"]  # the 230th on 23.11., the 231st on 24.11.
    assert rules_of(answer)[0] == "ATT-9" and "231 realised days in the 12 months from 2026-01-05" in answer["results"][0]["message"]


async def test_a_visit_before_the_agreement_starts_is_not_logged(att):
    """AGR-16: the client's visit before the agreement is free of charge: a day before the start takes no
    entry (so nothing of it reaches billing), while the first day does."""
    a = await att.signed()  # starts on Monday 2026-12-07
    att.clock.set(dt.date(2026, 12, 8))
    answer = await att.post([present(a, dt.date(2026, 12, 3)), present(a, dt.date(2026, 12, 7))])
    assert statuses(answer) == ["rejected", "accepted"]
    assert rules_of(answer)[0] == "AGR-16" and "free of charge" in answer["results"][0]["message"]
    assert [e["date"] for e in await att.log(a)] == ["2026-12-07"]
