"""Tables of the provider registry: providers, units, staff, products and their Typake-set values,
groups, queues, subcontractors, feedback and complaints. The infrastructure tables (outbox, inbox,
dead letters, audit log, job runs) come from ``define_infra_tables``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ktt_common.db import UTCDateTime, new_metadata
from ktt_common.infra import define_infra_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


INFRA = define_infra_tables(Base.metadata)


class Provider(Base):
    """A service provider and its place in the approval state machine (PRV-1, PRV-2, PRV-10, PRV-14)."""

    __tablename__ = "provider"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    business_id: Mapped[str] = mapped_column(String(9), unique=True)
    legal_form: Mapped[str] = mapped_column(String(50))
    registration_register: Mapped[str] = mapped_column(String(20))
    registration_number: Mapped[str] = mapped_column(String(100))
    registration_date: Mapped[dt.date] = mapped_column(Date)
    data_protection_officer: Mapped[dict[str, Any]] = mapped_column(JSON)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON)
    website: Mapped[str | None] = mapped_column(String(300))
    supplier_number: Mapped[str | None] = mapped_column(String(50))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    iban: Mapped[str] = mapped_column(String(34))
    presentation: Mapped[str | None] = mapped_column(Text)
    phone_hours: Mapped[str | None] = mapped_column(String(300))
    insurance_insurer: Mapped[str | None] = mapped_column(String(200))
    insurance_policy_number: Mapped[str | None] = mapped_column(String(100))
    insurance_valid_from: Mapped[dt.date | None] = mapped_column(Date)
    insurance_valid_until: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_on: Mapped[dt.date] = mapped_column(Date)
    applied_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProviderStatusChange(Base):
    """Every transition of the approval state machine, with who and why (append-only)."""

    __tablename__ = "provider_status_change"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Unit(Base):
    """A unit (toimintayksikkö) with its premises, meals, accessibility and places (PRV-3, PRV-6, PRV-8, PRV-13)."""

    __tablename__ = "unit"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    street_address: Mapped[str] = mapped_column(String(300))
    postal_code: Mapped[str] = mapped_column(String(5), index=True)
    city: Mapped[str] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    service_producer_code: Mapped[str] = mapped_column(String(50), unique=True)
    responsible_person: Mapped[dict[str, Any]] = mapped_column(JSON)
    foli_reachable: Mapped[bool] = mapped_column(Boolean)
    step_free_access: Mapped[bool] = mapped_column(Boolean)
    suits_partial_work_ability: Mapped[bool] = mapped_column(Boolean)
    languages: Mapped[list[str]] = mapped_column(JSON)
    phone_hours: Mapped[str | None] = mapped_column(String(300))
    premises: Mapped[dict[str, Any]] = mapped_column(JSON)
    meals: Mapped[dict[str, Any]] = mapped_column(JSON)
    occupied: Mapped[int] = mapped_column(Integer, default=0)
    unable_reason: Mapped[str | None] = mapped_column(Text)
    unable_since: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Instructor(Base):
    """A unit's instructor with qualification and methods (PRV-13); instructors set capacity (PRV-6)."""

    __tablename__ = "instructor"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    qualification: Mapped[str] = mapped_column(String(200))
    methods: Mapped[list[str]] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Product(Base):
    """What a provider offers (PRV-4): individual KTT, group KTT, assessment period, intensive coaching."""

    __tablename__ = "product"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    tasks: Mapped[list[str]] = mapped_column(JSON)
    themes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProductValue(Base):
    """One version of a product's voucher values, set by Typake; rows are never updated (VOU-1)."""

    __tablename__ = "product_value"
    __table_args__ = (UniqueConstraint("product_id", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    day_value_first_year_cents: Mapped[int | None] = mapped_column(Integer)
    base_day_value_cents: Mapped[int | None] = mapped_column(Integer)
    hour_value_cents: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Group(Base):
    """A group of a group product at a unit (PRV-5, PRV-6)."""

    __tablename__ = "ktt_group"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"), index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    name: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    places: Mapped[int] = mapped_column(Integer)
    enrolled: Mapped[int] = mapped_column(Integer, default=0)
    places_full: Mapped[bool] = mapped_column(Boolean, default=False)
    lead_instructor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instructor.id"))
    second_responsible_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instructor.id"))
    instructors_present: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QueueEntry(Base):
    """A client waiting for a place at a unit for a product (PRV-7). FIFO by ``seq``.

    ``unit_position`` is the rank among every client waiting for the unit's individual places
    (individual KTT, assessment periods and intensive coaching share them); None in group queues.

    ``active`` is True while queued and NULL afterwards, so the unique key allows a client once
    per queue at a time while keeping the history (NULLs never collide).
    """

    __tablename__ = "queue_entry"
    __table_args__ = (
        UniqueConstraint("unit_id", "product_id", "client_id", "active"),
        Index("ix_queue_entry_queue", "unit_id", "product_id", "active", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), Identity(always=False), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    joined_on: Mapped[dt.date] = mapped_column(Date)
    expected_start: Mapped[dt.date | None] = mapped_column(Date)
    unit_position: Mapped[int | None] = mapped_column(Integer)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Subcontractor(Base):
    """A subcontractor declared by a provider; the city may forbid it with a reason (PRV-9)."""

    __tablename__ = "subcontractor"
    __table_args__ = (UniqueConstraint("provider_id", "business_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    business_id: Mapped[str] = mapped_column(String(9))
    services: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    forbidden_reason: Mapped[str | None] = mapped_column(Text)
    forbidden_on: Mapped[dt.date | None] = mapped_column(Date)
    declared_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Feedback(Base):
    """Client feedback, ratings, complaints, incident reports and reminders (PRV-12, QUA-1)."""

    __tablename__ = "feedback"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit.id"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(30))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))
    resolution: Mapped[str | None] = mapped_column(Text)
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AgreementPlace(Base):
    """A place taken by a signed agreement (AgreementSigned), freed when it ends (AgreementEnded).

    Keyed by the agreement id, so a re-published event never counts a client twice (PRV-6); an end
    seen before its start is a row too, so the late start takes no place (rules.place_effect)."""

    __tablename__ = "agreement_place"

    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # Null while only the end has been seen (events out of order: the start arrives later).
    product_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    form: Mapped[str | None] = mapped_column(String(20), nullable=True)
    signed_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    # The highest agreement revision applied (the voucher service numbers an agreement's events).
    revision: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SocialGuidance(Base):
    """Who gives social guidance, a qualified social-welfare professional always available (PRV-16).

    ``unit_id`` NULL: the arrangement covers every unit of the provider. Never deleted: an
    arrangement that ends gets ``ended_on`` (and ``active`` False)."""

    __tablename__ = "social_guidance"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit.id"))
    name: Mapped[str] = mapped_column(String(200))
    qualification: Mapped[str] = mapped_column(String(50))
    registration_number: Mapped[str] = mapped_column(String(50))
    availability: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class StaffMember(Base):
    """One line of the staff report a provider gives the city (PRV-16, §10): name, role, qualification
    and responsibilities; never a personal identity code. A new report replaces the previous lines."""

    __tablename__ = "staff_member"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit.id"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100))
    qualification: Mapped[str] = mapped_column(String(200))
    education_level: Mapped[str | None] = mapped_column(String(30))
    responsibilities: Mapped[str | None] = mapped_column(Text)
    reported_on: Mapped[dt.date] = mapped_column(Date)
    reported_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PremisesInspection(Base):
    """Typake's inspection of a unit's premises before registration, and its statement to AVI (PRV-17).
    Append-only: a later inspection supersedes an earlier one; the latest decides."""

    __tablename__ = "premises_inspection"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit.id"), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    inspected_on: Mapped[dt.date] = mapped_column(Date)
    inspector: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(20))
    remarks: Mapped[str | None] = mapped_column(Text)
    avi_statement_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InsurancePolicy(Base):
    """A liability insurance policy period recorded for a provider (PRV-10). Every period is kept, so a
    renewal recorded in advance does not hide the policy still in force; the same policy number and
    start recorded again corrects that period (insurer, end)."""

    __tablename__ = "insurance_policy"
    __table_args__ = (UniqueConstraint("provider_id", "policy_number", "valid_from"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    insurer: Mapped[str] = mapped_column(String(200))
    policy_number: Mapped[str] = mapped_column(String(100))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RegistryAlert(Base):
    """Something officials must see and act on, e.g. an approved provider whose liability insurance
    lapsed (PRV-10). ``open`` is True while the condition lasts and NULL afterwards, so a provider has
    at most one open alert of a kind (NULLs never collide); ``since`` identifies one occurrence, so a
    re-run job never raises the same lapse twice."""

    __tablename__ = "registry_alert"
    __table_args__ = (
        UniqueConstraint("provider_id", "kind", "open", name="uq_registry_alert_open"),
        UniqueConstraint("provider_id", "kind", "since", name="uq_registry_alert_since"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))
    since: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    open: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class QualityRecord(Base):
    """The city's further quality measures (QUA-2): spot checks and visits to the premises, client
    panels, and the provider's self-monitoring plan and annual report as received. Complaints to
    the social ombudsman and formal complaints (kantelu) are Feedback kinds."""

    __tablename__ = "quality_record"
    __table_args__ = (UniqueConstraint("provider_id", "kind", "year"),)  # one annual report a year; NULL years never collide

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[str] = mapped_column(ForeignKey("provider.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("unit.id"))
    kind: Mapped[str] = mapped_column(String(30))
    occurred_on: Mapped[dt.date] = mapped_column(Date, index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    participants: Mapped[int | None] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
