"""Alerts for the city, raised once each (ATT-4, ATT-5, ATT-13, ATT-14, AGR-9)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class Alert(Base):
    """One alert; ``key`` (unique) names the fact it is about, so it is raised and published once."""

    __tablename__ = "alert"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    rule: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    since: Mapped[dt.date] = mapped_column(Date)
    raised_on: Mapped[dt.date] = mapped_column(Date)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    close_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_alert_status_raised", "status", "raised_on"), Index("ix_alert_agreement", "agreement_id"))
