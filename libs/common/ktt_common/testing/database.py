"""Databases for tests: SQLite always, PostgreSQL too when reachable, each service's database migrated
once per session into a template that every test copies (a file copy, or ``CREATE DATABASE .. TEMPLATE``)."""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import shutil
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from ktt_common.serve import service_dir
from ktt_common.testing.aio import _run_to_completion


def _postgres_admin_url() -> str | None:
    explicit = os.environ.get("TEST_DATABASE_URL")
    if explicit:
        url = make_url(explicit)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+asyncpg")
        candidate = url.render_as_string(hide_password=False)
    else:
        candidate = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    target = make_url(candidate)
    try:
        with socket.create_connection((target.host or "127.0.0.1", target.port or 5432), timeout=0.5):
            pass
        _run_to_completion(lambda: _pg_execute(candidate, "SELECT 1"))
    except Exception:  # noqa: BLE001
        return None
    return candidate


def postgres_required() -> bool:
    """PostgreSQL must answer: named explicitly by ``TEST_DATABASE_URL`` or demanded by
    ``KTT_TEST_REQUIRE_POSTGRES=1`` (CI, where a missing server would otherwise silently halve the
    suite)."""
    return bool(os.environ.get("TEST_DATABASE_URL")) or os.environ.get("KTT_TEST_REQUIRE_POSTGRES", "") in ("1", "true", "yes")


async def _pg_connect(admin_url: str) -> Any:
    import asyncpg

    url = make_url(admin_url)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database or "postgres", timeout=5,
    )


