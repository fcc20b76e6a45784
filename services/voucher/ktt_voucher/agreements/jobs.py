"""Daily jobs of agreements (VOU-3, DEC-6, REP-3/REP-4, AGR-13) and the deadlines view. Each job is
idempotent for its date: guarded updates make each start, notice and end happen once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, cast

from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.clock import utc_now
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.agreement import (
    PeriodEnding,
    PeriodEndingPayload,
)
from ktt_contracts.voucher import ServiceStarted, ServiceStartedPayload

from ktt_voucher.agreements import rules as ar
from ktt_voucher.agreements.ending import end_agreement
from ktt_voucher.agreements.models import (
    Agreement,
    AgreementPeriod,
    ProviderCopy,
)
from ktt_voucher.agreements.reading import OPEN_STATES, _schedule_days, periods_by_agreement, periods_of, projected_days
from ktt_voucher.agreements.service import correct_base_value_dates
from ktt_voucher.vouchers import rules as voucher_rules
from ktt_voucher.vouchers.models import Voucher
from ktt_voucher.vouchers.service import transition

# --- daily jobs -------------------------------------------------------------------------------------

async def start_services(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """ServiceStarted when the first scheduled day comes; the voucher becomes in use (VOU-3, DEC-6).
    A guarded update makes each start happen once however often or concurrently the job runs."""
    due = (await session.execute(select(Agreement).where(
        Agreement.state == "signed", Agreement.start_date <= run_date, Agreement.started_on.is_(None),
    ))).scalars().all()
    started = 0
    for agreement in due:
        periods = await periods_of(session, agreement.id)
        first_day = next(iter(projected_days(periods)), None)
        if first_day is None or first_day > run_date:
            continue
        result = await session.execute(
            update(Agreement).where(Agreement.id == agreement.id, Agreement.started_on.is_(None))
            .values(started_on=first_day, state="active", updated_at=utc_now()).execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", result).rowcount != 1:
            continue
        await session.refresh(agreement)
        voucher = await session.get(Voucher, agreement.voucher_id)
        assert voucher is not None
        if voucher.state in ("issued", "delayed"):
            await transition(session, voucher, "in_use", reason="VOU-3: the client's service started", actor="job:services-starting",
                             on_date=run_date)
        schedule = periods[0].schedule
        provider = await session.get(ProviderCopy, agreement.provider_id)
        await emit(session, ServiceStarted, ServiceStartedPayload(
            client_id=agreement.client_id, voucher_id=agreement.voucher_id, decision_id=agreement.decision_id,
            agreement_id=agreement.id, provider_id=agreement.provider_id, provider_name=provider.name if provider else None,
            unit_id=str(agreement.unit_id), unit_name=(agreement.content.get("unit") or {}).get("name"), started_on=first_day,
            form=agreement.form, days_per_week=len(schedule),
            hours_per_day=round(sum(d.hours for d in _schedule_days(schedule)) / len(schedule), 2),
        ), subject=str(agreement.id))
        await correct_base_value_dates(session, agreement.client_id)  # VOU-6: the first actual day is known now
        started += 1
    return {"started": started}


async def publish_periods_ending(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """PeriodEnding exactly once per period at the lead time before its end (REP-3, REP-4)."""
    lead = runtime_of(session).settings.period_ending_lead_days  # type: ignore[attr-defined]
    rows = (await session.execute(
        select(AgreementPeriod, Agreement).join(Agreement, Agreement.id == AgreementPeriod.agreement_id).where(
            Agreement.state.in_(ar.IN_FORCE_STATES), AgreementPeriod.ending_notified_on.is_(None),
            AgreementPeriod.end >= run_date, AgreementPeriod.end <= run_date + dt.timedelta(days=lead),
        )
    )).all()
    published = 0
    for period, agreement in rows:
        claimed = await session.execute(
            update(AgreementPeriod).where(AgreementPeriod.id == period.id, AgreementPeriod.ending_notified_on.is_(None))
            .values(ending_notified_on=run_date).execution_options(synchronize_session=False)
        )
        if cast("CursorResult[Any]", claimed).rowcount != 1:
            continue
        final = period.end >= agreement.end_date
        await emit(session, PeriodEnding, PeriodEndingPayload(
            agreement_id=agreement.id, client_id=agreement.client_id, provider_id=agreement.provider_id,
            period_id=period.id, period_seq=period.seq, period_end=period.end, evaluation_due=period.evaluation_due,
            evaluation_kind="final" if final else "interim"), subject=str(agreement.id))
        published += 1
    return {"published": published}


async def end_fixed_terms(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """AGR-13: a fixed-term agreement ends by itself after its last day (on that day, even when
    the job runs late); an agreed early end takes effect on its date."""
    agreements = (await session.execute(select(Agreement).where(
        Agreement.state.in_(("signed", "active")),
        or_(Agreement.end_date < run_date, Agreement.end_proposal.is_not(None)),
    ))).scalars().all()
    ended = early = 0
    for agreement in agreements:
        proposal = agreement.end_proposal or {}
        if proposal.get("agreed") and dt.date.fromisoformat(proposal["ended_on"]) <= run_date:
            early += await end_agreement(session, agreement, kind=proposal["kind"], reason=proposal["reason"],
                                         ended_on=dt.date.fromisoformat(proposal["ended_on"]), actor="job:agreements-ending")
        elif agreement.end_date < run_date:
            ended += await end_agreement(session, agreement, kind="fixed_term", reason=None, ended_on=agreement.end_date,
                                         actor="job:agreements-ending")
    return {"ended": ended, "ended_early": early}


# --- deadlines view (VOU-3, AGR-3, REP-3, REP-4) -------------------------------------------------------

async def deadlines(session: AsyncSession, *, client_id: uuid.UUID | None, office: str | None, today: dt.date) -> list[dict[str, Any]]:
    """Every open deadline of a client, or of a case-worker office's clients, overdue first."""
    vouchers_q = select(Voucher).where(Voucher.state.in_(("issued", "delayed", "in_use")))
    if client_id is not None:
        vouchers_q = vouchers_q.where(Voucher.client_id == client_id)
    vouchers = list((await session.execute(vouchers_q)).scalars())
    if not vouchers:
        return []
    voucher_ids = [v.id for v in vouchers]
    agreements = list((await session.execute(
        select(Agreement).where(Agreement.voucher_id.in_(voucher_ids), Agreement.state.in_(OPEN_STATES))
    )).scalars())
    if office is not None:
        offices = {a.voucher_id: (a.content.get("case_worker") or {}).get("office") for a in agreements}
        vouchers = [v for v in vouchers if getattr(v, "case_worker_office", None) == office or offices.get(v.id) == office]
    by_voucher: dict[uuid.UUID, list[Agreement]] = {}
    for a in agreements:
        by_voucher.setdefault(a.voucher_id, []).append(a)
    periods = await periods_by_agreement(session, [a.id for a in agreements])
    out: list[dict[str, Any]] = []

    def add(kind: str, rule: str, due: dt.date, voucher: Voucher, detail: str, agreement: Agreement | None = None) -> None:
        out.append({"kind": kind, "rule": rule, "due": due, "overdue": due < today, "client_id": voucher.client_id,
                    "voucher_id": voucher.id, "agreement_id": agreement.id if agreement else None, "detail": detail})

    for voucher in vouchers:
        mine = by_voucher.get(voucher.id, [])
        started = any(a.started_on for a in mine)
        received = voucher.received_on or voucher.decided_on  # VOU-3: counted from the client's receipt
        if received and not mine and voucher.contacted_on is None and voucher.state != "in_use":
            add("contact_provider", "VOU-3", voucher_rules.contact_deadline(received), voucher,
                "the client contacts a provider within 7 days of receiving the decision")
        if received and not started and voucher.state != "in_use" and not any(a.start_override_reason for a in mine):
            add("service_start", "VOU-3", voucher_rules.start_deadline(received), voucher,
                "the service starts at the latest 14 days after the client received the decision")
        for agreement in mine:
            if agreement.state == "draft":
                add("signing", "AGR-3", agreement.start_date - dt.timedelta(days=ar.SIGNING_LEAD_DAYS), voucher,
                    "the agreement is signed at least 3 days before the start", agreement)
                continue
            for period in periods.get(agreement.id, []):
                if period.end < today:
                    continue
                if period.evaluation_delivered_on is None:  # closed once the attendance service has it (REP-3, REP-4)
                    add("evaluation", "REP-3" if period.end < agreement.end_date else "REP-4", period.evaluation_due, voucher,
                        f"{'interim' if period.end < agreement.end_date else 'final'} evaluation of period {period.seq}",
                        agreement)
                add("period_end", "AGR-12", period.end, voucher, f"period {period.seq} ends; review the agreement", agreement)
    out.sort(key=lambda d: (not d["overdue"], d["due"]))
    return out

