"""Service agreements, schedules and periods through the real voucher service (AGR-*, VOU-3, VOU-6, DATA-1).

Registry and decision facts arrive as real events on a real nats-server, as the registry and
the decision service would publish them; the tests then act through the HTTP API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from ktt_common.clock import FrozenClock
from ktt_common.events import Envelope, EventType
from ktt_common.testing import RunningService, eventually, run_service, see_the_day, service_settings
from ktt_contracts.decision import ConsentRecorded, DecisionAmended, DecisionMade, DecisionRevoked
from ktt_contracts.registry import PriceListChanged, ProductChanged, ProviderApproved, ProviderRemoved, UnitChanged
from ktt_voucher.agreements.models import PriceCopy, ProviderCopy
from ktt_voucher.app import create_app
from ktt_voucher.vouchers.models import Voucher

TODAY = dt.date(2026, 11, 26)
DECIDED = dt.date(2026, 11, 25)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
async def svc(databases, nats_server, tmp_path, clock) -> Any:
    settings = service_settings("voucher", database_url=await databases("voucher"), nats_url=nats_server.url, data_dir=tmp_path)
    async with run_service(create_app, settings, clock) as running:
        yield running


async def publish(svc: RunningService, event_type: EventType[Any], payload: dict[str, Any], time: dt.datetime | None = None) -> None:
    env = event_type.envelope(payload, subject=None, correlation_id=None, time=time or dt.datetime.now(dt.UTC))
    await svc.rt.bus.publish(event_type.subject, env.model_dump_json().encode(), env.id)


async def count(svc: RunningService, model: Any, *where: Any) -> int:
    async with svc.rt.sessionmaker() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def outbox_types(svc: RunningService) -> list[str]:
    ob = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        return [r[0] for r in (await s.execute(select(ob.c.event_type).order_by(ob.c.seq))).all()]


class World:
    """Builders: a provider with a unit and a priced product, and a client's voucher."""

    def __init__(self, svc: RunningService) -> None:
        self.svc = svc

    async def provider(self, provider_id: str = "P1", *, kind: str = "individual", day_cents: int = 4500,
                       base_cents: int = 3800, status: str = "approved") -> dict[str, Any]:
        unit_id, product_id = uuid.uuid4(), uuid.uuid4()
        facts = {"provider_id": provider_id, "name": f"Yhdistys {provider_id} ry", "business_id": "2077474-0",
                 "legal_form": "registered_association", "status": status, "payment_terms_days": 14,
                 "iban": "FI2112345600000785"}
        await publish(self.svc, ProviderApproved, facts | {"previous_status": "applied", "reason": "ok",
                                                           "changed_on": "2026-11-01", "changed_by": "official"})
        await publish(self.svc, UnitChanged, {
            "provider_id": provider_id, "unit_id": str(unit_id), "name": f"Paja {provider_id}", "street_address": "Linnankatu 1",
            "postal_code": "20100", "city": "Turku", "service_producer_code": f"SPC-{provider_id}",
            "responsible_person_name": "Vastuu Henkilö", "responsible_person_phone": "+35820000000",
            "signing_deputies": ["Varahenkilö Vilma"],
            "accessible": True, "suits_partial_work_ability": True, "languages": ["fi", "sv"], "taking_clients": True,
            "changed_on": "2026-11-01"})
        await publish(self.svc, ProductChanged, {
            "provider_id": provider_id, "product_id": str(product_id), "kind": kind, "form": "group" if kind == "group" else "individual",
            "name": "Yksilöllinen KTT", "description": "Työtä puutyöpajassa", "tasks": ["puutyö"], "themes": [], "active": True,
            "changed_on": "2026-11-01"})
        version = {"version": 1, "effective_from": "2026-01-01", "day_value_first_year_cents": day_cents,
                   "base_day_value_cents": base_cents, "hour_value_cents": None, "set_by": "official"}
        await publish(self.svc, PriceListChanged, {"provider_id": provider_id, "product_id": str(product_id), "product_kind": kind,
                                                   "new_version": version, "versions": [version]})
        await eventually(lambda: count(self.svc, PriceCopy, PriceCopy.product_id == product_id), what="registry copies")
        return {"provider_id": provider_id, "unit_id": str(unit_id), "product_id": str(product_id)}

    async def voucher(self, **overrides: Any) -> Voucher:
        facts = {"decision_id": str(uuid.uuid4()), "client_id": str(uuid.uuid4()), "source_system": "effica",
                 "source_id": f"EFF-{uuid.uuid4().hex[:6]}", "version": 1, "decided_on": DECIDED.isoformat(),
                 "period_start": "2026-12-01", "period_end": "2027-11-30", "form": "individual",
                 "benefit_basis": "labour_market_subsidy", "voucher_kind": "regular", "case_worker_office": "typake",
                 "language": "fi"} | overrides
        await publish(self.svc, DecisionMade, facts)

        async def issued() -> Voucher | None:
            async with self.svc.rt.sessionmaker() as s:
                return (await s.execute(select(Voucher).where(Voucher.decision_id == uuid.UUID(facts["decision_id"])))).scalar_one_or_none()

        return await eventually(issued, what="voucher issued")

    def draft(self, voucher: Voucher, provider: dict[str, Any], **overrides: Any) -> dict[str, Any]:
        body = {
            "voucher_number": voucher.number, "unit_id": provider["unit_id"], "product_id": provider["product_id"],
            "start_date": "2026-12-07", "end_date": "2027-05-31",
            "schedule": [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("mon", "tue", "wed")],
            "tasks": ["puutyöt", "siivous"], "goals": "Arjen rytmi ja työvalmiudet",
            "instructor": {"name": "Ohjaaja Olli", "phone": "+358401111111"},
            "client_contact": {"phone": "+358402222222"},
            "case_worker": {"name": "Liisa Virkailija", "office": "typake", "phone": "+358403333333"},
            "individual_coaching": "1 h a week", "parallel_services": [], "work_cards": ["hygieniapassi"],
            "terms": {"absence_reporting_and_certificates": True, "sanctions_for_unauthorised_absence": True,
                      "no_participation_under_influence": True, "termination_and_complaint_terms": True,
                      "self_monitoring_plan": True, "orientation_folder": True, "fire_safety_induction": True},
        }
        body.update(overrides)
        return body

    def auth(self, provider: dict[str, Any]) -> dict[str, str]:
        return self.svc.auth("provider", provider_id=provider["provider_id"])

    async def signed(self, voucher: Voucher, provider: dict[str, Any], signed_on: str = "2026-11-26", **overrides: Any) -> dict[str, Any]:
        r = await self.svc.client.post("/v1/agreements", json=self.draft(voucher, provider, **overrides), headers=self.auth(provider))
        assert r.status_code == 201, r.text
        agreement_id = r.json()["id"]
        for party, name in (("responsible_person", "Vastuu Henkilö"), ("instructor", "Ohjaaja Olli")):
            r = await self.svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=self.auth(provider),
                                           json={"party": party, "name": name, "place": "Turku", "signed_on": signed_on})
            assert r.status_code == 200, r.text
        r = await self.svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=self.client_auth(voucher),
                                       json={"party": "client", "name": "Asiakas", "place": "Turku", "signed_on": signed_on})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "signed"
        return r.json()

    def client_auth(self, voucher: Voucher) -> dict[str, str]:
        return self.svc.auth("client", client_id=str(voucher.client_id))

    async def svc_outbox(self) -> list[dict[str, Any]]:
        """Everything the service wrote to its outbox, oldest first: [{"type": ..., "data": ...}]."""
        ob = self.svc.rt.infra.outbox
        async with self.svc.rt.sessionmaker() as s:
            rows = (await s.execute(select(ob.c.event_type, ob.c.envelope).order_by(ob.c.seq))).all()
        return [{"type": r.event_type, "data": Envelope.model_validate_json(r.envelope).data} for r in rows]

    async def run_job(self, job: str, date: dt.date) -> dict[str, Any]:
        see_the_day(self.svc.rt.clock, date)  # OPS-1: the job's date has come
        r = await self.svc.client.post(f"/v1/admin/jobs/{job}/run", params={"date": date.isoformat()}, headers=self.svc.auth("admin"))
        assert r.status_code == 200, r.text
        return r.json()["result"]


