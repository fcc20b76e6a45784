"""Tables of agreements, their periods, and the voucher service's own copies of registry facts.

A service never reads another's tables: providers, units, products, values and consents are
kept here from the registry's and the decision service's events (keyed, so a redelivered or
late event cannot roll a copy back).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_voucher.base import Base


class ProviderCopy(Base):
    __tablename__ = "provider_copy"

    provider_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    # PRV-10: the liability insurance's last valid day, and since when it has lapsed (no new agreements).
    insurance_valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    insurance_lapsed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    insurance_event_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    insurance_revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The producer's revision of the entity last applied (ktt_common.revisions); None before revisions.
    revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class UnitCopy(Base):
    __tablename__ = "unit_copy"

    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(300))
    street_address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    service_producer_code: Mapped[str] = mapped_column(String(50))
    responsible_person_name: Mapped[str] = mapped_column(String(200))
    responsible_person_phone: Mapped[str | None] = mapped_column(String(50), nullable=True)
    responsible_person_email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    taking_clients: Mapped[bool] = mapped_column(Boolean)
    # AGR-1: deputies with signing authority named by the registry (the responsible person signs otherwise).
    signing_deputies: Mapped[list[str]] = mapped_column(JSON, default=list)
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The producer's revision of the entity last applied (ktt_common.revisions); None before revisions.
    revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CapacityCopy(Base):
    """A unit's places as the registry last published them (PRV-6, PRV-8)."""

    __tablename__ = "capacity_copy"

    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[int] = mapped_column(Integer)
    free_places: Mapped[int] = mapped_column(Integer)
    taking_clients: Mapped[bool] = mapped_column(Boolean)
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The producer's revision of the entity last applied (ktt_common.revisions); None before revisions.
    revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class QueueCopy(Base):
    """A unit's queue for a product, in order, as the registry last published it (PRV-7)."""

    __tablename__ = "queue_copy"

    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_ids: Mapped[list[str]] = mapped_column(JSON)
    # Rank among everyone waiting for the unit's individual places, whatever the product (PRV-6, PRV-7).
    unit_ranks: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The producer's revision of the entity last applied (ktt_common.revisions); None before revisions.
    revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class RepresentativeCopy(Base):
    """A representative the client authorised to act for them with the voucher (VOU-9)."""

    __tablename__ = "representative_copy"

    representative_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[list[str]] = mapped_column(JSON)
    authorised_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class ProductCopy(Base):
    __tablename__ = "product_copy"

    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    form: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean)
    event_time: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # The producer's revision of the entity last applied (ktt_common.revisions); None before revisions.
    revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class PriceCopy(Base):
    """One version of a product's values, as set by Typake (never overwritten)."""

    __tablename__ = "price_copy"

    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    day_value_first_year_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    base_day_value_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hour_value_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ConsentCopy(Base):
    """A client's consent to share plan data with a provider (DATA-1), from the decision service."""

    __tablename__ = "consent_copy"

    consent_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_id: Mapped[str] = mapped_column(String(100))
    scope: Mapped[list[str]] = mapped_column(JSON)
    given_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Agreement(Base):
    """A service agreement between a provider's unit and a client on a voucher (AGR-1..AGR-18).

    The product's values are frozen into it at signing (never rewritten by later price changes).
    At most one agreement of a client is in force on any day (AGR-18): besides the check in
    the use case, the database refuses a second one (an exclusion constraint on PostgreSQL,
    triggers on SQLite; migration 0004).
    """

    __tablename__ = "agreement"
    __table_args__ = (Index("ix_agreement_voucher_state", "voucher_id", "state"),
                      Index("ix_agreement_client_state", "client_id", "state"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    voucher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    decision_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider_id: Mapped[str] = mapped_column(String(100), index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    product_kind: Mapped[str] = mapped_column(String(30))
    form: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))  # draft | signed | active | ended | withdrawn
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # AGR-7 items as drafted: tasks, goals, instructor, contacts...
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    start_override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    start_override_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    responsible_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    client_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    instructor_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # AGR-13: an early end proposed by one party (and agreed by the other), told to Typake before it takes effect.
    end_proposal: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    signed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    price_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    day_value_first_year_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    base_day_value_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hour_value_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    base_value_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    started_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    previous_agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    ended_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    end_kind: Mapped[str | None] = mapped_column(String(30), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AgreementPeriod(Base):
    """A period of the agreement: the first, then each continuation (AGR-10), 3-24 months (DEC-4)."""

    __tablename__ = "agreement_period"
    __table_args__ = (UniqueConstraint("agreement_id", "seq"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreement.id"))
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    schedule: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    goals: Mapped[str] = mapped_column(Text)
    evaluation_due: Mapped[dt.date] = mapped_column(Date)
    # AGR-12: a review changed the schedule from this day on; the schedules before it, with their days.
    schedule_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    earlier_schedules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Set once, by the job that publishes PeriodEnding: a guarded UPDATE makes it exactly once.
    ending_notified_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    # REP-3 / REP-4: the attendance service's evaluation of this period was submitted (ReportSubmitted,
    # ReportAccepted) on this day; a returned one (ReportReturned) reopens the deadline. The event
    # time of the fact, so an older event handled late never rolls it back.
    evaluation_delivered_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    evaluation_facts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AgreementChange(Base):
    """A proposed continuation (AGR-10) or review (AGR-12) of an agreement. It takes effect once
    both the provider's responsible person and the client have signed it."""

    __tablename__ = "agreement_change"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreement.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # continuation | review
    state: Mapped[str] = mapped_column(String(20))  # proposed | agreed | withdrawn
    effective_from: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date, nullable=True)  # continuations: the new period's end
    schedule: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    goals: Mapped[str | None] = mapped_column(Text, nullable=True)
    tasks: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    reduction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    responsible_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    client_signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    agreed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AgreementNotification(Base):
    """Copies and notices sent on an agreement: to the client, Typake, the social worker (AGR-5, AGR-13, AGR-15)."""

    __tablename__ = "agreement_notification"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True, index=True)
    voucher_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    recipient: Mapped[str] = mapped_column(String(30))  # client | typake | social_worker | provider
    kind: Mapped[str] = mapped_column(String(40))  # agreement_copy | agreement_ended | client_refused | start_delayed
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProviderRefusal(Base):
    """A provider refused a client, with the justified reason Typake sees (AGR-15)."""

    __tablename__ = "provider_refusal"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    voucher_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voucher.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_id: Mapped[str] = mapped_column(String(100), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    refused_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
