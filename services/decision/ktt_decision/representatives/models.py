"""Tables of representatives: a person the client authorised to act for them (VOU-9)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base, Sealable


class Representative(Base):
    """A representative (asiainhoitaja) the client authorised to act for them in choosing a provider
    and handling the voucher (VOU-9). No hetu: the representative's is not collected (DATA-4).

    The natural key (client, name as compared, authorised_on) makes recording the same
    authorisation twice one row."""

    __tablename__ = "representative"
    __table_args__ = (UniqueConstraint("client_id", "name_key", "authorised_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    name: Mapped[str] = mapped_column(Sealable(200))
    name_key: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(Sealable(40))
    email: Mapped[str | None] = mapped_column(Sealable(200))
    relation: Mapped[str | None] = mapped_column(Sealable(200))
    scope: Mapped[list[str]] = mapped_column(JSON)
    authorised_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
