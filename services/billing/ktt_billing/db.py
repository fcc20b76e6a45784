"""The billing service's metadata and infrastructure tables (outbox, inbox, dead letters, audit, job runs)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from ktt_common.db import new_metadata
from ktt_common.infra import define_infra_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


INFRA = define_infra_tables(Base.metadata)
