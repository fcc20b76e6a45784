"""Response bodies of TE-office start notices (DEC-6); the hetu only in the audited detail."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class StartNoticeOut(BaseModel):
    """A TE-office start notice (DEC-6), without the hetu."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    first_name: str
    last_name: str
    voucher_id: uuid.UUID
    decision_id: uuid.UUID
    agreement_id: uuid.UUID | None
    started_on: dt.date
    provider_id: str | None
    provider_name: str | None
    unit_id: str | None
    unit_name: str | None
    form: str | None
    days_per_week: int | None
    hours_per_day: Decimal | None
    status: str
    created_at: dt.datetime
    sent_on: dt.date | None
    sent_by: str | None



class StartNoticeDetailOut(StartNoticeOut):
    """One notice for the official who sends it: with the hetu the TE office needs (read is audited)."""

    hetu: str
