"""Builders of producers' events and a Feed that delivers them to the billing service's real consumers."""
from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any

from sqlalchemy import select

from ktt_common.clock import FrozenClock  # noqa: F401
from ktt_common.events import Envelope, EventType
from ktt_common.jobs import run_job
from ktt_common.testing import RunningService, see_the_day
from ktt_contracts import agreement, attendance, registry, reports

TODAY = dt.date(2026, 12, 1)
PROVIDER = "prov-1"
OTHER = "prov-2"


_tick = itertools.count()


def envelope(event_type: EventType[Any], payload: dict[str, Any]) -> Envelope:
    # every event a little later than the one before, as a producer's outbox would publish them
    return event_type.envelope(payload, subject=None, correlation_id=None,
                               time=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=next(_tick)))


class Feed:
    """Delivers producers' events to the billing service's real consumers (inbox + handler)."""

    def __init__(self, svc: RunningService, clock: FrozenClock) -> None:
        self.svc = svc
        self.clock = clock

    async def deliver(self, producer: str, event_type: EventType[Any], payload: dict[str, Any]) -> str:
        return await self.svc.rt.consumer(producer).process(envelope(event_type, payload))

    async def agreement(self, *, provider_id: str = PROVIDER, start: str = "2026-01-01", end: str = "2027-06-30",
                        base_value_from: str = "2027-01-01", first: int | None = 5000, base: int | None = 4000,
                        hour: int | None = None, approved_hours: int | None = None, product_kind: str = "individual",
                        **extra: Any) -> dict[str, Any]:
        period = dict(period_id=str(uuid.uuid4()), seq=1, start=start, end=end,
                      schedule=[{"weekday": "mon", "start": "09:00", "end": "13:00"}], goals="work", evaluation_due=end)
        facts = dict(agreement_id=str(uuid.uuid4()), voucher_id=str(uuid.uuid4()), decision_id=str(uuid.uuid4()),
                     client_id=str(uuid.uuid4()), provider_id=provider_id, unit_id=str(uuid.uuid4()),
                     product_id=str(uuid.uuid4()), product_kind=product_kind, form="individual", start=start, end=end,
                     periods=[period], values=dict(price_version=1, day_value_first_year_cents=first,
                                                   base_day_value_cents=base, hour_value_cents=hour),
                     base_value_from=base_value_from, approved_hours=approved_hours, signed_on="2025-12-20")
        facts.update(extra)
        assert await self.deliver("voucher", agreement.AgreementSigned, facts) == "handled"
        return facts

    async def days(self, a: dict[str, Any], days: list[tuple[str, str]] | list[tuple], *, revision: int = 1,
                   recorded_on: str | None = None, correction: bool = False) -> str:
        """days: (date, kind[, coaching_hours]) tuples."""
        out = []
        for d in days:
            date, kind, *rest = d
            out.append(dict(entry_id=str(uuid.uuid5(uuid.NAMESPACE_URL, a["agreement_id"] + date)), date=date, kind=kind,
                            realised=kind == "present", hours=4.0 if kind == "present" else None,
                            coaching_hours=rest[0] if rest else None,
                            absence_reason="unauthorised" if kind == "absent" else None,
                            not_organised_reason="provider_closure" if kind == "not_organised" else None,
                            revision=revision, correction=correction))
        payload = dict(batch_id=str(uuid.uuid4()), agreement_id=a["agreement_id"], client_id=a["client_id"],
                       provider_id=a["provider_id"], unit_id=a["unit_id"], product_kind=a["product_kind"],
                       recorded_on=recorded_on or self.clock.today().isoformat(), days=out)
        return await self.deliver("attendance", attendance.AttendanceRecorded, payload)

    async def confirm(self, a: dict[str, Any], month: str, confirmed_on: str = "2026-12-02") -> str:
        y, m = int(month[:4]), int(month[5:])
        due = dt.date(y + (m == 12), m % 12 + 1, 3)
        return await self.deliver("attendance", attendance.MonthReported, dict(
            report_id=str(uuid.uuid4()), provider_id=a["provider_id"], unit_id=a["unit_id"], month=month,
            due_on=due.isoformat(), confirmed_on=confirmed_on, late=dt.date.fromisoformat(confirmed_on) > due,
            agreements=[]))

    async def follow_up(self, a: dict[str, Any], month: str, submitted_on: str = "2026-12-02") -> str:
        return await self.deliver("attendance", reports.ReportSubmitted, dict(
            report_id=str(uuid.uuid4()), kind="monthly_follow_up", agreement_id=a["agreement_id"],
            client_id=a["client_id"], provider_id=a["provider_id"], month=month, submitted_on=submitted_on))

    async def paperwork(self, a: dict[str, Any], month: str) -> None:
        await self.confirm(a, month)
        await self.follow_up(a, month)

    async def provider(self, provider_id: str = PROVIDER, *, iban: str = "FI4950009420028730",
                       supplier_number: str | None = "S-1001", business_id: str = "1572860-0", terms: int = 14,
                       event=registry.ProviderApproved) -> str:
        facts = dict(provider_id=provider_id, name=f"Yhdistys {provider_id} ry", business_id=business_id,
                     legal_form="registered_association", status="approved", supplier_number=supplier_number,
                     payment_terms_days=terms, iban=iban)
        if event is registry.ProviderChanged:
            facts.update(changed_fields=["iban"], changed_on="2026-12-01")
        else:
            facts.update(previous_status="applied", reason="ok", changed_on="2026-01-01", changed_by="official")
        return await self.deliver("provider-registry", event, facts)

    async def run(self, date: str) -> dict[str, Any]:
        see_the_day(self.svc.rt.clock, date)  # OPS-1: the job's date has come
        return await run_job(self.svc.rt, "settle-month", dt.date.fromisoformat(date))

    async def settlement(self, month: str = "2026-11", provider_id: str = PROVIDER) -> dict[str, Any]:
        r = await self.svc.client.get("/v1/settlements", params={"month": month, "provider_id": provider_id},
                                      headers=self.svc.auth("city_official"))
        assert r.status_code == 200, r.text
        assert len(r.json()) == 1, r.json()
        r = await self.svc.client.get(f"/v1/settlements/{r.json()[0]['id']}", headers=self.svc.auth("city_official"))
        assert r.status_code == 200, r.text
        return r.json()

    async def approve(self, settlement_id: str) -> Any:
        return await self.svc.client.post(f"/v1/settlements/{settlement_id}/approve",
                                          headers=self.svc.auth("city_official", subject="official-1"))

    async def published(self, name: str | None = None) -> list[dict[str, Any]]:
        outbox = self.svc.rt.infra.outbox
        async with self.svc.rt.sessionmaker() as session:
            rows = (await session.execute(select(outbox.c.event_type, outbox.c.envelope).order_by(outbox.c.seq))).all()
        return [{"type": r.event_type, **Envelope.model_validate_json(r.envelope).data} for r in rows
                if name is None or r.event_type == f"ktt.billing.{name}.v1"]


def lines_by(detail: dict[str, Any]) -> list[tuple]:
    """(client_id, kind, quantity, unit value, amount) of each line, sorted."""
    return sorted((x["client_id"], x["kind"], float(x["quantity"]), x["unit_value_cents"], x["amount_cents"])
                  for x in detail["lines"])
