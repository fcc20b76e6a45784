"""Tables of refusals and interruptions (DEC-9) and the absence revisions they are derived from."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_decision.base import Base


class ClientFlag(Base):
    """A refusal or interruption recorded on a client for the case worker (DEC-9).

    Kinds: ``not_started`` (voucher delayed past the VOU-3 deadlines, or expired unused),
    ``interrupted`` (agreement ended early as unsuitable, mutually or by the client, AGR-13) and
    ``unauthorised_absence`` (ATT-7). A refused voucher is not one (VOU-4).
    ``source_event_id`` is unique, so a redelivered event adds nothing; ``source_key`` names the
    fact (``voucher:<id>:delayed``, ``agreement:<id>:ended``, ``absence:<entry id>``) and is unique
    too, so the same fact published anew adds nothing either. An absence corrected to authorised
    in a later revision is cleared (``cleared_on``, ``cleared_reason``), not deleted. Nothing here
    computes a sanction: the case worker assesses each case individually (DEC-9, §9.2-9.5)."""

    __tablename__ = "client_flag"
    __table_args__ = (UniqueConstraint("source_event_id"), UniqueConstraint("source_key"),
                      Index("ix_client_flag_client", "client_id", "occurred_on"))

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    source_event_id: Mapped[str] = mapped_column(String(100))
    source_event_type: Mapped[str] = mapped_column(String(200))
    source_key: Mapped[str | None] = mapped_column(String(200))
    voucher_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cleared_on: Mapped[dt.date | None] = mapped_column(Date)
    cleared_reason: Mapped[str | None] = mapped_column(Text)



class AbsenceRevision(Base):
    """The latest revision of each daily-log absence entry seen (AbsenceReported), so that a
    correction handled before the report it corrects cannot be undone by it (ATT-7, DEC-9)."""

    __tablename__ = "absence_revision"

    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    client_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    revision: Mapped[int] = mapped_column(Integer)
    authorised: Mapped[bool] = mapped_column(Boolean)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