async def _pg_execute(admin_url: str, *statements: str) -> None:
    conn = await _pg_connect(admin_url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@functools.cache
def postgres_admin_url() -> str | None:
    """The PostgreSQL to test against, probed once per process (None: none answers)."""
    return _postgres_admin_url()


class _PgHousekeeper:
    """One background thread with its own event loop and admin connection that drops the databases
    of finished tests and keeps spare copies of each service's template ready, so neither ``DROP
    DATABASE`` nor ``CREATE DATABASE .. TEMPLATE`` (each ~0.3-1 s of PostgreSQL I/O on a loaded
    machine) sits in a test's setup or teardown. Every job is one statement on a unique database
    name; a failed drop is left to :meth:`DatabaseFactory.cleanup`, a failed spare is simply not there
    (the test then creates its copy itself)."""

    SPARES = 2  # ready copies per template: a test takes one (tests/ start two services), the thread refills

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.jobs: queue.Queue[tuple[str, str, str] | None] = queue.Queue()
        self.lock = threading.Lock()
        self.spares: dict[str, list[str]] = {}
        self.pending: dict[str, int] = {}
        self.leftovers: list[str] = []
        self.thread = threading.Thread(target=self._work, name="ktt-test-pg-housekeeper", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        loop = asyncio.new_event_loop()
        conn: Any = None
        try:
            while (job := self.jobs.get()) is not None:
                kind, name, template = job
                try:
                    if conn is None or conn.is_closed():
                        conn = loop.run_until_complete(_pg_connect(self.admin))
                    if kind == "drop":
                        loop.run_until_complete(conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    else:
                        loop.run_until_complete(conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
                        with self.lock:
                            self.spares.setdefault(template, []).append(name)
                except Exception:  # noqa: BLE001
                    with self.lock:
                        self.leftovers.append(name)  # dropped (IF EXISTS) by the session's cleanup
                finally:
                    if kind == "spare":
                        with self.lock:
                            self.pending[template] -= 1
        finally:
            if conn is not None:
                loop.run_until_complete(conn.close())
            loop.close()

    def take(self, template: str) -> str | None:
        """A ready copy of ``template`` (then another is made in the background), or None."""
        with self.lock:
            ready = self.spares.get(template) or []
            name = ready.pop(0) if ready else None
            missing = self.SPARES - len(ready) - self.pending.get(template, 0)
            self.pending[template] = self.pending.get(template, 0) + max(missing, 0)
        for _ in range(max(missing, 0)):
            self.jobs.put(("spare", f"ktt_{template.removeprefix('ktt_tpl_')}_{uuid.uuid4().hex[:12]}", template))
        return name

    def drop(self, names: list[str]) -> None:
        for name in names:
            self.jobs.put(("drop", name, ""))

    def close(self) -> list[str]:
        """Finish the queued jobs; the names still to drop (spares, failed jobs)."""
        self.jobs.put(None)
        self.thread.join(timeout=240)
        with self.lock:
            return [n for names in self.spares.values() for n in names] + self.leftovers


class DatabaseFactory:
    """Fresh migrated databases, copied from a per-session template of each service."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[tuple[str, str], str] = {}
        self.created_pg: list[str] = []
        self.session_tag = uuid.uuid4().hex[:8]
        self._housekeeper: _PgHousekeeper | None = None

    def _pg_housekeeper(self, admin: str) -> _PgHousekeeper:
        if self._housekeeper is None:
            self._housekeeper = _PgHousekeeper(admin)
        return self._housekeeper

    async def _template(self, backend: str, service: str) -> str:
        from ktt_common.migrations import upgrade

        key = (backend, service)
        if key not in self.templates:
            name = f"ktt_tpl_{service.replace('-', '_')}_{self.session_tag}"
            if backend == "sqlite":
                path = self.root / f"{name}.db"
                url = f"sqlite+aiosqlite:///{path}"
                await upgrade(url, service_dir(service))
                self.templates[key] = str(path)
            else:
                admin = postgres_admin_url()
                assert admin
                await _pg_execute(admin, f'CREATE DATABASE "{name}"')
                self.created_pg.append(name)
                await upgrade(make_url(admin).set(database=name).render_as_string(hide_password=False), service_dir(service))
                self.templates[key] = name
        return self.templates[key]

    async def create(self, backend: str, service: str) -> str:
        template = await self._template(backend, service)
        name = f"ktt_{service.replace('-', '_')}_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            path = self.root / f"{name}.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}"
        admin = postgres_admin_url()
        assert admin
        spare = self._pg_housekeeper(admin).take(template)
        if spare is not None:
            name = spare
        else:
            await _pg_execute(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created_pg.append(name)
        return make_url(admin).set(database=name).render_as_string(hide_password=False)

    async def create_empty(self, backend: str, name: str = "probe") -> str:
        """An empty database for a test-only service whose tables the test creates itself."""
        db = f"ktt_{name}_{uuid.uuid4().hex[:12]}"
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{self.root / (db + '.db')}"
        admin = postgres_admin_url()
        assert admin
        await _pg_execute(admin, f'CREATE DATABASE "{db}"')
        self.created_pg.append(db)
        return make_url(admin).set(database=db).render_as_string(hide_password=False)

    def drop_since(self, index: int) -> None:
        """Drop the PostgreSQL databases created since ``created_pg[index]`` (templates stay)."""
        admin = postgres_admin_url()
        templates = set(self.templates.values())
        mine = [n for n in self.created_pg[index:] if n not in templates]
        if not admin or not mine:
            return
        # In the background: the test's engines are disposed, nothing connects to these any more.
        self._pg_housekeeper(admin).drop(list(reversed(mine)))
        self.created_pg = [n for n in self.created_pg if n not in set(mine)]

    def cleanup(self) -> None:
        admin = postgres_admin_url()
        if self._housekeeper is not None:
            self.created_pg = self._housekeeper.close() + self.created_pg
            self._housekeeper = None
        if admin and self.created_pg:
            statements = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in reversed(self.created_pg)]
            try:  # also when called inside the benchmark's own event loop
                _run_to_completion(lambda: _pg_execute(admin, *statements))
            except Exception:  # noqa: BLE001, S110
                pass
