"""Payment batches: approved settlements, numbered when made, exported as pain.001 and a ledger CSV."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ktt_billing.db import Base


class PaymentBatch(Base):
    __tablename__ = "payment_batch"
    __table_args__ = (UniqueConstraint("number"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), doc="created | paid")
    created_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    execution_date: Mapped[dt.date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(Integer)
    held: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, doc="settlements left out, with the reason")
    paid_on: Mapped[dt.date | None] = mapped_column(Date)


class PaymentItem(Base):
    """One settlement in a batch, with the payment details as they were when the batch was made."""

    __tablename__ = "payment_item"
    __table_args__ = (UniqueConstraint("settlement_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    batch_id: Mapped[uuid.UUID]
    settlement_id: Mapped[uuid.UUID]
    provider_id: Mapped[str] = mapped_column(String(100))
    provider_name: Mapped[str] = mapped_column(String(300))
    supplier_number: Mapped[str] = mapped_column(String(50))
    business_id: Mapped[str] = mapped_column(String(20))
    iban: Mapped[str] = mapped_column(String(50))
    reference: Mapped[str] = mapped_column(String(30))
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))
