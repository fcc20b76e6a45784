"""The whole system as processes, shared by the console's tests: a real nats-server with JetStream, the
five services (SQLite under one DATA_DIR, so they share the development clock) and the console, each on
a free port, seeded once by ``make demo``'s own :func:`tools.demo.seed` through the public APIs.

Started once per session (the browser tests and the demo test share it); stopped by PID."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ktt_common.devrun import free_port
from ktt_common.settings import SERVICE_PORTS, env_prefix
from ktt_common.testing import NatsServer


@dataclass
class System:
    urls: dict[str, str]
    console: str
    data_dir: Path
    city: Any = None
    log_lines: list[str] | None = None
    seed_seconds: float = 0.0


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become healthy within {timeout}s")


@pytest.fixture(scope="session")
def system() -> Iterator[System]:
    root = Path(tempfile.mkdtemp(prefix="ktt-console-"))
    nats = NatsServer(root / "jetstream")
    nats.start()
    procs: list[subprocess.Popen[bytes]] = []
    env = dict(os.environ, KTT_ENV="test", DATA_DIR=str(root), NATS_URL=nats.url, SCHEDULER_ENABLED="false",
               LOG_JSON="true", OUTBOX_POLL_SECONDS="0.2", CONSUMER_FETCH_TIMEOUT_SECONDS="0.25")
    for service in SERVICE_PORTS:
        env[f"{env_prefix(service)}_PORT"] = str(free_port())
        env.pop(f"{env_prefix(service)}_DATABASE_URL", None)
    env["CONSOLE_PORT"] = str(free_port())
    urls = {s: f"http://127.0.0.1:{env[f'{env_prefix(s)}_PORT']}" for s in SERVICE_PORTS}
    console = f"http://127.0.0.1:{env['CONSOLE_PORT']}"
    logs = root / "logs"
    logs.mkdir()
    try:
        for service in SERVICE_PORTS:
            with open(logs / f"{service}.log", "wb") as out:
                procs.append(subprocess.Popen([sys.executable, "-m", "ktt_common.serve", service, "--migrate"], env=env,
                                              stdout=out, stderr=subprocess.STDOUT))
        with open(logs / "console.log", "wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "ktt_console"], env=env, stdout=out,
                                          stderr=subprocess.STDOUT))
        for url, proc in zip([*urls.values(), console], procs, strict=True):
            _wait_healthy(url, proc)
        yield System(urls=urls, console=console, data_dir=root)
    finally:
        for proc in procs:  # stopped by PID, never by name
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        nats.stop()


@pytest.fixture(scope="session")
def city(system: System) -> System:
    """The demo city, seeded once through the public APIs by make demo's own code."""
    from tools.demo import seed

    if system.city is None:
        lines: list[str] = []
        started = time.monotonic()
        system.city = asyncio.run(seed(system.urls, say=lines.append))
        system.seed_seconds = time.monotonic() - started
        system.log_lines = lines
    return system

