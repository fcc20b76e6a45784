"""Tables of TE-office start notices (DEC-6)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base, Sealable


class StartNotice(Base):
    """A notice to the TE office that a client started KTT, with the individual start data (DEC-6).

    One per (client, voucher) start. The hetu, which the TE office needs, is not stored here: it is
    decrypted from the client row when an official opens the notice."""

    __tablename__ = "start_notice"
    __table_args__ = (UniqueConstraint("client_id", "voucher_id"), Index("ix_start_notice_status", "status", "started_on"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"))
    voucher_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source_event_id: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(Sealable(200))
    last_name: Mapped[str] = mapped_column(Sealable(200))
    started_on: Mapped[dt.date] = mapped_column(Date)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    provider_name: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[str | None] = mapped_column(String(100))
    unit_name: Mapped[str | None] = mapped_column(String(300))
    form: Mapped[str | None] = mapped_column(String(20))
    days_per_week: Mapped[int | None] = mapped_column(Integer)
    hours_per_day: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    sent_by: Mapped[str | None] = mapped_column(String(200))
