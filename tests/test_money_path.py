"""Where money moves, across all five real services on one real nats-server: a decision becomes a
voucher and a signed agreement, the provider posts December's daily log and confirms the month, billing
holds the month until the provider's monthly follow-up report arrives (BIL-3, ATT-11) and then settles
it, an official approves it, it is settled on the settlement day and paid in a pain.001 batch.

Each step goes only through the public APIs and the events the services publish to each other. The
December figures are worked by hand: Mon-Wed 10-14 from 7.12., 12 scheduled days, one sick day with a
certificate (ATT-3, not paid: BIL-1), one provider closure (not organised: neither absence nor payable),
so 10 realised days x 45.00 EUR (first-year value, VOU-6) = 450.00 EUR, and the client pays nothing (BIL-4).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ktt_attendance.app import create_app as attendance_app
from ktt_billing.app import create_app as billing_app
from ktt_common.clock import FrozenClock
from ktt_common.testing import eventually, run_service, see_the_day, service_settings
from ktt_decision.app import create_app as decision_app
from ktt_registry.app import create_app as registry_app
from ktt_voucher.app import create_app as voucher_app
from tests.helpers import decision_body
from tests.journeys import approved_provider, monthly_follow_up, signed_agreement

PRESENT = ("2026-12-07", "2026-12-08", "2026-12-09", "2026-12-14", "2026-12-16", "2026-12-21", "2026-12-22",
           "2026-12-28", "2026-12-29", "2026-12-30")


async def test_december_is_logged_confirmed_settled_and_paid_to_the_cent(databases, nats_server, tmp_path):
    clock = FrozenClock(dt.date(2026, 11, 30))

    def settings(service: str, url: str, **extra: Any):  # type: ignore[no-untyped-def]
        return service_settings(service, database_url=url, nats_url=nats_server.url, data_dir=tmp_path, **extra)

    async with (
        run_service(decision_app, settings("decision", await databases("decision")), clock) as decision,
        run_service(voucher_app, settings("voucher", await databases("voucher")), clock) as voucher,
        run_service(registry_app, settings("provider-registry", await databases("provider-registry")), clock) as registry,
        run_service(attendance_app, settings("attendance", await databases("attendance")), clock) as attendance,
        # BIL-3: the monthly follow-up report is a condition of payment (BILLING_REQUIRE_MONTHLY_FOLLOW_UP on).
        run_service(billing_app, settings("billing", await databases("billing"), require_monthly_follow_up=True),
                    clock) as billing,
    ):
        unit, product = await approved_provider(registry)
        made = await decision.client.post("/v1/decisions", json=decision_body(), headers=decision.auth("integrator"))
        assert made.status_code == 201, made.text

        async def the_voucher():  # type: ignore[no-untyped-def]
            r = await voucher.client.get("/v1/vouchers", params={"decision_id": made.json()["id"]},
                                         headers=voucher.auth("city_official"))
            return r.json()[0] if r.json() else None

        agreement = await signed_agreement(voucher, await eventually(the_voucher, what="voucher issued"), unit, product)
        assert agreement["day_value_first_year_cents"] == 4500 and agreement["base_value_from"] == "2027-12-07"
        see_the_day(voucher.rt.clock, "2026-12-07")  # OPS-1: the job's date has come
        r = await voucher.client.post("/v1/admin/jobs/services-starting/run", params={"date": "2026-12-07"},
                                      headers=voucher.auth("admin"))
        assert r.json()["result"]["started"] == 1

        # December's log, posted on 2 January (nothing is logged ahead of its day).
        provider = attendance.auth("provider", provider_id="P1")

        async def attendance_knows():  # type: ignore[no-untyped-def]
            r = await attendance.client.get(f"/v1/agreements/{agreement['id']}", headers=provider)
            return r.status_code == 200 and r.json()["started_on"] == "2026-12-07"

        await eventually(attendance_knows, what="the attendance service's copy of the agreement")
        clock.set(dt.date(2027, 1, 2))
        entries = [{"agreement_id": agreement["id"], "date": d, "kind": "present", "start": "10:00", "end": "14:00",
                    "tasks": "puutyöt"} for d in PRESENT]
        entries += [{"agreement_id": agreement["id"], "date": "2026-12-15", "kind": "absent", "reason": "sick_with_certificate",
                     "certificate": True, "same_day_contact": True},
                    {"agreement_id": agreement["id"], "date": "2026-12-23", "kind": "not_organised",
                     "not_organised_reason": "provider_closure"}]
        r = await attendance.client.post("/v1/daily-log", headers=provider, json={"entries": entries})
        assert r.status_code == 200, r.text
        assert r.json()["counts"]["accepted"] == 12 and r.json()["counts"]["rejected"] == 0, r.text
        r = await attendance.client.post("/v1/months/2026-12/confirm", headers=provider, json={"unit_id": unit["id"]})
        assert r.status_code == 201, r.text  # every scheduled day has an entry (ATT-10, BIL-2)

        # Billing computes December once the month is confirmed and its days have arrived, and holds it
        # while the monthly follow-up of the agreement is missing (BIL-3).
        official = billing.auth("city_official")

        async def december(held: bool):  # type: ignore[no-untyped-def]
            see_the_day(billing.rt.clock, "2027-01-04")  # OPS-1: the job's date has come
            run = await billing.client.post("/v1/admin/jobs/settle-month/run", params={"date": "2027-01-04"},
                                            headers=billing.auth("admin"))
            assert run.status_code == 200, run.text
            r = await billing.client.get("/v1/settlements", params={"provider_id": "P1", "month": "2026-12"}, headers=official)
            found = r.json()
            if not found or found[0]["total_cents"] != 45000 or found[0]["held"] != held:
                return None
            return None if held and [h["rule"] for h in found[0]["hold_reasons"]] != ["BIL-3"] else found[0]

        waiting = await eventually(lambda: december(held=True), what="December held for its monthly follow-up only")
        assert agreement["id"] in waiting["hold_reasons"][0]["reason"]
        follow_up = await monthly_follow_up(attendance, agreement["id"], "2026-12")
        assert (follow_up["state"], follow_up["realised_days"]) == ("submitted", 10)  # the log's realised days (ATT-11)
        settlement = await eventually(lambda: december(held=False), what="December's settlement of 450.00 EUR, released")
        assert settlement["id"] == waiting["id"]
        detail = (await billing.client.get(f"/v1/settlements/{settlement['id']}", headers=official)).json()
        assert [(x["kind"], float(x["quantity"]), x["unit_value_cents"], x["amount_cents"]) for x in detail["lines"]] == [
            ("day_first_year", 10.0, 4500, 45000)]
        [line] = detail["lines"]
        assert (line["date_from"], line["date_to"], line["client_id"]) == ("2026-12-07", "2026-12-30", made.json()["client_id"])
        # Another provider reads none of it (DATA-3).
        r = await billing.client.get(f"/v1/settlements/{settlement['id']}", headers=billing.auth("provider", provider_id="P2"))
        assert r.status_code in (403, 404)

        # Approved by an official, settled on the 8th, paid in a batch.
        r = await billing.client.post(f"/v1/settlements/{settlement['id']}/approve", headers=official)
        assert r.status_code == 200 and r.json()["state"] == "approved", r.text
        see_the_day(billing.rt.clock, "2027-01-08")  # OPS-1: the job's date has come
        r = await billing.client.post("/v1/admin/jobs/settle-month/run", params={"date": "2027-01-08"},
                                      headers=billing.auth("admin"))
        assert r.json()["result"]["settled"] == 1
        r = await billing.client.post("/v1/payment-batches", headers=official, json={"settlement_ids": [settlement["id"]]})
        assert r.status_code == 201 and r.json()["total_cents"] == 45000, r.text
        batch = r.json()
        pain = await billing.client.get(f"/v1/payment-batches/{batch['id']}/pain001", headers=official)
        assert pain.status_code == 200 and "<CtrlSum>450.00</CtrlSum>" in pain.text and "FI2112345600000785" in pain.text
        r = await billing.client.post(f"/v1/payment-batches/{batch['id']}/mark-paid", headers=official)
        assert r.status_code == 200, r.text
        paid = (await billing.client.get(f"/v1/settlements/{settlement['id']}", headers=official)).json()
        assert paid["state"] == "paid" and paid["total_cents"] == 45000
