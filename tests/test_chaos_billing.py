"""Chaos sweep for the daily log -> billing chain (issue 13): real processes, SIGKILL mid-stream, every
effect counted.

The attendance and billing services run as their own processes (``python -m ktt_common.serve``) on
one real nats-server and real databases; the test plays the voucher service and publishes the
AgreementSigned events both consume. Providers post the daily log of November 2026 (ATT-1) in three
waves: with everything up; after nats-server was killed with SIGKILL (attendance's outbox holds the
AttendanceRecorded events) and while it restarts on the same store; and after billing, the consumer,
was killed with SIGKILL while working through the backlog (batches of 4, ack wait 2 s) — the third
wave also revises one day of every client (present -> absent, revision 2). Billing is restarted, the
unit's month is confirmed (ATT-10 -> MonthReported) and the settle-month job runs. Then:

- billing's copy holds every client-day exactly once, at its latest revision (none lost, none doubled);
- billing's inbox holds each AttendanceRecorded event once; attendance published every one, and the
  stream holds each event id once;
- the settlement's lines and total equal the expected figures (BIL-1: realised days x the day value
  frozen at signing, BIL-6; the absence is not paid).
"""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import nats
import pytest

from ktt_common.auth import issue_token
from ktt_common.clock import SharedFileClock
from ktt_common.settings import DEV_JWT_SECRET
from ktt_common.testing import NatsServer, eventually
from ktt_contracts.agreement import AgreementSigned

from tests.helpers import every_stream_message
from tests.test_chaos import Service, _count, process_env

