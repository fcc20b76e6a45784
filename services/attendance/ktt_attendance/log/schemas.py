"""Request and response models of the daily log.

An entry's fields depend on its kind; a field that belongs to another kind, or a missing one the
kind needs, makes the batch malformed (nothing is written, every bad row is named). Domain rules
(hours, weekly limits, schedules...) reject single entries instead."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ktt_contracts.attendance import AbsenceReason, DeviationKind, EntryKind, NotOrganisedReason

Status = Literal["accepted", "unchanged", "revised", "rejected"]

PRESENT_FIELDS = {"start", "end", "hours", "tasks", "coaching_hours", "content"}
ABSENT_FIELDS = {"reason", "certificate", "same_day_contact"}
NOT_ORGANISED_FIELDS = {"not_organised_reason"}
COLUMNS = ("agreement_id", "date", "kind", "start", "end", "hours", "tasks", "note", "deviation", "reason", "certificate",
           "same_day_contact", "not_organised_reason", "coaching_hours", "content", "correction")


class EntryIn(BaseModel):
    """One client-day of the daily log (ATT-1)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    agreement_id: uuid.UUID
    date: dt.date  # unbounded here: each entry's date is judged by its own rules (ATT-1, AGR-4)
    kind: EntryKind = Field(description="present, absent, or not_organised (a public holiday or a provider closure)")
    start: dt.time | None = Field(None, description="present: clock time the day started")
    end: dt.time | None = Field(None, description="present: clock time the day ended")
    hours: float | None = Field(None, gt=0, le=24, description="present: realised hours (travel excluded); "
                                                                   "instead of or beside start/end")
    tasks: str | None = Field(None, max_length=2000, description="present: the tasks done")
    note: str | None = Field(None, max_length=2000)
    deviation: DeviationKind | None = Field(None, description="a deviation recorded beforehand for this day (AGR-14)")
    reason: AbsenceReason | None = Field(None, description="absent: why (ATT-3, ATT-8)")
    certificate: bool | None = Field(None, description="absent: a certificate was shown (ATT-3)")
    same_day_contact: bool | None = Field(None, description="absent: the provider reached the client that day (ATT-4)")
    not_organised_reason: NotOrganisedReason | None = Field(
        None, description="not_organised: public_holiday (default on a holiday) or provider_closure (AGR-9)")
    coaching_hours: float | None = Field(None, ge=0, le=24, description="present: coaching hours (ATT-2, VOU-7)")
    content: str | None = Field(None, max_length=2000, description="present: coaching content (VOU-7)")
    correction: bool = Field(False, description="a change to a month already confirmed (ATT-10); flagged for billing")

    @model_validator(mode="after")
    def _fields_of_the_kind(self) -> EntryIn:
        # Run for each of up to 5,000 entries: only the given fields of the other kinds are looked at
        # (in the common case, none: a test without building anything).
        if not self.__pydantic_fields_set__.isdisjoint(_FOREIGN[self.kind]):
            foreign = sorted(name for name in self.__pydantic_fields_set__ & _FOREIGN[self.kind] if getattr(self, name) is not None)
            if foreign:
                raise ValueError(f"{', '.join(foreign)} do{'es' if len(foreign) == 1 else ''} not belong to a {self.kind} entry")
        if self.kind == "present":
            if (self.start is None) != (self.end is None):
                raise ValueError("give both start and end, or neither")
            if self.start is not None and self.end is not None and self.end <= self.start:
                raise ValueError("end is not after start")
            if self.hours is None and self.start is None and self.coaching_hours is None:
                raise ValueError("a present entry needs hours, or start and end")
        elif self.kind == "absent" and self.reason is None:
            raise ValueError("an absent entry needs a reason")
        if self.kind == "not_organised" and self.deviation is not None:
            raise ValueError("deviation does not belong to a not_organised entry")
        return self


_ALL_KIND_FIELDS = PRESENT_FIELDS | ABSENT_FIELDS | NOT_ORGANISED_FIELDS
_FOREIGN = {"present": _ALL_KIND_FIELDS - PRESENT_FIELDS, "absent": _ALL_KIND_FIELDS - ABSENT_FIELDS,
            "not_organised": _ALL_KIND_FIELDS - NOT_ORGANISED_FIELDS}


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entries: list[EntryIn]


class EntryResult(BaseModel):
    index: int = Field(description="Position of the entry in the batch, from 0")
    status: Status
    entry_id: uuid.UUID | None = None
    revision: int | None = None
    correction: bool | None = Field(None, description="The entry changes a confirmed month (ATT-10)")
    rule: str | None = None
    message: str | None = None


class BatchOut(BaseModel):
    batch_id: uuid.UUID
    results: list[EntryResult]
    counts: dict[Status, int]


class EntryOut(BaseModel):
    id: uuid.UUID
    agreement_id: uuid.UUID
    client_id: uuid.UUID
    unit_id: uuid.UUID
    date: dt.date
    kind: str
    start: dt.time | None = None
    end: dt.time | None = None
    hours: float | None = None
    tasks: str | None = None
    note: str | None = None
    deviation: str | None = None
    reason: str | None = None
    certificate: bool | None = None
    authorised: bool | None = None
    same_day_contact: bool | None = None
    not_organised_reason: str | None = None
    coaching_hours: float | None = None
    content: str | None = None
    realised: bool
    correction: bool
    revision: int = Field(description="How many versions the entry has had (1: never revised)")
    recorded_at: dt.datetime
    recorded_by: str


class EntryPage(BaseModel):
    items: list[EntryOut]
    total: int
    limit: int
    offset: int


class RevisionOut(BaseModel):
    revision: int
    facts: dict[str, Any]
    changes: dict[str, Any] | None
    correction: bool
    batch_id: uuid.UUID
    recorded_at: dt.datetime
    recorded_by: str
