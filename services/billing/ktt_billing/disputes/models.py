"""A provider's dispute of one settlement line, answered by a city official."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ktt_billing.db import Base


class Dispute(Base):
    __tablename__ = "dispute"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    settlement_id: Mapped[uuid.UUID]
    line_id: Mapped[uuid.UUID]
    provider_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    claimed_quantity_centi: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), doc="open | accepted | rejected")
    opened_on: Mapped[dt.date] = mapped_column(Date)
    opened_by: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str | None] = mapped_column(Text)
    corrected_quantity_centi: Mapped[int | None] = mapped_column(Integer)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    correction_settlement_id: Mapped[uuid.UUID | None]

    # One open dispute per line, held by the database (issue 12 item 8), not only by a check before the insert.
    __table_args__ = (Index("uq_dispute_open_line", "line_id", unique=True, postgresql_where=text("state = 'open'"),
                            sqlite_where=text("state = 'open'")),)
