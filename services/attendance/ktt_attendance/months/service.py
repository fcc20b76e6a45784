"""Month reporting (ATT-10, BIL-2): confirmation per unit (MonthReported), late months
(MonthReportLate, by the daily job), and what a confirmed month means for the daily log (a change
becomes a correction)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.db import affected, insert_for
from ktt_common.errors import FieldError, InvalidInput, NotFound, RuleViolation
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.attendance import (
    MonthAgreementCount,
    MonthReported,
    MonthReportedPayload,
    MonthReportLate,
    MonthReportLatePayload,
)

from ktt_attendance.agreements import rules as agreement_rules
from ktt_attendance.agreements.models import AgreementCopy
from ktt_attendance.log.models import LogEntry
from ktt_attendance.months import rules
from ktt_attendance.months.models import MonthReport
from ktt_attendance.months.schemas import MissingDays, MonthReportOut


async def confirmed_months(session: AsyncSession, keys: Iterable[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], dt.date]:
    """(unit, YYYY-MM) -> the day the provider confirmed it, for the confirmed ones among ``keys``."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    units = sorted({u for u, _ in keys})
    months = sorted({m for _, m in keys})
    rows = (await session.execute(select(MonthReport.unit_id, MonthReport.month, MonthReport.confirmed_on).where(
        MonthReport.unit_id.in_(units), MonthReport.month.in_(months), MonthReport.confirmed_on.is_not(None)))).all()
    wanted = set(keys)
    return {(u, m): c for u, m, c in rows if (u, m) in wanted and c is not None}


def parse_month_or_422(month: str) -> tuple[dt.date, dt.date]:
    bounds = rules.parse_month(month)
    if bounds is None:
        raise InvalidInput(f"{month[:20]!r} is no month: write YYYY-MM",
                           errors=[FieldError(field="path.month", message="YYYY-MM, e.g. 2027-01")])
    return bounds


def _in_month(first: dt.date, last: dt.date) -> Any:
    return and_(AgreementCopy.start.is_not(None), AgreementCopy.start <= last, AgreementCopy.end >= first,
                or_(AgreementCopy.ended_on.is_(None), AgreementCopy.ended_on >= first),
                or_(AgreementCopy.ended_on.is_(None), AgreementCopy.ended_on >= AgreementCopy.start))


async def unit_agreements(session: AsyncSession, provider_id: str, unit_id: uuid.UUID, first: dt.date,
                          last: dt.date) -> list[AgreementCopy]:
    """The unit's agreements in force on some day of the month."""
    return list((await session.execute(select(AgreementCopy).where(
        AgreementCopy.provider_id == provider_id, AgreementCopy.unit_id == unit_id, _in_month(first, last))
        .order_by(AgreementCopy.agreement_id))).scalars())


async def month_figures(session: AsyncSession, copies: list[AgreementCopy], first: dt.date, last: dt.date,
                        today: dt.date) -> tuple[list[MonthAgreementCount], dict[uuid.UUID, list[LogEntry]]]:
    """Per agreement: realised, absence and not-organised days, coaching hours, and the scheduled
    days (to today, public holidays aside) still without an entry."""
    ids = [c.agreement_id for c in copies]
    entries: dict[uuid.UUID, list[LogEntry]] = defaultdict(list)
    if ids:
        for row in (await session.execute(select(LogEntry).where(
                LogEntry.agreement_id.in_(ids), LogEntry.date >= first, LogEntry.date <= last)
                .order_by(LogEntry.date))).scalars():
            entries[row.agreement_id].append(row)
    out = []
    for copy in copies:
        rows = entries.get(copy.agreement_id, [])
        start, last_day = copy.start, copy.last_day
        assert start is not None and last_day is not None  # _in_month selects copies with their facts
        lo = max(first, start)
        hi = min(last, today, last_day)
        scheduled = agreement_rules.scheduled_days(agreement_rules.schedule_segments(copy.periods), lo, hi) if hi >= lo else []
        recorded = {r.date for r in rows}
        missing = [d for d in rules.required_days(scheduled) if d not in recorded]
        out.append(MonthAgreementCount(
            agreement_id=copy.agreement_id, client_id=copy.client_id, realised_days=sum(1 for r in rows if r.realised),
            absence_days=sum(1 for r in rows if r.kind == "absent"),
            not_organised_days=sum(1 for r in rows if r.kind == "not_organised"),
            coaching_hours=round(sum(r.coaching_minutes or 0 for r in rows) / 60, 2), missing_days=missing))
    return out, entries