@pytest.fixture
def world(svc) -> World:
    return World(svc)


async def test_agr7_incomplete_draft_lists_every_missing_item_at_once(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    body = world.draft(voucher, provider, tasks=[], goals=None, instructor=None, terms=None)
    del body["schedule"]
    r = await svc.client.post("/v1/agreements", json=body, headers=world.auth(provider))
    assert r.status_code == 422
    by_rule = {(e["rule"], e["field"]) for e in r.json()["errors"]}
    assert {("AGR-7", f) for f in ("body.schedule", "body.tasks", "body.goals", "body.instructor.name", "body.instructor.phone",
            "body.terms.absence_reporting_and_certificates", "body.terms.sanctions_for_unauthorised_absence",
            "body.terms.no_participation_under_influence")} | {("AGR-17", f"body.terms.{t}") for t in (
            "termination_and_complaint_terms", "self_monitoring_plan", "orientation_folder", "fire_safety_induction")} == by_rule


async def test_agr6_boundaries_through_the_api(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    five = [{"weekday": d, "start": "10:00", "end": "14:00"} for d in ("mon", "tue", "wed", "thu", "fri")]
    r = await svc.client.post("/v1/agreements", json=world.draft(voucher, provider, schedule=five), headers=world.auth(provider))
    assert r.status_code == 422 and r.json()["rule"] == "AGR-6"
    short = [{"weekday": "mon", "start": "10:00", "end": "13:30"}]
    r = await svc.client.post("/v1/agreements", json=world.draft(voucher, provider, schedule=short), headers=world.auth(provider))
    assert r.status_code == 422 and "3.5" in r.json()["detail"]
    long = [{"weekday": "mon", "start": "08:00", "end": "15:00"}]
    four = five[:4]
    r = await svc.client.post("/v1/agreements", json=world.draft(voucher, provider, schedule=four), headers=world.auth(provider))
    assert r.status_code == 201 and r.json()["warnings"] == []
    other = await world.voucher()
    r = await svc.client.post("/v1/agreements", json=world.draft(other, provider, schedule=long), headers=world.auth(provider))
    assert r.status_code == 201 and [w["rule"] for w in r.json()["warnings"]] == ["AGR-6"]  # accepted with a warning


async def test_agr4_end_one_day_after_the_decision_refused(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    r = await svc.client.post("/v1/agreements", json=world.draft(voucher, provider, end_date="2027-12-01"), headers=world.auth(provider))
    assert r.status_code == 422 and "AGR-4" in {e["rule"] for e in r.json()["errors"]}
    r = await svc.client.post("/v1/agreements", json=world.draft(voucher, provider, end_date="2027-11-30"), headers=world.auth(provider))
    assert r.status_code == 201


async def test_agr3_signing_three_days_before_start_accepted_two_refused(svc, world):
    provider = await world.provider()
    late = await world.voucher()
    r = await svc.client.post("/v1/agreements", json=world.draft(late, provider), headers=world.auth(provider))
    agreement_id = r.json()["id"]
    client = world.client_auth(late)
    r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=client,
                              json={"party": "client", "name": "A", "place": "Turku", "signed_on": "2026-12-05"})
    assert r.status_code == 422 and "future" in r.json()["detail"]  # nobody signs on a date still to come
    svc.rt.clock.set(dt.date(2026, 12, 5))
    for party, name in (("responsible_person", "Vastuu Henkilö"), ("instructor", "Ohjaaja Olli")):
        r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=world.auth(provider),
                                  json={"party": party, "name": name, "place": "Turku", "signed_on": "2026-12-04"})
        assert r.status_code == 200, r.text
    r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=client,
                              json={"party": "client", "name": "A", "place": "Turku", "signed_on": "2026-12-05"})
    assert r.status_code == 422 and r.json()["rule"] == "AGR-3"  # start 7.12., signed 5.12.: two days
    assert (await svc.client.get(f"/v1/agreements/{agreement_id}", headers=world.auth(provider))).json()["state"] == "draft"
    r = await svc.client.post(f"/v1/agreements/{agreement_id}/signatures", headers=client,
                              json={"party": "client", "name": "A", "place": "Turku", "signed_on": "2026-12-04"})
    assert r.status_code == 200 and r.json()["state"] == "signed"  # three days before: accepted


