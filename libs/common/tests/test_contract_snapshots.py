"""Issue 12 item 4: contracts cannot break silently. Every published event type has a frozen
schema snapshot, and the current schema is compatible with it (ktt_contracts.compat)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel

from ktt_contracts.compat import breaking_changes
from ktt_contracts.snapshots import problems


def test_every_published_event_type_matches_its_frozen_snapshot():
    found = problems()
    assert found == {}, "event contracts changed incompatibly or lack a snapshot (make contracts): " + repr(found)


class Item(BaseModel):
    sku: str
    count: int


class V1(BaseModel):
    agreement_id: uuid.UUID
    ended_on: dt.date
    kind: Literal["fixed_term", "early"]
    note: str | None = None
    items: list[Item] = []


def _breaks(new: type[BaseModel]) -> list[str]:
    return breaking_changes(V1.model_json_schema(), new.model_json_schema())


def test_a_new_optional_field_or_description_is_compatible():
    class WithRevision(V1):
        revision: int | None = None

    assert _breaks(V1) == []
    assert _breaks(WithRevision) == []


def test_breaking_changes_are_each_named():
    class Removed(BaseModel):
        agreement_id: uuid.UUID
        kind: Literal["fixed_term", "early"]
        note: str | None = None
        items: list[Item] = []

    class NewRequired(V1):
        revision: int

    class Retyped(V1):
        ended_on: dt.datetime  # type: ignore[assignment]

    class Widened(V1):
        kind: Literal["fixed_term", "early", "provider_removed"]  # type: ignore[assignment]

    class Loosened(V1):
        ended_on: dt.date | None = None  # type: ignore[assignment]

    class ItemV2(BaseModel):
        sku: str
        count: str

    class NestedRetyped(V1):
        items: list[ItemV2] = []  # type: ignore[assignment]

    assert _breaks(Removed) == ["data.ended_on: removed"]
    assert _breaks(NewRequired) == ["data.revision: new required field (events already published lack it): make it optional"]
    assert _breaks(Retyped) == ['data.ended_on: type changed from "string" format=date to "string" format=date-time']
    assert len(_breaks(Widened)) == 1 and "data.kind: type changed" in _breaks(Widened)[0]
    assert "data.ended_on: no longer required (consumers of the published version need it)" in _breaks(Loosened)
    assert _breaks(NestedRetyped) == ['data.items[].count: type changed from "integer" to "string"']
