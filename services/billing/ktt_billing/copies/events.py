"""Handlers keeping billing's own copies: agreements (voucher), the daily log, month confirmations and
reports (attendance), providers' payment details (provider registry).

Every handler is safe to run twice and in any order: an agreement or provider copy changes only for
facts newer than those it holds (an agreement's by its revision in the producer, issue 12 item 3; an
end seen before the signing is remembered), a day entry only for a higher revision (an older revision arriving
late never overwrites a newer one), so duplicate and reordered events never bill twice or lose a line.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_common.outbox import runtime_of
from ktt_common.revisions import supersedes_sql
from ktt_contracts import agreement, attendance, registry, reports

from ktt_billing.copies.models import AgreementCopy, AgreementEnd, DayEntry, MonthConfirmation, ProviderCopy, ReportCopy
from ktt_billing.sql import insert_for

FROM_VOUCHER = Subscription("voucher")
FROM_ATTENDANCE = Subscription("attendance")
FROM_REGISTRY = Subscription("provider-registry")


async def _upsert_newer(session: AsyncSession, model: Any, key: list[str], values: dict[str, Any],
                        revision: str | None = None, time: str = "facts_at") -> None:
    """Insert, or overwrite when these facts are newer than the stored ones: by the ``revision`` column
    when the copy keeps one (ktt_common.revisions), else by ``time``."""
    table = model.__table__
    ins = insert_for(session, table).values(**values)
    newer = (supersedes_sql(ins.excluded[revision], ins.excluded[time], table.c[revision], table.c[time]) if revision
             else table.c[time] < ins.excluded[time])
    await session.execute(ins.on_conflict_do_update(
        index_elements=key, set_={k: ins.excluded[k] for k in values if k not in key}, where=newer))


async def _mirror_end(session: AsyncSession, agreement_id: Any) -> None:
    """The copy's ``ended_on`` from the remembered end (none: the agreement runs its fixed term)."""
    end = select(AgreementEnd.ended_on).where(AgreementEnd.agreement_id == agreement_id).scalar_subquery()
    await session.execute(update(AgreementCopy).where(AgreementCopy.agreement_id == agreement_id).values(ended_on=end))


# --- agreements (voucher) ---------------------------------------------------------------------

async def _agreement(session: AsyncSession, env: Envelope, p: agreement.AgreementFacts) -> None:
    await _upsert_newer(session, AgreementCopy, ["agreement_id"], {
        "agreement_id": p.agreement_id, "client_id": p.client_id, "provider_id": p.provider_id, "unit_id": p.unit_id,
        "product_kind": p.product_kind, "start": p.start, "end": p.end,
        "day_value_first_year_cents": p.values.day_value_first_year_cents,
        "base_day_value_cents": p.values.base_day_value_cents, "hour_value_cents": p.values.hour_value_cents,
        "base_value_from": p.base_value_from, "approved_hours": p.approved_hours, "decision_id": p.decision_id, "facts_at": env.time,
        "facts_revision": p.revision,
    }, revision="facts_revision")
    await _mirror_end(session, p.agreement_id)


@FROM_VOUCHER.on(agreement.AgreementSigned)
async def on_agreement_signed(session: AsyncSession, env: Envelope, p: agreement.AgreementSignedPayload) -> None:
    await _agreement(session, env, p)


@FROM_VOUCHER.on(agreement.AgreementChanged)
async def on_agreement_changed(session: AsyncSession, env: Envelope, p: agreement.AgreementChangedPayload) -> None:
    await _agreement(session, env, p)


@FROM_VOUCHER.on(agreement.AgreementEnded)
async def on_agreement_ended(session: AsyncSession, env: Envelope, p: agreement.AgreementEndedPayload) -> None:
    """BIL-5: an interrupted service is billed up to what was realised, and nothing after its end. The end is
    remembered even when it comes before the signing; a later end (moved earlier on a change of provider,
    AGR-8) replaces an earlier one, an older one handled late does not."""
    await _upsert_newer(session, AgreementEnd, ["agreement_id"], {
        "agreement_id": p.agreement_id, "ended_on": p.ended_on, "revision": p.revision, "ended_at": env.time,
    }, revision="revision", time="ended_at")
    await _mirror_end(session, p.agreement_id)


