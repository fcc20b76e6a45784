"""What the attendance service keeps of agreements (copies from the voucher service's events) and
the deviations providers record beforehand (AGR-14)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class AgreementCopy(Base):
    """An agreement as the voucher service last described it. The facts (dates, periods with their
    schedules) come from AgreementSigned / AgreementChanged, the end from AgreementEnded, the first
    day from ServiceStarted; each part remembers the time of the event it came from, so an older
    event handled late never rolls the copy back. A row may hold only an end (an AgreementEnded
    seen before its signing): it binds no day until its facts arrive."""

    __tablename__ = "agreement_copy"

    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    voucher_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    product_kind: Mapped[str | None] = mapped_column(String(50))
    form: Mapped[str | None] = mapped_column(String(20))
    start: Mapped[dt.date | None] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    periods: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    approved_hours: Mapped[int | None] = mapped_column(Integer)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    facts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    facts_event: Mapped[str | None] = mapped_column(String(200))
    # Issue 12 item 3: the agreement's revision in the producer (ktt_common.revisions) of the facts and
    # of the end applied; NULL for events from before revisions, ordered by ``facts_at``/``ended_at``.
    facts_revision: Mapped[int | None] = mapped_column(BigInteger)
    ended_revision: Mapped[int | None] = mapped_column(BigInteger)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    end_kind: Mapped[str | None] = mapped_column(String(50))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_agreement_copy_client", "client_id"),
        Index("ix_agreement_copy_provider_unit", "provider_id", "unit_id"),
    )

    @property
    def has_facts(self) -> bool:
        return self.start is not None and self.end is not None

    @property
    def last_day(self) -> dt.date | None:
        """The last day the agreement binds (AGR-18): its end date, or its end day once ended."""
        if not self.has_facts:
            return None
        assert self.end is not None
        return min(self.end, self.ended_on) if self.ended_on is not None else self.end


class Deviation(Base):
    """A pre-agreed deviation from the scheduled days (AGR-14), recorded before the day."""

    __tablename__ = "deviation"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    date: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("agreement_id", "date"),)
