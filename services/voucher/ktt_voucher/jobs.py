"""Daily jobs of the voucher service (VOU-3, VOU-1). Each is idempotent for its date: a voucher
changes state by compare-and-set and enters each state at most once (unique history row), so
running a job twice, or two runs at once, publishes nothing new."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.jobs import JobRegistry

from ktt_voucher import agreement_jobs, rules, service
from ktt_voucher.agreement_models import Agreement
from ktt_voucher.models import Voucher

JOBS = JobRegistry()


@JOBS.job("vouchers-delayed", "VOU-3: mark issued vouchers delayed: no provider contact within 7 days, or no service "
                               "started within 14 days, of the client receiving the decision")
async def mark_delayed(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """VOU-3: counted from the client's receipt of the decision (decided_on when none was sent):
    an issued voucher is delayed from day 8 without a provider contact, and from day 15 without a
    started service. Published once (VoucherStateChanged)."""
    cutoff = run_date - dt.timedelta(days=rules.CONTACT_DAYS)  # nothing can be late before day 8
    received = func.coalesce(Voucher.received_on, Voucher.decided_on)
    overridden = select(Agreement.voucher_id).where(Agreement.start_override_reason.is_not(None))
    candidates = (await session.execute(
        select(Voucher).where(Voucher.state == "issued", received.is_not(None), received < cutoff,
                              Voucher.id.not_in(overridden))  # an official accepted a later start (VOU-3)
        .order_by(Voucher.decided_on, Voucher.id)
    )).scalars().all()
    marked = 0
    for voucher in candidates:
        receipt = voucher.received_on or voucher.decided_on
        assert receipt is not None
        reason = rules.delay_reason(voucher.state, receipt, voucher.contacted_on, run_date)
        if reason and await service.transition(session, voucher, "delayed", reason=reason, actor="job:vouchers-delayed",
                                               on_date=run_date):
            marked += 1
    return {"delayed": marked}


@JOBS.job("vouchers-expired", "VOU-1: mark vouchers whose validity has ended as expired")
async def mark_expired(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """VOU-1: a voucher is valid up to and including valid_to; the day after it is expired."""
    candidates = (await session.execute(
        select(Voucher).where(Voucher.state.in_(sorted(rules.ACTIVE_STATES)), Voucher.valid_to < run_date)
        .order_by(Voucher.valid_to, Voucher.id)
    )).scalars().all()
    marked = 0
    for voucher in candidates:
        if rules.is_expired(voucher.state, voucher.valid_to, run_date) and await service.transition(
            session, voucher, "expired", reason=f"VOU-1: valid until {voucher.valid_to.isoformat()}",
            actor="job:vouchers-expired", on_date=run_date,
        ):
            marked += 1
    return {"expired": marked}


JOBS.job("services-starting", "VOU-3/DEC-6: ServiceStarted when an agreement's first scheduled day comes; voucher in use")(
    agreement_jobs.start_services)
JOBS.job("periods-ending", "REP-3/REP-4: PeriodEnding once per period at the lead time before its end")(
    agreement_jobs.publish_periods_ending)
JOBS.job("agreements-ending", "AGR-13: fixed-term agreements end by themselves after their last day")(
    agreement_jobs.end_fixed_terms)
