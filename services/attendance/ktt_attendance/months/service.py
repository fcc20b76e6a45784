"""Month reporting (ATT-10, BIL-2): confirmation per unit, late months, and what a confirmed
month means for the daily log (a change becomes a correction)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_attendance.months.models import MonthReport


async def confirmed_months(session: AsyncSession, keys: Iterable[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], dt.date]:
    """(unit, YYYY-MM) -> the day the provider confirmed it, for the confirmed ones among ``keys``."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    units = sorted({u for u, _ in keys})
    months = sorted({m for _, m in keys})
    rows = (await session.execute(select(MonthReport.unit_id, MonthReport.month, MonthReport.confirmed_on).where(
        MonthReport.unit_id.in_(units), MonthReport.month.in_(months), MonthReport.confirmed_on.is_not(None)))).all()
    wanted = set(keys)
    return {(u, m): c for u, m, c in rows if (u, m) in wanted}
