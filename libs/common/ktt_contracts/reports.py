"""Report events published by the attendance service (``ktt.attendance.Report*``).

Billing needs them for BIL-3: delivered follow-up data and reports are a condition of payment. A
report is identified by ``report_id``; ``kind`` names what it is (REP-1), ``month`` the month it
covers (for the monthly follow-up, ATT-11). No client data beyond the pseudonymous id (DATA-4).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "attendance"

ReportKind = Literal[
    "monthly_follow_up", "interim_evaluation", "final_evaluation", "coaching_hours", "assessment_period",
    "certificate_of_participation",
]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class ReportFacts(BaseModel):
    report_id: uuid.UUID
    kind: ReportKind = Field(description="REP-1; monthly_follow_up is the follow-up of ATT-11 that BIL-3 requires")
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM the report covers")


class ReportSubmittedPayload(ReportFacts):
    """The provider submitted a report to the city (REP-1, ATT-11)."""

    submitted_on: dt.date


class ReportAcceptedPayload(ReportFacts):
    """The case worker accepted a submitted report (REP-1, BIL-3)."""

    accepted_on: dt.date


ReportSubmitted = EventType(SERVICE, "ReportSubmitted", 1, ReportSubmittedPayload,
                            "A provider submitted a report, e.g. the monthly follow-up (REP-1, ATT-11, BIL-3)")
ReportAccepted = EventType(SERVICE, "ReportAccepted", 1, ReportAcceptedPayload,
                           "The case worker accepted a submitted report (REP-1, BIL-3)")

EVENTS = [ReportSubmitted, ReportAccepted]
