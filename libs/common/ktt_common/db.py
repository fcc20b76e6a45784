"""Database: async SQLAlchemy 2 engines for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Each service owns one metadata (its own tables plus the infrastructure tables of
:mod:`ktt_common.infra`) and one database. Sessions are committed when the request's
dependency exits and rolled back on error.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, cast

from sqlalchemy import DateTime, MetaData, Table, event
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp stored in UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # SQL parameters never reach an exception text or a log line: they hold client data (issue 13).
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin_immediate(conn: Any) -> None:
            # Take the write lock at BEGIN so that two writers never deadlock upgrading a
            # read lock; SQLite serialises writers anyway.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # pysqlite's own transaction handling must be off for the BEGIN above to be ours.
        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_autocommit_off(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        return engine
    # Plan every execution of a prepared statement with its own parameters. asyncpg prepares every
    # statement, and PostgreSQL switches a prepared statement to a generic plan after five runs,
    # costed on the statistics of that moment: a table that was small then (a fresh database, a
    # bulk load outrunning autovacuum) keeps a plan that scans it whole long after it has grown
    # (measured: daily-log batches twice as slow at 200,000 rows). Planning these short queries
    # anew costs well under a millisecond.
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("server_settings", {}).setdefault("plan_cache_mode", "force_custom_plan")
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    if kwargs.get("pool_pre_ping"):
        return create_async_engine(url, **kwargs)
    engine = create_async_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


async def create_driver_pool(engine: AsyncEngine, max_size: int = 4) -> Any:
    """A plain asyncpg pool on ``engine``'s PostgreSQL database, for a hot path's single-row reads that
    SQLAlchemy's execution (a greenlet hop, pool checkout and reset, result processing) would double
    (issue 15: a decision replay's look-up). Its connections plan and decode ``json`` as the engine's do,
    go back to the pool without a reset query and show as ``ktt-driver-pool`` in ``pg_stat_activity``; the
    owner closes it (:meth:`ktt_common.runtime.Runtime.driver_pool`)."""
    import json

    import asyncpg

    async def init(conn: Any) -> None:
        for name in ("json", "jsonb"):
            await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")

    async def keep(_conn: Any) -> None:
        """asyncpg's own reset is a round trip on every release (unlock advisory locks, close cursors,
        unlisten, reset settings); these connections take none of those (single reads, no transaction)."""

    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.create_pool(dsn, min_size=1, max_size=max_size, init=init, reset=keep,
                                     server_settings={"plan_cache_mode": "force_custom_plan",
                                                      "application_name": "ktt-driver-pool"})


# A connection that has been back in the pool longer than this is pinged before it is handed out.
PING_AFTER_IDLE_SECONDS = 1.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Stale connections (PostgreSQL restarted, a firewall's idle cut) are found before use, as with
    ``pool_pre_ping``, but only for a connection that has been idle: pre-ping on asyncpg costs three
    round trips (BEGIN, a ping, ROLLBACK) on *every* checkout, which at a hundred decision pushes a
    second was a fifth of their statements (issue 15). A connection reused at once is not pinged; one
    that fails while in use is invalidated by SQLAlchemy as before."""
    from sqlalchemy import exc

    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["ktt_idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("ktt_idle_since", None)
        if since is not None and time.monotonic() - since > PING_AFTER_IDLE_SECONDS:
            try:
                dbapi_conn.ping()
            except Exception:
                raise exc.DisconnectionError("the pooled connection is gone") from None


class KttSession(Session):
    """The synchronous session under every service's AsyncSession: the audit chain hooks its commit
    (ktt_common.audit)."""


def create_sessionmaker(engine: AsyncEngine, info: dict[str, Any] | None = None) -> async_sessionmaker[AsyncSession]:
    import ktt_common.audit  # noqa: F401  (registers the audit chain's commit hook on KttSession)

    return async_sessionmaker(engine, expire_on_commit=False, info=info or {}, sync_session_class=KttSession)


def dialect_name(session: AsyncSession) -> str:
    """``postgresql`` or ``sqlite``: the backend the session is bound to."""
    return session.get_bind().dialect.name


def affected(result: Result[Any]) -> int:
    """Rows an INSERT/UPDATE/DELETE touched. ``AsyncSession.execute`` is typed as returning a
    :class:`Result`; for DML it is a :class:`CursorResult`, which has the count."""
    return cast("CursorResult[Any]", result).rowcount


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for the session's
    backend (PostgreSQL or SQLite): idempotent writes keyed on a unique constraint."""
    return insert_for_dialect(dialect_name(session), table)


_STATEMENTS = "ktt_statements"


def statement_for(table: Table, key: Hashable, build: Callable[[], Any]) -> Any:
    """The statement ``build()`` makes for ``table`` and ``key``, built on first use and reused after (issue 15).

    Building a statement (``.values(...)``, ``on_conflict_do_update``, CTEs) coerces every value and
    column anew, and SQLAlchemy then generates the new object's cache key to find its compiled form;
    both cost more Python than executing it. One object, bound by ``bindparam`` names and executed
    with a parameter dict, memoizes its cache key, so running it again skips both. ``key`` names
    whatever the statement depends on beside the table (the dialect, the columns bound)."""
    # Kept in the table's own ``info``, so they live as long as the table (a test's metadata and its
    # statements go together); tagged with the table, as a copy (``to_metadata``) copies ``info``.
    owner, per_table = table.info.get(_STATEMENTS, (None, {}))
    if owner is not table:
        per_table = {}
        table.info[_STATEMENTS] = (table, per_table)
    statement = per_table.get(key)
    if statement is None:
        statement = per_table[key] = build()
    return statement


def insert_for_dialect(dialect: str, table: Any) -> Any:
    """:func:`insert_for` by the dialect's name (for a statement built once per dialect)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
