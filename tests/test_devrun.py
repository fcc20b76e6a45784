"""`make run` as a user meets it: every service starts, answers /readyz and stops cleanly on
SIGTERM; a service that does not come up in time never leaves processes behind (non-negotiable 1)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ktt_common.settings import SERVICE_PORTS, env_prefix


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _start(tmp_path: Path, **extra: str) -> tuple[subprocess.Popen[str], dict[str, int]]:
    ports = {service: _free_port() for service in SERVICE_PORTS}
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL") and k != "NATS_URL"}
    env.update({f"{env_prefix(service)}_PORT": str(port) for service, port in ports.items()})
    env.update(KTT_ENV="development", DATA_DIR=str(tmp_path / "var"), **extra)
    process = subprocess.Popen([sys.executable, "-m", "ktt_common.devrun"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return process, ports


def _wait_for_group_to_empty(pgid: int, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
        raise AssertionError("make run left processes behind")


def test_make_run_starts_every_service_and_stops_them_all(tmp_path: Path) -> None:
    process, ports = _start(tmp_path)
    try:
        lines: list[str] = []
        assert process.stdout is not None
        for line in process.stdout:  # ends when the process ends
            lines.append(line)
            if "KTT is running" in line:
                break
        assert any("KTT is running" in line for line in lines), "".join(lines[-30:])
        for service, port in ports.items():
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
            assert ready.status_code == 200, (service, ready.text)
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=60)
        assert process.returncode == 0
        assert "KTT stopped." in rest
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    _wait_for_group_to_empty(process.pid)
    for port in ports.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers after stop"


def test_a_service_that_does_not_come_up_in_time_leaves_nothing_behind(tmp_path: Path) -> None:
    process, ports = _start(tmp_path, KTT_START_TIMEOUT="0")
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert "KTT_START_TIMEOUT" in output and "everything started was stopped" in output
    _wait_for_group_to_empty(process.pid)