def _view(report: MonthReport | None, provider_id: str, unit_id: uuid.UUID, month: str, today: dt.date,
          figures: list[MonthAgreementCount] | None = None) -> MonthReportOut:
    _first, last = rules.month_range(month)
    due = rules.due_on(last)
    if report is not None and report.confirmed_on is not None:
        status = "confirmed"
    elif report is not None and report.late or rules.is_late(last, today):
        status = "late"
    else:
        status = "open"
    return MonthReportOut(
        id=report.id if report else None, provider_id=provider_id, unit_id=unit_id, month=month, due_on=due, status=status,
        confirmed_on=report.confirmed_on if report else None, confirmed_by=report.confirmed_by if report else None,
        late=bool(report.late) if report else status == "late", late_marked_on=report.late_marked_on if report else None,
        agreements=figures if figures is not None else [MonthAgreementCount(**c) for c in (report.counts or [])] if report else [])


async def confirm_month(session: AsyncSession, principal: Principal, month: str, unit_id: uuid.UUID) -> tuple[MonthReportOut, bool]:
    """ATT-10 / BIL-2: the provider confirms a unit's month once every scheduled day has an entry
    (refused, listing the days still without one, otherwise). Published once (MonthReported), late
    when after the 3rd of the next month; confirming again changes nothing. From then on a change
    to the month's entries is a correction (ATT-10)."""
    first, last = parse_month_or_422(month)
    today = runtime_of(session).clock.today()
    provider_id = principal.provider_id or ""
    problem = rules.confirm_problem(first, last, today)
    if problem:
        raise RuleViolation(problem, rule="ATT-10", errors=[FieldError(field="path.month", rule="ATT-10", message=problem)])
    copies = await unit_agreements(session, provider_id, unit_id, first, last)
    if not copies:
        raise NotFound(f"no unit {unit_id} of yours has agreements in force in {month}", rule="DATA-3")
    existing = (await session.execute(select(MonthReport).where(MonthReport.unit_id == unit_id, MonthReport.month == month)
                                      .with_for_update())).scalar_one_or_none()
    if existing is not None and existing.confirmed_on is not None:
        return _view(existing, provider_id, unit_id, month, today), False
    figures, _ = await month_figures(session, copies, first, last, today)
    missing = [MissingDays(agreement_id=f.agreement_id, client_id=f.client_id, days=f.missing_days)
               for f in figures if f.missing_days]
    if missing:
        count = sum(len(m.days) for m in missing)
        raise RuleViolation(
            f"{count} scheduled day{'s' if count != 1 else ''} of {month} still have no entry: post them (present, absent "
            "or not_organised) and confirm again", rule="ATT-10",
            errors=[FieldError(field=f"agreements.{m.agreement_id}", rule="ATT-10",
                               message="no entry for " + ", ".join(d.isoformat() for d in m.days)) for m in missing],
            missing=[m.model_dump(mode="json") for m in missing])
    late = rules.is_late(last, today)
    counts = [f.model_dump(mode="json") for f in figures]
    now = dt.datetime.now(dt.UTC)
    if existing is None:
        existing = MonthReport(id=uuid.uuid4(), provider_id=provider_id, unit_id=unit_id, month=month, due_on=rules.due_on(last),
                               late=late, updated_at=now)
        session.add(existing)
    existing.confirmed_on, existing.confirmed_by, existing.counts, existing.updated_at = today, principal.subject, counts, now
    existing.late = existing.late or late
    await session.flush()
    await emit(session, MonthReported, MonthReportedPayload(
        report_id=existing.id, provider_id=provider_id, unit_id=unit_id, month=month, due_on=existing.due_on,
        confirmed_on=today, late=existing.late, agreements=figures), subject=str(unit_id))
    await audit(session, principal, "month.confirm", "unit", unit_id, client_ids=sorted({str(c.client_id) for c in copies}),
                details={"month": month, "late": existing.late})
    return _view(existing, provider_id, unit_id, month, today, figures), True


