"""Request and response models of the provider registry API."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate, Email, Strict, StrictBool

Out = ConfigDict(from_attributes=True)

Language = str  # ISO 639-1, validated by pattern where used
Method = Literal["imba", "melba", "kykyviisari", "vat"]
ProductKind = Literal["individual", "group", "assessment_period", "intensive_coaching"]
Theme = Literal["immigrants", "young_people", "language_training", "it_skills"]


# --- providers ----------------------------------------------------------------------------

class RegistrationIn(BaseModel):
    model_config = Strict
    register_: Literal["avi", "valvira", "soteri"] = Field(alias="register")
    number: str = Field(min_length=1, max_length=100)
    date: BoundedDate


class PersonIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None


class ContactIn(BaseModel):
    model_config = Strict
    phone: str = Field(min_length=1, max_length=40)
    email: Email
    address: str = Field(min_length=1, max_length=300)


class ProviderIn(BaseModel):
    model_config = Strict
    id: str | None = Field(None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$",
                           description="The provider id; for a provider's own application it is the id in its token")
    name: str = Field(min_length=1, max_length=200)
    business_id: str = Field(min_length=1, max_length=20, description="Y-tunnus, e.g. 1234567-1")
    legal_form: str = Field(min_length=1, max_length=50, description="registered_association, registered_foundation or "
                            "registered_religious_community (PRV-2): companies are refused, and a municipality, "
                            "joint_municipal_authority or state_agency provides KTT by contract, not by voucher")
    registration: RegistrationIn
    data_protection_officer: PersonIn
    contact: ContactIn
    website: str | None = Field(None, max_length=300)
    supplier_number: str | None = Field(None, max_length=50)
    payment_terms_days: int = Field(14, strict=True, ge=0, le=90)
    iban: str = Field(min_length=1, max_length=50)
    presentation: str | None = Field(None, max_length=8000, description="Plain-language public presentation (PRV-4)")
    phone_hours: str | None = Field(None, max_length=300)


class ProviderPatch(BaseModel):
    """What a provider may change about itself (never its status or voucher values)."""

    model_config = Strict
    name: str | None = Field(None, min_length=1, max_length=200)
    data_protection_officer: PersonIn | None = None
    contact: ContactIn | None = None
    website: str | None = Field(None, max_length=300)
    iban: str | None = Field(None, min_length=1, max_length=50)
    presentation: str | None = Field(None, max_length=8000)
    phone_hours: str | None = Field(None, max_length=300)


class InsuranceIn(BaseModel):
    """A liability insurance policy period (PRV-10), both days inclusive."""

    model_config = Strict
    insurer: str = Field(min_length=1, max_length=200)
    policy_number: str = Field(min_length=1, max_length=100)
    valid_from: BoundedDate
    valid_until: BoundedDate


class PolicyOut(BaseModel):
    model_config = Out
    insurer: str
    policy_number: str
    valid_from: dt.date
    valid_until: dt.date
    recorded_on: dt.date


class InsuranceOut(BaseModel):
    """PRV-10: whether the provider is insured today, to when, and every recorded policy period."""

    provider_id: str
    insured_today: bool
    valid_until: dt.date | None = Field(description="End of the cover in force (through gapless renewals), or of the last one")
    lapsed_since: dt.date | None = Field(description="First day of the lapse going on, if any")
    policies: list[PolicyOut]


class AlertOut(BaseModel):
    """Something officials must see and act on, e.g. a lapsed insurance (PRV-10)."""

    id: uuid.UUID
    kind: str
    provider_id: str
    provider_name: str
    rule: str
    since: dt.date
    message: str
    open: bool = Field(description="True while the condition lasts")
    resolved_on: dt.date | None
    acknowledged: bool
    acknowledged_by: str | None
    acknowledged_on: dt.date | None


class StatusIn(BaseModel):
    model_config = Strict
    status: Literal["approved", "suspended", "removed"]
    reason: str = Field(min_length=3, max_length=4000)


class ProviderOut(BaseModel):
    model_config = Out
    id: str
    name: str
    business_id: str
    legal_form: str
    registration_register: str
    registration_number: str
    registration_date: dt.date
    data_protection_officer: dict[str, Any]
    contact: dict[str, Any]
    website: str | None
    supplier_number: str | None
    payment_terms_days: int
    iban: str
    presentation: str | None
    phone_hours: str | None
    insurance_insurer: str | None
    insurance_policy_number: str | None
    insurance_valid_from: dt.date | None
    insurance_valid_until: dt.date | None
    status: str
    status_reason: str | None
    status_changed_on: dt.date
    applied_on: dt.date


# --- units and staff -------------------------------------------------------------------------

class DegreeIn(BaseModel):
    """A higher-education degree (korkeakoulututkinto), PRV-16."""

    model_config = Strict
    level: Literal["bachelor", "master", "licentiate", "doctorate"] = Field(
        description="bachelor: AMK or university bachelor's; master: also ylempi AMK")
    title: str = Field(min_length=2, max_length=200, description="e.g. sosionomi (AMK), YTM")
    institution: str | None = Field(None, max_length=200)
    year: int | None = Field(None, strict=True, ge=1950, le=2100)


class ResponsiblePersonIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    qualification: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None
    degree: DegreeIn | None = Field(None, description="Higher-education degree; required before approval (PRV-16)")
    signing_deputies: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=5,
        description="Named deputies with authority to sign service agreements for the unit (AGR-1)")


class PremisesIn(BaseModel):
    model_config = Strict
    rescue_check_on: BoundedDate | None = None
    health_check_on: BoundedDate | None = None
    handles_food: StrictBool = False
    food_check_on: BoundedDate | None = None


class MealsIn(BaseModel):
    model_config = Strict
    snack: StrictBool
    food_heating: StrictBool
    warm_meal: StrictBool = False


class UnitIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    street_address: str = Field(min_length=1, max_length=300)
    postal_code: str = Field(pattern=r"^\d{5}$")
    city: str = Field(min_length=1, max_length=100)
    district: str | None = Field(None, max_length=100)
    service_producer_code: str = Field(min_length=1, max_length=50)
    responsible_person: ResponsiblePersonIn
    foli_reachable: StrictBool
    step_free_access: StrictBool
    suits_partial_work_ability: StrictBool
    languages: list[str] = Field(min_length=1, max_length=20)
    phone_hours: str | None = Field(None, max_length=300)
    premises: PremisesIn
    meals: MealsIn


class UnitPatch(BaseModel):
    model_config = Strict
    name: str | None = Field(None, min_length=1, max_length=200)
    responsible_person: ResponsiblePersonIn | None = None
    foli_reachable: StrictBool | None = None
    step_free_access: StrictBool | None = None
    suits_partial_work_ability: StrictBool | None = None
    languages: list[str] | None = Field(None, min_length=1, max_length=20)
    phone_hours: str | None = Field(None, max_length=300)
    premises: PremisesIn | None = None
    meals: MealsIn | None = None


class AvailabilityIn(BaseModel):
    """PRV-8: mark a unit unable to take clients (with the reason) or able again (reason null)."""

    model_config = Strict
    taking_clients: StrictBool
    reason: str | None = Field(None, min_length=3, max_length=2000)


class OccupancyIn(BaseModel):
    model_config = Strict
    occupied: int = Field(strict=True, ge=0, le=10000)


class InstructorIn(BaseModel):
    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    qualification: str = Field(min_length=1, max_length=200)
    methods: list[Method] = Field(default_factory=list)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None


class InstructorOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    unit_id: uuid.UUID
    name: str
    qualification: str
    methods: list[str]
    phone: str | None
    email: str | None
    active: bool


class UnitOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    provider_id: str
    name: str
    street_address: str
    postal_code: str
    city: str
    district: str | None
    service_producer_code: str
    responsible_person: dict[str, Any]
    foli_reachable: bool
    step_free_access: bool
    suits_partial_work_ability: bool
    languages: list[str]
    phone_hours: str | None
    premises: dict[str, Any]
    meals: dict[str, Any]
    occupied: int
    unable_reason: str | None
    unable_since: dt.date | None
    instructors: int = 0
    capacity: int = 0
    free_places: int = 0


# --- social guidance, staff report, premises inspections (PRV-16, PRV-17) -------------------------

SocialWelfareQualification = Literal["social_worker", "bachelor_of_social_services", "rehabilitation_counsellor"]


class SocialGuidanceIn(BaseModel):
    """Who gives social guidance (PRV-16): a qualified social-welfare professional, always available."""

    model_config = Strict
    unit_id: uuid.UUID | None = Field(None, description="The unit served; null: every unit of the provider")
    name: str = Field(min_length=1, max_length=200)
    qualification: SocialWelfareQualification = Field(description=(
        "Protected title (Act 817/2015): sosiaalityöntekijä, sosionomi (AMK) or kuntoutuksen ohjaaja (AMK)"))
    registration_number: str = Field(min_length=3, max_length=50, pattern=r"^[0-9A-Za-z-]+$",
                                     description="Number in Valvira's register of social welfare professionals")
    availability: str = Field(min_length=5, max_length=1000, description="When and how clients reach them, e.g. on site Mon-Fri 8-16")


class SocialGuidanceOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID | None
    name: str
    qualification: str
    registration_number: str
    availability: str
    active: bool
    started_on: dt.date
    ended_on: dt.date | None


class StaffMemberIn(BaseModel):
    model_config = Strict
    unit_id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=2, max_length=100, description="e.g. instructor, responsible person, social counsellor")
    qualification: str = Field(min_length=2, max_length=200)
    education_level: Literal["vocational", "bachelor", "master", "licentiate", "doctorate", "other"] | None = None
    responsibilities: str | None = Field(None, max_length=2000)


class StaffReportIn(BaseModel):
    """The staff data given to the city (PRV-16, §10): the whole current staff, never a personal identity code."""

    model_config = Strict
    staff: list[StaffMemberIn] = Field(min_length=1, max_length=500)


class StaffMemberOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    unit_id: uuid.UUID | None
    name: str
    role: str
    qualification: str
    education_level: str | None
    responsibilities: str | None


class StaffReportOut(BaseModel):
    provider_id: str
    reported_on: dt.date | None
    reported_by: str | None
    staff: list[StaffMemberOut]


class InspectionIn(BaseModel):
    """Typake's inspection of a unit's premises before registration (PRV-17)."""

    model_config = Strict
    inspected_on: BoundedDate
    inspector: str = Field(min_length=1, max_length=200)
    outcome: Literal["approved", "remarks", "rejected"]
    remarks: str | None = Field(None, max_length=8000)
    avi_statement_on: BoundedDate | None = Field(None, description="When Typake's statement went to AVI, if already")


class AviStatementIn(BaseModel):
    model_config = Strict
    given_on: BoundedDate


class InspectionOut(BaseModel):
    model_config = Out
    id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: str
    inspected_on: dt.date
    inspector: str
    outcome: str
    remarks: str | None
    avi_statement_on: dt.date | None
    recorded_by: str


# --- products and values ----------------------------------------------------------------------

class ProductIn(BaseModel):
    model_config = Strict
    kind: ProductKind
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=10, max_length=8000, description="Plain-language description (PRV-4)")
    tasks: list[str] = Field(default_factory=list, max_length=50)
    themes: list[Theme] = Field(default_factory=list)


class ProductPatch(BaseModel):
    model_config = Strict
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, min_length=10, max_length=8000)
    tasks: list[str] | None = Field(None, max_length=50)
    themes: list[Theme] | None = None
    active: StrictBool | None = None


class ValuesIn(BaseModel):
    """Voucher values in euros (decimal strings or numbers with at most two decimals)."""

    model_config = Strict
    effective_from: BoundedDate
    day_value_first_year: Decimal | None = Field(None, ge=0, le=Decimal("999999.99"), max_digits=8, decimal_places=2)
    base_day_value: Decimal | None = Field(None, ge=0, le=Decimal("999999.99"), max_digits=8, decimal_places=2)
    hour_value: Decimal | None = Field(None, ge=0, le=Decimal("999999.99"), max_digits=8, decimal_places=2)
    reason: str | None = Field(None, max_length=2000)


class ValueOut(BaseModel):
    version: int
    effective_from: dt.date
    day_value_first_year: Decimal | None
    base_day_value: Decimal | None
    hour_value: Decimal | None
    reason: str | None
    set_by: str


class ProductOut(BaseModel):
    id: uuid.UUID
    provider_id: str
    kind: str
    form: str
    name: str
    description: str
    tasks: list[str]
    themes: list[str]
    active: bool
    current_value: ValueOut | None = None
