"""Events published by the decision service (``ktt.decision.*``).

They carry the pseudonymous ``client_id``, never the hetu (DATA-4).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "decision"

VoucherKind = Literal["regular", "assessment_period", "intensive_coaching"]
Form = Literal["individual", "group"]
BenefitBasis = Literal["labour_market_subsidy", "unemployment_allowance", "social_assistance"]
Office = Literal["typake", "social_work"]


class DecisionFacts(BaseModel):
    """What other services need to know of a decision version (a frozen copy travels with events)."""

    decision_id: uuid.UUID
    client_id: uuid.UUID
    source_system: str
    source_id: str
    version: int
    decided_on: dt.date
    received_on: dt.date | None = Field(
        None, description="Day the client received the decision; the VOU-3 deadlines (contact a provider within 7 days, "
                          "service started within 14) count from it. Always filled by the decision service (decided_on "
                          "when the client system sent none); optional only so that events published before it parse")
    period_start: dt.date
    period_end: dt.date
    form: Form
    benefit_basis: BenefitBasis
    voucher_kind: VoucherKind = Field(description="Derived from the decision's special service (DEC-3, VOU-1)")
    approved_hours: int | None = Field(None, description="Intensive coaching only (VOU-7)")
    case_worker_office: Office
    language: str = Field(description="Client's language: fi, sv or another ISO 639-1 code")


class DecisionMadePayload(DecisionFacts):
    """A new KTT decision (DEC-1..DEC-3)."""


class FieldChange(BaseModel):
    old: Any = None
    new: Any = None


class DecisionAmendedPayload(DecisionFacts):
    """A higher version of a decision arrived (DEC-7): the new facts and what changed."""

    previous_version: int
    changes: dict[str, FieldChange] = Field(description="Changed fields of the decision, old and new values")
    personal_fields_changed: list[str] = Field(
        default_factory=list,
        description="Changed fields holding personal data or free text (client contact data, case worker, "
                    "justifications): named only, their values are read from the decision service (DATA-3)",
    )


class DecisionRevokedPayload(BaseModel):
    """A decision was revoked (DEC-7): its voucher and any agreement follow (DEC-1)."""

    decision_id: uuid.UUID
    client_id: uuid.UUID
    revoked_on: dt.date
    reason: str


class ConsentRecordedPayload(BaseModel):
    """The client's written consent to share plan data with a provider (DATA-1)."""

    consent_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    scope: list[str] = Field(description="What may be shared, e.g. plan, decision")
    given_on: dt.date
    valid_until: dt.date | None = None


class ConsentWithdrawnPayload(BaseModel):
    consent_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    withdrawn_on: dt.date


RepresentativeScope = Literal["choose_provider", "handle_voucher", "sign_agreement"]


class RepresentativeFacts(BaseModel):
    """A representative (asiainhoitaja) the client authorised to act for them (VOU-9). Never a hetu: the
    representative's is not collected (DATA-4); contact details stay in the decision service (DATA-3)."""

    representative_id: uuid.UUID
    client_id: uuid.UUID
    name: str
    scope: list[RepresentativeScope] = Field(
        description="What the representative may do for the client: choose_provider, handle_voucher, sign_agreement")
    authorised_on: dt.date = Field(description="Day the client authorised the representative")
    valid_until: dt.date | None = Field(None, description="Last day of the authorisation; none: until withdrawn")


class RepresentativeAuthorisedPayload(RepresentativeFacts):
    """The client authorised a representative to act for them (VOU-9)."""


class RepresentativeWithdrawnPayload(RepresentativeFacts):
    """The authorisation was withdrawn: from ``withdrawn_on`` the representative no longer acts for the client (VOU-9)."""

    withdrawn_on: dt.date


class ClientErasedPayload(BaseModel):
    """The retention period of a client has passed and the decision service erased their personal data
    (DATA-2, crypto-shredding). Every service holding copies erases or neutralises the personal data it
    keeps on the client (names, contact data, free-text notes) and keeps ids, dates and money figures
    for the accounts. Only the pseudonymous id travels: nothing personal (DATA-4)."""

    client_id: uuid.UUID


DecisionMade = EventType(SERVICE, "DecisionMade", 1, DecisionMadePayload, "A KTT decision was made (DEC-1..DEC-3)")
DecisionAmended = EventType(SERVICE, "DecisionAmended", 1, DecisionAmendedPayload, "A decision was amended by a higher version (DEC-7)")
DecisionRevoked = EventType(SERVICE, "DecisionRevoked", 1, DecisionRevokedPayload, "A decision was revoked (DEC-7, DEC-1)")
ConsentRecorded = EventType(SERVICE, "ConsentRecorded", 1, ConsentRecordedPayload, "Client consented to share plan data with a provider (DATA-1)")
ConsentWithdrawn = EventType(SERVICE, "ConsentWithdrawn", 1, ConsentWithdrawnPayload, "Client withdrew a plan-data consent (DATA-1)")

RepresentativeAuthorised = EventType(SERVICE, "RepresentativeAuthorised", 1, RepresentativeAuthorisedPayload,
                                     "The client authorised a representative (asiainhoitaja) to act for them (VOU-9)")
RepresentativeWithdrawn = EventType(SERVICE, "RepresentativeWithdrawn", 1, RepresentativeWithdrawnPayload,
                                    "A representative's authorisation was withdrawn (VOU-9)")

ClientErased = EventType(SERVICE, "ClientErased", 1, ClientErasedPayload,
                         "A client's personal data was erased after the retention period (DATA-2): erase the copies")

EVENTS: list[EventType[Any]] = [DecisionMade, DecisionAmended, DecisionRevoked, ConsentRecorded, ConsentWithdrawn, RepresentativeAuthorised,
          RepresentativeWithdrawn, ClientErased]
