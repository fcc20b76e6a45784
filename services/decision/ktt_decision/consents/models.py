"""Tables of consents: the client's written consent to share data with one provider (DATA-1)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base


class Consent(Base):
    """A client's written consent to share data of a scope (plan, ...) with one provider (DATA-1).

    ``scope_key`` (the sorted scope joined by commas) completes the natural key: the same consent
    recorded twice is one row."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("client_id", "provider_id", "given_on", "scope_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[list[str]] = mapped_column(JSON)
    scope_key: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200))
