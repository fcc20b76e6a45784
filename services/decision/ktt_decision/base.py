"""The decision service's metadata and infrastructure tables; sub-domain models import ``Base`` from here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import DeclarativeBase

from ktt_common.db import new_metadata
from ktt_common.infra import define_infra_tables


def Sealable(length: int) -> Any:
    """A column that holds a value sealed under the client's data key (ktt_decision.sealing): unbounded text
    on PostgreSQL (a sealed value is about twice as long), the given length where it is not enforced."""
    return String(length).with_variant(Text(), "postgresql")


class Base(DeclarativeBase):
    metadata = new_metadata()



INFRA = define_infra_tables(Base.metadata)
