"""Pure rules of the daily jobs: which business dates a job may run for, and which are due.

OPS-1 (platform rule): a daily job runs only for a business date that has come, and not before
``EARLIEST_JOB_DATE``. A future date would act on state that does not exist yet (expire live
vouchers, end running agreements) and could not be undone; the development clock is the way to
see the future. A past date catches up only what that date should have done (every job computes
from its run date, not from the wall clock).
"""

from __future__ import annotations

import datetime as dt

EARLIEST_JOB_DATE = dt.date(2000, 1, 1)
RULE_JOB_DATE = "OPS-1"


def job_date_error(run_date: dt.date, today: dt.date) -> str | None:
    """Why ``run_date`` may not be run on ``today`` (OPS-1), or None when it may."""
    if run_date > today:
        return (f"{RULE_JOB_DATE}: {run_date.isoformat()} is after today ({today.isoformat()}); a daily job runs only for a "
                "date that has come (move the development clock to see the future)")
    if run_date < EARLIEST_JOB_DATE:
        return f"{RULE_JOB_DATE}: {run_date.isoformat()} is before {EARLIEST_JOB_DATE.isoformat()}, when no KTT data exists"
    return None


def due_dates(last_done: dt.date | None, now_local: dt.datetime, run_at: dt.time, catch_up_days: int) -> list[dt.date]:
    """The business dates a scheduled job still has to run for, oldest first.

    A date is due once its ``run_at`` local time has come. After downtime every missed date is
    run in order (at most ``catch_up_days`` of the newest); a job never run before starts with
    the newest due date.
    """
    today = now_local.date()
    newest_ord = today.toordinal() - (0 if now_local.time() >= run_at else 1)
    if newest_ord < EARLIEST_JOB_DATE.toordinal():
        return []
    if last_done is None or last_done < EARLIEST_JOB_DATE:
        return [dt.date.fromordinal(newest_ord)]
    first_ord = max(last_done.toordinal() + 1, newest_ord - max(catch_up_days, 1) + 1)
    return [dt.date.fromordinal(o) for o in range(first_ord, newest_ord + 1)]
