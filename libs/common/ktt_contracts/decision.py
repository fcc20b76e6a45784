"""Events published by the decision service (``ktt.decision.*``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "decision"

VoucherKind = Literal["regular", "assessment_period", "intensive_coaching"]


class DecisionMadePayload(BaseModel):
    """A new KTT decision. Carries the pseudonymous client id only, never the hetu (DATA-4)."""

    decision_id: uuid.UUID
    client_id: uuid.UUID
    source_system: str
    source_id: str
    version: int
    decided_on: dt.date
    period_start: dt.date
    period_end: dt.date
    form: Literal["individual", "group"]
    benefit_basis: Literal["labour_market_subsidy", "unemployment_allowance", "social_assistance"]
    voucher_kind: VoucherKind = Field(description="Derived from the decision's special service (DEC-3, VOU-1)")
    approved_hours: int | None = Field(None, description="Intensive coaching only")
    case_worker_office: Literal["typake", "social_work"]
    language: str


DecisionMade = EventType(SERVICE, "DecisionMade", 1, DecisionMadePayload, "A KTT decision was made (DEC-1..DEC-3)")

EVENTS = [DecisionMade]
