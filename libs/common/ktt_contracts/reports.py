"""Report events published by the attendance service (``ktt.attendance.Report*``).

Billing needs them for BIL-3: delivered follow-up data and reports are a condition of payment; the
voucher service closes the matching evaluation deadline of its deadlines view (REP-3, REP-4). A
report is identified by ``report_id``; ``kind`` names what it is (REP-1), ``month`` the month it
covers: the month of a monthly follow-up (ATT-11) or coaching-hour report, and for a report about a
period or the whole service the month that period (or the service) ends in. ``period_id`` names the
agreement period an interim, final or group evaluation is about. No client data beyond the
pseudonymous id (DATA-4).

Version 1 grew compatibly: ``group_evaluation`` (REP-6), and the optional ``period_id``,
``due_on``, ``late`` and ``recipients`` (REP-4, AGR-5) fields; consumers of the first shape are
unaffected.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "attendance"

ReportKind = Literal[
    "monthly_follow_up", "interim_evaluation", "final_evaluation", "coaching_hours", "assessment_period",
    "certificate_of_participation", "group_evaluation",
]
Recipient = Literal["case_worker", "typake", "social_worker"]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class ReportFacts(BaseModel):
    report_id: uuid.UUID
    kind: ReportKind = Field(description="REP-1; monthly_follow_up is the follow-up of ATT-11 that BIL-3 requires")
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM the report covers (a period's report: the month "
                                                          "the period ends in)")
    period_id: uuid.UUID | None = Field(None, description="The agreement period an evaluation is about (REP-3, REP-4, REP-6)")
    due_on: dt.date | None = Field(None, description="The day the report was due (ATT-11, REP-3, REP-4)")
    late: bool = Field(False, description="Delivered after its due day")
    recipients: list[Recipient] = Field(default_factory=list,
                                        description="Who receives it: the case worker; a final evaluation also Typake, "
                                                    "and the social worker when one is the case worker (REP-4, AGR-5)")


class ReportSubmittedPayload(ReportFacts):
    """The provider submitted a report to the city (REP-1, ATT-11)."""

    submitted_on: dt.date


class ReportAcceptedPayload(ReportFacts):
    """The case worker accepted a submitted report (REP-1, BIL-3)."""

    accepted_on: dt.date


class ReportReturnedPayload(ReportFacts):
    """The case worker returned a submitted report to the provider to be completed (REP-1).
    The comment stays in the attendance service (it may speak of the client)."""

    returned_on: dt.date


class ReportLatePayload(ReportFacts):
    """A report was not delivered by its due day (ATT-11, REP-3, REP-4); published once."""

    marked_on: dt.date


ReportSubmitted = EventType(SERVICE, "ReportSubmitted", 1, ReportSubmittedPayload,
                            "A provider submitted a report, e.g. the monthly follow-up (REP-1, ATT-11, BIL-3)")
ReportAccepted = EventType(SERVICE, "ReportAccepted", 1, ReportAcceptedPayload,
                           "The case worker accepted a submitted report (REP-1, BIL-3)")
ReportReturned = EventType(SERVICE, "ReportReturned", 1, ReportReturnedPayload,
                           "The case worker returned a submitted report to the provider to complete (REP-1)")
ReportLate = EventType(SERVICE, "ReportLate", 1, ReportLatePayload,
                       "A report was not delivered by its due day (ATT-11, REP-3, REP-4)")

EVENTS: list[EventType[Any]] = [ReportSubmitted, ReportAccepted, ReportReturned, ReportLate]
