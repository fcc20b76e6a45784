"""Response bodies of refusals and interruptions (DEC-9)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ClientFlagOut(BaseModel):
    """A refusal or interruption on the client's record (DEC-9). No sanction is computed."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    kind: str
    occurred_on: dt.date
    reason: str | None
    voucher_id: uuid.UUID | None
    decision_id: uuid.UUID | None
    source_event_id: str
    source_event_type: str
    details: dict[str, Any]
    created_at: dt.datetime
    cleared_on: dt.date | None = Field(None, description="Set when a later correction made it no refusal (e.g. an "
                                                           "absence authorised after all)")
    cleared_reason: str | None = None
