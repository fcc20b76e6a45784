"""Builders for the attendance service's tests: agreement events delivered to the real consumer
(inbox + handler, as the bus would), daily-log entries, and what the service published."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select

from ktt_common.clock import FrozenClock
from ktt_common.events import Envelope, EventType
from ktt_common.testing import RunningService, see_the_day
from ktt_contracts.agreement import AgreementChanged, AgreementEnded, AgreementSigned, PeriodEnding
from ktt_contracts.decision import DecisionMade

TODAY = dt.date(2027, 1, 29)  # a Friday
START = dt.date(2026, 12, 7)  # a Monday
EVENT_TIME = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
MON_TO_THU = [{"weekday": d, "start": "09:00", "end": "14:00"} for d in ("mon", "tue", "wed", "thu")]


def agreement(provider_id: str = "P1", *, client_id: uuid.UUID | None = None, start: dt.date = START,
              end: dt.date = dt.date(2027, 11, 30), schedule: list[dict[str, str]] | None = None,
              form: str = "individual", product_kind: str = "individual", approved_hours: int | None = None,
              unit_id: uuid.UUID | None = None, periods: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    """An AgreementSigned payload (one period over the whole agreement unless ``periods``)."""
    return {
        "agreement_id": str(uuid.uuid4()), "voucher_id": str(uuid.uuid4()), "decision_id": str(uuid.uuid4()),
        "client_id": str(client_id or uuid.uuid4()), "provider_id": provider_id, "unit_id": str(unit_id or uuid.uuid4()),
        "product_id": str(uuid.uuid4()), "product_kind": product_kind, "form": form,
        "start": start.isoformat(), "end": end.isoformat(),
        "periods": periods or [{"period_id": str(uuid.uuid4()), "seq": 1, "start": start.isoformat(), "end": end.isoformat(),
                                "schedule": schedule or MON_TO_THU, "goals": "routine",
                                "evaluation_due": (end - dt.timedelta(days=7)).isoformat()}],
        "values": {"price_version": 1, "day_value_first_year_cents": 4500, "base_day_value_cents": 3850},
        "base_value_from": (start + dt.timedelta(days=365)).isoformat(), "signed_on": (start - dt.timedelta(days=5)).isoformat(),
        "approved_hours": approved_hours, **extra,
    }


def ended(facts: dict[str, Any], ended_on: dt.date, kind: str = "mutual") -> dict[str, Any]:
    return {"agreement_id": facts["agreement_id"], "voucher_id": facts["voucher_id"], "client_id": facts["client_id"],
            "provider_id": facts["provider_id"], "unit_id": facts["unit_id"], "ended_on": ended_on.isoformat(),
            "kind": kind, "reason": "moved on", "early": True}


def present(facts: dict[str, Any], day: dt.date | str, hours: float | None = 5, **extra: Any) -> dict[str, Any]:
    entry = {"agreement_id": facts["agreement_id"], "date": str(day), "kind": "present", "tasks": "woodwork", **extra}
    if hours is not None:
        entry["hours"] = hours
    return entry


def absent(facts: dict[str, Any], day: dt.date | str, reason: str = "unauthorised", **extra: Any) -> dict[str, Any]:
    return {"agreement_id": facts["agreement_id"], "date": str(day), "kind": "absent", "reason": reason, **extra}


def closed(facts: dict[str, Any], day: dt.date | str, **extra: Any) -> dict[str, Any]:
    return {"agreement_id": facts["agreement_id"], "date": str(day), "kind": "not_organised", **extra}


def days(first: dt.date, last: dt.date, weekdays: set[int] | None = None) -> list[dt.date]:
    out, day = [], first
    while day <= last:
        if weekdays is None or day.weekday() in weekdays:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


class Attendance:
    """The running attendance service with the calls its tests make."""

    def __init__(self, svc: RunningService, clock: FrozenClock) -> None:
        self.svc = svc
        self.clock = clock
        self.client = svc.client

    def provider(self, provider_id: str = "P1") -> dict[str, str]:
        return self.svc.auth("provider", provider_id=provider_id, subject=f"staff-{provider_id}")

    def official(self) -> dict[str, str]:
        return self.svc.auth("city_official", subject="official-1")

    async def deliver(self, event_type: EventType[Any], payload: dict[str, Any], *, time: dt.datetime = EVENT_TIME,
                      envelope: Envelope | None = None) -> str:
        env = envelope or event_type.envelope(payload, subject=payload.get("agreement_id"), correlation_id=None, time=time)
        return await self.svc.rt.consumer("voucher").process(env)

    async def signed(self, provider_id: str = "P1", **kw: Any) -> dict[str, Any]:
        facts = agreement(provider_id, **kw)
        assert await self.deliver(AgreementSigned, facts) == "handled"
        return facts

    async def changed(self, facts: dict[str, Any], change: str = "schedule", *, time: dt.datetime) -> str:
        return await self.deliver(AgreementChanged, {**facts, "change": change}, time=time)

    async def ended(self, facts: dict[str, Any], ended_on: dt.date, *, time: dt.datetime = EVENT_TIME, **kw: Any) -> str:
        return await self.deliver(AgreementEnded, ended(facts, ended_on, **kw), time=time)

    async def post(self, entries: list[dict[str, Any]], provider_id: str = "P1", expect: int = 200) -> dict[str, Any]:
        r = await self.client.post("/v1/daily-log", json={"entries": entries}, headers=self.provider(provider_id))
        assert r.status_code == expect, r.text
        return r.json()

    async def post_csv(self, text: str, provider_id: str = "P1", expect: int = 200) -> dict[str, Any]:
        headers = {**self.provider(provider_id), "Content-Type": "text/csv"}
        r = await self.client.post("/v1/daily-log", content=text.encode(), headers=headers)
        assert r.status_code == expect, r.text
        return r.json()

    async def log(self, facts: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
        r = await self.client.get("/v1/daily-log", params={"agreement_id": facts["agreement_id"], "limit": 1000, **params},
                                  headers=self.official())
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def published(self, name: str | None = None) -> list[dict[str, Any]]:
        """Events written to the outbox (what the service publishes), oldest first."""
        outbox = self.svc.rt.infra.outbox
        async with self.svc.rt.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.event_type, outbox.c.envelope).order_by(outbox.c.seq))).all()
        out = []
        for row in rows:
            env = Envelope.model_validate_json(row.envelope)
            if name is None or row.event_type == f"ktt.attendance.{name}.v1":
                out.append({"type": row.event_type, **env.data})
        return out

    async def deviation(self, facts: dict[str, Any], day: dt.date | str, kind: str = "group_coaching",
                        provider_id: str = "P1", expect: int = 201) -> dict[str, Any]:
        r = await self.client.post(f"/v1/agreements/{facts['agreement_id']}/deviations",
                                   json={"date": str(day), "kind": kind, "reason": "agreed with the instructor"},
                                   headers=self.provider(provider_id))
        assert r.status_code == expect, r.text
        return r.json()

    async def decided(self, client_id: uuid.UUID | str, *, basis: str = "labour_market_subsidy", language: str = "fi",
                      office: str = "typake") -> None:
        """A DecisionMade for the client (its language, benefit basis and case worker's office)."""
        payload = {"decision_id": str(uuid.uuid4()), "client_id": str(client_id), "source_system": "effica",
                   "source_id": "E-1", "version": 1, "decided_on": "2026-11-25", "period_start": "2026-12-01",
                   "period_end": "2027-11-30", "form": "individual", "benefit_basis": basis, "voucher_kind": "regular",
                   "case_worker_office": office, "language": language}
        env = DecisionMade.envelope(payload, subject=payload["decision_id"], correlation_id=None, time=EVENT_TIME)
        assert await self.svc.rt.consumer("decision").process(env) == "handled"

    async def period_ending(self, facts: dict[str, Any], period: dict[str, Any], kind: str = "interim") -> str:
        """The voucher service's PeriodEnding for one of the agreement's periods (REP-3, REP-4)."""
        end = dt.date.fromisoformat(period["end"])
        return await self.deliver(PeriodEnding, {
            "agreement_id": facts["agreement_id"], "client_id": facts["client_id"], "provider_id": facts["provider_id"],
            "period_id": period["period_id"], "period_seq": period["seq"], "period_end": period["end"],
            "evaluation_due": (end - dt.timedelta(days=7)).isoformat(), "evaluation_kind": kind})

    async def report(self, body: dict[str, Any], provider_id: str = "P1", expect: int = 201) -> dict[str, Any]:
        r = await self.client.post("/v1/reports", json=body, headers=self.provider(provider_id))
        assert r.status_code == expect, r.text
        return r.json()

    async def reports(self, who: dict[str, str] | None = None, **params: Any) -> list[dict[str, Any]]:
        r = await self.client.get("/v1/reports", params={"limit": 1000, **params}, headers=who or self.official())
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def run_job(self, name: str, day: dt.date) -> dict[str, Any]:
        see_the_day(self.svc.rt.clock, day)  # OPS-1: the job's date has come
        r = await self.client.post(f"/v1/admin/jobs/{name}/run", params={"date": day.isoformat()}, headers=self.svc.auth("admin"))
        assert r.status_code == 200, r.text
        return r.json()["result"]


def statuses(answer: dict[str, Any]) -> list[str]:
    return [r["status"] for r in answer["results"]]


def rules_of(answer: dict[str, Any]) -> list[str | None]:
    return [r.get("rule") for r in answer["results"]]
