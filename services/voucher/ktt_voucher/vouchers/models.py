"""Tables of vouchers: the voucher, its history and its links (VOU-*)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_voucher.base import Base


class Voucher(Base):
    """A PSOP-style service voucher. Exactly one per decision (DEC-1): decision_id is unique."""

    __tablename__ = "voucher"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    type: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    # The decision's date: VOU-3 deadlines count from it (null only for vouchers made before it was kept).
    decided_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # The highest decision version applied (DEC-7): older amendments arriving late are ignored.
    decision_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The client's language from the decision (VOU-2: the link page and PDF are in fi or sv).
    language: Mapped[str] = mapped_column(String(8), default="fi", server_default="fi")
    # VOU-3: the day the client received the decision (the client system's receipt date, else decided_on).
    received_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # VOU-3: the first contact between the client and a provider (recorded by the provider, or a draft).
    contacted_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    contacted_provider_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # VOU-7: intensive-coaching hours approved in the decision.
    approved_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The case worker's office from the decision: Typake or social work (AGR-5 copies, the deadlines view).
    case_worker_office: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Why the voucher left the active states (refusal reason VOU-4, revocation reason DEC-7...).
    state_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class VoucherEvent(Base):
    """The history of a voucher: every state transition and validity change, why and by whom.

    ``to_state`` is null for changes that keep the state (validity moved). A voucher enters each
    state at most once (the transition table is acyclic), so (voucher_id, to_state) is unique:
    a job or handler running twice, or concurrently, cannot record or publish a transition twice.
    """

    __tablename__ = "voucher_event"
    __table_args__ = (
        UniqueConstraint("voucher_id", "to_state", name="uq_voucher_event_voucher_id_to_state"),
        Index("ix_voucher_event_voucher_at", "voucher_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    voucher_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("voucher.id"))
    kind: Mapped[str] = mapped_column(String(30))  # issued | state_changed | validity_changed | type_changed
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    actor: Mapped[str] = mapped_column(String(200))  # a user subject, "event:<type>" or "job:<name>"
    on_date: Mapped[dt.date] = mapped_column(Date)  # business date of the change
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class VoucherLink(Base):
    """A personal link to a voucher (VOU-2). Only a SHA-256 hash of the token is stored: the
    token is 256 random bits, so a hash is enough and a database dump opens no voucher."""

    __tablename__ = "voucher_link"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    voucher_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("voucher.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # VOU-9: a link made for the client's authorised representative, who then acts through it.
    representative_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