async def test_signing_freezes_values_and_copies_go_out(svc, world):
    provider = await world.provider(day_cents=4500, base_cents=3800)
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)
    assert (signed["day_value_first_year_cents"], signed["base_day_value_cents"], signed["price_version"]) == (4500, 3800, 1)
    assert signed["base_value_from"] == "2027-12-07"  # VOU-6: one year after the first start (7.12.2026)
    # A later price change never rewrites the frozen copy.
    version2 = {"version": 2, "effective_from": "2026-12-01", "day_value_first_year_cents": 9900, "base_day_value_cents": 9900,
                "hour_value_cents": None, "set_by": "official"}
    await publish(svc, PriceListChanged, {"provider_id": provider["provider_id"], "product_id": provider["product_id"],
                                          "product_kind": "individual", "new_version": version2, "versions": [version2]})
    await eventually(lambda: count(svc, PriceCopy, PriceCopy.version == 2), what="price v2")
    again = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(provider))).json()
    assert again["day_value_first_year_cents"] == 4500
    notes = (await svc.client.get(f"/v1/agreements/{signed['id']}/notifications", headers=svc.auth("city_official"))).json()
    assert sorted(n["recipient"] for n in notes) == ["client", "typake"]  # AGR-5, a Typake client: no social worker
    assert (await outbox_types(svc)).count("ktt.voucher.AgreementSigned.v1") == 1


