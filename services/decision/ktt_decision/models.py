"""Tables of the decision service: pseudonymous clients and decisions with their versions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ktt_common.db import UTCDateTime, new_metadata
from ktt_common.infra import define_infra_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


INFRA = define_infra_tables(Base.metadata)


class Client(Base):
    """A client by pseudonymous id. The hetu is kept only encrypted, found by its keyed hash."""

    __tablename__ = "client"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hetu_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    hetu_encrypted: Mapped[str] = mapped_column(Text)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Decision(Base):
    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("source_system", "source_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    source_system: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    form: Mapped[str] = mapped_column(String(20))
    benefit_basis: Mapped[str] = mapped_column(String(40))
    voucher_kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DecisionVersion(Base):
    """Every version as received (the hetu replaced by the client id), and its content hash."""

    __tablename__ = "decision_version"
    __table_args__ = (UniqueConstraint("decision_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    decision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("decision.id"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
