"""Run one service: ``python -m ktt_common.serve <service> [--migrate | --migrate-only]``.

Used by ``make run`` (through :mod:`ktt_common.devrun`) and by the container image.
"""

from __future__ import annotations

import argparse
import importlib
import os
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import uvicorn

from ktt_common.settings import SERVICE_PORTS

# Services register themselves: each service's pyproject.toml declares its application module
# under the ``ktt.services`` entry-point group, so the shared library names no service package.
ENTRY_POINT_GROUP = "ktt.services"


def _discover() -> dict[str, str]:
    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    # Ports are configuration; their order is the order services start in.
    ordered = {name: found[name] for name in SERVICE_PORTS if name in found}
    ordered.update({name: module for name, module in sorted(found.items()) if name not in ordered})
    return ordered


SERVICE_MODULES: dict[str, str] = _discover()


def service_module(service: str) -> Any:
    return importlib.import_module(SERVICE_MODULES[service])


def service_dir(service: str) -> Path:
    migrations_dir: Path = service_module(service).SPEC.migrations_dir
    return migrations_dir


def migrate(service: str, database_url: str | None = None) -> None:
    from ktt_common.migrations import upgrade_sync

    settings = service_module(service).SPEC.load_settings()
    upgrade_sync(database_url or settings.database_url or "", service_dir(service))


def workers() -> int:
    """Uvicorn worker processes per service (``KTT_WORKERS``, default 1, at most 16; issue 15). Each
    worker is a whole copy of the service: HTTP, its consumers (durable, shared through the inbox) and
    its outbox relay (one publishes at a time, under the relay's lease)."""
    raw = os.environ.get("KTT_WORKERS", "1").strip() or "1"
    try:
        count = int(raw)
    except ValueError:
        raise SystemExit(f"KTT_WORKERS: {raw!r} is not a whole number") from None
    if not 1 <= count <= 16:
        raise SystemExit(f"KTT_WORKERS: {count} is outside 1..16")
    return count


def app_from_env() -> Any:
    """The application of the service named in ``KTT_SERVE_SERVICE`` (uvicorn's factory in each worker)."""
    module = service_module(os.environ["KTT_SERVE_SERVICE"])
    return module.create_app(module.SPEC.load_settings())


def uvicorn_options(settings: Any) -> dict[str, Any]:
    """What uvicorn is told for every service, one worker or several. The event loop is uvloop's and the
    HTTP parser httptools' (both pinned in requirements.txt; issue 15: measured in docs/benchmarks.md),
    named rather than left to uvicorn's "auto", so that a missing one stops the service at start
    instead of quietly running it on the slower pure-Python pair."""
    return {"host": settings.host, "port": settings.port, "log_config": None, "access_log": False,
            "proxy_headers": True, "timeout_graceful_shutdown": 10, "loop": "uvloop", "http": "httptools"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one KTT service")
    parser.add_argument("service", choices=sorted(SERVICE_MODULES))
    parser.add_argument("--migrate", action="store_true", help="apply migrations before serving")
    parser.add_argument("--migrate-only", action="store_true",
                        help="apply migrations and exit (a Kubernetes init container or Job)")
    args = parser.parse_args(argv)
    if args.migrate or args.migrate_only:
        migrate(args.service)  # replicas starting together take turns (an advisory lock on PostgreSQL)
    if args.migrate_only:
        return
    module = service_module(args.service)
    settings = module.SPEC.load_settings()
    count = workers()
    options = uvicorn_options(settings)
    if count == 1:
        uvicorn.Server(uvicorn.Config(module.create_app(settings), **options)).run()
        return
    # Several workers: uvicorn forks them and each builds the application from the environment.
    os.environ["KTT_SERVE_SERVICE"] = args.service
    uvicorn.run("ktt_common.serve:app_from_env", factory=True, workers=count, **options)


if __name__ == "__main__":
    main()