async def test_provider_cannot_see_or_draft_for_another_providers_units(svc, world):
    mine = await world.provider("P1")
    theirs = await world.provider("P2")
    voucher = await world.voucher()
    r = await svc.client.post("/v1/agreements", json=world.draft(voucher, theirs), headers=world.auth(mine))
    assert r.status_code == 403
    signed = await world.signed(voucher, theirs)
    assert (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(mine))).status_code == 404
    listed = await svc.client.get("/v1/agreements", params={"client_id": str(voucher.client_id)}, headers=world.auth(mine))
    assert listed.status_code == 200 and listed.json() == []
    assert len((await svc.client.get("/v1/agreements", params={"client_id": str(voucher.client_id)},
                                     headers=world.auth(theirs))).json()) == 1


async def test_service_start_job_publishes_service_started_once_and_voucher_in_use(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)
    assert (await world.run_job("services-starting", dt.date(2026, 12, 6)))["started"] == 0  # a Sunday before the start
    assert (await world.run_job("services-starting", dt.date(2026, 12, 7)))["started"] == 1
    assert (await world.run_job("services-starting", dt.date(2026, 12, 7)))["started"] == 0
    got = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(provider))).json()
    assert got["state"] == "active" and got["started_on"] == "2026-12-07"
    assert (await svc.client.get(f"/v1/vouchers/{voucher.id}", headers=svc.auth("city_official"))).json()["state"] == "in_use"
    assert (await outbox_types(svc)).count("ktt.voucher.ServiceStarted.v1") == 1


async def test_period_ending_published_once_when_the_job_runs_twice_or_concurrently(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)  # period ends 31.5.2027
    assert (await world.run_job("periods-ending", dt.date(2027, 5, 9)))["published"] == 0  # 22 days before
    results = await asyncio.gather(*(world.run_job("periods-ending", dt.date(2027, 5, 10)) for _ in range(3)))
    assert sum(r["published"] for r in results) == 1
    assert (await world.run_job("periods-ending", dt.date(2027, 5, 11)))["published"] == 0
    assert (await outbox_types(svc)).count("ktt.voucher.PeriodEnding.v1") == 1
    ob = svc.rt.infra.outbox
    async with svc.rt.sessionmaker() as s:
        envelope = (await s.execute(select(ob.c.envelope).where(ob.c.event_type == "ktt.voucher.PeriodEnding.v1"))).scalar_one()
    assert '"evaluation_due":"2027-05-24"' in envelope and '"evaluation_kind":"final"' in envelope
    assert signed["periods"][0]["evaluation_due"] == "2027-05-24"


