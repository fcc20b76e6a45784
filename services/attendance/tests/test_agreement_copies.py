"""The attendance service's copies of agreements, from the voucher service's events: applied once,
never rolled back by an older event, an end remembered even when it comes first (AGR-13, AGR-18)."""

from __future__ import annotations

import datetime as dt
import uuid

from ktt_common.testing import eventually
from ktt_contracts.agreement import AgreementEnded, AgreementSigned
from ktt_contracts.voucher import ServiceStarted

from attendance_builders import EVENT_TIME, agreement, ended, present, rules_of, statuses

LATER = EVENT_TIME + dt.timedelta(hours=1)


async def _copy(att, facts, provider="P1"):
    r = await att.client.get(f"/v1/agreements/{facts['agreement_id']}", headers=att.provider(provider))
    return r


async def test_signed_agreement_is_copied_once_and_visible_to_its_provider_only(att):
    facts = agreement("P1")
    env = AgreementSigned.envelope(facts, subject=facts["agreement_id"], correlation_id=None, time=EVENT_TIME)
    assert await att.deliver(AgreementSigned, facts, envelope=env) == "handled"
    assert await att.deliver(AgreementSigned, facts, envelope=env) == "duplicate"  # redelivered: the inbox drops it
    r = await _copy(att, facts)
    assert r.status_code == 200 and r.json()["start"] == "2026-12-07" and r.json()["last_day"] == "2027-11-30"
    other = await _copy(att, facts, provider="P2")
    nobody = str(uuid.uuid4())
    unknown = await att.client.get(f"/v1/agreements/{nobody}", headers=att.provider("P2"))
    assert other.status_code == unknown.status_code == 404  # DATA-3: never revealed
    assert other.json()["detail"].replace(facts["agreement_id"], "ID") == unknown.json()["detail"].replace(nobody, "ID")


async def test_an_older_change_never_rolls_back_a_newer_one(att):
    facts = await att.signed()
    newer = {**facts, "periods": [{**facts["periods"][0], "schedule": [{"weekday": "fri", "start": "09:00", "end": "14:00"}],
                                   "schedule_from": "2027-01-04",
                                   "earlier_schedules": [{"start": "2026-12-07", "end": "2027-01-03",
                                                          "schedule": facts["periods"][0]["schedule"]}]}]}
    assert await att.changed(newer, time=LATER + dt.timedelta(hours=1)) == "handled"
    assert await att.changed(facts, time=LATER) == "handled"  # older: applied to nothing
    answer = await att.post([present(facts, "2027-01-22"), present(facts, "2027-01-18"), present(facts, "2026-12-14")])
    # AGR-12: Fridays from 4.1. on, Mondays to Thursdays before.
    assert statuses(answer) == ["accepted", "rejected", "accepted"]
    assert rules_of(answer)[1] == "AGR-14"


async def test_an_end_seen_before_the_signing_is_remembered(att):
    facts = agreement("P1")
    assert await att.deliver(AgreementEnded, ended(facts, dt.date(2027, 1, 12)), time=LATER) == "handled"
    assert await att.deliver(AgreementSigned, facts, time=EVENT_TIME) == "handled"
    answer = await att.post([present(facts, "2027-01-12"), present(facts, "2027-01-13")])
    assert statuses(answer) == ["accepted", "rejected"]
    assert rules_of(answer)[1] == "AGR-13" and "2027-01-12" in answer["results"][1]["message"]
    # A re-end moves the last day earlier (AGR-8); an older end handled late does not move it back.
    assert await att.deliver(AgreementEnded, ended(facts, dt.date(2027, 1, 5)), time=LATER + dt.timedelta(hours=1)) == "handled"
    assert await att.deliver(AgreementEnded, ended(facts, dt.date(2027, 1, 20)), time=LATER) == "handled"
    r = await _copy(att, facts)
    assert r.json()["last_day"] == "2027-01-05"


async def test_an_end_alone_binds_no_day(att):
    facts = agreement("P1")
    await att.deliver(AgreementEnded, ended(facts, dt.date(2027, 1, 12)))
    answer = await att.post([present(facts, "2027-01-11")])
    assert rules_of(answer) == ["DATA-3"]
    assert (await _copy(att, facts)).status_code == 404


async def test_copies_arrive_over_the_real_bus_with_the_service_start(att):
    facts = agreement("P1")
    env = AgreementSigned.envelope(facts, subject=facts["agreement_id"], correlation_id=None, time=EVENT_TIME)
    await att.svc.rt.bus.publish(AgreementSigned.subject, env.model_dump_json().encode(), env.id)
    await att.svc.rt.bus.publish(AgreementSigned.subject, env.model_dump_json().encode(), str(uuid.uuid4()))  # again
    started = ServiceStarted.envelope({"client_id": facts["client_id"], "voucher_id": facts["voucher_id"],
                                       "decision_id": facts["decision_id"], "agreement_id": facts["agreement_id"],
                                       "provider_id": "P1", "started_on": "2026-12-07"},
                                      subject=facts["agreement_id"], correlation_id=None, time=EVENT_TIME)
    await att.svc.rt.bus.publish(ServiceStarted.subject, started.model_dump_json().encode(), started.id)

    async def started_known():
        r = await _copy(att, facts)
        return r.status_code == 200 and r.json()["started_on"] == "2026-12-07"

    await eventually(started_known, what="the copy with its first day")


async def test_copies_follow_the_agreements_revision_not_the_producers_clock(att):
    """Issue 12 item 3: the voucher service numbers each agreement's events; a copy applies the higher
    revision even when its producer time is earlier (replicas' clocks differ), and a lower one never."""
    facts = agreement("P1", revision=1)
    assert await att.deliver(AgreementSigned, facts, time=LATER + dt.timedelta(hours=2)) == "handled"
    fridays = {**facts, "revision": 2, "change": "schedule",
               "periods": [{**facts["periods"][0], "schedule": [{"weekday": "fri", "start": "09:00", "end": "14:00"}]}]}
    assert await att.changed(fridays, time=EVENT_TIME) == "handled"  # earlier clock, higher revision: applied
    assert await att.deliver(AgreementSigned, facts, time=LATER + dt.timedelta(hours=3)) == "handled"  # rev 1 again: ignored
    answer = await att.post([present(facts, "2027-01-22"), present(facts, "2027-01-18")])
    assert statuses(answer) == ["accepted", "rejected"] and rules_of(answer)[1] == "AGR-14"
    # Ends likewise: revision 4 stands against a revision 3 handled later with a later clock.
    assert await att.deliver(AgreementEnded, {**ended(facts, dt.date(2027, 1, 26)), "revision": 4}, time=EVENT_TIME) == "handled"
    assert await att.deliver(AgreementEnded, {**ended(facts, dt.date(2027, 3, 1)), "revision": 3}, time=LATER) == "handled"
    answer = await att.post([present(facts, "2027-01-29")])
    assert rules_of(answer) == ["AGR-13"] and "2027-01-26" in answer["results"][0]["message"]
