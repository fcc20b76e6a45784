"""Tables of the voucher service."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ktt_common.db import UTCDateTime, new_metadata
from ktt_common.infra import define_infra_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


INFRA = define_infra_tables(Base.metadata)


class Voucher(Base):
    """A PSOP-style service voucher. Exactly one per decision (DEC-1): decision_id is unique."""

    __tablename__ = "voucher"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    type: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
