"""The daily log: one current entry per (agreement, day), every revision kept (ATT-1, ATT-2)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, Time, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class LogEntry(Base):
    """What the provider recorded for one client-day, as it now stands. Hours are kept in whole
    minutes (exact, on every database); ``realised`` marks a present day, the payable realised
    activity day of BIL-1 counted in the ATT-9 limits."""

    __tablename__ = "log_entry"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    date: Mapped[dt.date] = mapped_column(Date)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))
    start_time: Mapped[dt.time | None] = mapped_column(Time)
    end_time: Mapped[dt.time | None] = mapped_column(Time)
    minutes: Mapped[int | None] = mapped_column(Integer)
    tasks: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    deviation: Mapped[str | None] = mapped_column(String(30))
    absence_reason: Mapped[str | None] = mapped_column(String(40))
    certificate: Mapped[bool | None] = mapped_column(Boolean)
    authorised: Mapped[bool | None] = mapped_column(Boolean)
    same_day_contact: Mapped[bool | None] = mapped_column(Boolean)
    not_organised_reason: Mapped[str | None] = mapped_column(String(30))
    coaching_minutes: Mapped[int | None] = mapped_column(Integer)
    coaching_content: Mapped[str | None] = mapped_column(Text)
    realised: Mapped[bool] = mapped_column(Boolean)
    revision: Mapped[int] = mapped_column(Integer)
    correction: Mapped[bool] = mapped_column(Boolean)
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("agreement_id", "date"),
        Index("ix_log_entry_client_date", "client_id", "date"),
        Index("ix_log_entry_unit_date", "unit_id", "date"),
    )


class LogEntryRevision(Base):
    """A superseded version of an entry: what it said, who recorded it, when and in which batch,
    and what the next version changed (ATT-1). The current version is the entry itself, so a
    first recording writes no history row."""

    __tablename__ = "log_entry_revision"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    date: Mapped[dt.date] = mapped_column(Date)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    correction: Mapped[bool] = mapped_column(Boolean)
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(200))
    superseded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    superseded_by: Mapped[str] = mapped_column(String(200))

    __table_args__ = (Index("ix_log_entry_revision_agreement_date", "agreement_id", "date"),)


class LogBatch(Base):
    """One posted batch: who sent it, how, and what became of its entries."""

    __tablename__ = "log_batch"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    recorded_by: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(20))
    entries: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, int]] = mapped_column(JSON)
    received_on: Mapped[dt.date] = mapped_column(Date)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
