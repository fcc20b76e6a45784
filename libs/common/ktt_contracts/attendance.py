"""Events published by the attendance service (``ktt.attendance.*``).

They carry the pseudonymous ``client_id``, never the hetu (DATA-4), and no health details beyond
the absence reason the guideline needs (ATT-1, ATT-3).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "attendance"

AbsenceReason = Literal[
    "sick_with_certificate", "sick_without_certificate", "doctor_visit", "child_illness", "job_interview",
    "other_authorised", "unauthorised", "sent_away_influence",
]


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


AbsenceReported = EventType(SERVICE, "AbsenceReported", 1, AbsenceReportedPayload,
                            "A client's absence on an activity day was recorded in the daily log (ATT-1, ATT-3, ATT-7)")

EVENTS = [AbsenceReported]