# --- the daily log, months and reports (attendance) ------------------------------------------

@FROM_ATTENDANCE.on(attendance.AttendanceRecorded)
async def on_attendance_recorded(session: AsyncSession, env: Envelope, p: attendance.AttendanceRecordedPayload) -> None:
    if not p.days:
        return
    table = DayEntry.__table__
    rows = [{
        "agreement_id": p.agreement_id, "date": d.date, "entry_id": d.entry_id, "client_id": p.client_id, "provider_id": p.provider_id,
        "unit_id": p.unit_id, "product_kind": p.product_kind, "kind": d.kind, "realised": d.kind == "present",
        "coaching_centihours": round((d.coaching_hours or 0) * 100), "revision": d.revision, "recorded_on": p.recorded_on,
    } for d in p.days]
    ins = insert_for(session, table)
    await session.execute(ins.on_conflict_do_update(
        index_elements=["agreement_id", "date"],
        set_={c: ins.excluded[c] for c in ("entry_id", "kind", "realised", "coaching_centihours", "revision",
                                           "recorded_on", "unit_id", "product_kind")},
        where=table.c.revision < ins.excluded.revision,
    ), rows)


@FROM_ATTENDANCE.on(attendance.MonthReported)
async def on_month_reported(session: AsyncSession, env: Envelope, p: attendance.MonthReportedPayload) -> None:
    """BIL-2: a confirmed month releases its settlement's hold."""
    ins = insert_for(session, MonthConfirmation.__table__).values(
        provider_id=p.provider_id, unit_id=p.unit_id, month=p.month, report_id=p.report_id,
        confirmed_on=p.confirmed_on, late=p.late)
    await session.execute(ins.on_conflict_do_nothing())
    await _release(session, p.provider_id, p.month)


async def _report(session: AsyncSession, p: reports.ReportFacts, **dates: Any) -> None:
    ins = insert_for(session, ReportCopy.__table__).values(
        report_id=p.report_id, kind=p.kind, agreement_id=p.agreement_id, client_id=p.client_id,
        provider_id=p.provider_id, month=p.month, **dates)
    await session.execute(ins.on_conflict_do_update(index_elements=["report_id"], set_=dates))
    await _release(session, p.provider_id, p.month)


@FROM_ATTENDANCE.on(reports.ReportSubmitted)
async def on_report_submitted(session: AsyncSession, env: Envelope, p: reports.ReportSubmittedPayload) -> None:
    """BIL-3: a submitted monthly follow-up releases its settlement's hold."""
    await _report(session, p, submitted_on=p.submitted_on)


@FROM_ATTENDANCE.on(reports.ReportAccepted)
async def on_report_accepted(session: AsyncSession, env: Envelope, p: reports.ReportAcceptedPayload) -> None:
    await _report(session, p, accepted_on=p.accepted_on)


async def _release(session: AsyncSession, provider_id: str, month: str) -> None:
    from ktt_billing.settlements import service

    await service.reevaluate_holds(session, provider_id, month, runtime_of(session).clock.today())


# --- providers' payment details (provider registry) ------------------------------------------

async def _provider(session: AsyncSession, env: Envelope, p: registry.ProviderFacts) -> None:
    await _upsert_newer(session, ProviderCopy, ["provider_id"], {
        "provider_id": p.provider_id, "name": p.name, "business_id": p.business_id, "supplier_number": p.supplier_number,
        "iban": p.iban, "payment_terms_days": p.payment_terms_days, "status": p.status, "facts_at": env.time,
    })


for _event_type in (registry.ProviderApplied, registry.ProviderChanged, registry.ProviderApproved,
                    registry.ProviderSuspended, registry.ProviderRemoved):
    FROM_REGISTRY.on(_event_type)(_provider)

SUBSCRIPTIONS = [FROM_VOUCHER, FROM_ATTENDANCE, FROM_REGISTRY]
