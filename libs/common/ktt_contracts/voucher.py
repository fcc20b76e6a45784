"""Events published by the voucher service (``ktt.voucher.*``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel

from ktt_common.events import EventType

SERVICE = "voucher"


class VoucherIssuedPayload(BaseModel):
    voucher_id: uuid.UUID
    number: str
    decision_id: uuid.UUID
    client_id: uuid.UUID
    type: Literal["regular", "assessment_period", "intensive_coaching"]
    valid_from: dt.date
    valid_to: dt.date


VoucherIssued = EventType(SERVICE, "VoucherIssued", 1, VoucherIssuedPayload, "A voucher was issued on a decision (DEC-1, VOU-1)")

EVENTS = [VoucherIssued]