CLIENTS = 6
DAY_CENTS = 5000
START = dt.date(2026, 11, 2)  # a Monday
SCHEDULE = [{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("mon", "tue", "wed", "thu")]
# The scheduled days of November 2026 (Monday to Thursday; no public holiday falls on them): 17.
DAYS = [START + dt.timedelta(days=i) for i in range(29) if (START + dt.timedelta(days=i)).weekday() < 4]
WEEKS = [[d for d in DAYS if d.isocalendar().week == w] for w in sorted({d.isocalendar().week for d in DAYS})]
RECORDED = "event_type = 'ktt.attendance.AttendanceRecorded.v1'"


def signed(unit_id: str) -> dict:
    end = dt.date(2027, 10, 31)
    return {"agreement_id": str(uuid.uuid4()), "voucher_id": str(uuid.uuid4()), "decision_id": str(uuid.uuid4()),
            "client_id": str(uuid.uuid4()), "provider_id": "P1", "unit_id": unit_id, "product_id": str(uuid.uuid4()),
            "product_kind": "individual", "form": "individual", "start": START.isoformat(), "end": end.isoformat(),
            "periods": [{"period_id": str(uuid.uuid4()), "seq": 1, "start": START.isoformat(), "end": end.isoformat(),
                         "schedule": SCHEDULE, "goals": "routine", "evaluation_due": "2027-10-24"}],
            "values": {"price_version": 1, "day_value_first_year_cents": DAY_CENTS, "base_day_value_cents": 4000},
            "base_value_from": "2027-11-02", "signed_on": "2026-10-28", "approved_hours": None}


async def publish_as_voucher(url: str, facts: list[dict]) -> None:
    """The voucher service's AgreementSigned events, as its outbox relay would publish them."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for f in facts:
            env = AgreementSigned.envelope(f, subject=f["agreement_id"], correlation_id=None,
                                           time=dt.datetime(2026, 10, 28, 12, tzinfo=dt.UTC))
            await js.publish(AgreementSigned.subject, env.model_dump_json().encode(), headers={"Nats-Msg-Id": env.id})
    finally:
        await nc.close()


@pytest.mark.timeout(300)
async def test_killed_nats_and_billing_lose_and_double_no_attendance_day(databases, tmp_path):
    SharedFileClock(tmp_path / "clock.json").set(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC))  # one clock for both
    nats_server = NatsServer(tmp_path / "jetstream")
    nats_server.start()
    attendance_url, billing_url = await databases("attendance"), await databases("billing")
    env = process_env(nats_server.url, tmp_path, {"attendance": attendance_url, "billing": billing_url})
    attendance = Service("attendance", env, tmp_path / "attendance.log")
    billing = Service("billing", env, tmp_path / "billing.log")
    unit_id = str(uuid.uuid4())
    agreements = [signed(unit_id) for _ in range(CLIENTS)]
    provider = {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role='provider', provider_id='P1', subject='staff-1')}"}
    try:
        attendance.start()
        billing.start()
        await attendance.ready()
        await billing.ready()
        await publish_as_voucher(nats_server.url, agreements)

        async def copied() -> bool:
            return (await _count(attendance_url, "SELECT count(*) FROM agreement_copy") == CLIENTS
                    and await _count(billing_url, "SELECT count(*) FROM agreement_copy") == CLIENTS)
        await eventually(copied, timeout=60, what="the agreements copied by attendance and billing")

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{attendance.port}", headers=provider, timeout=30) as api:
            async def post(days: list[dt.date], kind: str = "present", expect: str = "accepted") -> None:
                for a in agreements:  # one batch per client and week: one AttendanceRecorded each
                    entries = [{"agreement_id": a["agreement_id"], "date": d.isoformat(), "kind": kind,
                                **({"hours": 5, "tasks": "woodwork"} if kind == "present" else {"reason": "unauthorised"})}
                               for d in days]
                    r = await api.post("/v1/daily-log", json={"entries": entries})
                    assert r.status_code == 200, r.text
                    assert [x["status"] for x in r.json()["results"]] == [expect] * len(days), r.text

            for week in WEEKS[:2]:  # everything up
                await post(week)
            nats_server.proc.send_signal(9)  # nats-server dies mid-stream (SIGKILL)
            nats_server.proc.wait(timeout=10)
            for week in WEEKS[2:4]:  # attendance's outbox keeps them
                await post(week)
            nats_server.start()  # the same port and store

            async def some_days() -> bool:
                return await _count(billing_url, "SELECT count(*) FROM day_entry") > CLIENTS * len(WEEKS[0])
            await eventually(some_days, timeout=60, what="billing working through the backlog")
            billing.kill()  # the consumer dies mid-batch
            for week in WEEKS[4:]:
                await post(week)
            revised = WEEKS[1][0]  # every client's first day of the second week turns out an unauthorised absence
            await post([revised], kind="absent", expect="revised")
            billing.start()
            await billing.ready()
            r = await api.post("/v1/months/2026-11/confirm", json={"unit_id": unit_id})  # ATT-10 -> MonthReported
            assert r.status_code == 201, r.text

        published = await _count(attendance_url, f"SELECT count(*) FROM outbox WHERE {RECORDED}")
        assert published == CLIENTS * (len(WEEKS) + 1)

        async def all_in() -> bool:
            return (await _count(billing_url, f"SELECT count(*) FROM inbox WHERE {RECORDED}") >= published
                    and await _count(billing_url, "SELECT count(*) FROM month_confirmation") == 1)
        await eventually(all_in, timeout=120, what="every AttendanceRecorded and the MonthReported in billing")

        # Every client-day once, at its latest revision: none lost, none doubled.
        assert await _count(billing_url, "SELECT count(*) FROM day_entry") == CLIENTS * len(DAYS)
        assert await _count(billing_url, "SELECT count(*) FROM day_entry WHERE realised") == CLIENTS * (len(DAYS) - 1)
        assert await _count(billing_url, f"SELECT count(*) FROM day_entry WHERE date = '{revised.isoformat()}' "
                                         "AND kind = 'absent' AND revision = 2") == CLIENTS
        assert await _count(billing_url, f"SELECT count(*) FROM inbox WHERE {RECORDED}") == published
        assert await _count(billing_url, f"SELECT count(DISTINCT event_id) FROM inbox WHERE {RECORDED}") == published
        assert await _count(attendance_url, f"SELECT count(*) FROM outbox WHERE {RECORDED} AND published_at IS NULL") == 0
        on_stream = [h.get("Nats-Msg-Id") for subject, _d, h in await every_stream_message(nats_server.url)
                     if subject == "ktt.attendance.AttendanceRecorded"]
        assert len(on_stream) == published and len(set(on_stream)) == published, "each AttendanceRecorded once"

        # The settlement equals the expected figures (BIL-1, BIL-6).
        admin = {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role='admin')}"}
        official = {"Authorization": f"Bearer {issue_token(DEV_JWT_SECRET, role='city_official', subject='official-1')}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{billing.port}", timeout=30) as api:
            r = await api.post("/v1/admin/jobs/settle-month/run", params={"date": "2026-12-01"}, headers=admin)
            assert r.status_code == 200, r.text
            listed = (await api.get("/v1/settlements", params={"month": "2026-11", "provider_id": "P1"},
                                    headers=official)).json()
            assert len(listed) == 1, listed
            detail = (await api.get(f"/v1/settlements/{listed[0]['id']}", headers=official)).json()
        realised = len(DAYS) - 1
        lines = sorted((x["client_id"], x["basis"], float(x["quantity"]), x["unit_value_cents"], x["amount_cents"])
                       for x in detail["lines"])
        assert lines == sorted((a["client_id"], "day_first_year", float(realised), DAY_CENTS, realised * DAY_CENTS)
                               for a in agreements)
        assert detail["total_cents"] == CLIENTS * realised * DAY_CENTS
    finally:
        billing.stop()
        attendance.stop()
        nats_server.stop()
