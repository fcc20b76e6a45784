"""Pure rules of the city's oversight of providers: social guidance, degrees, staff and premises inspection
(PRV-16, PRV-17), liability insurance kept valid (PRV-10), further quality measures (QUA-2) and the approved
list for the TE office (PRV-15). Facts in, verdict out; each cites its rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ktt_common.errors import FieldError

if TYPE_CHECKING:
    from ktt_registry.rules import UnitReadiness


# --- PRV-16, PRV-17: social guidance, responsible persons' degrees, staff, premises inspection -------

SOCIAL_WELFARE_QUALIFICATIONS = ("social_worker", "bachelor_of_social_services", "rehabilitation_counsellor")
"""PRV-16: protected titles of social-welfare professionals (Act 817/2015) with a higher-education
degree: sosiaalityöntekijä, sosionomi (AMK), kuntoutuksen ohjaaja (AMK)."""
DEGREE_LEVELS = ("bachelor", "master", "licentiate", "doctorate")
"""PRV-16: a higher-education degree (korkeakoulututkinto): a bachelor's (AMK or university), a master's
(also ylempi AMK), a licentiate or a doctorate."""
INSPECTION_OUTCOMES = ("approved", "remarks", "rejected")
PASSING_INSPECTION = frozenset({"approved", "remarks"})


def unit_preconditions(unit: UnitReadiness, *, social_guidance_arranged: bool = True) -> list[FieldError]:
    """PRV-16: the unit's responsible person has a higher-education degree and the unit has social
    guidance (a provider-wide arrangement counts). PRV-17: Typake's latest inspection of its premises
    approved them, with or without remarks."""
    errors: list[FieldError] = []
    prefix = f"units.{unit.unit_id}"
    if unit.degree_level not in DEGREE_LEVELS:
        errors.append(FieldError(field=f"{prefix}.responsible_person.degree", rule="PRV-16", message=(
            f"the responsible person of unit '{unit.name}' has no recorded higher-education degree")))
    if social_guidance_arranged and not unit.social_guidance:
        errors.append(FieldError(field=f"{prefix}.social_guidance", rule="PRV-16", message=(
            f"unit '{unit.name}' has no social guidance by a qualified social-welfare professional")))
    if unit.inspection_outcome is None:
        errors.append(FieldError(field=f"{prefix}.inspection", rule="PRV-17", message=(
            f"Typake has not inspected the premises of unit '{unit.name}'")))
    elif unit.inspection_outcome not in PASSING_INSPECTION:
        errors.append(FieldError(field=f"{prefix}.inspection", rule="PRV-17", message=(
            f"the latest inspection of unit '{unit.name}' ({unit.inspected_on}) rejected the premises; "
            "a new inspection must approve them")))
    return errors


def check_inspection(inspected_on: dt.date, outcome: str, remarks: str | None, avi_statement_on: dt.date | None,
                     today: dt.date, prefix: str = "body") -> list[FieldError]:
    """PRV-17: an inspection has happened (not in the future); remarks and rejections say what was found;
    the statement to AVI is given on or after the inspection, not in the future."""
    errors: list[FieldError] = []
    if inspected_on > today:
        errors.append(FieldError(field=f"{prefix}.inspected_on", rule="PRV-17", message="an inspection is recorded after it happened"))
    if outcome in ("remarks", "rejected") and not (remarks or "").strip():
        errors.append(FieldError(field=f"{prefix}.remarks", rule="PRV-17", message=f"an inspection with outcome '{outcome}' says what was found"))
    errors += check_avi_statement(inspected_on, avi_statement_on, today, field=f"{prefix}.avi_statement_on")
    return errors


def check_avi_statement(inspected_on: dt.date, given_on: dt.date | None, today: dt.date,
                        field: str = "body.given_on") -> list[FieldError]:
    """PRV-17: Typake's statement to AVI comes after the inspection and is recorded once given."""
    if given_on is None:
        return []
    if given_on < inspected_on:
        return [FieldError(field=field, rule="PRV-17", message=f"the statement to AVI follows the inspection of {inspected_on}")]
    if given_on > today:
        return [FieldError(field=field, rule="PRV-17", message="the statement to AVI is recorded once given, not in advance")]
    return []


