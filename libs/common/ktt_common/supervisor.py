"""Keeps the child processes of ``make run`` alive: a crashed one is restarted after a back-off
(1 s, 2 s, 4 s ... up to ``max_delay``; back to 1 s once it has run ``stable_after`` seconds),
with a log line each time, while the others go on serving.

:meth:`Supervisor.check` is one deterministic step (the caller passes the time), so tests drive
it with real processes and no sleeping.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Child:
    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0  # consecutive crashes (a stable run resets it)
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class Supervisor:
    base_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    log: Callable[[str], None] = field(default=lambda line: print(line, file=sys.stderr, flush=True))
    children: list[Child] = field(default_factory=list)

    def add(self, name: str, start: Callable[[], subprocess.Popen[bytes]], now: float) -> Child:
        child = Child(name=name, start=start, proc=start(), started_at=now)
        self.children.append(child)
        return child

    def delay(self, failures: int) -> float:
        return min(self.base_delay * 2.0 ** max(failures - 1, 0), self.max_delay)

    def check(self, now: float) -> None:
        """Notice crashed children and restart those whose back-off has passed."""
        for child in self.children:
            if child.restart_at is None and child.proc is not None and child.proc.poll() is not None:
                ran = now - child.started_at
                child.failures = 1 if ran >= self.stable_after else child.failures + 1
                wait = self.delay(child.failures)
                child.restart_at = now + wait
                self.log(f"{child.name} exited with code {child.proc.returncode} after {ran:.1f}s; "
                         f"restarting in {wait:.1f}s (crash {child.failures} in a row)")
            if child.restart_at is not None and now >= child.restart_at:
                child.proc, child.started_at, child.restart_at = child.start(), now, None
                child.restarts += 1
                self.log(f"{child.name} restarted (pid {child.proc.pid})")

    def stop_all(self, timeout: float = 15) -> None:
        """Last started first (services drain their NATS connections), then nats-server."""
        for child in reversed(self.children):
            proc = child.proc
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
