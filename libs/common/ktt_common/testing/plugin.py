"""The pytest side of :mod:`ktt_common.testing`: its hooks and fixtures (re-exported by the package,
which is the plugin that the repository's conftest.py registers)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from ktt_common.testing.database import DatabaseFactory, postgres_admin_url, postgres_required
from ktt_common.testing.events import check_published_events
from ktt_common.testing.servers import NatsServer
from ktt_common.testing.tokens import IdentityProvider

# --- hypothesis ---------------------------------------------------------------------------
# Property tests judge correctness, never speed: a per-example deadline only measures how loaded
# the machine is (CI shares two cores with nats-server and PostgreSQL), so it is off.
hypothesis_settings.register_profile("ktt", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ktt"))


# --- session hooks ----------------------------------------------------------------------------

def pytest_sessionstart(session: Any) -> None:
    if postgres_required() and postgres_admin_url() is None:
        where = make_url(os.environ["TEST_DATABASE_URL"]).render_as_string() if os.environ.get("TEST_DATABASE_URL") else "127.0.0.1:5432"
        raise pytest.UsageError(
            f"PostgreSQL is required (TEST_DATABASE_URL or KTT_TEST_REQUIRE_POSTGRES) but {where} does not answer: "
            "the PostgreSQL variants of the suite cannot run"
        )


def pytest_report_header(config: Any) -> str:
    pg = postgres_admin_url()
    return "database backends: sqlite" + (f", postgresql ({make_url(pg).render_as_string()})" if pg else " (no PostgreSQL reachable)")


def pytest_generate_tests(metafunc: Any) -> None:
    if "db_backend" in metafunc.fixturenames:
        backends = ["sqlite"] + (["postgresql"] if postgres_admin_url() else [])
        metafunc.parametrize("db_backend", backends)



@pytest.fixture(scope="session")
def _database_factory() -> Any:
    root = Path(tempfile.mkdtemp(prefix="ktt-test-db-"))
    factory = DatabaseFactory(root)
    yield factory
    factory.cleanup()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def databases(_database_factory: DatabaseFactory, db_backend: str) -> Iterator[Callable[[str], Awaitable[str]]]:
    """databases(service) -> URL of a fresh database migrated to head by the service's Alembic.
    PostgreSQL databases are dropped when the test ends (not all at once at the session's end,
    where hundreds of forced drops on a loaded machine outlasted the per-test timeout)."""
    async def make(service: str) -> str:
        return await _database_factory.create(db_backend, service)

    before = len(_database_factory.created_pg)
    yield make
    _database_factory.drop_since(before)


@pytest.fixture
def empty_database(_database_factory: DatabaseFactory, db_backend: str) -> Iterator[Callable[[], Awaitable[str]]]:
    async def make() -> str:
        return await _database_factory.create_empty(db_backend)

    before = len(_database_factory.created_pg)
    yield make
    _database_factory.drop_since(before)




# --- NATS -----------------------------------------------------------------------------------

@pytest.fixture
def nats_server(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A real nats-server. When the test is over, every message its streams hold is validated
    against the AsyncAPI document (strict envelope, headers, closed payloads); a test that
    publishes off-contract messages on purpose says so with ``@pytest.mark.off_contract_events``."""
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    yield server
    try:
        if request.node.get_closest_marker("off_contract_events") is None:
            problems = check_published_events(server)
            assert not problems, "events off the AsyncAPI contract:\n" + "\n".join(problems[:20])
    finally:
        server.stop()




# --- the city's identity provider --------------------------------------------------------------

@pytest.fixture
def identity_provider() -> Iterator[IdentityProvider]:
    """The city's identity provider as a service sees it: a JWKS document on a local HTTP port."""
    provider = IdentityProvider()
    provider.thread.start()
    try:
        yield provider
    finally:
        provider.server.shutdown()
        provider.server.server_close()
