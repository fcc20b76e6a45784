"""Small SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_*`` for the session's backend."""
    return (postgresql.insert if dialect(session) == "postgresql" else sqlite.insert)(table)


def month_of(session: AsyncSession, column: Any) -> Any:
    """``YYYY-MM`` of a date column."""
    if dialect(session) == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)
