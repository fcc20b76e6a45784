"""The voucher service's metadata and infrastructure tables; sub-domain models import ``Base`` from here."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from ktt_common.db import new_metadata
from ktt_common.infra import define_infra_tables


class Base(DeclarativeBase):
    metadata = new_metadata()


INFRA = define_infra_tables(Base.metadata)
