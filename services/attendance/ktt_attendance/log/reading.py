"""Reading the daily log: entries with their revision counts, an entry's history, and the city's
spot check (ATT-12); a provider reads only its own (DATA-3), every read of a client's log is audited."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import FieldError, InvalidInput, NotFound

from ktt_attendance.access import sees, visible_agreement
from ktt_attendance.log.models import LogEntry, LogEntryRevision
from ktt_attendance.log.schemas import EntryOut, RevisionOut
from ktt_attendance.log.writing import content_of_row, hours, jsonable


def entry_out(row: LogEntry) -> EntryOut:
    return EntryOut(
        id=row.id, agreement_id=row.agreement_id, client_id=row.client_id, unit_id=row.unit_id, date=row.date, kind=row.kind,
        start=row.start_time, end=row.end_time, hours=hours(row.minutes), tasks=row.tasks, note=row.note,
        deviation=row.deviation, reason=row.absence_reason, certificate=row.certificate, authorised=row.authorised,
        same_day_contact=row.same_day_contact, not_organised_reason=row.not_organised_reason,
        coaching_hours=hours(row.coaching_minutes), content=row.coaching_content, realised=row.realised,
        correction=row.correction, revision=row.revision, recorded_at=row.recorded_at, recorded_by=row.recorded_by,
    )


def _period_problem(first: dt.date | None, last: dt.date | None) -> None:
    if first is not None and last is not None and last < first:
        raise InvalidInput("to is before from", errors=[FieldError(field="query.to", message="to is before from")])


async def read_log(session: AsyncSession, principal: Principal, *, agreement_id: uuid.UUID | None, client_id: uuid.UUID | None,
                   first: dt.date | None, last: dt.date | None, limit: int, offset: int) -> tuple[list[LogEntry], int]:
    """ATT-12 / DATA-3: a client's log (officials) or an agreement's (a provider: its own only),
    oldest day first, paginated; every read is audited with the clients it showed."""
    _period_problem(first, last)
    where: list[Any] = []
    if agreement_id is not None:
        copy = await visible_agreement(session, principal, agreement_id)
        where.append(LogEntry.agreement_id == copy.agreement_id)
    if client_id is not None:
        where.append(LogEntry.client_id == client_id)
    if agreement_id is None and client_id is None:
        raise InvalidInput("name an agreement_id or a client_id", errors=[
            FieldError(field="query.agreement_id", message="agreement_id or client_id is required")])
    if principal.role is Role.PROVIDER:
        where.append(LogEntry.provider_id == principal.provider_id)  # DATA-3: its own agreements only
    if first is not None:
        where.append(LogEntry.date >= first)
    if last is not None:
        where.append(LogEntry.date <= last)
    total = int((await session.execute(select(func.count()).select_from(LogEntry).where(*where))).scalar_one())
    rows = list((await session.execute(
        select(LogEntry).where(*where).order_by(LogEntry.date, LogEntry.agreement_id).limit(limit).offset(offset))).scalars())
    await audit(session, principal, "daily_log.read", "agreement" if agreement_id else "client", agreement_id or client_id,
                client_ids=sorted({str(r.client_id) for r in rows} | ({str(client_id)} if client_id else set())),
                details={"from": first.isoformat() if first else None, "to": last.isoformat() if last else None,
                         "offset": offset, "returned": len(rows)})
    return rows, total


async def revisions(session: AsyncSession, principal: Principal, entry_id: uuid.UUID) -> tuple[LogEntry, list[RevisionOut]]:
    """ATT-1: every version of an entry, oldest first, with who recorded it, when, and what the
    next version changed."""
    entry = await session.get(LogEntry, entry_id)
    if entry is None or not sees(principal, entry.provider_id):
        raise NotFound(f"no daily-log entry {entry_id} of yours", rule="DATA-3")
    rows = (await session.execute(select(LogEntryRevision).where(LogEntryRevision.entry_id == entry.id)
                                  .order_by(LogEntryRevision.revision))).scalars().all()
    out = [RevisionOut(revision=r.revision, facts=r.facts, changes=r.changes, correction=r.correction, batch_id=r.batch_id,
                       recorded_at=r.recorded_at, recorded_by=r.recorded_by) for r in rows]
    current = {**content_of_row(entry), "authorised": entry.authorised}
    out.append(RevisionOut(revision=entry.revision, facts=jsonable(current), changes=None, correction=entry.correction,
                           batch_id=entry.batch_id, recorded_at=entry.recorded_at, recorded_by=entry.recorded_by))
    await audit(session, principal, "daily_log.revisions", "log_entry", entry.id, client_ids=[entry.client_id])
    return entry, out


async def spot_check(session: AsyncSession, principal: Principal, provider_id: str, month: str,
                     sample_size: int) -> tuple[int, list[LogEntry]]:
    """ATT-12: the city draws a random sample of a provider's entries for a month to check against
    the provider's records; the draw (which entries) is recorded in the audit log."""
    from ktt_attendance.months.service import parse_month_or_422

    first, last = parse_month_or_422(month)
    where = (LogEntry.provider_id == provider_id, LogEntry.date >= first, LogEntry.date <= last)
    population = int((await session.execute(select(func.count()).select_from(LogEntry).where(*where))).scalar_one())
    rows = list((await session.execute(select(LogEntry).where(*where).order_by(func.random()).limit(sample_size))).scalars())
    rows.sort(key=lambda r: (r.date, r.agreement_id))
    await audit(session, principal, "daily_log.spot_check", "provider", provider_id,
                client_ids=sorted({str(r.client_id) for r in rows}),
                details={"month": month, "population": population, "entry_ids": [str(r.id) for r in rows]})
    return population, rows
