"""Set-based writes: one statement per table per batch, on both databases.

PostgreSQL gets one ``INSERT ... SELECT FROM unnest(<one array per column>)`` (a single round trip
and a handful of parameters however many rows); SQLite, embedded and without a network, one
prepared statement run over the rows (executemany). Both may upsert on a unique key.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Integer, String, Table, Text, Time, Uuid, func, literal_column, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from uuid_utils.compat import uuid7

from ktt_common.db import UTCDateTime, dialect_name


def _pg_array_type(column_type: Any) -> tuple[str, str | None]:
    """(array type of the parameter, cast applied in the select list)."""
    if isinstance(column_type, Uuid):
        return "uuid[]", None
    if isinstance(column_type, UTCDateTime):
        return "timestamptz[]", None
    if isinstance(column_type, Date):
        return "date[]", None
    if isinstance(column_type, Time):
        return "time[]", None
    if isinstance(column_type, Boolean):
        return "boolean[]", None
    if isinstance(column_type, Integer):
        return "bigint[]", "integer" if type(column_type) is Integer else None
    if isinstance(column_type, JSON):
        return "text[]", "json"
    if isinstance(column_type, (String, Text)):
        return "text[]", None
    raise TypeError(f"no array mapping for {column_type!r}")


def _pg_value(column_type: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column_type, JSON):
        return json.dumps(value)
    if isinstance(column_type, UTCDateTime) and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


async def write_rows(session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], *,
                     conflict: Sequence[str] = (), update: Sequence[str] = (), ordered: bool = False) -> None:
    """Insert ``rows`` (all with the same keys) into ``table`` in one statement; with ``conflict``
    columns, rows whose key exists update the ``update`` columns instead. ``ordered``: the rows
    are inserted in the given order (an identity column numbers them so)."""
    if not rows:
        return
    if dialect_name(session) == "postgresql":
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        await _pg_write(session, table, columns, conflict, update, ordered)
        return
    await _sqlite_write(session, table, list(rows), conflict, update)


async def write_columns(session: AsyncSession, table: Table, columns: Mapping[str, Sequence[Any]], *,
                        conflict: Sequence[str] = (), update: Sequence[str] = ()) -> None:
    """:func:`write_rows` for data already held column by column (one equally long sequence per
    column name): on PostgreSQL the sequences are the statement's arrays as they are, with no row
    dicts built in between."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    if not columns or not lengths or lengths == {0}:
        return
    if dialect_name(session) == "postgresql":
        await _pg_write(session, table, columns, conflict, update)
        return
    names = list(columns)
    rows = [dict(zip(names, values)) for values in zip(*columns.values())]
    await _sqlite_write(session, table, rows, conflict, update)


def _same(values: Sequence[Any]) -> bool:
    """Every value is the very same object (a column the caller filled with one value, or all
    None): it is sent once, not as an array. Stops at the first other object."""
    first = values[0]
    return all(v is first for v in values)


