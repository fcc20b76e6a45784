"""Events published by the billing service (``ktt.billing.*``).

A settlement (the invoice of one provider for one month) moves draft → under_review → approved →
settled → paid; holds (BIL-2, BIL-3, payment details) are published with their reasons. Money is
integer cents; no client data beyond pseudonymous ids (DATA-4), and no client fee (BIL-4, DEC-5).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "billing"

SettlementState = Literal["draft", "under_review", "approved", "settled", "paid"]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class HoldReason(BaseModel):
    rule: str = Field(description="BIL-2 (month not confirmed), BIL-3 (report missing) or PAY (payment details)")
    reason: str
    unit_id: uuid.UUID | None = None
    agreement_id: uuid.UUID | None = None


class InvoiceFacts(BaseModel):
    settlement_id: uuid.UUID
    provider_id: str
    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM the settlement is for")
    state: SettlementState
    total_cents: int = Field(description="Sum of the lines, integer cents; never a client fee (BIL-4)")
    line_count: int


class InvoiceCreatedPayload(InvoiceFacts):
    """A provider's settlement for a month was computed after the month ended (BIL-1, BIL-6, VOU-7)."""

    created_on: dt.date


class InvoiceHeldPayload(InvoiceFacts):
    """A settlement is held: the month is not confirmed (BIL-2), a required report is missing (BIL-3),
    or the provider's payment details are not valid."""

    held_on: dt.date
    reasons: list[HoldReason]


class InvoiceReleasedPayload(InvoiceFacts):
    """Every hold of a settlement was lifted; it goes to review."""

    released_on: dt.date


class InvoiceApprovedPayload(InvoiceFacts):
    """A city official approved the settlement."""

    approved_on: dt.date
    approved_by: str


class InvoiceSettledPayload(InvoiceFacts):
    """The settlement day came: the approved settlement is settled and can no longer change;
    later corrections go to a later settlement."""

    settled_on: dt.date


class InvoicePaidPayload(InvoiceFacts):
    """The payment batch that carried the settlement was marked paid."""

    paid_on: dt.date
    payment_batch_id: uuid.UUID


class PaymentBatchCreatedPayload(BaseModel):
    """A payment batch of approved settlements was made and numbered (pain.001 and ledger CSV)."""

    payment_batch_id: uuid.UUID
    number: int
    created_on: dt.date
    execution_date: dt.date
    settlement_ids: list[uuid.UUID]
    total_cents: int
    held_settlement_ids: list[uuid.UUID] = Field(default_factory=list,
                                                 description="Settlements left out because the provider's payment details are not valid")


class DisputeResolvedPayload(BaseModel):
    """A city official answered a provider's dispute of a settlement line."""

    dispute_id: uuid.UUID
    settlement_id: uuid.UUID
    line_id: uuid.UUID
    provider_id: str
    outcome: Literal["accepted", "rejected"]
    resolved_on: dt.date


InvoiceCreated = EventType(SERVICE, "InvoiceCreated", 1, InvoiceCreatedPayload,
                           "A provider's monthly settlement was computed (BIL-1, BIL-6, VOU-7)")
InvoiceHeld = EventType(SERVICE, "InvoiceHeld", 1, InvoiceHeldPayload,
                        "A settlement is held with its reasons (BIL-2, BIL-3, payment details)")
InvoiceReleased = EventType(SERVICE, "InvoiceReleased", 1, InvoiceReleasedPayload,
                            "Every hold of a settlement was lifted (BIL-2, BIL-3)")
InvoiceApproved = EventType(SERVICE, "InvoiceApproved", 1, InvoiceApprovedPayload,
                            "A city official approved a settlement")
InvoiceSettled = EventType(SERVICE, "InvoiceSettled", 1, InvoiceSettledPayload,
                           "An approved settlement was settled on the settlement day")
InvoicePaid = EventType(SERVICE, "InvoicePaid", 1, InvoicePaidPayload,
                        "A settlement was paid with its payment batch")
PaymentBatchCreated = EventType(SERVICE, "PaymentBatchCreated", 1, PaymentBatchCreatedPayload,
                                "A payment batch of settlements was made (pain.001, purchase ledger)")
DisputeResolved = EventType(SERVICE, "DisputeResolved", 1, DisputeResolvedPayload,
                            "A provider's dispute of a settlement line was accepted or rejected")

EVENTS: list[EventType[Any]] = [InvoiceCreated, InvoiceHeld, InvoiceReleased, InvoiceApproved, InvoiceSettled, InvoicePaid, PaymentBatchCreated,
          DisputeResolved]
