"""What the profiling scripts (``tests.bench.profile_*``) share on their command line: the ``--backend``
choice, and a clear stop when PostgreSQL was chosen but is not reachable (instead of a failure later)."""

from __future__ import annotations

import argparse

from ktt_common.testing import postgres_admin_url


def profile_parser(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    return parser


def require_backend(backend: str) -> None:
    if backend == "postgresql" and postgres_admin_url() is None:
        raise SystemExit("PostgreSQL is not reachable (TEST_DATABASE_URL or 127.0.0.1:5432); "
                         "use --backend sqlite or start PostgreSQL")