def latest_inspection(inspections: Iterable[tuple[dt.date, dt.datetime, str]]) -> tuple[dt.date, str] | None:
    """PRV-17: the inspection that decides: the latest by date, then by when it was recorded."""
    found = max(inspections, key=lambda i: (i[0], i[1]), default=None)
    return None if found is None else (found[0], found[2])


# --- PRV-10: liability insurance kept valid -----------------------------------------------------

@dataclass(frozen=True)
class Policy:
    valid_from: dt.date
    valid_until: dt.date


def insured_on(policies: Iterable[Policy], on: dt.date) -> bool:
    """PRV-10: some recorded policy covers the day (both ends inclusive)."""
    return any(p.valid_from <= on <= p.valid_until for p in policies)


def insurance_end(policies: Sequence[Policy], on: dt.date) -> dt.date | None:
    """PRV-10: the last day of the cover in force on ``on``, following policies that continue it without
    a gap (a renewal starting the day after, or overlapping). Not insured on ``on``: the end of the last
    cover before it, or None when nothing was ever in force by then."""
    if not insured_on(policies, on):
        ended = [p.valid_until for p in policies if p.valid_until < on]
        return max(ended, default=None)
    end = max(p.valid_until for p in policies if p.valid_from <= on <= p.valid_until)
    while end < dt.date.max:
        further = [p.valid_until for p in policies if p.valid_from <= end + dt.timedelta(days=1) and p.valid_until > end]
        if not further:
            return end
        end = max(further)
    return end


def lapse_start(policies: Sequence[Policy], on: dt.date) -> dt.date:
    """PRV-10: the first day without valid insurance of a lapse going on on ``on``: the day after the
    last cover ended; ``on`` itself when there never was cover before it."""
    last = insurance_end(policies, on)
    return on if last is None or last >= on else last + dt.timedelta(days=1)


# --- QUA-2: further quality measures -------------------------------------------------------------

QUALITY_RECORD_KINDS = ("spot_check", "visit", "client_panel", "self_monitoring_plan", "annual_report")
PROVIDER_SUBMITTED = frozenset({"self_monitoring_plan", "annual_report"})
"""QUA-2: what a provider hands in itself; the city records the rest."""


def check_quality_record(kind: str, occurred_on: dt.date, year: int | None, summary: str | None, participants: int | None,
                         today: dt.date) -> list[FieldError]:
    """QUA-2: a spot check, visit or client panel has happened and says what was found or discussed; an
    annual report is for a year that has begun; a plan or report is recorded once received."""
    errors: list[FieldError] = []
    if occurred_on > today:
        errors.append(FieldError(field="body.occurred_on", rule="QUA-2", message="a quality record is made once it happened or was received"))
    if kind in ("spot_check", "visit", "client_panel") and not (summary or "").strip():
        errors.append(FieldError(field="body.summary", rule="QUA-2",
                                 message=f"a {kind.replace('_', ' ')} says what was found or discussed"))
    if kind == "annual_report":
        if year is None:
            errors.append(FieldError(field="body.year", rule="QUA-2", message="an annual report is for a year"))
        elif year > occurred_on.year:
            errors.append(FieldError(field="body.year", rule="QUA-2",
                                     message=f"an annual report received on {occurred_on} cannot be for {year}"))
    elif year is not None:
        errors.append(FieldError(field="body.year", rule="QUA-2", message="only an annual report has a year"))
    if participants is not None and kind != "client_panel":
        errors.append(FieldError(field="body.participants", rule="QUA-2", message="only a client panel has participants"))
    return errors


# --- PRV-15: the approved list for the TE office -------------------------------------------------

CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A CSV cell that a spreadsheet never runs as a formula (a leading =, +, -, @, tab or CR is quoted
    with an apostrophe); None is an empty cell."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_STARTS) else text
