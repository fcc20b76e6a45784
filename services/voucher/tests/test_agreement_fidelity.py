"""Rule fidelity of agreements (issue 11): each test sits at the boundary of one rule and fails
on the code before the fix. Real voucher service, real nats-server, real database (both backends).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ktt_common.events import Envelope
from ktt_common.testing import eventually
from ktt_contracts.decision import DecisionAmended
from ktt_contracts.registry import CapacityChanged, QueueChanged
from ktt_voucher.agreements.models import Agreement, CapacityCopy, QueueCopy

from .test_agreements import DECIDED, World, count, outbox_types, publish  # noqa: F401  (fixtures svc, world, clock)
from .test_agreements import clock, svc, world  # noqa: F401

MON_WED = [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("mon", "tue", "wed")]
THU_FRI = [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("thu", "fri")]


async def published(svc: Any, name: str) -> list[dict[str, Any]]:
    ob = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        rows = (await s.execute(select(ob.c.envelope).where(ob.c.event_type == f"ktt.voucher.{name}.v1").order_by(ob.c.seq))).scalars()
        return [Envelope.model_validate_json(r).data for r in rows]


async def get(svc: Any, agreement_id: str) -> dict[str, Any]:
    r = await svc.client.get(f"/v1/agreements/{agreement_id}", headers=svc.auth("city_official"))
    assert r.status_code == 200, r.text
    return r.json()


async def draft(svc: Any, world: World, voucher: Any, provider: dict[str, Any], **overrides: Any) -> Any:
    return await svc.client.post("/v1/agreements", json=world.draft(voucher, provider, **overrides), headers=world.auth(provider))


async def sign_party(svc: Any, world: World, agreement_id: str, provider: dict[str, Any], party: str, *,
                     name: str | None = None, signed_on: str = "2026-11-26") -> Any:
    name = name or {"responsible_person": "Vastuu Henkilö", "instructor": "Ohjaaja Olli"}.get(party, "Asiakas")
    return await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=world.auth(provider),
                                 json={"party": party, "name": name, "place": "Turku", "signed_on": signed_on})


# --- AGR-18 / AGR-8: one agreement in force per client ---------------------------------------------

async def test_agr18_signing_with_a_new_provider_ends_the_previous_the_day_before(svc, world, clock):
    p1, p2, p3 = await world.provider("P1"), await world.provider("P2"), await world.provider("P3")
    voucher = await world.voucher()
    first = await world.signed(voucher, p1)  # 7.12.2026-31.5.2027, Mon-Wed
    clock.set(dt.date(2027, 1, 4))
    r = await draft(svc, world, voucher, p2, start_date="2027-01-11", end_date="2027-05-31")
    assert r.status_code == 201, r.text
    assert [w["rule"] for w in r.json()["warnings"]] == ["AGR-18"]  # the provider is told what signing will do
    r3 = await draft(svc, world, voucher, p3, start_date="2027-01-18", end_date="2027-05-31")
    assert r3.status_code == 201, r3.text  # a third draft is no 500: drafts bind nobody
    # P2's draft is signed by all three.
    agreement_id = r.json()["id"]
    for party in ("responsible_person", "instructor"):
        assert (await sign_party(svc, world, agreement_id, p2, party, signed_on="2027-01-04")).status_code == 200
    r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=world.client_auth(voucher),
                              json={"party": "client", "name": "Asiakas", "place": "Turku", "signed_on": "2027-01-04"})
    assert r.status_code == 200 and r.json()["state"] == "signed", r.text
    second = r.json()
    assert second["previous_agreement_id"] == first["id"]
    old = await get(svc, first["id"])
    assert (old["state"], old["end_kind"], old["ended_on"]) == ("ended", "provider_change", "2027-01-10")
    # P3 signs too (start 18.1.): P2's agreement ends on 17.1.; never two in force on one day.
    agreement3 = r3.json()["id"]
    for party in ("responsible_person", "instructor"):
        assert (await sign_party(svc, world, agreement3, p3, party, signed_on="2027-01-04")).status_code == 200
    r = await svc.client.post(f"/v1/agreements/{agreement3}/signatures", headers=world.client_auth(voucher),
                              json={"party": "client", "name": "Asiakas", "place": "Turku", "signed_on": "2027-01-04"})
    assert r.status_code == 200 and r.json()["state"] == "signed", r.text
    assert (await get(svc, second["id"]))["ended_on"] == "2027-01-17"
    ends = await published(svc, "AgreementEnded")
    assert [(e["agreement_id"], e["ended_on"], e["kind"]) for e in ends] == [
        (first["id"], "2027-01-10", "provider_change"), (second["id"], "2027-01-17", "provider_change")]


async def test_agr18_the_same_provider_continues_instead_of_a_second_agreement(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    await world.signed(voucher, p1)
    r = await draft(svc, world, voucher, p1, start_date="2027-02-01", end_date="2027-05-31")
    assert r.status_code == 422 and "AGR-10" in {e["rule"] for e in r.json()["errors"]}
    assert "continuation" in r.json()["detail"]


async def test_agr18_weekly_limit_holds_across_the_week_of_a_change_of_provider(svc, world, clock):
    p1, p2 = await world.provider("P1"), await world.provider("P2")
    voucher = await world.voucher()
    await world.signed(voucher, p1)  # Mon-Wed
    clock.set(dt.date(2027, 1, 4))
    # P1's Mon-Wed of the week of 11.1. plus P2 from Thu 14.1. on Thu and Fri: five days in one calendar week.
    r = await draft(svc, world, voucher, p2, start_date="2027-01-14", end_date="2027-05-31", schedule=THU_FRI)
    assert r.status_code == 422 and r.json()["rule"] == "AGR-18", r.text
    assert "2027-01-11" in r.json()["detail"]
    r = await draft(svc, world, voucher, p2, start_date="2027-01-18", end_date="2027-05-31", schedule=THU_FRI)
    assert r.status_code == 201, r.text  # from the next week on: at most four


async def test_agr18_the_database_refuses_a_second_agreement_in_force(svc, world):
    """A race past the use-case check meets the constraint (exclusion on PostgreSQL, trigger on SQLite)."""
    p1, p2 = await world.provider("P1"), await world.provider("P2")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)
    other = await draft(svc, world, voucher, p2, start_date="2027-01-11", end_date="2027-05-31")
    assert other.status_code == 201
    async with svc.rt.sessionmaker() as s:
        row = await s.get(Agreement, uuid.UUID(other.json()["id"]))
        row.state = "signed"  # as a concurrent signing that skipped ending the other would
        with pytest.raises(IntegrityError):
            await s.commit()
    async with svc.rt.sessionmaker() as s:
        row = await s.get(Agreement, uuid.UUID(other.json()["id"]))
        assert row.state == "draft"
        # Ending the first the day before makes room: then the second may be signed.
        first = await s.get(Agreement, uuid.UUID(signed["id"]))
        first.state, first.ended_on = "ended", dt.date(2027, 1, 10)
        await s.flush()
        row.state = "signed"
        await s.commit()


# --- DEC-4: the 3 months are the decision's ---------------------------------------------------------

async def test_dec4_a_change_of_provider_in_the_last_months_of_the_decision(svc, world, clock):
    p1, p2 = await world.provider("P1"), await world.provider("P2")
    voucher = await world.voucher()  # decision 1.12.2026-30.11.2027
    clock.set(dt.date(2027, 9, 1))
    r = await draft(svc, world, voucher, p2, start_date="2027-10-04", end_date="2027-11-30")
    assert r.status_code == 201, r.text  # two months: the KTT period (the decision's) is a year


# --- VOU-6: the base value counts from the client's first day, across decisions ------------------------------

async def test_vou6_a_new_decision_for_the_second_year_does_not_restart_the_first_year_price(svc, world, clock):
    p1 = await world.provider("P1")
    year1 = await world.voucher()
    first = await world.signed(year1, p1)
    await world.run_job("services-starting", dt.date(2026, 12, 7))
    year2 = await world.voucher(client_id=str(year1.client_id), period_start="2027-12-01", period_end="2028-11-30",
                                decided_on="2027-11-01")
    clock.set(dt.date(2027, 11, 15))
    second = await world.signed(year2, p1, signed_on="2027-11-15", start_date="2027-12-01", end_date="2028-05-31")
    assert first["base_value_from"] == "2027-12-07"
    assert second["base_value_from"] == "2027-12-07"  # not 2028-12-01: the client's year began 7.12.2026
    [signed_event] = [e for e in await published(svc, "AgreementSigned") if e["agreement_id"] == second["id"]]
    assert signed_event["base_value_from"] == "2027-12-07" and signed_event["client_first_service_day"] == "2026-12-07"


async def test_vou6_the_base_value_date_is_corrected_when_the_first_day_differs_and_published(svc, world, clock):
    p1, p2 = await world.provider("P1"), await world.provider("P2")
    year1 = await world.voucher()
    year2 = await world.voucher(client_id=str(year1.client_id), period_start="2027-12-01", period_end="2028-11-30")
    # The second-year agreement is signed first: its year counts from its own planned first day.
    later = await world.signed(year2, p2, start_date="2027-12-01", end_date="2028-05-31")
    assert later["base_value_from"] == "2028-12-01"
    first = await world.signed(year1, p1)  # then the first year's agreement, starting 7.12.2026
    assert first["base_value_from"] == "2027-12-07"
    await world.run_job("services-starting", dt.date(2026, 12, 7))  # the client's first actual day
    assert (await get(svc, later["id"]))["base_value_from"] == "2027-12-07"
    changes = [e for e in await published(svc, "AgreementChanged") if e["change"] == "base_value_from"]
    assert [(e["agreement_id"], e["base_value_from"]) for e in changes] == [(later["id"], "2027-12-07")]


# --- VOU-7: approved hours reach the agreement ---------------------------------------------------------

async def test_vou7_approved_hours_of_the_decision_travel_with_the_agreement(svc, world):
    coach = await world.provider("P1", kind="intensive_coaching")
    voucher = await world.voucher(voucher_kind="intensive_coaching", approved_hours=40)
    signed = await world.signed(voucher, coach)
    assert signed["approved_hours"] == 40
    [event] = await published(svc, "AgreementSigned")
    assert event["approved_hours"] == 40
    facts = {"decision_id": str(voucher.decision_id), "client_id": str(voucher.client_id), "source_system": "effica",
             "source_id": "EFF-x", "version": 2, "decided_on": DECIDED.isoformat(), "period_start": "2026-12-01",
             "period_end": "2027-11-30", "form": "individual", "benefit_basis": "labour_market_subsidy",
             "voucher_kind": "intensive_coaching", "approved_hours": 60, "case_worker_office": "typake", "language": "fi",
             "previous_version": 1, "changes": {"approved_hours": {"old": 40, "new": 60}}}
    await publish(svc, DecisionAmended, facts)

    async def hours() -> Any:
        changed = [e for e in await published(svc, "AgreementChanged") if e["change"] == "approved_hours"]
        return changed or None

    [changed] = await eventually(hours, what="AgreementChanged approved_hours")
    assert changed["approved_hours"] == 60


# --- AGR-1 / AGR-7: who signs ----------------------------------------------------------------------------

async def test_agr1_the_provider_cannot_sign_for_the_client_and_the_signers_are_the_named_people(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    agreement_id = (await draft(svc, world, voucher, p1)).json()["id"]
    r = await sign_party(svc, world, agreement_id, p1, "client")
    assert r.status_code == 403 and r.json()["rule"] == "AGR-1"
    r = await sign_party(svc, world, agreement_id, p1, "responsible_person", name="Joku Muu")
    assert r.status_code == 422 and r.json()["rule"] == "AGR-1"
    # The unit's responsible person (names as people write them) or a deputy the registry names may sign.
    assert (await sign_party(svc, world, agreement_id, p1, "responsible_person", name="henkilö vastuu")).status_code == 200
    assert (await sign_party(svc, world, agreement_id, p1, "responsible_person", name="Vilma Varahenkilö")).status_code == 200
    r = await sign_party(svc, world, agreement_id, p1, "instructor", name="Ohjaaja Outi")
    assert r.status_code == 422 and r.json()["rule"] == "AGR-7"
    assert (await sign_party(svc, world, agreement_id, p1, "instructor")).status_code == 200
    # An official records the client's signature only as attested from paper.
    body = {"party": "client", "name": "Asiakas", "place": "Turku", "signed_on": "2026-11-26"}
    r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=svc.auth("city_official"), json=body)
    assert r.status_code == 422 and r.json()["rule"] == "AGR-1"
    r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=svc.auth("city_official"),
                              json=body | {"paper": True})
    assert r.status_code == 200 and r.json()["state"] == "signed"
    assert r.json()["client_signature"]["method"] == "paper_attested"


async def test_agr1_the_client_signs_through_the_voucher_link(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    other = await world.voucher()
    agreement_id = (await draft(svc, world, voucher, p1)).json()["id"]
    for party in ("responsible_person", "instructor"):
        assert (await sign_party(svc, world, agreement_id, p1, party)).status_code == 200
    link = (await svc.client.post(f"/v1/vouchers/{other.id}/links", headers=svc.auth("city_official"), json={})).json()
    body = {"party": "client", "name": "Asiakas", "place": "Turku"}
    r = await svc.client.post(f"{link['url']}/agreements/{agreement_id}/signatures", json=body)
    assert r.status_code == 404  # another client's link opens nothing of this client's
    link = (await svc.client.post(f"/v1/vouchers/{voucher.id}/links", headers=svc.auth("city_official"), json={})).json()
    listed = await svc.client.get(f"{link['url']}/agreements")
    assert [a["id"] for a in listed.json()] == [agreement_id]
    r = await svc.client.post(f"{link['url']}/agreements/{agreement_id}/signatures", json=body | {"party": "instructor"})
    assert r.status_code == 403
    r = await svc.client.post(f"{link['url']}/agreements/{agreement_id}/signatures", json=body)
    assert r.status_code == 200 and r.json()["state"] == "signed" and r.json()["client_signature"]["method"] == "link"


# --- AGR-7 / AGR-17 / AGR-5: contents ---------------------------------------------------------------------

async def test_agr5_copies_follow_the_decisions_office_and_the_case_worker_contacts_are_kept(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher(case_worker_office="social_work")
    r = await draft(svc, world, voucher, p1)  # the provider typed "typake"
    assert r.status_code == 422 and r.json()["rule"] == "AGR-5"
    signed = await world.signed(voucher, p1, case_worker={"name": "Sosiaalityöntekijä", "phone": "+358404444444"})
    assert signed["content"]["case_worker"] == {"name": "Sosiaalityöntekijä", "office": "social_work",
                                                "phone": "+358404444444", "email": None}
    notes = (await svc.client.get(f"/v1/agreements/{signed['id']}/notifications", headers=svc.auth("city_official"))).json()
    assert sorted(n["recipient"] for n in notes if n["kind"] == "agreement_copy") == ["client", "social_worker", "typake"]


async def test_agr17_individual_coaching_parallel_services_and_work_cards_are_required(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    body = world.draft(voucher, p1)
    for key in ("individual_coaching", "parallel_services", "work_cards"):
        del body[key]
    r = await svc.client.post("/v1/agreements", json=body, headers=world.auth(p1))
    assert r.status_code == 422 and r.json()["rule"] == "AGR-17"
    assert {e["field"] for e in r.json()["errors"]} == {"body.individual_coaching", "body.parallel_services", "body.work_cards"}


# --- AGR-13: ending ---------------------------------------------------------------------------------------

async def test_agr13_a_mutual_end_needs_both_and_typake_is_told_before_it_takes_effect(svc, world, clock):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)
    await world.run_job("services-starting", dt.date(2026, 12, 7))
    clock.set(dt.date(2027, 2, 10))
    end = {"kind": "mutual", "reason": "the tasks do not suit the client", "ended_on": "2027-02-28"}
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", json=end, headers=world.auth(p1))
    assert r.status_code == 200 and r.json()["state"] == "active" and r.json()["end_proposal"]["agreed"] is False
    [proposed] = await published(svc, "AgreementEndProposed")
    assert proposed["proposed_by"] == "provider" and proposed["agreed"] is False
    assert not await published(svc, "AgreementEnded")
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end/answer", json={"agree": True}, headers=world.auth(p1))
    assert r.status_code == 409  # the proposer cannot agree with itself
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end/answer", json={"agree": True}, headers=world.client_auth(voucher))
    assert r.status_code == 200 and r.json()["end_proposal"]["agreed"] is True and r.json()["state"] == "active"
    assert (await world.run_job("agreements-ending", dt.date(2027, 2, 27)))["ended_early"] == 0
    assert (await world.run_job("agreements-ending", dt.date(2027, 2, 28)))["ended_early"] == 1
    [ended] = await published(svc, "AgreementEnded")
    assert (ended["kind"], ended["ended_on"], ended["early"]) == ("mutual", "2027-02-28", True)


async def test_agr13_the_client_may_terminate_and_the_provider_may_not_do_it_for_them(svc, world, clock):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)
    clock.set(dt.date(2026, 12, 14))
    body = {"kind": "client_terminated", "reason": "I found work", "ended_on": "2026-12-14"}
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", json=body, headers=world.auth(p1))
    assert r.status_code == 403 and r.json()["rule"] == "AGR-13"
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", json=body, headers=world.client_auth(voucher))
    assert r.status_code == 200 and r.json()["state"] == "ended" and r.json()["end_kind"] == "client_terminated"


async def test_agr13_end_dates_before_the_start_or_in_a_closed_month_are_refused(svc, world, clock):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)
    url = f"/v1/agreements/{signed['id']}/end"
    r = await svc.client.post(url, json={"kind": "mutual", "reason": "xyz", "ended_on": "2026-12-06"}, headers=world.auth(p1))
    assert r.status_code == 422 and r.json()["rule"] == "AGR-13" and r.json()["errors"][0]["field"] == "body.ended_on"
    clock.set(dt.date(2027, 1, 3))  # December's days are due by 3.1.: still open
    r = await svc.client.post(url, json={"kind": "mutual", "reason": "xyz", "ended_on": "2026-12-31"}, headers=world.auth(p1))
    assert r.status_code == 200, r.text
    clock.set(dt.date(2027, 1, 4))
    r = await svc.client.post(url, json={"kind": "mutual", "reason": "xyz", "ended_on": "2026-12-31"}, headers=world.auth(p1))
    assert r.status_code == 422 and "closed" in r.json()["detail"]


# --- AGR-10 / REP-3: continuations ----------------------------------------------------------------------

async def test_agr10_a_continuation_is_agreed_at_the_latest_a_week_before_the_period_ends(svc, world, clock):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)  # period ends 31.5.2027
    body = {"end": "2027-11-30", "schedule": MON_WED, "goals": "Jatko", "signature": {"name": "Vastuu Henkilö", "place": "Turku"}}
    clock.set(dt.date(2027, 5, 25))
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/continuations", json=body, headers=world.auth(p1))
    assert r.status_code == 422 and r.json()["rule"] == "REP-3"
    clock.set(dt.date(2027, 5, 24))
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/continuations", json=body, headers=world.auth(p1))
    assert r.status_code == 201, r.text
    change_id = r.json()["id"]
    clock.set(dt.date(2027, 5, 25))  # the client signs a day too late: it does not take effect
    sign = {"party": "client", "name": "Asiakas", "place": "Turku"}
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/changes/{change_id}/signatures", json=sign,
                              headers=world.client_auth(voucher))
    assert r.status_code == 422 and r.json()["rule"] == "REP-3"
    clock.set(dt.date(2027, 5, 24))
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/changes/{change_id}/signatures", json=sign,
                              headers=world.auth(p1))
    assert r.status_code == 403  # the provider cannot sign for the client
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/changes/{change_id}/signatures", json=sign,
                              headers=world.client_auth(voucher))
    assert r.status_code == 200 and r.json()["state"] == "agreed"


async def test_agr10_fewer_days_or_hours_only_with_a_reason(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)  # Mon-Wed 4 h
    fewer = [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("mon", "tue")]
    body = {"end": "2027-11-30", "schedule": fewer, "goals": "Jatko", "signature": {"name": "Vastuu Henkilö", "place": "Turku"}}
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/continuations", json=body, headers=world.auth(p1))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.reduction_reason"
    assert r.json()["rule"] == "AGR-10"
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/continuations", headers=world.auth(p1),
                              json=body | {"reduction_reason": "the client's health allows two days for now"})
    assert r.status_code == 201, r.text


# --- AGR-12: reviews -----------------------------------------------------------------------------------

async def test_agr12_a_review_changes_the_schedule_from_a_day_with_both_signatures(svc, world, clock):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)  # Mon-Wed
    clock.set(dt.date(2027, 1, 20))
    four = MON_WED + [{"weekday": "thu", "start": "10:00", "end": "14:00"}]
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/reviews", headers=world.auth(p1), json={
        "effective_from": "2027-02-01", "schedule": four, "goals": "Neljä päivää", "tasks": ["puutyöt", "kahvila"],
        "signature": {"name": "Vastuu Henkilö", "place": "Turku"}})
    assert r.status_code == 201, r.text
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/changes/{r.json()['id']}/signatures",
                              json={"party": "client", "name": "Asiakas", "place": "Turku"}, headers=world.client_auth(voucher))
    assert r.status_code == 200 and r.json()["state"] == "agreed"
    got = await get(svc, signed["id"])
    period = got["periods"][0]
    assert period["schedule_from"] == "2027-02-01" and len(period["schedule"]) == 4
    assert period["earlier_schedules"] == [{"start": "2026-12-07", "end": "2027-01-31", "schedule": signed["periods"][0]["schedule"]}]
    assert got["content"]["tasks"] == ["puutyöt", "kahvila"]
    [changed] = [e for e in await published(svc, "AgreementChanged") if e["change"] == "schedule"]
    assert changed["periods"][0]["schedule_from"] == "2027-02-01"


# --- PRV-6 / PRV-7: places and the queue -------------------------------------------------------------------

async def test_prv6_prv7_a_full_unit_takes_only_the_first_in_its_queue(svc, world):
    p1 = await world.provider("P1")
    queued, outsider = await world.voucher(), await world.voucher()
    capacity = {"provider_id": "P1", "unit_id": p1["unit_id"], "instructors": 1, "capacity": 25, "occupied": 25,
                "free_places": 0, "taking_clients": True, "changed_on": "2026-11-26"}
    await publish(svc, CapacityChanged, capacity)
    await eventually(lambda: count(svc, CapacityCopy), what="capacity copied")
    r = await draft(svc, world, outsider, p1)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-6"
    await publish(svc, CapacityChanged, capacity | {"occupied": 24, "free_places": 1})
    await publish(svc, QueueChanged, {"provider_id": "P1", "unit_id": p1["unit_id"], "product_id": p1["product_id"],
                                      "change": "joined", "client_id": str(queued.client_id), "changed_on": "2026-11-26",
                                      "entries": [{"position": 1, "client_id": str(queued.client_id), "joined_on": "2026-11-20"}]})
    await eventually(lambda: count(svc, QueueCopy), what="queue copied")

    async def one_free() -> bool:
        async with svc.rt.sessionmaker() as s:
            return (await s.get(CapacityCopy, uuid.UUID(p1["unit_id"]))).free_places == 1

    await eventually(one_free, what="a place freed")
    r = await draft(svc, world, outsider, p1)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-7"  # the free place is the queue's first
    signed = await world.signed(queued, p1)
    assert signed["state"] == "signed"
    # The registry has not caught up yet: the place just taken is not offered twice.
    another = await world.voucher()
    await publish(svc, QueueChanged, {"provider_id": "P1", "unit_id": p1["unit_id"], "product_id": p1["product_id"],
                                      "change": "left", "client_id": str(queued.client_id), "changed_on": "2026-11-26",
                                      "entries": []}, time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))

    async def queue_empty() -> bool:
        async with svc.rt.sessionmaker() as s:
            return (await s.get(QueueCopy, (uuid.UUID(p1["unit_id"]), uuid.UUID(p1["product_id"])))).client_ids == []

    await eventually(queue_empty, what="queue emptied")
    r = await draft(svc, world, another, p1)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-6"


# --- DATA-2: after the end ------------------------------------------------------------------------------

async def test_data2_after_the_end_the_provider_sees_only_what_billing_needs(svc, world, clock):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    signed = await world.signed(voucher, p1)
    clock.set(dt.date(2026, 12, 14))
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", headers=world.client_auth(voucher),
                              json={"kind": "client_terminated", "reason": "moved", "ended_on": "2026-12-14"})
    assert r.status_code == 200
    seen = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(p1))).json()
    assert seen["redacted"] is False and "client_contact" in seen["content"]  # on its last day still in force
    clock.set(dt.date(2026, 12, 15))
    seen = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(p1))).json()
    assert seen["redacted"] is True and "client_contact" not in seen["content"] and "goals" not in seen["content"]
    assert seen["periods"][0]["start"] == "2026-12-07" and seen["day_value_first_year_cents"] == 4500  # billing facts stay
    official = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))).json()
    assert "client_contact" in official["content"]  # the city is the registry controller
    clock.set(dt.date(2026, 12, 14) + dt.timedelta(days=401))
    assert (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(p1))).status_code == 404


async def test_extreme_dates_are_refused_without_a_server_error(svc, world):
    p1 = await world.provider("P1")
    voucher = await world.voucher()
    r = await draft(svc, world, voucher, p1, end_date="9999-12-31")
    assert r.status_code == 422 and "AGR-4" in {e["rule"] for e in r.json()["errors"]}
    signed = await world.signed(voucher, p1)
    for ended_on in ("9999-12-31", "0001-01-01"):
        r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", headers=world.auth(p1),
                                  json={"kind": "mutual", "reason": "xyz", "ended_on": ended_on})
        assert r.status_code == 422 and r.json()["rule"] == "AGR-13"
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/reviews", headers=world.auth(p1), json={
        "effective_from": "9999-12-31", "goals": "x", "signature": {"name": "Vastuu Henkilö", "place": "Turku"}})
    assert r.status_code == 422 and r.json()["rule"] == "AGR-12"
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/continuations", headers=world.auth(p1), json={
        "end": "9999-12-31", "schedule": MON_WED, "goals": "x", "signature": {"name": "Vastuu Henkilö", "place": "Turku"}})
    assert r.status_code == 422 and "AGR-4" in {e["rule"] for e in r.json()["errors"]}


# --- VOU-9: a representative acts through a link made for them ------------------------------------------

async def test_vou9_an_authorised_representative_signs_through_their_link_until_withdrawn(svc, world):
    from ktt_contracts.decision import RepresentativeAuthorised, RepresentativeWithdrawn
    from ktt_voucher.agreements.models import RepresentativeCopy

    p1 = await world.provider("P1")
    voucher = await world.voucher()
    official = svc.auth("city_official")
    r = await svc.client.post(f"/v1/vouchers/{voucher.id}/links", headers=official, json={"representative_id": str(uuid.uuid4())})
    assert r.status_code == 422 and r.json()["rule"] == "VOU-9"  # nobody the client authorised
    rep = {"representative_id": str(uuid.uuid4()), "client_id": str(voucher.client_id), "name": "Anna Asiainhoitaja",
           "scope": ["choose_provider", "sign_agreement"], "authorised_on": "2026-11-20", "valid_until": None}
    await publish(svc, RepresentativeAuthorised, rep)
    await eventually(lambda: count(svc, RepresentativeCopy), what="representative copied")
    link = (await svc.client.post(f"/v1/vouchers/{voucher.id}/links", headers=official,
                                  json={"representative_id": rep["representative_id"]})).json()
    agreement_id = (await draft(svc, world, voucher, p1)).json()["id"]
    for party in ("responsible_person", "instructor"):
        assert (await sign_party(svc, world, agreement_id, p1, party)).status_code == 200
    r = await svc.client.post(f"{link['url']}/refuse", json={"reason": "not this one"})
    assert r.status_code == 403 and r.json()["rule"] == "VOU-9"  # handling the voucher was not authorised
    r = await svc.client.post(f"{link['url']}/agreements/{agreement_id}/signatures",
                              json={"party": "client", "name": "Anna Asiainhoitaja", "place": "Turku"})
    assert r.status_code == 200 and r.json()["state"] == "signed"
    assert r.json()["client_signature"]["representative"]["name"] == "Anna Asiainhoitaja"
    await publish(svc, RepresentativeWithdrawn, rep | {"withdrawn_on": "2026-11-26"})

    async def withdrawn() -> bool:
        async with svc.rt.sessionmaker() as s:
            return (await s.get(RepresentativeCopy, uuid.UUID(rep["representative_id"]))).withdrawn_on is not None

    await eventually(withdrawn, what="withdrawal copied")
    r = await svc.client.get(f"{link['url']}/agreements")
    assert r.status_code == 403 and r.json()["rule"] == "VOU-9"


async def test_prv7_clients_ahead_are_counted_across_the_units_queues(svc, world):
    """Individual KTT, assessment periods and coaching share a unit's places: the registry's unit-wide rank decides."""
    p1 = await world.provider("P1")
    mine, other_product_client = await world.voucher(), await world.voucher()
    await publish(svc, CapacityChanged, {"provider_id": "P1", "unit_id": p1["unit_id"], "instructors": 1, "capacity": 25,
                                         "occupied": 24, "free_places": 1, "taking_clients": True, "changed_on": "2026-11-26"})
    await publish(svc, QueueChanged, {
        "provider_id": "P1", "unit_id": p1["unit_id"], "product_id": str(uuid.uuid4()), "change": "joined",
        "client_id": str(other_product_client.client_id), "changed_on": "2026-11-26",
        "entries": [{"position": 1, "unit_position": 1, "client_id": str(other_product_client.client_id), "joined_on": "2026-11-10"}]})
    await publish(svc, QueueChanged, {
        "provider_id": "P1", "unit_id": p1["unit_id"], "product_id": p1["product_id"], "change": "joined",
        "client_id": str(mine.client_id), "changed_on": "2026-11-26",
        "entries": [{"position": 1, "unit_position": 2, "client_id": str(mine.client_id), "joined_on": "2026-11-20"}]})
    async def both() -> bool:
        return await count(svc, QueueCopy) == 2 and await count(svc, CapacityCopy) == 1

    await eventually(both, what="both queues and the capacity copied")
    r = await draft(svc, world, mine, p1)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-7"  # first in its product's queue, second in the unit's


async def test_prv10_a_lapsed_insurance_stops_new_agreements_until_renewed(svc, world):
    from ktt_contracts.registry import ProviderInsuranceLapsed, ProviderInsuranceRenewed
    from ktt_voucher.agreements.models import ProviderCopy

    p1 = await world.provider("P1")
    voucher = await world.voucher()
    facts = {"provider_id": "P1", "name": "Yhdistys P1 ry", "business_id": "2077474-0", "legal_form": "registered_association",
             "status": "approved", "payment_terms_days": 14, "iban": "FI2112345600000785", "insurance_valid_until": "2026-11-25"}
    await publish(svc, ProviderInsuranceLapsed, facts | {"lapsed_on": "2026-11-26"})

    async def lapsed(value: bool) -> bool:
        async with svc.rt.sessionmaker() as s:
            return ((await s.get(ProviderCopy, "P1")).insurance_lapsed_on is not None) == value

    await eventually(lambda: lapsed(True), what="lapse copied")
    r = await draft(svc, world, voucher, p1)
    assert r.status_code == 422 and r.json()["rule"] == "PRV-10"
    await publish(svc, ProviderInsuranceRenewed, facts | {"insurance_valid_until": "2027-12-31", "renewed_on": "2026-11-26"},
                  time=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    await eventually(lambda: lapsed(False), what="renewal copied")
    r = await draft(svc, world, voucher, p1)
    assert r.status_code == 201, r.text
