"""Events published by the attendance service (``ktt.attendance.*``).

They carry the pseudonymous ``client_id``, never the hetu (DATA-4), and no health details beyond
the absence reason the guideline needs (ATT-1, ATT-3).

Billing reads three things from :data:`AttendanceRecorded`, per agreement and day: whether the day
is a payable realised activity day (``realised``, BIL-1; absences and days without service never
are), the approved intensive-coaching hours of the day (``coaching_hours``, VOU-7) and whether the
entry changes a month the provider already confirmed or billing settled (``correction``, with the
``previous`` facts it replaces, so billing can write a refund line and a correction line).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "attendance"

AbsenceReason = Literal[
    "sick_with_certificate", "sick_without_certificate", "doctor_visit", "child_illness", "job_interview",
    "other_authorised", "unauthorised", "sent_away_influence",
]
EntryKind = Literal["present", "absent", "not_organised"]
NotOrganisedReason = Literal["public_holiday", "provider_closure"]
DeviationKind = Literal["group_coaching", "job_interview", "other"]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class AbsenceReportedPayload(BaseModel):
    """A client was absent on a scheduled activity day, as the provider recorded it in the daily log (ATT-1).

    A later correction of the same entry is published again with a higher ``revision``."""

    entry_id: uuid.UUID = Field(description="The daily-log entry; the same entry keeps its id across revisions")
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    date: dt.date = Field(description="The activity day the client was absent")
    reason: AbsenceReason = Field(description="Why, as recorded with the instructor (ATT-3); sent_away_influence: ATT-8")
    certificate: bool = Field(description="A certificate was shown (a doctor's or nurse's for sickness, ATT-3)")
    authorised: bool = Field(
        description="An authorised absence (ATT-3): agreed with the instructor, with a certificate where one is needed. "
                    "Sickness without a certificate counts as unauthorised; an unauthorised absence counts as refusal "
                    "or interruption for the case worker to assess (ATT-7, DEC-9)")
    same_day_contact: bool | None = Field(None, description="The provider reached the client the same day (ATT-4)")
    revision: int = Field(1, ge=1, description="1 for the first report of the entry, higher for each correction")


class DayFacts(BaseModel):
    """What a daily-log entry says about one client-day, as far as billing and allowances need it."""

    kind: EntryKind = Field(description="present; absent; not_organised (a public holiday or a provider closure: "
                                        "neither an absence nor payable)")
    realised: bool = Field(description="A realised activity day: payable per day (BIL-1), counted in the ATT-9 limits "
                                       "and in the expense/activity allowance (DEC-5). True exactly when kind is present")
    hours: float | None = Field(None, description="Realised hours of a present day, travel excluded (AGR-6, ATT-9)")
    coaching_hours: float | None = Field(None, description="Intensive-coaching or individual coaching hours of the day "
                                                           "(ATT-2, VOU-7); paid per hour for intensive coaching")
    absence_reason: AbsenceReason | None = None
    authorised: bool | None = Field(None, description="For an absence: authorised (ATT-3); never paid either way (BIL-1)")


class AttendanceDay(DayFacts):
    """One entry of the daily log that this batch created or changed."""

    entry_id: uuid.UUID = Field(description="The entry of (agreement, date); it keeps its id across revisions")
    date: dt.date
    not_organised_reason: NotOrganisedReason | None = None
    deviation: DeviationKind | None = Field(None, description="A pre-agreed deviation from the schedule this day (AGR-14)")
    revision: int = Field(ge=1, description="1 for a new entry, higher for each revision")
    correction: bool = Field(description="The entry changes a month the provider confirmed (ATT-10) or billing settled: "
                                         "billing turns it into a refund line and a correction line, never an edit")
    previous: DayFacts | None = Field(None, description="What the entry said before this revision (None for a new entry)")


class AttendanceRecordedPayload(BaseModel):
    """The days of one agreement that one posted batch created or revised (ATT-1, ATT-2); entries
    the batch repeated unchanged are not in it. One event per agreement per batch."""

    batch_id: uuid.UUID = Field(description="The posted batch; one event per agreement in it")
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    product_kind: str = Field(description="The agreement's product kind; intensive_coaching is paid per coaching hour")
    recorded_on: dt.date = Field(description="Business day the batch was posted")
    days: list[AttendanceDay]


class MonthAgreementCount(BaseModel):
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    realised_days: int = Field(description="Present days: the payable realised activity days of the month (BIL-1, BIL-2)")
    absence_days: int
    not_organised_days: int
    coaching_hours: float = Field(description="Coaching hours of the month (VOU-7)")
    missing_days: list[dt.date] = Field(default_factory=list,
                                        description="Scheduled days still without an entry at confirmation")


class MonthReportedPayload(BaseModel):
    """The provider confirmed a month's realised days for a unit (ATT-10, BIL-2). Due by the 3rd of
    the next month; ``late`` when confirmed after that. Later changes to the month are corrections."""

    report_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM")
    due_on: dt.date = Field(description="The 3rd of the next month (ATT-10)")
    confirmed_on: dt.date
    late: bool = Field(description="Confirmed after due_on")
    agreements: list[MonthAgreementCount]


class MonthReportLatePayload(BaseModel):
    """A unit's month was not confirmed by the 3rd of the next month (ATT-10, BIL-2): the city sees it."""

    provider_id: str
    unit_id: uuid.UUID
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM")
    due_on: dt.date
    marked_on: dt.date
    agreement_ids: list[uuid.UUID] = Field(description="The unit's agreements in force in the month")


