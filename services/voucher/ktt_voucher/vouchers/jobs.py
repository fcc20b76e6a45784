"""Daily jobs of vouchers (VOU-3, VOU-1), registered in ``ktt_voucher.jobs``. Each is idempotent for its date: a voucher
changes state by compare-and-set and enters each state at most once (unique history row), so
running a job twice, or two runs at once, publishes nothing new."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_voucher.agreements.models import Agreement
from ktt_voucher.vouchers import rules, service
from ktt_voucher.vouchers.models import Voucher


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