async def test_base_value_date_carries_across_a_change_of_provider(svc, world):
    first = await world.provider("P1")
    second = await world.provider("P2")
    voucher = await world.voucher()
    old = await world.signed(voucher, first)
    await world.run_job("services-starting", dt.date(2026, 12, 7))
    svc.rt.clock.set(dt.date(2027, 2, 1))
    new = await world.signed(voucher, second, signed_on="2027-02-01", start_date="2027-03-01", end_date="2027-11-30")
    assert new["previous_agreement_id"] == old["id"]
    assert new["base_value_from"] == "2027-12-07"  # counted from the first start under the voucher (VOU-6)
    ended = (await svc.client.get(f"/v1/agreements/{old['id']}", headers=svc.auth("city_official"))).json()
    assert ended["state"] == "ended" and ended["end_kind"] == "provider_change" and ended["ended_on"] == "2027-02-28"  # AGR-8


async def test_revoked_decision_ends_the_agreement(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)
    await publish(svc, DecisionRevoked, {"decision_id": str(voucher.decision_id), "client_id": str(voucher.client_id),
                                         "revoked_on": "2026-12-20", "reason": "moved away"})

    async def ended() -> bool:
        r = await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))
        return r.json()["state"] == "ended"

    await eventually(ended, what="agreement ended")
    got = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))).json()
    assert got["end_kind"] == "decision_revoked" and got["ended_on"] == "2026-12-20"
    types = await outbox_types(svc)
    assert types.count("ktt.voucher.AgreementEnded.v1") == 1 and "ktt.voucher.VoucherRevoked.v1" in types


async def test_removed_provider_ends_its_agreements(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)
    await publish(svc, ProviderRemoved, {"provider_id": "P1", "name": "Yhdistys P1 ry", "business_id": "2077474-0",
                                         "legal_form": "registered_association", "status": "removed", "payment_terms_days": 14,
                                         "iban": "FI2112345600000785", "previous_status": "approved", "reason": "quality",
                                         "changed_on": "2027-01-15", "changed_by": "official"})
    await eventually(lambda: count(svc, ProviderCopy, ProviderCopy.status == "removed"), what="provider removed")

    async def ended() -> bool:
        r = await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))
        return r.json()["end_kind"] == "provider_removed"

    await eventually(ended, what="agreement ended")


async def test_plan_data_visible_only_after_consent(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)
    assert signed["plan_visible"] is False
    await publish(svc, ConsentRecorded, {"consent_id": str(uuid.uuid4()), "client_id": str(voucher.client_id),
                                         "provider_id": "P1", "scope": ["plan"], "given_on": "2026-11-26"})

    async def visible() -> bool:
        r = await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(provider))
        return r.json()["plan_visible"]

    assert await eventually(visible, what="consent copied")  # DATA-1


async def test_continuation_signed_by_both_then_city_suspension(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)  # period 7.12.2026-31.5.2027
    four = [{"weekday": d, "start": "09:00", "end": "15:00"} for d in ("mon", "tue", "wed", "thu")]
    body = {"end": "2027-11-30", "schedule": four, "goals": "Kohti neljää päivää",
            "signature": {"name": "Vastuu Henkilö", "place": "Turku"}}
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/continuations", json=body, headers=world.auth(provider))
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["state"] == "proposed" and change["effective_from"] == "2027-06-01"
    got = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(provider))).json()
    assert [p["seq"] for p in got["periods"]] == [1]  # nothing takes effect on the provider's word alone
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/changes/{change['id']}/signatures", headers=world.client_auth(voucher),
                              json={"party": "client", "name": "Asiakas", "place": "Turku"})
    assert r.status_code == 200 and r.json()["state"] == "agreed"
    got = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=world.auth(provider))).json()
    assert [p["seq"] for p in got["periods"]] == [1, 2] and got["end_date"] == "2027-11-30"
    assert (await outbox_types(svc)).count("ktt.voucher.AgreementChanged.v1") == 1
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", json={"kind": "city_suspension", "reason": "x" * 5},
                              headers=world.auth(provider))
    assert r.status_code == 403  # only the city suspends
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", json={"kind": "city_suspension", "reason": "long sick leave",
                                                                          "ended_on": "2026-11-26"},
                              headers=svc.auth("city_official"))
    assert r.status_code == 422 and r.json()["rule"] == "AGR-13"  # before the start
    r = await svc.client.post(f"/v1/agreements/{signed['id']}/end", json={"kind": "city_suspension", "reason": "long sick leave",
                                                                          "ended_on": "2026-12-07"},
                              headers=svc.auth("city_official"))
    assert r.status_code == 200 and r.json()["state"] == "signed" and r.json()["end_proposal"]["agreed"] is True
    notes = (await svc.client.get(f"/v1/agreements/{signed['id']}/notifications", headers=svc.auth("city_official"))).json()
    assert any(n["kind"] == "end_agreed" and n["recipient"] == "typake" for n in notes)  # AGR-13: told before it takes effect
    assert (await world.run_job("agreements-ending", dt.date(2026, 12, 6)))["ended_early"] == 0
    assert (await world.run_job("agreements-ending", dt.date(2026, 12, 7)))["ended_early"] == 1
    got = (await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))).json()
    assert got["state"] == "ended" and got["ended_on"] == "2026-12-07" and got["end_kind"] == "city_suspension"


