"""Daily jobs of the attendance service, registered in one place. Each is idempotent for its date:
what it creates is keyed on a unique row, so running it twice publishes nothing new."""

from __future__ import annotations

from ktt_common.jobs import JobRegistry

from ktt_attendance.months import service as months
from ktt_attendance.notices import service as notices
from ktt_attendance.reports import jobs as reports

JOBS = JobRegistry()

JOBS.job("months-late", "ATT-10/BIL-2: mark units' months unconfirmed after the 3rd of the next month late, "
                        "published once (MonthReportLate)")(months.mark_late)
JOBS.job("absence-notices", "ATT-6: a Kela TT3 notice per client with absences in the two-week review period "
                            "that has just ended, published once (AbsenceNoticeCreated)")(notices.make_notices)
JOBS.job("reports-due", "ATT-11/REP-3/REP-4: the previous month's follow-ups become due (by the 3rd); reports not "
                       "delivered by their due day become late, published once (ReportLate)")(reports.reports_due)
