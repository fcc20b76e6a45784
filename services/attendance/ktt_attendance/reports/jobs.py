"""The daily reports job (ATT-11, REP-3, REP-4): the month's follow-ups become due, and reports
not delivered by their due day become late (ReportLate, once). Idempotent for its date: due reports
are unique rows per agreement and key, and lateness is a guarded update."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.clock import utc_now
from ktt_common.db import affected
from ktt_common.outbox import emit
from ktt_contracts.reports import ReportLate, ReportLatePayload

from ktt_attendance.agreements.models import AgreementCopy
from ktt_attendance.months.rules import month_range
from ktt_attendance.months.service import _in_month as in_month
from ktt_attendance.reports import rules
from ktt_attendance.reports.models import Report
from ktt_attendance.reports.service import _line, ensure_due, facts


async def reports_due(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """ATT-11: every agreement in force in the month before ``run_date`` owes that month's follow-up
    by the 3rd; a due report whose day has passed is late from the next day."""
    month = rules.previous_month(run_date)
    created = 0
    if month is not None:
        first, last = month_range(month)
        copies = (await session.execute(select(AgreementCopy).where(in_month(first, last))
                                        .order_by(AgreementCopy.agreement_id))).scalars().all()
        for copy in copies:
            if copy.client_id is None or copy.provider_id is None:
                continue
            created += await ensure_due(session, agreement_id=copy.agreement_id, kind=rules.MONTHLY_FOLLOW_UP,
                                        client_id=copy.client_id, provider_id=copy.provider_id, unit_id=copy.unit_id,
                                        month=month, period_id=None, due_on=rules.follow_up_due(month), on=run_date,
                                        by="job:reports-due")
    overdue = (await session.execute(select(Report).where(Report.state == "due", Report.due_on < run_date)
                                     .order_by(Report.due_on, Report.id))).scalars().all()
    late = 0
    for report in overdue:
        claimed = await session.execute(update(Report).where(Report.id == report.id, Report.state == "due").values(
            state="late", late=True, updated_at=utc_now(),
            history=[*report.history, _line("late", "late", "job:reports-due", run_date)],
        ).execution_options(synchronize_session=False))
        if affected(claimed) != 1:
            continue
        await session.refresh(report)
        await emit(session, ReportLate, ReportLatePayload(**facts(report), marked_on=run_date), subject=str(report.id))
        late += 1
    return {"month": month, "due_created": created, "late": late}
