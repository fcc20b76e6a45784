"""Kela TT3 absence notices (ATT-6): made by a daily job once a two-week review period has
passed, one per client and period (a unique row: the job run twice makes and publishes nothing
new), listed, read as JSON or PDF, marked sent."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.db import affected, insert_for
from ktt_common.errors import FieldError, NotFound, RuleViolation
from ktt_common.outbox import emit, runtime_of
from ktt_common.settings import settings_as
from ktt_contracts.attendance import AbsenceNoticeCreated, AbsenceNoticeCreatedPayload

from ktt_attendance.clients.models import ClientCopy
from ktt_attendance.log.models import LogEntry
from ktt_attendance.notices import rules
from ktt_attendance.notices.models import AbsenceNotice
from ktt_attendance.settings import AttendanceSettings


async def make_notices(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """ATT-6: for the latest review period that ended before ``run_date``, one notice per client with
    absences in it, covering exactly the period's absence days. Clients on social assistance get
    none (no unemployment benefit); a client whose decision is unknown here is reported to Kela."""
    rt = runtime_of(session)
    try:
        start, end = rules.last_complete_period(run_date, settings_as(rt.settings, AttendanceSettings).tt3_period_anchor)
    except OverflowError:
        return {"period": None, "created": 0}
    rows = (await session.execute(select(LogEntry).where(
        LogEntry.kind == "absent", LogEntry.date >= start, LogEntry.date <= end)
        .order_by(LogEntry.client_id, LogEntry.date))).scalars().all()
    by_client: dict[uuid.UUID, list[LogEntry]] = defaultdict(list)
    for row in rows:
        by_client[row.client_id].append(row)
    clients = {c.client_id: c for c in (await session.execute(
        select(ClientCopy).where(ClientCopy.client_id.in_(sorted(by_client))))).scalars()} if by_client else {}
    created = skipped = 0
    now = dt.datetime.now(dt.UTC)
    for client_id, entries in by_client.items():
        copy = clients.get(client_id)
        recipient = copy.payer() if copy is not None else "kela"
        if recipient is None:
            skipped += 1
            continue
        days = [{"date": e.date.isoformat(), "agreement_id": str(e.agreement_id), "provider_id": e.provider_id,
                 "unit_id": str(e.unit_id), "reason": e.absence_reason, "certificate": e.certificate,
                 "authorised": e.authorised} for e in entries]
        unauthorised = sum(1 for e in entries if not e.authorised)
        notice_id = uuid.uuid4()
        to_authority = rules.to_employment_authority(unauthorised)
        inserted = affected(await session.execute(insert_for(session, AbsenceNotice).values(
            id=notice_id, client_id=client_id, period_start=start, period_end=end, recipient=recipient,
            fund_name=copy.fund_name if copy else None, language=(copy.language if copy and copy.language in ("fi", "sv") else "fi"),
            days=days, absence_days=len(days), unauthorised_days=unauthorised, to_employment_authority=to_authority,
            status="pending", created_on=run_date, created_at=now,
        ).on_conflict_do_nothing(index_elements=["client_id", "period_start"])))
        if inserted:
            await emit(session, AbsenceNoticeCreated, AbsenceNoticeCreatedPayload(
                notice_id=notice_id, client_id=client_id, period_start=start, period_end=end, recipient=recipient,
                absence_days=len(days), unauthorised_days=unauthorised, to_employment_authority=to_authority),
                subject=str(client_id))
            created += 1
    return {"period": f"{start}/{end}", "created": created, "social_assistance_skipped": skipped}


async def list_notices(session: AsyncSession, principal: Principal, *, status: str | None, client_id: uuid.UUID | None,
                       limit: int, offset: int) -> tuple[list[AbsenceNotice], int]:
    where: list[Any] = []
    if status:
        where.append(AbsenceNotice.status == status)
    if client_id:
        where.append(AbsenceNotice.client_id == client_id)
    total = int((await session.execute(select(func.count()).select_from(AbsenceNotice).where(*where))).scalar_one())
    rows = list((await session.execute(select(AbsenceNotice).where(*where)
                                       .order_by(AbsenceNotice.period_start, AbsenceNotice.client_id)
                                       .limit(limit).offset(offset))).scalars())
    await audit(session, principal, "absence_notice.list", "absence_notice", None, client_ids=sorted({str(n.client_id) for n in rows}))
    return rows, total


async def get_notice(session: AsyncSession, principal: Principal, notice_id: uuid.UUID, action: str) -> AbsenceNotice:
    notice = await session.get(AbsenceNotice, notice_id)
    if notice is None:
        raise NotFound(f"no absence notice {notice_id}")
    await audit(session, principal, action, "absence_notice", notice.id, client_ids=[notice.client_id])
    return notice


async def mark_sent(session: AsyncSession, principal: Principal, notice_id: uuid.UUID, sent_on: dt.date | None) -> AbsenceNotice:
    """The notice went to Kela or the fund (and the employment authority when flagged). Again: no change."""
    today = runtime_of(session).clock.today()
    day = sent_on or today
    notice = await session.get(AbsenceNotice, notice_id, with_for_update=True)
    if notice is None:
        raise NotFound(f"no absence notice {notice_id}")
    if notice.status == "sent":
        return notice
    if day > today or day < notice.period_end:
        raise RuleViolation(f"a notice is sent after its period ({notice.period_end}) and not in the future", rule="ATT-6",
                            errors=[FieldError(field="body.sent_on", rule="ATT-6", message="between the period's end and today")])
    await session.execute(update(AbsenceNotice).where(AbsenceNotice.id == notice.id, AbsenceNotice.status == "pending")
                          .values(status="sent", sent_on=day, sent_by=principal.subject))
    await session.refresh(notice)
    await audit(session, principal, "absence_notice.mark_sent", "absence_notice", notice.id, client_ids=[notice.client_id],
                details={"sent_on": day.isoformat(), "recipient": notice.recipient})
    return notice