class AlertFacts(BaseModel):
    """An alert raised once for the city (officials list, acknowledge and close it)."""

    alert_id: uuid.UUID
    client_id: uuid.UUID
    agreement_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    rule: str = Field(description="The rule that demands the city be told, e.g. ATT-4")
    since: dt.date = Field(description="The first day of the situation (first missed day, first sick day...)")
    raised_on: dt.date


class NoShowThresholdReachedPayload(AlertFacts):
    """The client has not come (a) within 5 consecutive working days on which they had scheduled
    days, or (b) to 3 consecutive scheduled group sessions: the provider contacts Typake (ATT-4)."""

    variant: Literal["working_days", "group_sessions"] = Field(description="a: working_days; b: group_sessions")
    missed_days: list[dt.date] = Field(description="The scheduled days missed, oldest first")
    threshold: int


class LongSickLeavePayload(AlertFacts):
    """Sick leave of more than 14 consecutive days is reported to the city, which may suspend the
    service (ATT-5, ATT-14)."""

    sick_from: dt.date
    sick_through: dt.date = Field(description="Last recorded sick day when the alert was raised")
    days: int = Field(description="Consecutive calendar days of sick leave")


class RepeatedAbsencesPayload(AlertFacts):
    """Unauthorised absences reached the configured threshold within the window (ATT-5)."""

    threshold: int
    window_days: int
    absence_days: list[dt.date]


class ContinuityBrokenPayload(AlertFacts):
    """Scheduled days were not organised for the provider's own reasons beyond the configured limit:
    a period runs without breaks, so the city arranges the service otherwise (AGR-9)."""

    limit: int
    window_days: int
    not_organised_days: list[dt.date]


class SituationChangedPayload(AlertFacts):
    """The provider reported a substantial change in the client's situation (ATT-13)."""

    summary: str = Field(description="What changed, in the provider's words (no health details beyond what is needed)")


class AbsenceNoticeCreatedPayload(BaseModel):
    """A Kela TT3 absence notice for one client and one two-week review period (ATT-6), ready to send."""

    notice_id: uuid.UUID
    client_id: uuid.UUID
    period_start: dt.date
    period_end: dt.date
    recipient: Literal["kela", "unemployment_fund"] = Field(
        description="Kela, or the client's unemployment fund when it pays the benefit")
    absence_days: int
    unauthorised_days: int
    to_employment_authority: bool = Field(description="Absences that may lead to interrupting the service are also "
                                                      "reported to the employment authority (ATT-6)")


AbsenceReported = EventType(SERVICE, "AbsenceReported", 1, AbsenceReportedPayload,
                            "A client's absence on an activity day was recorded in the daily log (ATT-1, ATT-3, ATT-7)")
AttendanceRecorded = EventType(SERVICE, "AttendanceRecorded", 1, AttendanceRecordedPayload,
                               "Days of one agreement created or revised by one posted daily-log batch "
                               "(ATT-1, ATT-2, BIL-1)")
MonthReported = EventType(SERVICE, "MonthReported", 1, MonthReportedPayload,
                          "A provider confirmed a unit's month of realised days (ATT-10, BIL-2)")
MonthReportLate = EventType(SERVICE, "MonthReportLate", 1, MonthReportLatePayload,
                            "A unit's month was not confirmed by the 3rd of the next month (ATT-10, BIL-2)")
NoShowThresholdReached = EventType(SERVICE, "NoShowThresholdReached", 1, NoShowThresholdReachedPayload,
                                   "The client missed 5 working days or 3 group sessions in a row (ATT-4)")
LongSickLeave = EventType(SERVICE, "LongSickLeave", 1, LongSickLeavePayload,
                          "Sick leave of more than 14 consecutive days (ATT-5, ATT-14)")
RepeatedAbsences = EventType(SERVICE, "RepeatedAbsences", 1, RepeatedAbsencesPayload,
                             "Unauthorised absences reached the configured threshold (ATT-5)")
ContinuityBroken = EventType(SERVICE, "ContinuityBroken", 1, ContinuityBrokenPayload,
                             "Scheduled days not organised for provider reasons beyond the limit (AGR-9)")
SituationChanged = EventType(SERVICE, "SituationChanged", 1, SituationChangedPayload,
                             "The provider reported a substantial change in the client's situation (ATT-13)")
AbsenceNoticeCreated = EventType(SERVICE, "AbsenceNoticeCreated", 1, AbsenceNoticeCreatedPayload,
                                 "A Kela TT3 absence notice for a client's two-week review period is ready (ATT-6)")

EVENTS: list[EventType[Any]] = [AbsenceReported, AttendanceRecorded, MonthReported, MonthReportLate, NoShowThresholdReached, LongSickLeave,
          RepeatedAbsences, ContinuityBroken, SituationChanged, AbsenceNoticeCreated]
