"""Kela TT3 absence notices, one per client and two-week review period (ATT-6)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class AbsenceNotice(Base):
    __tablename__ = "absence_notice"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    recipient: Mapped[str] = mapped_column(String(30))
    fund_name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(10))
    days: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    absence_days: Mapped[int] = mapped_column(Integer)
    unauthorised_days: Mapped[int] = mapped_column(Integer)
    to_employment_authority: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(20))
    created_on: Mapped[dt.date] = mapped_column(Date)
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    sent_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("client_id", "period_start"), Index("ix_absence_notice_status", "status", "period_start"))
