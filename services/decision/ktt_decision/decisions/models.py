"""Tables of decisions: the current state of each decision and every version pushed (DEC-3, DEC-7)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base


class Decision(Base):
    """The current state of a decision: the facts of its latest version, and its revocation (DEC-7).

    ``client_data``, ``case_worker``, ``plan`` and ``special`` are frozen copies of what the
    latest version said (DEC-3); the client's hetu is never among them."""

    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("source_system", "source_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), index=True)
    source_system: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    # VOU-3: the day the client received the decision (decided_on when the client system sent none).
    received_on: Mapped[dt.date | None] = mapped_column(Date)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    form: Mapped[str] = mapped_column(String(20))
    benefit_basis: Mapped[str] = mapped_column(String(40))
    voucher_kind: Mapped[str] = mapped_column(String(30))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    client_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    case_worker: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    special: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    extension_justification: Mapped[str | None] = mapped_column(Text)
    revoked_on: Mapped[dt.date | None] = mapped_column(Date)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(200))
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
    # A keyed hash of the request body as sent (ktt_decision.decisions.reading): a retry of the very same
    # request is found by it. Null for versions from before it and for erased clients (retention).
    body_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


