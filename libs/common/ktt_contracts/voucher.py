"""Events published by the voucher service (``ktt.voucher.*``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType

SERVICE = "voucher"

VoucherType = Literal["regular", "assessment_period", "intensive_coaching"]
VoucherState = Literal["issued", "in_use", "delayed", "expired", "cancelled", "refused", "revoked"]


class VoucherFacts(BaseModel):
    voucher_id: uuid.UUID
    number: str
    decision_id: uuid.UUID
    client_id: uuid.UUID
    type: VoucherType
    state: VoucherState
    valid_from: dt.date
    valid_to: dt.date


class VoucherIssuedPayload(VoucherFacts):
    """A voucher was issued on a decision (DEC-1, VOU-1)."""


class VoucherValidityChangedPayload(VoucherFacts):
    """The decision was amended and the voucher's validity moved with it (DEC-7)."""

    previous_valid_from: dt.date
    previous_valid_to: dt.date
    decision_version: int
    previous_type: VoucherType | None = Field(
        None, description="Set when the amendment also changed the voucher type (only before the voucher is in use)")


class VoucherStateChangedPayload(VoucherFacts):
    """The voucher changed state (revoked with its decision, refused by the client, delayed, expired...)."""

    previous_state: VoucherState
    reason: str | None = None
    changed_on: dt.date


class ServiceStartedPayload(BaseModel):
    """A client's service started under a voucher: the first scheduled day came (DEC-6, VOU-3)."""

    client_id: uuid.UUID
    voucher_id: uuid.UUID
    decision_id: uuid.UUID
    agreement_id: uuid.UUID | None = None
    provider_id: str | None = None
    provider_name: str | None = None
    unit_id: str | None = None
    unit_name: str | None = None
    started_on: dt.date
    form: Literal["individual", "group"] | None = None
    days_per_week: int | None = Field(None, ge=1, le=4)
    hours_per_day: float | None = None


VoucherIssued = EventType(SERVICE, "VoucherIssued", 1, VoucherIssuedPayload, "A voucher was issued on a decision (DEC-1, VOU-1)")
VoucherValidityChanged = EventType(SERVICE, "VoucherValidityChanged", 1, VoucherValidityChangedPayload,
                                   "A voucher's validity followed an amended decision (DEC-7)")
VoucherRevoked = EventType(SERVICE, "VoucherRevoked", 1, VoucherStateChangedPayload, "A voucher was revoked with its decision (DEC-1, DEC-7)")
VoucherRefused = EventType(SERVICE, "VoucherRefused", 1, VoucherStateChangedPayload,
                           "The client refused the voucher; the decision stands (VOU-4, DEC-9)")
VoucherStateChanged = EventType(SERVICE, "VoucherStateChanged", 1, VoucherStateChangedPayload,
                                "Any other voucher state change: delayed, expired, in use (VOU-3)")
ServiceStarted = EventType(SERVICE, "ServiceStarted", 1, ServiceStartedPayload, "A client's service started (DEC-6, VOU-3)")

EVENTS: list[EventType[Any]] = [VoucherIssued, VoucherValidityChanged, VoucherRevoked, VoucherRefused, VoucherStateChanged, ServiceStarted]
