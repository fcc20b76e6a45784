"""Events published by the provider registry (``ktt.provider_registry.*``).

Each payload carries enough for the voucher, attendance and billing services to keep their own
copy of the facts (a service never reads another's tables). Money travels as integer cents.
No client data here except the pseudonymous ``client_id`` in queue snapshots (DATA-4).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType
from ktt_common.revisions import revision_field

SERVICE = "provider-registry"

ProviderStatus = Literal["applied", "approved", "suspended", "removed"]
LegalForm = Literal[
    "municipality", "joint_municipal_authority", "registered_association", "registered_foundation",
    "state_agency", "registered_religious_community",
]
ProductKind = Literal["individual", "group", "assessment_period", "intensive_coaching"]
Form = Literal["individual", "group"]


class ProviderFacts(BaseModel):
    """A provider as the voucher and billing services need it (PRV-1, PRV-2, PRV-14)."""

    provider_id: str
    name: str
    business_id: str = Field(description="Y-tunnus, NNNNNNN-C")
    legal_form: LegalForm
    status: ProviderStatus
    supplier_number: str | None = Field(None, description="Supplier number in the city's purchase ledger")
    payment_terms_days: int
    iban: str = Field(description="Account for voucher payments, compact IBAN")
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    insurance_valid_until: dt.date | None = Field(None, description=(
        "Last day of the provider's liability insurance in force on the event's date, following renewals that "
        "continue it without a gap; when none is in force, the end of the last one; null: none recorded (PRV-10)"))
    revision: int | None = revision_field("provider")


class ProviderAppliedPayload(ProviderFacts):
    """A provider applied for the approved list (PRV-1)."""

    applied_on: dt.date


class ProviderChangedPayload(ProviderFacts):
    """A provider changed its own data (name, contacts, account...); its status is unchanged."""

    changed_fields: list[str]
    changed_on: dt.date


class ProviderStatusChangedPayload(ProviderFacts):
    """An official moved the provider in the approval state machine, with a reason (PRV-1, PRV-11)."""

    previous_status: ProviderStatus
    reason: str
    changed_on: dt.date
    changed_by: str = Field(description="Subject of the city official who decided")


class ProviderInsuranceLapsedPayload(ProviderFacts):
    """An approved provider's liability insurance is no longer valid (PRV-10); published once per lapse.
    The voucher service refuses new agreements with the provider until ProviderInsuranceRenewed."""

    lapsed_on: dt.date = Field(description="First day without valid liability insurance")


class ProviderInsuranceRenewedPayload(ProviderFacts):
    """Valid liability insurance is in force again after a lapse (PRV-10); ``insurance_valid_until`` is its end."""

    renewed_on: dt.date = Field(description="First day the provider is insured again, as the registry learned it")


class ProviderListChangedPayload(BaseModel):
    """A provider entered or left the approved list given to the TE office (PRV-15)."""

    provider_id: str
    name: str
    business_id: str = Field(description="Y-tunnus, NNNNNNN-C")
    change: Literal["added", "removed"] = Field(description=(
        "added: approved or reinstated; removed: left the list (suspended; a removal that follows a suspension "
        "changes nothing on the list and publishes nothing)"))
    changed_on: dt.date
    reason: str = Field(description="The official's reason for the status change")


class UnitChangedPayload(BaseModel):
    """A unit was created or changed (PRV-3, PRV-8, PRV-13): the voucher service keeps its own copy."""

    provider_id: str
    unit_id: uuid.UUID
    name: str
    street_address: str
    postal_code: str
    city: str
    district: str | None = None
    service_producer_code: str
    responsible_person_name: str
    responsible_person_phone: str | None = None
    responsible_person_email: str | None = None
    signing_deputies: list[str] = Field(default_factory=list,
                                        description="Deputies with authority to sign agreements for the unit (AGR-1)")
    accessible: bool = Field(description="Step-free access")
    suits_partial_work_ability: bool
    languages: list[str] = Field(description="ISO 639-1 codes served; always includes fi and sv (PRV-3)")
    phone_hours: str | None = None
    taking_clients: bool = Field(description="False while the unit is marked unable to take clients (PRV-8)")
    unable_reason: str | None = None
    changed_on: dt.date
    revision: int | None = revision_field("unit")


class ProductChangedPayload(BaseModel):
    """A provider product was created or changed (PRV-4)."""

    provider_id: str
    product_id: uuid.UUID
    kind: ProductKind
    form: Form
    name: str
    description: str = Field(description="Plain-language description")
    tasks: list[str]
    themes: list[str]
    active: bool
    changed_on: dt.date
    revision: int | None = revision_field("product")


class PriceVersion(BaseModel):
    """One version of a product's voucher values; versions are never overwritten."""

    version: int
    effective_from: dt.date
    day_value_first_year_cents: int | None = Field(None, description="Day value during the first year of service (VOU-6)")
    base_day_value_cents: int | None = Field(None, description="Base day value after one year of service (VOU-6, BIL-6)")
    hour_value_cents: int | None = Field(None, description="Hour value of intensive coaching (VOU-7)")
    reason: str | None = None
    set_by: str


class PriceListChangedPayload(BaseModel):
    """Typake set new voucher values for a product (VOU-1, PRV-13); carries every version so far.

    The value in force on a date is the highest version whose ``effective_from`` is on or before it.
    """

    provider_id: str
    product_id: uuid.UUID
    product_kind: ProductKind
    currency: Literal["EUR"] = "EUR"
    new_version: PriceVersion
    versions: list[PriceVersion]


