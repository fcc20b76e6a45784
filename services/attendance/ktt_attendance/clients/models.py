"""What the attendance service keeps of a client: the benefit basis and language of the latest
decision (from the decision service's events), and who pays the benefit (DEC-3, DEC-5, ATT-6)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from ktt_common.db import UTCDateTime

from ktt_attendance.base import Base


class ClientCopy(Base):
    __tablename__ = "client_copy"

    client_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    decision_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    decision_version: Mapped[int | None] = mapped_column(Integer)
    benefit_basis: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(10))
    # REP-4 / AGR-5: typake or social_work; a social worker also receives the final evaluation.
    case_worker_office: Mapped[str | None] = mapped_column(String(20))
    # ATT-6: Kela, or an unemployment fund for an earnings-related allowance; set by an official
    # when it differs from what the benefit basis implies.
    benefit_payer: Mapped[str | None] = mapped_column(String(30))
    fund_name: Mapped[str | None] = mapped_column(String(200))
    facts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    def payer(self) -> str | None:
        """ATT-6: who the TT3 notice goes to. Labour-market subsidy: Kela; unemployment allowance:
        the unemployment fund (the earnings-related allowance) unless an official says Kela; social
        assistance is no unemployment benefit (None: no TT3)."""
        if self.benefit_payer:
            return self.benefit_payer
        return {"labour_market_subsidy": "kela", "unemployment_allowance": "unemployment_fund"}.get(self.benefit_basis or "")
