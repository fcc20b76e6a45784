"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, distinct, func, literal
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common import db
from ktt_common.db import dialect_name


def dialect(session: AsyncSession) -> str:
    return dialect_name(session)


insert_for = db.insert_for  # one per-dialect INSERT … ON CONFLICT, in ktt_common.db


def month_of(session: AsyncSession, column: Any) -> Any:
    """``YYYY-MM`` of a date column."""
    if dialect(session) == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def distinct_strings(session: AsyncSession, column: Any) -> Any:
    """The distinct values of a column in a group, comma-separated (an aggregate; a UUID comes out
    canonical, 36 characters, on PostgreSQL and as the 32 hex digits SQLite stores, for ``uuid.UUID``)."""
    if dialect(session) == "postgresql":
        return func.string_agg(distinct(cast(column, Text)), literal(","))
    return func.group_concat(distinct(column))
