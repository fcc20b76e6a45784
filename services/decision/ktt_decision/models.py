"""Tables of the decision service: pseudonymous clients, decisions with their versions, consents
(DATA-1), representatives (VOU-9), TE-office start notices (DEC-6) and refusal/interruption
records (DEC-9)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ktt_common.db import UTCDateTime, new_metadata
from ktt_common.infra import define_infra_tables


def Sealable(length: int) -> Any:  # noqa: N802
    """A column that holds a value sealed under the client's data key (ktt_decision.sealing): unbounded text
    on PostgreSQL (a sealed value is about twice as long), the given length where it is not enforced."""
    return String(length).with_variant(Text(), "postgresql")


class Base(DeclarativeBase):
    metadata = new_metadata()


INFRA = define_infra_tables(Base.metadata)


class Client(Base):
    """A client by pseudonymous id. The hetu is kept only encrypted, found by its keyed hash."""

    __tablename__ = "client"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    hetu_lookup: Mapped[str] = mapped_column(String(64), unique=True)
    hetu_encrypted: Mapped[str] = mapped_column(Text)
    first_name: Mapped[str] = mapped_column(Sealable(200))
    last_name: Mapped[str] = mapped_column(Sealable(200))
    language: Mapped[str] = mapped_column(String(8))
    # Contact data as of the latest push (each decision also keeps its own frozen copy).
    municipality: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(Sealable(40))
    email: Mapped[str | None] = mapped_column(Sealable(200))
    address: Mapped[str | None] = mapped_column(Sealable(300))
    interpreter_needed: Mapped[bool | None] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Set when the retention job erased the client's personal data (DATA-2, crypto-shredding).
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ClientKey(Base):
    """A client's own data key, wrapped under the master key derived from PII_KEY (ktt_common.pii).

    The hetu ciphertext is sealed under it. Erasure (retention, DATA-2) sets ``wrapped_key`` to
    NULL: every copy of the ciphertext, in this database and its backups, is then unreadable."""

    __tablename__ = "client_key"

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"), primary_key=True)
    wrapped_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


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
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


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


class StartNotice(Base):
    """A notice to the TE office that a client started KTT, with the individual start data (DEC-6).

    One per (client, voucher) start. The hetu, which the TE office needs, is not stored here: it is
    decrypted from the client row when an official opens the notice."""

    __tablename__ = "start_notice"
    __table_args__ = (UniqueConstraint("client_id", "voucher_id"), Index("ix_start_notice_status", "status", "started_on"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("client.id"))
    voucher_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    source_event_id: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(Sealable(200))
    last_name: Mapped[str] = mapped_column(Sealable(200))
    started_on: Mapped[dt.date] = mapped_column(Date)
    provider_id: Mapped[str | None] = mapped_column(String(100))
    provider_name: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[str | None] = mapped_column(String(100))
    unit_name: Mapped[str | None] = mapped_column(String(300))
    form: Mapped[str | None] = mapped_column(String(20))
    days_per_week: Mapped[int | None] = mapped_column(Integer)
    hours_per_day: Mapped[Decimal | None] = mapped_column(Numeric(4, 2))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    sent_by: Mapped[str | None] = mapped_column(String(200))


class ClientFlag(Base):
    """A refusal or interruption recorded on a client for the case worker (DEC-9).

    Kinds: ``not_started`` (voucher delayed past the VOU-3 deadlines, or expired unused),
    ``interrupted`` (agreement ended early as unsuitable, mutually or by the client, AGR-13) and
    ``unauthorised_absence`` (ATT-7). A refused voucher is not one (VOU-4).
    ``source_event_id`` is unique, so a redelivered event adds nothing; ``source_key`` names the
    fact (``voucher:<id>:delayed``, ``agreement:<id>:ended``, ``absence:<entry id>``) and is unique
    too, so the same fact published anew adds nothing either. An absence corrected to authorised
    in a later revision is cleared (``cleared_on``, ``cleared_reason``), not deleted. Nothing here
    computes a sanction: the case worker assesses each case individually (DEC-9, §9.2-9.5)."""

    __tablename__ = "client_flag"
    __table_args__ = (UniqueConstraint("source_event_id"), UniqueConstraint("source_key"),
                      Index("ix_client_flag_client", "client_id", "occurred_on"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    source_event_id: Mapped[str] = mapped_column(String(100))
    source_event_type: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str | None] = mapped_column(String(200))
    voucher_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cleared_on: Mapped[dt.date | None] = mapped_column(Date)
    cleared_reason: Mapped[str | None] = mapped_column(Text)


class AbsenceRevision(Base):
    """The latest revision of each daily-log absence entry seen (AbsenceReported), so that a
    correction handled before the report it corrects cannot be undone by it (ATT-7, DEC-9)."""

    __tablename__ = "absence_revision"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column(Integer)
    authorised: Mapped[bool] = mapped_column(Boolean)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class KnownProvider(Base):
    """What the decision service knows of a provider from the registry's events: enough to refuse a
    consent for a provider that does not exist or was removed (DATA-1, issue 13). Applied by the
    producer's event time, newest wins."""

    __tablename__ = "known_provider"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
