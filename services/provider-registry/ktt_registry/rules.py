"""Pure rules of the provider registry: facts in, verdict out. Each cites its rule ID."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

from dateutil.relativedelta import relativedelta
from stdnum import iban as _iban
from stdnum.exceptions import InvalidChecksum, ValidationError

from ktt_common.errors import FieldError
from ktt_common.identifiers import IdentifierError, validate_business_id

from ktt_registry.rules_oversight import unit_preconditions

# --- PRV-2: who may organise KTT ------------------------------------------------------------

ALLOWED_LEGAL_FORMS = frozenset({
    "municipality", "joint_municipal_authority", "registered_association", "registered_foundation",
    "state_agency", "registered_religious_community",
})
COMPANY_FORMS = frozenset({
    "limited_company", "public_limited_company", "partnership", "limited_partnership", "general_partnership",
    "sole_trader", "cooperative", "company", "european_company",
})
VOUCHER_PROVIDER_FORMS = frozenset({"registered_association", "registered_foundation", "registered_religious_community"})
"""PRV-2 (amended): the organisers that can register as private social service producers (§20) and so
be voucher providers."""
CONTRACT_ONLY_FORMS = ALLOWED_LEGAL_FORMS - VOUCHER_PROVIDER_FORMS
"""PRV-2 (amended): public organisers; they provide KTT under a written contract with the city, not by voucher."""
REGISTERS = ("avi", "valvira", "soteri")


def check_legal_form(legal_form: str, field: str = "body.legal_form") -> list[FieldError]:
    """PRV-2: KTT may not be bought from a company; only the listed public and non-profit forms."""
    allowed = ", ".join(sorted(ALLOWED_LEGAL_FORMS))
    if legal_form in ALLOWED_LEGAL_FORMS:
        return []
    if legal_form in COMPANY_FORMS:
        return [FieldError(field=field, rule="PRV-2",
                           message=f"KTT may not be bought from a company ('{legal_form}'); allowed organisers: {allowed}")]
    return [FieldError(field=field, rule="PRV-2", message=f"unknown legal form '{legal_form}'; allowed organisers: {allowed}")]


def check_voucher_provider_form(legal_form: str, field: str = "body.legal_form") -> list[FieldError]:
    """PRV-2 (amended, §1 and §20): besides never being a company, a *voucher* provider must be able to
    register as a private social service producer: a registered association, foundation or religious
    community. A municipality, joint municipal authority or state agency organises KTT for the city by
    a written contract, not by accepting vouchers."""
    errors = check_legal_form(legal_form, field)
    if errors or legal_form in VOUCHER_PROVIDER_FORMS:
        return errors
    voucher_forms = ", ".join(sorted(VOUCHER_PROVIDER_FORMS))
    return [FieldError(field=field, rule="PRV-2", message=(
        f"a {legal_form.replace('_', ' ')} provides KTT under a written contract with the city, not by voucher: "
        f"a voucher provider is registered as a private social service producer, i.e. one of {voucher_forms}"))]


def check_business_id(value: str, field: str = "body.business_id") -> tuple[str | None, list[FieldError]]:
    """PRV-1: the provider is identified by a valid Y-tunnus (check digit validated)."""
    try:
        return validate_business_id(value, field=field), []
    except IdentifierError as exc:
        return None, [FieldError(field=exc.field, rule="PRV-1", message=exc.reason)]


def check_iban(value: str, field: str = "body.iban") -> tuple[str | None, list[FieldError]]:
    """The account voucher payments go to must be a valid IBAN (country format and check digits)."""
    try:
        return _iban.validate(value), []
    except InvalidChecksum:
        return None, [FieldError(field=field, message="the check digits of the IBAN do not match; check the account number")]
    except ValidationError:
        return None, [FieldError(field=field, message="not a valid IBAN; give it as e.g. FI21 1234 5600 0007 85")]


# --- PRV-1, PRV-11: the approval state machine ---------------------------------------------

TRANSITIONS: dict[str, frozenset[str]] = {
    "applied": frozenset({"approved"}),
    "approved": frozenset({"suspended"}),
    "suspended": frozenset({"approved", "removed"}),
    "removed": frozenset(),
}


@dataclass(frozen=True)
class TransitionVerdict:
    allowed: bool
    no_change: bool = False
    reason: str | None = None


def transition(current: str, target: str) -> TransitionVerdict:
    """PRV-1 / PRV-11: applied -> approved -> suspended -> approved | removed.

    Asking for the state the provider is already in changes nothing (a replay publishes nothing).
    """
    if target not in TRANSITIONS:
        return TransitionVerdict(False, reason=f"unknown status '{target}'")
    if current == target:
        return TransitionVerdict(True, no_change=True)
    if target in TRANSITIONS[current]:
        return TransitionVerdict(True)
    nexts = sorted(TRANSITIONS[current])
    return TransitionVerdict(False, reason=(
        f"a provider in status '{current}' cannot move to '{target}'; "
        + (f"allowed: {', '.join(nexts)}" if nexts else "it is final")
    ))


def approved_list_change(previous: str, new: str) -> str | None:
    """PRV-15: the approved list holds the providers in status ``approved``; a transition into it adds the
    provider, one out of it removes it, any other changes nothing on the list."""
    if previous != "approved" and new == "approved":
        return "added"
    if previous == "approved" and new != "approved":
        return "removed"
    return None


@dataclass(frozen=True)
class UnitReadiness:
    """What approval needs to know of each unit (PRV-16, PRV-17)."""

    unit_id: str
    name: str
    social_guidance: bool
    degree_level: str | None
    inspection_outcome: str | None
    inspected_on: dt.date | None = None


@dataclass(frozen=True)
class ApprovalFacts:
    registration_register: str
    registration_number: str
    registration_date: dt.date
    legal_form: str
    units_with_responsible_person: int
    insurance_valid_from: dt.date | None
    insurance_valid_until: dt.date | None
    priced_products: int
    data_protection_officer_named: bool
    social_guidance_arranged: bool
    staff_reported: bool
    units: tuple[UnitReadiness, ...]


def approval_preconditions(facts: ApprovalFacts, today: dt.date) -> list[FieldError]:
    """Everything missing before a provider may be approved, listed at once (PRV-1..PRV-17)."""
    errors: list[FieldError] = []
    if facts.registration_register not in REGISTERS or not facts.registration_number.strip():
        errors.append(FieldError(field="registration", rule="PRV-1",
                                 message="registration as a private social service producer (AVI, Valvira or Soteri) is missing"))
    elif facts.registration_date > today:
        errors.append(FieldError(field="registration.date", rule="PRV-1",
                                 message=f"the registration is dated {facts.registration_date}, in the future"))
    errors += check_voucher_provider_form(facts.legal_form, field="legal_form")
    if facts.units_with_responsible_person < 1:
        errors.append(FieldError(field="units", rule="PRV-3",
                                 message="at least one unit with a named responsible person is needed"))
    if facts.insurance_valid_until is None:
        errors.append(FieldError(field="insurance", rule="PRV-10", message="liability insurance is not recorded"))
    elif not (facts.insurance_valid_from or today) <= today <= facts.insurance_valid_until:
        errors.append(FieldError(field="insurance", rule="PRV-10",
                                 message=f"liability insurance is not valid today ({facts.insurance_valid_from} - "
                                         f"{facts.insurance_valid_until}); record a valid policy"))
    if facts.priced_products < 1:
        errors.append(FieldError(field="products", rule="VOU-1",
                                 message="at least one product with a voucher value set by Typake is needed"))
    if not facts.data_protection_officer_named:
        errors.append(FieldError(field="data_protection_officer", rule="PRV-14", message="a data protection officer must be named"))
    if not facts.social_guidance_arranged:
        errors.append(FieldError(field="social_guidance", rule="PRV-16", message=(
            "social guidance by a qualified social-welfare professional, always available, is not arranged; "
            "record who gives it")))
    if not facts.staff_reported:
        errors.append(FieldError(field="staff", rule="PRV-16", message=(
            "the staff report (names, roles, qualifications) has not been given to the city")))
    for unit in facts.units:
        errors += unit_preconditions(unit, social_guidance_arranged=facts.social_guidance_arranged)
    return errors


# --- PRV-3, PRV-13: units ----------------------------------------------------------------------

REQUIRED_LANGUAGES = ("fi", "sv")
METHODS = ("imba", "melba", "kykyviisari", "vat")


@dataclass(frozen=True)
class UnitFacts:
    foli_reachable: bool
    languages: Sequence[str]
    rescue_check_on: dt.date | None
    health_check_on: dt.date | None
    handles_food: bool
    food_check_on: dt.date | None
    snack: bool
    food_heating: bool


def check_unit(facts: UnitFacts, prefix: str = "body") -> list[FieldError]:
    """PRV-3: reachable with a Föli card, Finnish and Swedish service, checked premises.
    PRV-13: a snack and a way to heat food are required."""
    errors: list[FieldError] = []
    if not facts.foli_reachable:
        errors.append(FieldError(field=f"{prefix}.foli_reachable", rule="PRV-3",
                                 message="a unit must be reachable by public transport with a Föli card"))
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in facts.languages]
    if missing:
        errors.append(FieldError(field=f"{prefix}.languages", rule="PRV-3",
                                 message="service in Finnish and Swedish is required (with a Typake interpreter if needed); "
                                         f"add {', '.join(missing)}"))
    if facts.rescue_check_on is None:
        errors.append(FieldError(field=f"{prefix}.premises.rescue_check_on", rule="PRV-3",
                                 message="the date of the rescue (fire safety) inspection of the premises is required"))
    if facts.health_check_on is None:
        errors.append(FieldError(field=f"{prefix}.premises.health_check_on", rule="PRV-3",
                                 message="the date of the health inspection of the premises is required"))
    if facts.handles_food and facts.food_check_on is None:
        errors.append(FieldError(field=f"{prefix}.premises.food_check_on", rule="PRV-3",
                                 message="premises where food is handled need the date of their food-handling inspection"))
    if not facts.snack:
        errors.append(FieldError(field=f"{prefix}.meals.snack", rule="PRV-13", message="a snack must be offered"))
    if not facts.food_heating:
        errors.append(FieldError(field=f"{prefix}.meals.food_heating", rule="PRV-13",
                                 message="a way to heat one's own food must be available"))
    return errors


# --- PRV-6: capacity ------------------------------------------------------------------------

PLACES_PER_INSTRUCTOR = 25
GROUP_MIN_PLACES = 8
GROUP_MAX_PLACES = 15


def capacity(instructors: int) -> int:
    """PRV-6: at most 25 individual or work-coaching clients per instructor."""
    return PLACES_PER_INSTRUCTOR * max(0, instructors)


def check_occupancy(occupied: int, instructors: int, field: str = "body.occupied") -> list[FieldError]:
    """PRV-6: occupancy may not exceed 25 clients per instructor."""
    if occupied < 0:
        return [FieldError(field=field, message="occupancy cannot be negative")]
    cap = capacity(instructors)
    if occupied > cap:
        return [FieldError(field=field, rule="PRV-6", message=(
            f"{occupied} clients exceed the unit's {cap} places ({instructors} instructor(s) x {PLACES_PER_INSTRUCTOR}); "
            "add an instructor or take fewer clients"))]
    return []


def free_places(instructors: int, occupied: int, taking_clients: bool) -> int:
    """Individual places free now; none while the unit cannot take clients (PRV-8)."""
    return max(0, capacity(instructors) - occupied) if taking_clients else 0


@dataclass(frozen=True)
class GroupFacts:
    places: int
    enrolled: int
    starts_on: dt.date
    ends_on: dt.date
    lead_instructor_ok: bool
    second_responsible_ok: bool
    distinct_responsibles: bool
    instructors_present: int


def check_group(facts: GroupFacts, large_group_over: int, prefix: str = "body") -> list[FieldError]:
    """PRV-6: 8-15 places; two named responsible employees, one the lead instructor; a large group
    (more than ``large_group_over`` places) has two instructors present. PRV-5: a start and an end."""
    errors: list[FieldError] = []
    if not GROUP_MIN_PLACES <= facts.places <= GROUP_MAX_PLACES:
        errors.append(FieldError(field=f"{prefix}.places", rule="PRV-6",
                                 message=f"a group has {GROUP_MIN_PLACES}-{GROUP_MAX_PLACES} places, not {facts.places}"))
    if facts.enrolled < 0 or facts.enrolled > facts.places:
        errors.append(FieldError(field=f"{prefix}.enrolled", rule="PRV-6",
                                 message=f"{facts.enrolled} enrolled does not fit the group's {facts.places} places"))
    if facts.ends_on <= facts.starts_on:
        errors.append(FieldError(field=f"{prefix}.ends_on", rule="PRV-5", message="a group ends after it starts"))
    if not facts.lead_instructor_ok:
        errors.append(FieldError(field=f"{prefix}.lead_instructor_id", rule="PRV-6",
                                 message="the lead instructor must be a named, active instructor of this unit"))
    if not facts.second_responsible_ok:
        errors.append(FieldError(field=f"{prefix}.second_responsible_id", rule="PRV-6",
                                 message="the second responsible employee must be a named, active instructor of this unit"))
    elif not facts.distinct_responsibles:
        errors.append(FieldError(field=f"{prefix}.second_responsible_id", rule="PRV-6",
                                 message="a group has two different named responsible employees"))
    needed = 2 if facts.places > large_group_over else 1
    if facts.instructors_present < needed:
        errors.append(FieldError(field=f"{prefix}.instructors_present", rule="PRV-6", message=(
            f"a group of more than {large_group_over} places is large and needs two instructors present"
            if needed == 2 else "at least one instructor is present")))
    return errors


# --- PRV-7: queues --------------------------------------------------------------------------

def latest_queue_start(today: dt.date) -> dt.date:
    """PRV-7 "when the estimated wait exceeds one month": one *calendar* month from today, i.e. the same
    day of the next month, or that month's last day when it has no such day (31.1. -> 28.2., or 29.2. in
    a leap year; 15.3. -> 15.4.). A start on this day is still within the month; the day after exceeds it."""
    return today + relativedelta(months=1)  # relativedelta clamps to the month's last day


def individual_wait_days(rank: int, free: int, cap: int, turnover_days: int) -> int | None:
    """Estimated wait (days) of the client at ``rank`` (1 = first) in a unit's individual queue (PRV-7).

    The first ``free`` clients start at once. After that, places free up as current clients finish:
    a unit of ``cap`` places whose periods last ``turnover_days`` (a year by default, DEC-4) frees a
    place every ``turnover_days / cap`` days on average, so the k-th client beyond the free places
    waits ceil(k * turnover_days / cap) days. No capacity: no estimate (None).
    """
    if rank <= free:
        return 0
    if cap <= 0:
        return None
    return math.ceil((rank - free) * turnover_days / cap)


@dataclass(frozen=True)
class OpenGroup:
    starts_on: dt.date
    free: int


def group_start(rank: int, groups: Iterable[OpenGroup]) -> dt.date | None:
    """Expected start of the client at ``rank`` in a group queue: the first announced, not full group
    (in start order) whose free places reach that rank. None when no announced group has room (PRV-5, PRV-7)."""
    seen = 0
    for g in sorted(groups, key=lambda g: g.starts_on):
        seen += max(0, g.free)
        if rank <= seen:
            return g.starts_on
    return None


def may_join_queue(expected_start: dt.date | None, today: dt.date) -> bool:
    """PRV-7: a new client may join only when the expected start is known and at most one calendar
    month after today (see latest_queue_start)."""
    return expected_start is not None and expected_start <= latest_queue_start(today)


# --- VOU-1, PRV-13: voucher values --------------------------------------------------------

DAY_VALUED = ("individual", "group", "assessment_period")


def to_cents(amount: Decimal, field: str) -> tuple[int | None, list[FieldError]]:
    """Money as integer cents: positive, at most two decimals, never a float."""
    try:
        if amount != amount.quantize(Decimal("0.01")):
            return None, [FieldError(field=field, message="give euros with at most two decimals")]
    except InvalidOperation:
        return None, [FieldError(field=field, message="not an amount of euros")]
    if amount <= 0:
        return None, [FieldError(field=field, message="a voucher value is more than zero")]
    return int(amount * 100), []


def check_values_for_kind(kind: str, day_first_year: int | None, base_day: int | None, hour: int | None) -> list[FieldError]:
    """VOU-1 / VOU-6 / VOU-7: day-valued products need a first-year day value and a base day value;
    intensive coaching needs an hour value."""
    errors: list[FieldError] = []
    if kind in DAY_VALUED:
        if day_first_year is None:
            errors.append(FieldError(field="body.day_value_first_year", rule="VOU-6", message="a day value for the first year is required"))
        if base_day is None:
            errors.append(FieldError(field="body.base_day_value", rule="VOU-6", message="a base day value (after one year) is required"))
        if hour is not None:
            errors.append(FieldError(field="body.hour_value", rule="VOU-7", message="only intensive coaching has an hour value"))
    else:
        if hour is None:
            errors.append(FieldError(field="body.hour_value", rule="VOU-7", message="intensive coaching needs an hour value"))
        if day_first_year is not None or base_day is not None:
            errors.append(FieldError(field="body.day_value_first_year", rule="VOU-7",
                                     message="intensive coaching is paid per hour, not per day"))
    return errors


def value_in_force(versions: Iterable[tuple[int, dt.date]], on: dt.date) -> int | None:
    """The version in force on ``on``: the highest version whose effective date is on or before it."""
    candidates = [v for v, eff in versions if eff <= on]
    return max(candidates) if candidates else None


# --- agreement places, whatever order the events come in (PRV-6, issue 12 item 3) -------------

PlaceEffect = Literal["take_place", "record_only", "free_place", "remember_end", "nothing"]


def place_effect(event: Literal["signed", "ended"], signed_seen: bool, end_seen: bool, form: str | None) -> PlaceEffect:
    """PRV-6: what an agreement event does to the unit's occupied places, given what is known.

    - signed, nothing known: an individual agreement takes a place (a group one is recorded only);
    - signed after its end was seen (events out of order): recorded, no place taken, so no phantom;
    - ended after signed: an individual agreement frees its place; ended before signed: remembered;
    - anything seen already (a re-published event): nothing.
    """
    if event == "signed":
        if signed_seen:
            return "nothing"
        if end_seen:
            return "record_only"
        return "take_place" if form == "individual" else "record_only"
    if end_seen:
        return "nothing"
    if not signed_seen:
        return "remember_end"
    return "free_place" if form == "individual" else "record_only"
