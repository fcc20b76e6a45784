"""Alerts for the city, each published once (ATT-4, ATT-5, ATT-13, ATT-14, AGR-9)."""

from __future__ import annotations

import datetime as dt

from attendance_builders import absent, closed, days, present, statuses

D = dt.date
MON_WED = [{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("mon", "wed")]


async def _alerts(att, kind=None, **params):
    r = await att.client.get("/v1/alerts", params={"limit": 1000, **({"kind": kind} if kind else {}), **params},
                             headers=att.official())
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_no_show_is_counted_in_working_days_across_6_december(att):
    """ATT-4 (a): 5 consecutive working days with scheduled days and no attendance. Monday 6.12.2027
    is Independence Day: Thu 2., Fri 3., Tue 7., Wed 8. are four working days, Thu 9. the fifth."""
    att.clock.set(D(2027, 12, 15))
    came_back = await att.signed(start=D(2027, 11, 1), end=D(2028, 3, 31))
    stayed_away = await att.signed(start=D(2027, 11, 1), end=D(2028, 3, 31))
    missed = [D(2027, 12, 2), D(2027, 12, 7), D(2027, 12, 8)]
    await att.post([absent(a, d) for a in (came_back, stayed_away) for d in missed]
                   + [closed(came_back, D(2027, 12, 6)), closed(stayed_away, D(2027, 12, 6))])
    assert await _alerts(att, "NoShowThresholdReached") == []
    await att.post([present(came_back, D(2027, 12, 9)), absent(stayed_away, D(2027, 12, 9), "sick_without_certificate")])
    [alert] = await _alerts(att, "NoShowThresholdReached")
    assert (alert["agreement_id"], alert["rule"], alert["since"], alert["status"]) == (
        stayed_away["agreement_id"], "ATT-4", "2027-12-02", "open")
    assert alert["details"]["missed_days"] == ["2027-12-02", "2027-12-07", "2027-12-08", "2027-12-09"]
    [event] = await att.published("NoShowThresholdReached")
    assert (event["variant"], event["client_id"], event["provider_id"], event["threshold"]) == (
        "working_days", stayed_away["client_id"], "P1", 5)
    # More missed days of the same run raise nothing new.
    await att.post([absent(stayed_away, D(2027, 12, 13)), absent(stayed_away, D(2027, 12, 14))])
    assert len(await att.published("NoShowThresholdReached")) == 1


async def test_a_no_show_across_the_christmas_holidays(att):
    """24.12. and 25.12.2026 are no working days: Mon 21.-Wed 23. and Mon 28. are four, Tue 29. the fifth."""
    back, away = await att.signed(), await att.signed()
    missed = [D(2026, 12, 21), D(2026, 12, 22), D(2026, 12, 23), D(2026, 12, 28)]
    await att.post([absent(a, d) for a in (back, away) for d in missed] + [present(back, D(2026, 12, 29)),
                                                                           absent(away, D(2026, 12, 29))])
    alerts = await _alerts(att, "NoShowThresholdReached")
    assert [(a["agreement_id"], a["since"]) for a in alerts] == [(away["agreement_id"], "2026-12-21")]


async def test_three_group_sessions_missed_in_a_row(att):
    """ATT-4 (b): the sessions of a group agreement; Epiphany (Wed 6.1.2027) is no session."""
    group = await att.signed(form="group", product_kind="group", schedule=MON_WED)
    broken = await att.signed(form="group", product_kind="group", schedule=MON_WED)
    await att.post([absent(group, D(2027, 1, 4)), closed(group, D(2027, 1, 6)), absent(group, D(2027, 1, 11)),
                    absent(broken, D(2027, 1, 4)), present(broken, D(2027, 1, 11)), absent(broken, D(2027, 1, 13))])
    assert [a for a in await _alerts(att, "NoShowThresholdReached") if a["details"]["variant"] == "group_sessions"] == []
    await att.post([absent(group, D(2027, 1, 13)), absent(broken, D(2027, 1, 18))])
    sessions = [a for a in await _alerts(att, "NoShowThresholdReached") if a["details"]["variant"] == "group_sessions"]
    assert [(a["agreement_id"], a["since"], a["details"]["missed_days"]) for a in sessions] == [
        (group["agreement_id"], "2027-01-04", ["2027-01-04", "2027-01-11", "2027-01-13"])]


async def test_sick_leave_of_14_days_is_no_alert_and_15_days_is(att):
    """ATT-5 / ATT-14: more than two weeks. Tue 5.1.-Mon 18.1.2027 is 14 days, Mon 4.1.-Mon 18.1. 15."""
    fourteen, fifteen = await att.signed(), await att.signed()
    sick = "sick_with_certificate"
    await att.post([absent(fourteen, D(2027, 1, 4), "unauthorised")]
                   + [absent(a, d, sick, certificate=True) for a in (fourteen, fifteen)
                      for d in days(D(2027, 1, 5), D(2027, 1, 18), {0, 1, 2, 3}) if d != D(2027, 1, 6)]
                   + [absent(fifteen, D(2027, 1, 4), sick, certificate=True)])
    [alert] = await _alerts(att, "LongSickLeave")
    assert (alert["agreement_id"], alert["since"], alert["details"]["days"], alert["rule"]) == (
        fifteen["agreement_id"], "2027-01-04", 15, "ATT-5")
    [event] = await att.published("LongSickLeave")
    assert (event["sick_from"], event["sick_through"], event["days"]) == ("2027-01-04", "2027-01-18", 15)


async def test_repeated_absences_reach_the_configured_threshold(start_attendance):
    """ATT-5: unauthorised absences, by default 3 within 30 days; the threshold is configuration."""
    for threshold, expected in ((3, ["2027-01-04"]), (4, [])):
        async with start_attendance(repeated_absences_threshold=threshold) as att:
            a = await att.signed()
            await att.post([absent(a, D(2027, 1, 4)), absent(a, D(2027, 1, 12), "sick_with_certificate", certificate=True),
                            absent(a, D(2027, 1, 19), "sick_without_certificate"), absent(a, D(2027, 1, 27), "unauthorised")])
            alerts = await _alerts(att, "RepeatedAbsences")
            assert [x["since"] for x in alerts] == expected
            if expected:
                assert alerts[0]["details"]["absence_days"] == ["2027-01-04", "2027-01-19", "2027-01-27"]
                # The next absence in the same window raises nothing new.
                await att.post([absent(a, D(2027, 1, 28))])
                assert len(await att.published("RepeatedAbsences")) == 1


async def test_continuity_is_broken_by_provider_closures_beyond_the_limit_never_by_holidays(att):
    """AGR-9: more than 3 scheduled days not organised for provider reasons within 30 days."""
    a = await att.signed()
    holidays = [closed(a, D(2026, 12, 24)), closed(a, D(2027, 1, 6))]
    closures = [closed(a, d) for d in (D(2027, 1, 11), D(2027, 1, 12), D(2027, 1, 13))]
    assert statuses(await att.post(holidays + closures)) == ["accepted"] * 5
    assert await _alerts(att, "ContinuityBroken") == []
    await att.post([closed(a, D(2027, 1, 14), note="heating broke")])
    [alert] = await _alerts(att, "ContinuityBroken")
    assert (alert["since"], alert["rule"], len(alert["details"]["not_organised_days"])) == ("2027-01-11", "AGR-9", 4)
    assert len(await att.published("ContinuityBroken")) == 1


async def test_a_situation_change_is_reported_once_and_officials_acknowledge_and_close_alerts(att):
    """ATT-13."""
    a = await att.signed()
    url = f"/v1/agreements/{a['agreement_id']}/situation-changes"
    body = {"occurred_on": "2027-01-25", "summary": "moved to another town; looking for work there"}
    r = await att.client.post(url, json=body, headers=att.provider())
    assert r.status_code == 201 and r.json()["kind"] == "SituationChanged" and r.json()["rule"] == "ATT-13"
    alert_id = r.json()["id"]
    again = await att.client.post(url, json=body, headers=att.provider())
    assert again.status_code == 200 and again.json()["id"] == alert_id
    assert len(await att.published("SituationChanged")) == 1
    assert (await att.client.post(url, json=body, headers=att.provider("P2"))).status_code == 404
    assert (await att.client.post(url, json={**body, "occurred_on": "9999-12-31"}, headers=att.provider())).status_code == 422
    assert (await att.client.post(url, json={**body, "summary": "hetu 131052-308T"}, headers=att.provider())).json()["rule"] == "DATA-4"
    [listed] = await _alerts(att, status="open")
    assert (listed["client_id"], listed["provider_id"], listed["since"]) == (a["client_id"], "P1", "2027-01-25")
    assert (await att.client.get("/v1/alerts", headers=att.provider("P2"))).json()["items"] == []
    assert (await att.client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=att.provider())).status_code == 403
    r = await att.client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=att.official())
    assert r.json()["status"] == "acknowledged" and r.json()["acknowledged_by"] == "official-1"
    r = await att.client.post(f"/v1/alerts/{alert_id}/close", json={"note": "case worker called the client"},
                              headers=att.official())
    assert r.json()["status"] == "closed" and r.json()["close_note"] == "case worker called the client"
    assert (await att.client.post(f"/v1/alerts/{alert_id}/close", json={}, headers=att.official())).status_code == 200
    assert (await att.client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=att.official())).status_code == 409
    assert await _alerts(att, status="open") == []
