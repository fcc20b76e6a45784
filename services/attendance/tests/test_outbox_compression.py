"""The attendance outbox's envelopes (a daily-log batch writes ~1.6 MB of them) are compressed by lz4 on
PostgreSQL (migration 0010; pglz took 2.5x as long to insert them, docs/benchmarks.md). On SQLite (no
TOAST) and on a PostgreSQL built without lz4 the migration changes nothing: envelopes are stored as before."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine


async def test_outbox_envelopes_are_stored_lz4_compressed(databases: Callable[[str], Awaitable[str]], db_backend: str) -> None:
    engine = create_async_engine(await databases("attendance"))
    # An envelope the size of an AttendanceRecorded of a month (over PostgreSQL's TOAST threshold).
    envelope = json.dumps({"data": {"days": [{"date": f"2027-03-{d:02d}", "kind": "present", "hours": 5.0} for d in range(1, 29)] * 3}})
    try:
        async with engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO outbox (event_id, subject, event_type, envelope, created_at, attempts) "
                "VALUES (:id, 'ktt.attendance.AttendanceRecorded', 'ktt.attendance.AttendanceRecorded.v1', :envelope, "
                "CURRENT_TIMESTAMP, 0)"), {"id": str(uuid.uuid4()) if db_backend == "sqlite" else uuid.uuid4(), "envelope": envelope})
            assert (await conn.execute(text("SELECT envelope FROM outbox"))).scalar_one() == envelope
            if db_backend == "postgresql":
                lz4 = (await conn.execute(text(
                    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"))).scalar()
                compression = (await conn.execute(text("SELECT pg_column_compression(envelope) FROM outbox"))).scalar_one()
                assert compression == ("lz4" if lz4 else "pglz")
    finally:
        await engine.dispose()
