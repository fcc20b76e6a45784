"""The deadlines view follows the attendance service's reports (REP-3, REP-4): a submitted evaluation
closes its period's deadline, a returned one reopens it, and an older event handled late changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ktt_contracts.reports import ReportAccepted, ReportReturned, ReportSubmitted

from .test_agreements import clock, svc, world  # noqa: F401  (fixtures)

T0 = dt.datetime(2027, 5, 20, 9, tzinfo=dt.UTC)


async def _deliver(svc: Any, event_type: Any, payload: dict[str, Any], at: dt.datetime) -> str:
    env = event_type.envelope(payload, subject=payload["report_id"], correlation_id=None, time=at)
    return await svc.rt.consumer("attendance").process(env)


async def _evaluations(svc: Any, client_id: Any) -> list[dict[str, Any]]:
    r = await svc.client.get("/v1/deadlines", params={"client_id": str(client_id)}, headers=svc.auth("city_official"))
    assert r.status_code == 200, r.text
    return [d for d in r.json() if d["kind"] == "evaluation"]


async def test_rep4_a_submitted_final_evaluation_closes_its_deadline_and_a_returned_one_reopens_it(svc, world):
    provider = await world.provider()
    voucher = await world.voucher()
    agreement = await world.signed(voucher, provider)  # 7.12.2026-31.5.2027, one period
    [open_one] = await _evaluations(svc, voucher.client_id)
    assert (open_one["rule"], open_one["due"], open_one["agreement_id"]) == ("REP-4", "2027-05-24", agreement["id"])
    report = {"report_id": str(uuid.uuid4()), "kind": "final_evaluation", "agreement_id": agreement["id"],
              "client_id": str(voucher.client_id), "provider_id": agreement["provider_id"], "month": "2027-05",
              "period_id": agreement["periods"][0]["id"], "due_on": "2027-05-24"}
    monthly = {**report, "report_id": str(uuid.uuid4()), "kind": "monthly_follow_up", "period_id": None}
    assert await _deliver(svc, ReportSubmitted, {**monthly, "submitted_on": "2027-05-03"}, T0) == "handled"
    assert len(await _evaluations(svc, voucher.client_id)) == 1  # a monthly follow-up closes no evaluation
    assert await _deliver(svc, ReportSubmitted, {**report, "submitted_on": "2027-05-20"}, T0) == "handled"
    assert await _evaluations(svc, voucher.client_id) == []
    assert await _deliver(svc, ReportReturned, {**report, "returned_on": "2027-05-21"},
                          T0 + dt.timedelta(days=1)) == "handled"
    assert len(await _evaluations(svc, voucher.client_id)) == 1  # owed again
    # The first submission's event handled again under a new id, late: older than the return, so no change.
    assert await _deliver(svc, ReportSubmitted, {**report, "submitted_on": "2027-05-20"}, T0) == "handled"
    assert len(await _evaluations(svc, voucher.client_id)) == 1
    # Resubmitted and accepted; the final one also found without its period id (the agreement's last period).
    del report["period_id"]
    assert await _deliver(svc, ReportSubmitted, {**report, "submitted_on": "2027-05-22"},
                          T0 + dt.timedelta(days=2)) == "handled"
    assert await _deliver(svc, ReportAccepted, {**report, "accepted_on": "2027-05-23"}, T0 + dt.timedelta(days=3)) == "handled"
    assert await _evaluations(svc, voucher.client_id) == []
