"""Reports and evaluations (REP-1): one row per report, unique per agreement and natural key."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class Report(Base):
    """A report the provider owes or delivered. ``key`` places it within its agreement (the month of
    a monthly follow-up, the period of an interim evaluation, else the kind: rules.report_key), so a
    due report made by the job or from PeriodEnding and the provider's submission meet in one row.
    ``history`` is append-only: every state change with who, when and any comment."""

    __tablename__ = "report"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    state: Mapped[str] = mapped_column(String(30))
    month: Mapped[str | None] = mapped_column(String(7))
    period_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    realised_days: Mapped[int | None] = mapped_column(Integer)
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    returned_comment: Mapped[str | None] = mapped_column(Text)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("agreement_id", "key"),
        Index("ix_report_state_due", "state", "due_on"),
        Index("ix_report_provider_state", "provider_id", "state"),
        Index("ix_report_client", "client_id"),
    )
