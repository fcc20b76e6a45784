"""Alembic, shared: each service's ``migrations/env.py`` calls :func:`run_env`; tools and tests
call :func:`upgrade` to bring a database to head."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection

from ktt_common.db import create_engine


def version_table(service: str) -> str:
    return "alembic_version_" + service.replace("-", "_")


def alembic_config(service_dir: Path, url: str) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _configure(connection: Connection, metadata: MetaData, service: str) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=version_table(service),
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(metadata: MetaData, service: str) -> None:
    """Body of a service's ``env.py``: online migrations on the configured async URL."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection, metadata, service)
        return
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata,
            version_table=version_table(service), literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    async def _online() -> None:
        url = config.get_main_option("sqlalchemy.url")
        if url is None:
            raise RuntimeError("alembic: sqlalchemy.url is not set")
        engine = create_engine(url)
        async with engine.connect() as conn:
            await conn.run_sync(_configure, metadata, service)
            await conn.commit()
        await engine.dispose()

    asyncio.run(_online())


async def _run_command(url: str, service_dir: Path, run: Any) -> None:
    """Run an Alembic command on one connection of the service's async engine."""
    cfg = alembic_config(service_dir, url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            def _run(sync_conn: Connection) -> None:
                if sync_conn.dialect.name == "postgresql":
                    # Replicas start together and each migrates (issue 16): one at a time per
                    # database; the lock ends with this transaction, and the next finds the head.
                    sync_conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                                      {"key": "ktt-migrations:" + service_dir.name})
                cfg.attributes["connection"] = sync_conn
                run(cfg)

            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


async def upgrade(url: str, service_dir: Path, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision``, from inside a running event loop."""
    await _run_command(url, service_dir, lambda cfg: command.upgrade(cfg, revision))


def upgrade_sync(url: str, service_dir: Path) -> None:
    asyncio.run(upgrade(url, service_dir))


def check_sync(url: str, service_dir: Path) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    asyncio.run(_run_command(url, service_dir, command.check))
