"""Daily jobs of the voucher service, registered in one place. Each is idempotent for its date:
a voucher or agreement changes state by compare-and-set and what a job publishes is keyed on a
unique row, so running it twice, or two runs at once, publishes nothing new."""

from __future__ import annotations

from ktt_common.jobs import JobRegistry

from ktt_voucher.agreements import jobs as agreements
from ktt_voucher.vouchers import jobs as vouchers

JOBS = JobRegistry()

JOBS.job("vouchers-delayed", "VOU-3: mark issued vouchers delayed: no provider contact within 7 days, or no service "
                             "started within 14 days, of the client receiving the decision")(vouchers.mark_delayed)
JOBS.job("vouchers-expired", "VOU-1: mark vouchers whose validity has ended as expired")(vouchers.mark_expired)
JOBS.job("services-starting", "VOU-3/DEC-6: ServiceStarted when an agreement's first scheduled day comes; voucher in use")(
    agreements.start_services)
JOBS.job("periods-ending", "REP-3/REP-4: PeriodEnding once per period at the lead time before its end")(
    agreements.publish_periods_ending)
JOBS.job("agreements-ending", "AGR-13: fixed-term agreements end by themselves after their last day")(
    agreements.end_fixed_terms)
