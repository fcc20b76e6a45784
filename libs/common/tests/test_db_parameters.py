"""SQL parameters never reach an error text or a log (issue 13 defect 5): every engine that
ktt_common.db makes hides them, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ktt_common.db import create_engine

SECRET = "hetu-like-131052-308T-never-logged"


async def test_a_failing_statement_does_not_carry_its_parameters(empty_database: Callable[[], Awaitable[str]]) -> None:
    engine = create_engine(await empty_database())
    try:
        assert engine.sync_engine.hide_parameters is True
        with pytest.raises(DBAPIError) as info:
            async with engine.begin() as conn:
                await conn.execute(text("SELECT * FROM no_such_table WHERE x = :p"), {"p": SECRET})
        assert SECRET not in str(info.value)
        assert "hidden" in str(info.value)  # SQLAlchemy says so instead of printing them
    finally:
        await engine.dispose()
