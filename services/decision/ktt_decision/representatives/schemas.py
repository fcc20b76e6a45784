"""Request and response bodies of representatives (VOU-9)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ktt_common.bounds import BoundedDate, DateRange, Email, Strict
from ktt_contracts.decision import RepresentativeScope


class RepresentativeIn(BaseModel):
    """A representative (asiainhoitaja) the client authorised (VOU-9). No hetu is collected (DATA-4)."""

    model_config = Strict
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: Email | None = None
    relation: str | None = Field(None, max_length=200, description="Free text, e.g. sister, guardian, friend")
    authorised_on: Annotated[dt.date, DateRange("VOU-9")] = Field(description="Day the client authorised the representative; not in the future")
    valid_until: BoundedDate | None = Field(None, description="Last day of the authorisation; none: until withdrawn")
    scope: list[RepresentativeScope] = Field(min_length=1, max_length=3,
                                             description="What the representative may do for the client")



class RepresentativeWithdrawIn(BaseModel):
    model_config = Strict
    withdrawn_on: BoundedDate | None = Field(None, description="Defaults to today")



class RepresentativeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    client_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None
    relation: str | None
    scope: list[str]
    authorised_on: dt.date
    valid_until: dt.date | None
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn_on: dt.date | None
    withdrawn_by: str | None
    active: bool = Field(False, description="The representative acts for the client today (VOU-9)")