class CapacityChangedPayload(BaseModel):
    """A unit's capacity or occupancy changed, or it stopped/started taking clients (PRV-6, PRV-7, PRV-8)."""

    provider_id: str
    unit_id: uuid.UUID
    instructors: int
    capacity: int = Field(description="Individual and work-coaching places: 25 per instructor (PRV-6)")
    occupied: int
    free_places: int = Field(description="Places free now; 0 while the unit cannot take clients")
    taking_clients: bool
    changed_on: dt.date
    revision: int | None = revision_field("unit's capacity")


class GroupAnnouncedPayload(BaseModel):
    """A group's dates and places, announced by the provider (PRV-5, PRV-6)."""

    provider_id: str
    unit_id: uuid.UUID
    group_id: uuid.UUID
    product_id: uuid.UUID
    name: str
    starts_on: dt.date
    ends_on: dt.date
    places: int
    enrolled: int
    places_full: bool
    lead_instructor: str
    second_responsible: str
    instructors_present: int
    changed_on: dt.date


class QueuedClient(BaseModel):
    position: int = Field(description="Place in this product's queue, 1 = first")
    client_id: uuid.UUID
    joined_on: dt.date
    expected_start: dt.date | None = Field(None, description="Estimated start; null when none can be estimated (PRV-7)")
    unit_position: int | None = Field(None, description=(
        "Rank among every client waiting for the unit's individual places, whichever individual-form product they "
        "queue for (individual KTT, assessment period and intensive coaching share the places; PRV-6, PRV-7): "
        "1 = next to get a freed place. Null in group queues."))


class QueueChangedPayload(BaseModel):
    """The whole queue of one unit and product after a change, first come first served (PRV-7)."""

    provider_id: str
    unit_id: uuid.UUID
    product_id: uuid.UUID
    change: Literal["joined", "left", "started", "recomputed"]
    client_id: uuid.UUID | None = Field(None, description="The client the change was about, if any")
    entries: list[QueuedClient]
    changed_on: dt.date
    revision: int | None = revision_field("queue of the unit and product")


class SubcontractorForbiddenPayload(BaseModel):
    """The city forbade a declared subcontractor, with its reason (PRV-9)."""

    provider_id: str
    subcontractor_id: uuid.UUID
    name: str
    business_id: str
    reason: str
    forbidden_on: dt.date
    forbidden_by: str


ProviderApplied = EventType(SERVICE, "ProviderApplied", 1, ProviderAppliedPayload,
                            "A provider applied for the approved list (PRV-1, PRV-2)")
ProviderChanged = EventType(SERVICE, "ProviderChanged", 1, ProviderChangedPayload,
                            "A provider's own data changed, e.g. contacts or the payment account (PRV-4, PRV-14)")
ProviderApproved = EventType(SERVICE, "ProviderApproved", 1, ProviderStatusChangedPayload,
                             "A provider was approved or reinstated: it may accept vouchers (PRV-1)")
ProviderSuspended = EventType(SERVICE, "ProviderSuspended", 1, ProviderStatusChangedPayload,
                              "A provider was suspended from the approved list (PRV-1, PRV-11)")
ProviderRemoved = EventType(SERVICE, "ProviderRemoved", 1, ProviderStatusChangedPayload,
                            "A provider was removed from the approved list; its clients need replacement service (PRV-11)")
UnitChanged = EventType(SERVICE, "UnitChanged", 1, UnitChangedPayload,
                        "A unit was created or changed (PRV-3, PRV-8, PRV-13)")
ProductChanged = EventType(SERVICE, "ProductChanged", 1, ProductChangedPayload,
                           "A provider product was created or changed (PRV-4)")
PriceListChanged = EventType(SERVICE, "PriceListChanged", 1, PriceListChangedPayload,
                             "Typake set new voucher values for a product, effective from a date (VOU-1, PRV-13)")
CapacityChanged = EventType(SERVICE, "CapacityChanged", 1, CapacityChangedPayload,
                            "A unit's places changed: instructors, occupancy or taking clients (PRV-6, PRV-7, PRV-8)")
GroupAnnounced = EventType(SERVICE, "GroupAnnounced", 1, GroupAnnouncedPayload,
                           "A group's start, end and places were announced or changed (PRV-5)")
QueueChanged = EventType(SERVICE, "QueueChanged", 1, QueueChangedPayload,
                         "A unit's queue for a product changed; every queued client's expected start (PRV-7)")
SubcontractorForbidden = EventType(SERVICE, "SubcontractorForbidden", 1, SubcontractorForbiddenPayload,
                                   "The city forbade a provider's subcontractor (PRV-9)")
ProviderInsuranceLapsed = EventType(SERVICE, "ProviderInsuranceLapsed", 1, ProviderInsuranceLapsedPayload,
                                    "An approved provider's liability insurance is no longer valid; once per lapse (PRV-10)")
ProviderInsuranceRenewed = EventType(SERVICE, "ProviderInsuranceRenewed", 1, ProviderInsuranceRenewedPayload,
                                     "A provider whose insurance had lapsed is validly insured again (PRV-10)")
ProviderListChanged = EventType(SERVICE, "ProviderListChanged", 1, ProviderListChangedPayload,
                                "A provider entered or left the approved list given to the TE office (PRV-15)")

EVENTS: list[EventType[Any]] = [ProviderApplied, ProviderChanged, ProviderApproved, ProviderSuspended, ProviderRemoved, UnitChanged, ProductChanged,
          PriceListChanged, CapacityChanged, GroupAnnounced, QueueChanged, SubcontractorForbidden, ProviderInsuranceLapsed,
          ProviderInsuranceRenewed, ProviderListChanged]
