"""The decision service's copy of the provider registry: which providers exist (DATA-1)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base


class KnownProvider(Base):
    """What the decision service knows of a provider from the registry's events: enough to refuse a
    consent for a provider that does not exist or was removed (DATA-1, issue 13). Applied by the
    producer's event time, newest wins."""

    __tablename__ = "known_provider"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
