"""Reading reports (REP-1, DATA-3): the case worker's inbox of reports due, late and submitted,
oldest first; a provider's list of what it owes (its own clients only, filtered in the query); one
report with its history. Every read is audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role

from ktt_attendance.reports.models import Report
from ktt_attendance.reports.service import visible_report


async def list_reports(session: AsyncSession, principal: Principal, *, client_id: uuid.UUID | None, provider_id: str | None,
                       state: str | None, kind: str | None, limit: int, offset: int) -> tuple[list[Report], int]:
    where: list[Any] = []
    if principal.role is Role.PROVIDER:
        where.append(Report.provider_id == principal.provider_id)  # DATA-3: in the query, not after it
    for column, value in ((Report.client_id, client_id), (Report.provider_id, provider_id), (Report.state, state),
                          (Report.kind, kind)):
        if value is not None:
            where.append(column == value)
    total = int((await session.execute(select(func.count()).select_from(Report).where(*where))).scalar_one())
    oldest_first = func.coalesce(Report.due_on, Report.submitted_on)
    rows = list((await session.execute(select(Report).where(*where)
                                       .order_by(oldest_first.is_(None), oldest_first, Report.created_at, Report.id)
                                       .limit(limit).offset(offset))).scalars())
    await audit(session, principal, "report.list", "report", None, client_ids=sorted({str(r.client_id) for r in rows}),
                details={"state": state, "kind": kind, "count": len(rows)})
    return rows, total


async def get_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Report:
    report = await visible_report(session, principal, report_id)
    await audit(session, principal, "report.read", "report", report.id, client_ids=[report.client_id])
    return report
