"""Settlements (one per provider per month) and their lines. Amounts are integer cents."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ktt_billing.db import Base


class Settlement(Base):
    __tablename__ = "settlement"
    # seq (the base of the payment reference) is unique: two references never name the same settlement.
    __table_args__ = (UniqueConstraint("provider_id", "month"), UniqueConstraint("seq"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(String(100))
    month: Mapped[str] = mapped_column(String(7), doc="YYYY-MM")
    state: Mapped[str] = mapped_column(String(20), doc="draft | under_review | approved | settled | paid")
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(30), doc="Finnish creditor reference of the payment")
    created_on: Mapped[dt.date] = mapped_column(Date)
    computed_on: Mapped[dt.date] = mapped_column(Date)
    approved_on: Mapped[dt.date | None] = mapped_column(Date)
    approved_by: Mapped[str | None] = mapped_column(String(200))
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    payment_batch_id: Mapped[uuid.UUID | None]
    seq: Mapped[int] = mapped_column(Integer, doc="Running number, the base of the reference")


class SettlementLine(Base):
    """One line per client-day kind (day_first_year | day_base | coaching_hour) of a service month, or a
    refund | correction of an earlier, frozen month. ``basis`` names what a refund or correction is about."""

    __tablename__ = "settlement_line"
    __table_args__ = (
        Index("ix_settlement_line_settlement", "settlement_id"),
        Index("ix_settlement_line_group", "agreement_id", "service_month", "basis"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    settlement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("settlement.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID]
    agreement_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(20), doc="day_first_year | day_base | coaching_hour")
    service_month: Mapped[str] = mapped_column(String(7))
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    quantity_centi: Mapped[int] = mapped_column(Integer, doc="Days or hours, in hundredths")
    unit_value_cents: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(20), default="computed", doc="computed | dispute")
    cause: Mapped[str | None] = mapped_column(String(300))
    dispute_id: Mapped[uuid.UUID | None]
