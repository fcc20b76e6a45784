"""Month reporting per unit (ATT-10, BIL-2)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class MonthReport(Base):
    """A unit's month: confirmed by the provider (MonthReported), or marked late by the daily job
    when unconfirmed after the 3rd of the next month (MonthReportLate). One row per (unit, month)."""

    __tablename__ = "month_report"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    month: Mapped[str] = mapped_column(String(7))
    due_on: Mapped[dt.date] = mapped_column(Date)
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date)
    confirmed_by: Mapped[str | None] = mapped_column(String(200))
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    late_marked_on: Mapped[dt.date | None] = mapped_column(Date)
    counts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("unit_id", "month"),)
