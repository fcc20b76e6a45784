"""The attendance outbox's envelopes (a daily-log batch writes ~1.6 MB of them) are compressed by lz4 on
PostgreSQL (migration 0010; pglz took 2.5x as long to insert them, docs/benchmarks.md)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def test_outbox_envelopes_are_stored_lz4_compressed(databases: Callable[[str], Awaitable[str]], db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("TOAST compression is PostgreSQL's")
    engine = create_async_engine(await databases("attendance"))
    try:
        async with engine.begin() as conn:
            if not (await conn.execute(text(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"))).scalar():
                pytest.skip("this PostgreSQL was built without lz4")
            # An envelope the size of an AttendanceRecorded of a month (over the TOAST threshold).
            envelope = json.dumps({"data": {"days": [{"date": f"2027-03-{d:02d}", "kind": "present", "hours": 5.0} for d in range(1, 29)] * 3}})
            await conn.execute(text(
                "INSERT INTO outbox (event_id, subject, event_type, envelope, created_at, attempts) "
                "VALUES (:id, 'ktt.attendance.AttendanceRecorded', 'ktt.attendance.AttendanceRecorded.v1', :envelope, now(), 0)"),
                {"id": uuid.uuid4(), "envelope": envelope})
            stored = (await conn.execute(text("SELECT pg_column_compression(envelope), envelope FROM outbox"))).one()
    finally:
        await engine.dispose()
    assert stored == ("lz4", envelope)
