"""What the profiling scripts (``tests.bench.profile_*``) share: the ``--backend`` choice, a clear stop
when PostgreSQL was chosen but is not reachable (instead of a failure later), the real parts each one
measures against (a nats-server with JetStream and a database factory, stopped and dropped afterwards),
and running a measurement in a temporary directory with its result printed as JSON."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from ktt_common.testing import DatabaseFactory, NatsServer, postgres_admin_url


def profile_parser(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    return parser


def require_backend(backend: str) -> None:
    if backend == "postgresql" and postgres_admin_url() is None:
        raise SystemExit("PostgreSQL is not reachable (TEST_DATABASE_URL or 127.0.0.1:5432); "
                         "use --backend sqlite or start PostgreSQL")


@contextlib.contextmanager
def real_parts(root: Path) -> Iterator[tuple[NatsServer, DatabaseFactory]]:
    """A nats-server (JetStream store under ``root``) and a database factory; on leaving, the databases
    made are dropped and the server stopped, whatever happened."""
    nats = NatsServer(root / "js")
    nats.start()
    factory = DatabaseFactory(root)
    try:
        yield nats, factory
    finally:
        factory.cleanup()
        nats.stop()


def run_printed(measure: Callable[[Path], Coroutine[Any, Any, Any]], *, prefix: str, indent: int | None = 1,
                loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None) -> None:
    """Run ``measure(a new temporary directory)`` on its own event loop and print its result as JSON."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp, asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(measure(Path(tmp)))
    print(json.dumps(result, indent=indent))
