"""Daily jobs of the billing service; idempotent for their date (a settlement is unique per provider and
month, recomputing an open one gives the same lines, and each transition is published once)."""

from __future__ import annotations

from ktt_common.jobs import JobRegistry

from ktt_billing.settlements import service

JOBS = JobRegistry()

JOBS.job("settle-month", "BIL-1/BIL-2/BIL-3: compute the month that ended per provider, hold or release, "
                         "carry corrections, and settle approved settlements on the settlement day")(service.settle_month)
