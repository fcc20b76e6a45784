"""Request and response models of the voucher service."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ktt_voucher.vouchers.rules import CheckReason


class VoucherOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    number: str
    decision_id: uuid.UUID
    client_id: uuid.UUID
    type: str
    state: str
    valid_from: dt.date
    valid_to: dt.date
    decided_on: dt.date | None = None
    decision_version: int
    language: str
    state_reason: str | None = Field(None, description="Why the voucher was refused, revoked, delayed...")
    created_at: dt.datetime
    updated_at: dt.datetime


class VoucherEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    actor: str
    on_date: dt.date
    at: dt.datetime
    details: dict[str, Any] | None = None


class VoucherDetailOut(VoucherOut):
    history: list[VoucherEventOut] = Field(default_factory=list, description="State transitions and validity changes")


class VoucherCheckOut(BaseModel):
    """VOU-5: a provider's check. Never the hetu nor any personal data of the client."""

    number: str = Field(description="The number as read (canonical form when its shape is right)")
    valid: bool
    reason: CheckReason | None = Field(None, description="Why not valid")
    reason_text: str | None = None
    checked_on: dt.date
    type: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class RefuseIn(BaseModel):
    """VOU-4: the client refuses the voucher."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="The client's reason, kept with the voucher")


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_days: int | None = Field(None, ge=1, le=366, description="Days the link works (default VOUCHER_LINK_TTL_DAYS)")
    representative_id: uuid.UUID | None = Field(None, description="Make the link for the client's authorised representative (VOU-9)")


class LinkOut(BaseModel):
    """VOU-2: the personal link. The token appears only here, once; it is stored as a hash."""

    voucher_id: uuid.UUID
    url: str = Field(description="Path of the HTML page; give it to the client")
    pdf_url: str
    expires_at: dt.datetime


class RefusalOut(BaseModel):
    voucher_id: uuid.UUID
    number: str
    state: Literal["refused"]
    reason: str | None
    changed: bool = Field(description="False when the voucher had been refused already (nothing new happened)")