async def _pg_write(session: AsyncSession, table: Table, columns: Mapping[str, Sequence[Any]], conflict: Sequence[str],
                    update: Sequence[str], ordered: bool = False) -> None:
    params: dict[str, Any] = {}
    casts, selected, aliases = [], [], []
    names = list(columns)
    for i, name in enumerate(names):
        column_type = table.c[name].type
        array_type, cast = _pg_array_type(column_type)
        values = columns[name]
        if i > 0 and _same(values):
            # One value for every row (the first column stays an array: it gives the row count).
            value = _pg_value(column_type, values[0])
            if value is None:
                selected.append(f"CAST(NULL AS {cast or array_type[:-2]})")
            else:
                params[f"p{i}"] = value
                selected.append(f"CAST(:p{i} AS {array_type[:-2]})" + (f"::{cast}" if cast else ""))
            continue
        if isinstance(column_type, (JSON, UTCDateTime)):
            params[f"p{i}"] = [_pg_value(column_type, v) for v in values]
        else:
            params[f"p{i}"] = values if isinstance(values, list) else list(values)
        casts.append(f"CAST(:p{i} AS {array_type})")
        aliases.append(f"c{i}")
        selected.append(f"u.c{i}::{cast}" if cast else f"u.c{i}")
    quoted = [f'"{n}"' for n in names]
    sql = (f'INSERT INTO "{table.name}" ({", ".join(quoted)}) SELECT {", ".join(selected)} '
           f'FROM unnest({", ".join(casts)})')
    if ordered:
        sql += f' WITH ORDINALITY AS u({", ".join(aliases)}, ord) ORDER BY u.ord'
    else:
        sql += f' AS u({", ".join(aliases)})'

    if conflict:
        sql += " ON CONFLICT (" + ", ".join(f'"{c}"' for c in conflict) + ") "
        sql += ("DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in update)) if update else "DO NOTHING"
    await session.execute(text(sql), params)


async def _sqlite_write(session: AsyncSession, table: Table, rows: list[dict[str, Any]], conflict: Sequence[str],
                        update: Sequence[str]) -> None:
    stmt = sqlite.insert(table)
    if conflict:
        stmt = (stmt.on_conflict_do_update(index_elements=list(conflict), set_={c: stmt.excluded[c] for c in update})
                if update else stmt.on_conflict_do_nothing(index_elements=list(conflict)))
    await session.execute(stmt, list(rows))


def new_row_ids(n: int) -> list[uuid.UUID]:
    """``n`` ids for a batch's new rows: time-ordered UUIDs, version 7 (RFC 9562: the Unix time in
    milliseconds, then a counter and random bits), made by ``uuid_utils`` (Rust; its ``compat`` module
    returns plain ``uuid.UUID``). A primary key of random (version 4) ids takes a batch's rows at as many
    random places of its index, each one a page to find, dirty and (after a checkpoint) log in full; ids
    that grow with time go to its right end. Measured on the daily log's entries (5,000 a batch,
    docs/benchmarks.md): a third less PostgreSQL CPU for the insert with the plain INSERT of
    ``write_columns``. The creation time the id shows is no more than the rows' own timestamps say. The
    ids of one process increase (RFC 9562 section 6.2, method 1: a counter within a millisecond).

    Plain ``uuid.UUID`` objects, not a subclass such as asyncpg's: ``pydantic_core.to_json`` writes a
    subclass by a slow path (28 against 4 ms for 5,000), and these ids go into the answer and the events."""
    return [uuid7() for _ in range(n)]


# 4 random bits 0100 (version 4), then the variant 10xx: 8, 9, a or b.
_SQLITE_UUID4 = ("lower(hex(randomblob(6))) || '4' || substr(lower(hex(randomblob(2))), 2) || "
                 "substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || lower(hex(randomblob(6)))")


def random_uuid(session: AsyncSession) -> Any:
    """A new random (version 4) UUID made by the database, one per row of an ``INSERT ... SELECT`` (no
    round trip of the rows through Python to give them ids): PostgreSQL's ``gen_random_uuid()``; on
    SQLite the 32 hex digits that SQLAlchemy's ``Uuid`` type stores there."""
    if dialect_name(session) == "postgresql":
        return func.gen_random_uuid()
    return literal_column(_SQLITE_UUID4, type_=Uuid())


@asynccontextmanager
async def cached_row_plans(session: AsyncSession) -> AsyncIterator[None]:
    """Inside: PostgreSQL may reuse a generic plan for the statements run once per row (the foreign-key
    checks of a bulk insert). The engine sets ``plan_cache_mode = force_custom_plan`` for the service's
    own statements (``ktt_common.db``), which also re-plans the check of every inserted row: measured,
    57,500 settlement lines spent 0.9-1.6 s in their foreign-key trigger instead of 0.3-0.4 s. A key
    lookup's generic plan is always the index scan, so nothing is lost; the mode is restored after."""
    if dialect_name(session) != "postgresql":
        yield
        return
    old = (await session.execute(text("SELECT current_setting('plan_cache_mode')"))).scalar_one()
    await session.execute(text("SELECT set_config('plan_cache_mode', 'auto', true)"))
    yield
    # (not on an error: the transaction is then rolled back, and the local setting with it)
    await session.execute(text("SELECT set_config('plan_cache_mode', :old, true)"), {"old": old})
