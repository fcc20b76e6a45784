"""Liability insurance kept valid (PRV-10): the daily insurance-expiry job raises an alert and
publishes ProviderInsuranceLapsed once per lapse; valid insurance recorded again publishes
ProviderInsuranceRenewed; every provider event carries the end of the insurance in force."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from ktt_common.testing import see_the_day
from ktt_registry.models import InsurancePolicy
from registry_builders import (
    BUSINESS_IDS, approved_provider, as_provider, insure, official, outbox_payloads, outbox_types, set_status,
)


async def run_job(svc, on: str) -> dict:
    see_the_day(svc.rt.clock, on)  # OPS-1: the job's date has come
    r = await svc.client.post("/v1/admin/jobs/insurance-expiry/run", params={"date": on}, headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()["result"]


async def alerts(svc, **params) -> list[dict]:
    r = await svc.client.get("/v1/alerts", params=params, headers=official(svc))
    assert r.status_code == 200, r.text
    return r.json()


async def test_prv_10_a_lapse_is_alerted_and_published_once_and_a_renewal_once(registry, clock):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])                    # insured to 2027-12-31
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    await insure(svc, "P2", policy_number="VAS-2", valid_from="2026-01-01", valid_until="2026-12-31")
    await insure(svc, "P2", policy_number="VAS-77", valid_from="2026-01-01", valid_until="2026-12-31")  # correct the builder's end
    approved = {e["provider_id"]: e for e in await outbox_payloads(svc, "ProviderApproved")}
    assert approved["P1"]["insurance_valid_until"] == "2027-12-31"  # every provider event carries the insurance end

    clock.set(dt.date(2026, 12, 31))
    assert await run_job(svc, "2026-12-31") == {"lapsed": 0, "renewed": 0, "checked": 2}  # the last insured day
    clock.set(dt.date(2027, 1, 1))
    assert await run_job(svc, "2027-01-01") == {"lapsed": 1, "renewed": 0, "checked": 2}
    [lapsed] = await outbox_payloads(svc, "ProviderInsuranceLapsed")
    assert (lapsed["provider_id"], lapsed["status"], lapsed["insurance_valid_until"], lapsed["lapsed_on"]) == (
        "P2", "approved", "2026-12-31", "2027-01-01")
    assert lapsed["business_id"] == BUSINESS_IDS[1] and lapsed["iban"] == "FI2112345600000785"
    [alert] = await alerts(svc)
    assert (alert["kind"], alert["provider_id"], alert["since"], alert["rule"], alert["open"], alert["acknowledged"]) == (
        "insurance_lapsed", "P2", "2027-01-01", "PRV-10", True, False)
    assert "2026-12-31" in alert["message"] and alert["provider_name"] == "Provider P2"

    # Idempotent: the same date again, and the following days, publish nothing new.
    assert (await run_job(svc, "2027-01-01"))["lapsed"] == 0
    clock.set(dt.date(2027, 1, 2))
    assert (await run_job(svc, "2027-01-02"))["lapsed"] == 0
    assert (await outbox_types(svc))["ProviderInsuranceLapsed"] == 1 and len(await alerts(svc)) == 1

    # Officials acknowledge; others cannot see or acknowledge.
    url = f"/v1/alerts/{alert['id']}/acknowledge"
    assert (await svc.client.post(url, headers=as_provider(svc, "P2"))).status_code == 403
    assert (await svc.client.get("/v1/alerts", headers=as_provider(svc, "P2"))).status_code == 403
    for _ in range(2):
        r = await svc.client.post(url, headers=official(svc))
        assert r.status_code == 200 and (r.json()["acknowledged"], r.json()["acknowledged_by"], r.json()["acknowledged_on"]) == (
            True, "liisa.virkailija", "2027-01-02")
    assert await alerts(svc, acknowledged="false") == [] and len(await alerts(svc, open="true")) == 1

    # Valid insurance recorded again: renewed at once, published once; the alert is resolved.
    clock.set(dt.date(2027, 1, 5))
    r = await svc.client.get("/v1/providers/P2/insurance", headers=as_provider(svc, "P2"))
    assert (r.json()["insured_today"], r.json()["lapsed_since"], r.json()["valid_until"]) == (False, "2027-01-01", "2026-12-31")
    await insure(svc, "P2", policy_number="VAS-3", valid_from="2027-01-05", valid_until="2027-12-31")
    [renewed] = await outbox_payloads(svc, "ProviderInsuranceRenewed")
    assert (renewed["provider_id"], renewed["renewed_on"], renewed["insurance_valid_until"]) == ("P2", "2027-01-05", "2027-12-31")
    [alert] = await alerts(svc)
    assert (alert["open"], alert["resolved_on"]) == (False, "2027-01-05")
    assert await run_job(svc, "2027-01-05") == {"lapsed": 0, "renewed": 0, "checked": 2}
    assert (await run_job(svc, "2027-01-02"))["lapsed"] == 0  # re-running a missed night: that lapse is history
    counts = await outbox_types(svc)
    assert (counts["ProviderInsuranceLapsed"], counts["ProviderInsuranceRenewed"]) == (1, 1)
    r = await svc.client.get("/v1/providers/P2/insurance", headers=official(svc))
    assert (r.json()["insured_today"], r.json()["lapsed_since"], len(r.json()["policies"])) == (True, None, 3)


async def test_prv_10_a_renewal_recorded_in_advance_is_no_lapse_but_a_gap_is(registry, clock):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    for provider in ("P1", "P2"):
        await insure(svc, provider, valid_until="2026-12-31")   # correct the builder's policy to end this year
    clock.set(dt.date(2026, 12, 15))
    before = len(await outbox_payloads(svc, "ProviderChanged"))
    await insure(svc, "P1", policy_number="VAS-2027", valid_from="2027-01-01", valid_until="2027-12-31")  # the day after
    await insure(svc, "P2", policy_number="VAS-2027", valid_from="2027-01-10", valid_until="2027-12-31")  # nine days' gap
    changed = [(c["provider_id"], c["changed_fields"], c["insurance_valid_until"])
               for c in (await outbox_payloads(svc, "ProviderChanged"))[before:]]
    # The renewal continues P1's cover; P2's new policy after a gap does not change the end of its cover in force.
    assert changed == [("P1", ["insurance_valid_until"], "2027-12-31")]
    assert (await outbox_types(svc))["ProviderInsuranceLapsed"] == 0
    clock.set(dt.date(2027, 1, 1))
    assert await run_job(svc, "2027-01-01") == {"lapsed": 1, "renewed": 0, "checked": 2}
    [lapsed] = await outbox_payloads(svc, "ProviderInsuranceLapsed")
    assert (lapsed["provider_id"], lapsed["lapsed_on"]) == ("P2", "2027-01-01")
    clock.set(dt.date(2027, 1, 10))
    assert await run_job(svc, "2027-01-10") == {"lapsed": 0, "renewed": 1, "checked": 2}  # the new policy took effect
    [renewed] = await outbox_payloads(svc, "ProviderInsuranceRenewed")
    assert (renewed["provider_id"], renewed["renewed_on"], renewed["insurance_valid_until"]) == ("P2", "2027-01-10", "2027-12-31")


async def test_prv_10_no_insurance_at_all_is_a_lapse_and_suspended_providers_are_not_alerted(registry, clock):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await approved_provider(svc, "P2", business_id=BUSINESS_IDS[1])
    await set_status(svc, "P2", "suspended", reason="remarks on quality")
    async with svc.rt.sessionmaker() as session, session.begin():  # e.g. a provider approved before policies were kept
        await session.execute(delete(InsurancePolicy))
    assert await run_job(svc, "2026-11-30") == {"lapsed": 1, "renewed": 0, "checked": 1}
    [lapsed] = await outbox_payloads(svc, "ProviderInsuranceLapsed")
    assert (lapsed["provider_id"], lapsed["insurance_valid_until"], lapsed["lapsed_on"]) == ("P1", None, "2026-11-30")
    assert [a["provider_id"] for a in await alerts(svc)] == ["P1"]
    assert "no policy in force" in (await alerts(svc))[0]["message"]


async def test_prv_10_a_correction_that_ends_the_cover_today_is_a_lapse_at_once(registry):
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    r = await svc.client.put("/v1/providers/P1/insurance", headers=as_provider(svc, "P1"), json={
        "insurer": "LähiTapiola", "policy_number": "VAS-77", "valid_from": "2026-01-01", "valid_until": "2026-11-29"})
    assert r.status_code == 200 and r.json()["insurance_valid_until"] == "2026-11-29"
    [lapsed] = await outbox_payloads(svc, "ProviderInsuranceLapsed")
    assert (lapsed["lapsed_on"], lapsed["insurance_valid_until"]) == ("2026-11-30", "2026-11-29")
    assert (await run_job(svc, "2026-11-30"))["lapsed"] == 0
    r = await svc.client.put("/v1/providers/P1/insurance", headers=as_provider(svc, "P1"), json={
        "insurer": "LähiTapiola", "policy_number": "VAS-77", "valid_from": "2026-01-01", "valid_until": "2025-12-31"})
    assert r.status_code == 422 and r.json()["rule"] == "PRV-10"
    r = await set_status(svc, "P1", "suspended", reason="no insurance")
    r = await set_status(svc, "P1", "approved", reason="reinstate")
    assert r.status_code == 422 and r.json()["rule"] == "PRV-10"  # reinstatement needs valid insurance too


async def test_prv_10_reinstating_a_provider_insured_again_ends_its_lapse_at_once(registry, clock):
    """A policy recorded during a suspension for a later start renews on reinstatement, without waiting for the job."""
    svc = registry
    await approved_provider(svc, "P1", business_id=BUSINESS_IDS[0])
    await insure(svc, "P1", valid_until="2026-12-31")
    clock.set(dt.date(2027, 1, 1))
    assert (await run_job(svc, "2027-01-01"))["lapsed"] == 1
    await set_status(svc, "P1", "suspended", reason="no insurance")
    clock.set(dt.date(2027, 1, 3))
    await insure(svc, "P1", policy_number="VAS-2027", valid_from="2027-01-05", valid_until="2027-12-31")
    assert (await outbox_types(svc))["ProviderInsuranceRenewed"] == 0  # not insured yet
    clock.set(dt.date(2027, 1, 5))
    r = await set_status(svc, "P1", "approved", reason="insured again")
    assert r.status_code == 200, r.text
    [renewed] = await outbox_payloads(svc, "ProviderInsuranceRenewed")
    assert (renewed["renewed_on"], renewed["insurance_valid_until"], renewed["status"]) == ("2027-01-05", "2027-12-31", "approved")
    assert (await run_job(svc, "2027-01-05")) == {"lapsed": 0, "renewed": 0, "checked": 1}
