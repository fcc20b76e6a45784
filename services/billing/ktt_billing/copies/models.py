"""Billing's own copies of the facts it pays on, kept from events (a service never reads another's tables)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_billing.db import Base


class AgreementCopy(Base):
    """An agreement with the voucher values frozen at signing and its base-value date (VOU-6, BIL-6)."""

    __tablename__ = "agreement_copy"

    agreement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID]
    provider_id: Mapped[str] = mapped_column(String(100), index=True)
    unit_id: Mapped[uuid.UUID]
    product_kind: Mapped[str] = mapped_column(String(50))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    day_value_first_year_cents: Mapped[int | None] = mapped_column(Integer)
    base_day_value_cents: Mapped[int | None] = mapped_column(Integer)
    hour_value_cents: Mapped[int | None] = mapped_column(Integer)
    base_value_from: Mapped[dt.date] = mapped_column(Date)
    approved_hours: Mapped[int | None] = mapped_column(Integer, doc="Coaching hours approved in the decision (VOU-7)")
    decision_id: Mapped[uuid.UUID | None] = mapped_column(index=True, doc="VOU-7: the approved hours are the decision's, "
                                                          "capped across its agreements (NULL: stored before it was kept)")
    facts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True),
                                                  doc="Time of the event the facts came from; an older one never overwrites")
    facts_revision: Mapped[int | None] = mapped_column(BigInteger, doc="The agreement's revision in the producer "
                                                       "(issue 12 item 3); NULL for events from before revisions")


class AgreementEnd(Base):
    """An agreement's end as last published (AgreementEnded), kept apart from the copy so that an end
    handled before the signing is remembered (BIL-5: nothing is billed after it) and an older end
    handled late never moves it back. ``agreement_copy.ended_on`` mirrors it."""

    __tablename__ = "agreement_end"

    agreement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ended_on: Mapped[dt.date] = mapped_column(Date)
    revision: Mapped[int | None] = mapped_column(BigInteger)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))


class DayEntry(Base):
    """The latest revision of one client-day of the daily log (AttendanceRecorded). Coaching hours are kept
    in hundredths of an hour so that all arithmetic stays in integers."""

    __tablename__ = "day_entry"
    __table_args__ = (Index("ix_day_entry_provider_date", "provider_id", "date"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    entry_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    provider_id: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID]
    product_kind: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20), doc="present | absent | not_organised")
    realised: Mapped[bool] = mapped_column(Boolean)
    coaching_centihours: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer)
    recorded_on: Mapped[dt.date] = mapped_column(Date)


class MonthConfirmation(Base):
    """A unit's month confirmed by the provider (MonthReported, ATT-10, BIL-2)."""

    __tablename__ = "month_confirmation"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    report_id: Mapped[uuid.UUID]
    confirmed_on: Mapped[dt.date] = mapped_column(Date)
    late: Mapped[bool] = mapped_column(Boolean)


class ReportCopy(Base):
    """A report submitted (and perhaps accepted) for an agreement and month (BIL-3)."""

    __tablename__ = "report_copy"
    __table_args__ = (Index("ix_report_copy_agreement_month", "agreement_id", "month", "kind"),)

    report_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    agreement_id: Mapped[uuid.UUID]
    client_id: Mapped[uuid.UUID]
    provider_id: Mapped[str] = mapped_column(String(100))
    month: Mapped[str] = mapped_column(String(7))
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)


class ProviderCopy(Base):
    """A provider's payment details: supplier number, Y-tunnus, IBAN, payment terms."""

    __tablename__ = "provider_copy"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    business_id: Mapped[str] = mapped_column(String(20))
    supplier_number: Mapped[str | None] = mapped_column(String(50))
    iban: Mapped[str] = mapped_column(String(50))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    facts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(timezone=True))
