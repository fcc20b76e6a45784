"""Set-based writes (ktt_common.bulk) on a real database, SQLite and PostgreSQL: rows and columns
give the same table; a column of one repeated value or of NULLs (sent once, not as an array, on
PostgreSQL) is stored in every row; an upsert replaces the updated columns, NULLs included."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Identity, Integer, String, Table, UniqueConstraint, Uuid, select

from ktt_common import bulk
from ktt_common.db import UTCDateTime, create_engine, create_sessionmaker, new_metadata

metadata = new_metadata()
things = Table(
    "bulk_thing", metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner", String(20), nullable=False),
    Column("day", Date, nullable=False),
    Column("count", Integer),
    Column("flag", Boolean),
    Column("note", String(100)),
    Column("facts", JSON),
    Column("at", UTCDateTime),
    UniqueConstraint("owner", "day"),
)
numbered = Table(
    "bulk_numbered", metadata,
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), Identity(), primary_key=True),
    Column("name", String(20), nullable=False),
)

AT = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


async def _rows(sessionmaker) -> list[tuple]:
    async with sessionmaker() as session:
        return [tuple(r) for r in (await session.execute(
            select(things.c.owner, things.c.day, things.c.count, things.c.flag, things.c.note, things.c.facts, things.c.at)
            .order_by(things.c.owner, things.c.day))).all()]


@pytest.fixture
async def database(empty_database):
    engine = create_engine(await empty_database())
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_columns_with_repeated_values_and_nulls_store_every_row(database):
    days = [dt.date(2027, 3, d) for d in range(1, 6)]
    same_facts = {"kind": "present"}
    async with database() as session, session.begin():
        await bulk.write_columns(session, things, {
            "id": [uuid.uuid4() for _ in days], "owner": ["a"] * 5, "day": days, "count": [1, 2, 3, 4, 5],
            "flag": [True] * 5, "note": [None] * 5, "facts": [same_facts] * 5, "at": [AT] * 5})
    rows = await _rows(database)
    assert rows == [("a", d, i + 1, True, None, {"kind": "present"}, AT) for i, d in enumerate(days)]


async def test_upsert_from_columns_replaces_updated_columns_including_nulls(database):
    days = [dt.date(2027, 3, 1), dt.date(2027, 3, 2)]
    async with database() as session, session.begin():
        await bulk.write_rows(session, things, [
            {"id": uuid.uuid4(), "owner": "a", "day": d, "count": 7, "flag": False, "note": "first", "facts": {"v": 1}, "at": AT}
            for d in days])
    later = AT + dt.timedelta(days=1)
    async with database() as session, session.begin():
        await bulk.write_columns(session, things, {
            "id": [uuid.uuid4(), uuid.uuid4(), uuid.uuid4()], "owner": ["a", "a", "b"], "day": [*days, days[0]],
            "count": [None, None, None], "flag": [True, None, True], "note": ["second", "second", None],
            "facts": [None] * 3, "at": [later] * 3},
            conflict=("owner", "day"), update=("count", "flag", "note", "facts", "at"))
    assert await _rows(database) == [
        ("a", days[0], None, True, "second", None, later),
        ("a", days[1], None, None, "second", None, later),
        ("b", days[0], None, True, None, None, later),
    ]


async def test_columns_of_different_lengths_are_refused_before_anything_is_written(database):
    async with database() as session, session.begin():
        with pytest.raises(ValueError, match="different lengths"):
            await bulk.write_columns(session, things, {"id": [uuid.uuid4()], "owner": ["a", "b"], "day": [dt.date(2027, 3, 1)]})
    assert await _rows(database) == []


async def test_ordered_rows_are_numbered_in_the_given_order(database):
    # The outbox relies on it: ``seq`` (an identity) is the publication order of emit_many's events.
    async with database() as session, session.begin():
        names = [f"n{(i * 7919) % 1000:03d}" for i in range(1000)]  # not in sorted order
        await bulk.write_rows(session, numbered, [{"name": n} for n in names], ordered=True)
    async with database() as session:
        stored = [r.name for r in (await session.execute(select(numbered.c.name).order_by(numbered.c.seq))).all()]
    assert stored == names


def test_new_row_ids_are_version_7_and_a_later_calls_sort_after_an_earlier_ones():
    before_ms = time.time_ns() // 1_000_000
    first = bulk.new_row_ids(500)
    second = bulk.new_row_ids(500)  # most likely within the same millisecond: the counter orders them
    after_ms = time.time_ns() // 1_000_000
    assert len(set(first + second)) == 1000
    assert {(u.version, u.variant) for u in first + second} == {(7, uuid.RFC_4122)}
    assert all(before_ms <= u.int >> 80 <= after_ms for u in first + second)  # the Unix time in milliseconds
    assert first == sorted(first) and max(first) < min(second)
    # Plain UUIDs (a subclass, such as asyncpg's, is written to JSON by pydantic_core's slow path), equal to themselves parsed.
    assert all(type(u) is uuid.UUID and uuid.UUID(str(u)) == u and hash(u) == hash(uuid.UUID(str(u))) for u in first)


async def test_new_row_ids_are_stored_and_read_back_as_the_same_uuids(database):
    ids = bulk.new_row_ids(3)
    async with database() as session, session.begin():
        await bulk.write_columns(session, things, {"id": ids, "owner": ["a"] * 3, "day": [dt.date(2027, 3, d) for d in (1, 2, 3)]})
    async with database() as session:
        stored = [r.id for r in (await session.execute(select(things.c.id).order_by(things.c.day))).all()]
    assert stored == ids