async def mark_late(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """ATT-10 / BIL-2: every unit with agreements in force in the month whose deadline (the 3rd of
    the next month) passed, and no confirmation, is marked late and MonthReportLate published,
    once per unit and month (a unique row; running the job twice publishes nothing new)."""
    month = rules.due_month(run_date)
    if month is None:
        return {"month": None, "late": 0}
    first, last = rules.month_range(month)
    copies = (await session.execute(select(AgreementCopy).where(_in_month(first, last), AgreementCopy.unit_id.is_not(None))
                                    .order_by(AgreementCopy.provider_id, AgreementCopy.unit_id))).scalars().all()
    units: dict[tuple[str, uuid.UUID], list[uuid.UUID]] = defaultdict(list)
    for c in copies:
        if c.unit_id is not None:  # the query takes copies with a unit only
            units[(c.provider_id or "", c.unit_id)].append(c.agreement_id)
    marked = 0
    now = dt.datetime.now(dt.UTC)
    due = rules.due_on(last)
    for (provider_id, unit_id), agreement_ids in units.items():
        report_id = uuid.uuid4()
        inserted = affected(await session.execute(insert_for(session, MonthReport).values(
            id=report_id, provider_id=provider_id, unit_id=unit_id, month=month, due_on=due, late=True,
            late_marked_on=run_date, updated_at=now).on_conflict_do_nothing(index_elements=["unit_id", "month"])))
        if not inserted:
            inserted = affected(await session.execute(update(MonthReport).where(
                MonthReport.unit_id == unit_id, MonthReport.month == month, MonthReport.confirmed_on.is_(None),
                MonthReport.late_marked_on.is_(None)).values(late=True, late_marked_on=run_date, updated_at=now)))
        if inserted:
            await emit(session, MonthReportLate, MonthReportLatePayload(
                provider_id=provider_id, unit_id=unit_id, month=month, due_on=due, marked_on=run_date,
                agreement_ids=agreement_ids), subject=str(unit_id))
            marked += 1
    return {"month": month, "late": marked}


async def list_reports(session: AsyncSession, principal: Principal, *, month: str | None, status: str | None,
                       provider_id: str | None, limit: int, offset: int) -> list[MonthReportOut]:
    """Month reports as stored (confirmed, or marked late); a provider sees its own only (DATA-3)."""
    today = runtime_of(session).clock.today()
    query = select(MonthReport)
    if principal.role is Role.PROVIDER:
        query = query.where(MonthReport.provider_id == principal.provider_id)
    elif provider_id:
        query = query.where(MonthReport.provider_id == provider_id)
    if month:
        parse_month_or_422(month)
        query = query.where(MonthReport.month == month)
    if status == "confirmed":
        query = query.where(MonthReport.confirmed_on.is_not(None))
    elif status == "late":
        query = query.where(MonthReport.late.is_(True))
    rows = (await session.execute(query.order_by(MonthReport.month.desc(), MonthReport.provider_id, MonthReport.unit_id)
                                  .limit(limit).offset(offset))).scalars().all()
    return [_view(r, r.provider_id, r.unit_id, r.month, today) for r in rows]


async def grid(session: AsyncSession, principal: Principal, unit_id: uuid.UUID, month: str) -> list[dict[str, Any]]:
    """A unit's month as a grid, client x day: P present, A authorised absence, U unauthorised
    absence, N not organised, ? a scheduled day still without an entry (ATT-10); a provider sees
    its own units only (DATA-3)."""
    first, last = parse_month_or_422(month)
    today = runtime_of(session).clock.today()
    query = select(AgreementCopy).where(AgreementCopy.unit_id == unit_id, _in_month(first, last))
    if principal.role is Role.PROVIDER:
        query = query.where(AgreementCopy.provider_id == principal.provider_id)
    copies = list((await session.execute(query.order_by(AgreementCopy.agreement_id))).scalars())
    if not copies:
        raise NotFound(f"no unit {unit_id} of yours has agreements in force in {month}", rule="DATA-3")
    figures, entries = await month_figures(session, copies, first, last, today)
    rows = []
    for copy, figure in zip(copies, figures):
        cells: dict[str, str] = {}
        for e in entries.get(copy.agreement_id, []):
            cells[e.date.isoformat()] = {"present": "P", "not_organised": "N"}.get(e.kind, "A" if e.authorised else "U")
        for day in figure.missing_days:
            cells[day.isoformat()] = "?"
        rows.append({"agreement_id": copy.agreement_id, "client_id": copy.client_id, "days": dict(sorted(cells.items())),
                     "missing": figure.missing_days, "realised_days": figure.realised_days})
    await audit(session, principal, "month.grid", "unit", unit_id, client_ids=sorted({str(c.client_id) for c in copies}),
                details={"month": month})
    return rows