async def test_provider_refusal_is_seen_by_typake(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    r = await svc.client.post("/v1/provider-refusals", json={"voucher_number": voucher.number, "reason": "no suitable tasks for the client's restrictions"},
                              headers=world.auth(provider))
    assert r.status_code == 201
    seen = (await svc.client.get("/v1/provider-refusals", headers=svc.auth("city_official"))).json()
    assert [s["reason"] for s in seen] == ["no suitable tasks for the client's restrictions"]  # AGR-15
    r = await svc.client.post("/v1/provider-refusals", json={"voucher_number": voucher.number, "reason": "no"}, headers=world.auth(provider))
    assert r.status_code == 422


async def test_deadlines_view_lists_overdue_first(svc, world, clock):
    provider = await world.provider()
    waiting = await world.voucher()
    drafted = await world.voucher()
    r = await svc.client.post("/v1/agreements", json=world.draft(drafted, provider), headers=world.auth(provider))
    assert r.status_code == 201
    clock.set(dt.date(2026, 12, 3))  # 8 days after the decision: contact deadline passed
    rows = (await svc.client.get("/v1/deadlines", params={"office": "typake"}, headers=svc.auth("city_official"))).json()
    assert rows[0]["overdue"] is True and rows[0]["kind"] == "contact_provider" and rows[0]["voucher_id"] == str(waiting.id)
    kinds = {(r["voucher_id"], r["kind"]) for r in rows}
    assert (str(drafted.id), "signing") in kinds and (str(drafted.id), "contact_provider") not in kinds
    assert all(not r["overdue"] for r in rows if r["kind"] != "contact_provider")


async def test_agr4_a_shortened_decision_cuts_the_agreement_to_its_new_end(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    signed = await world.signed(voucher, provider)  # 7.12.2026-31.5.2027
    amended = {"decision_id": str(voucher.decision_id), "client_id": str(voucher.client_id), "source_system": "effica",
               "source_id": "EFF-x", "version": 2, "decided_on": DECIDED.isoformat(), "period_start": "2026-12-01",
               "period_end": "2027-03-31", "form": "individual", "benefit_basis": "labour_market_subsidy",
               "voucher_kind": "regular", "case_worker_office": "typake", "language": "fi", "previous_version": 1,
               "changes": {"period_end": {"old": "2027-11-30", "new": "2027-03-31"}}}
    await publish(svc, DecisionAmended, amended)

    async def cut():  # type: ignore[no-untyped-def]
        r = await svc.client.get(f"/v1/agreements/{signed['id']}", headers=svc.auth("city_official"))
        return r.json() if r.json()["end_date"] == "2027-03-31" else None

    got = await eventually(cut, what="agreement cut to the decision's end")
    assert got["state"] == "signed" and got["periods"][0]["end"] == "2027-03-31"
    assert got["periods"][0]["evaluation_due"] == "2027-03-24"
    types = await outbox_types(svc)
    assert types.count("ktt.voucher.AgreementChanged.v1") == 1 and "ktt.voucher.VoucherValidityChanged.v1" in types
