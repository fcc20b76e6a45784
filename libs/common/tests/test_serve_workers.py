"""``KTT_WORKERS`` (issue 15): ``python -m ktt_common.serve`` runs a service in that many uvicorn worker
processes, each a whole service answering on the one port; a bad value stops it with a message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ktt_common.testing import NatsServer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_bad_worker_count_is_refused_with_a_message(tmp_path: Path) -> None:
    env = dict(os.environ, KTT_ENV="development", KTT_WORKERS="many", DATA_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "ktt_common.serve", "decision"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode != 0 and "KTT_WORKERS: 'many' is not a whole number" in done.stderr


@pytest.mark.timeout(420)
def test_two_workers_serve_one_port(tmp_path: Path, nats_server: NatsServer) -> None:
    port = _free_port()
    env = dict(os.environ, KTT_ENV="development", KTT_WORKERS="2", DATA_DIR=str(tmp_path), NATS_URL=nats_server.url,
               DECISION_PORT=str(port), DECISION_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'decision.db'}",
               SCHEDULER_ENABLED="false")
    proc = subprocess.Popen([sys.executable, "-m", "ktt_common.serve", "decision", "--migrate"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        status = None
        while time.monotonic() < deadline:  # polling readiness, not a fixed sleep
            assert proc.poll() is None, "the service exited"
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code
            except httpx.HTTPError:
                status = None
            if status == 200 and len(_children(proc.pid)) >= 2:
                break
            time.sleep(0.2)
        assert status == 200
        assert len(_children(proc.pid)) >= 2  # uvicorn has started its two workers
    finally:
        proc.terminate()
        proc.wait(timeout=60)
