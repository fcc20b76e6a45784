"""Issue 13 defect 7: ``make run`` restarts a crashed service with a back-off and a log line, and
the others keep running. Real child processes; the supervisor is stepped with explicit times."""

from __future__ import annotations

import subprocess
import sys

from ktt_common.supervisor import Supervisor


def _crashing() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])


def _serving() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)


def test_a_crashed_child_is_restarted_with_growing_back_off_and_a_log_line():
    lines: list[str] = []
    sup = Supervisor(base_delay=1.0, max_delay=4.0, stable_after=60.0, log=lines.append)
    crash = sup.add("voucher", _crashing, now=0.0)
    steady = sup.add("decision", _serving, now=0.0)
    steady_pid = steady.proc.pid
    try:
        expected_waits = [1.0, 2.0, 4.0, 4.0]  # doubling, capped at max_delay
        now = 0.0
        for crash_no, wait in enumerate(expected_waits, start=1):
            first = crash.proc
            first.wait(timeout=30)  # the child has exited (synchronise on the process, not on time)
            sup.check(now)
            assert lines[-1].startswith("voucher exited with code 3") and f"restarting in {wait:.1f}s" in lines[-1]
            assert f"crash {crash_no} in a row" in lines[-1]
            sup.check(now + wait - 0.01)
            assert crash.proc is first  # not before the back-off
            sup.check(now + wait)
            assert crash.proc is not first and lines[-1] == f"voucher restarted (pid {crash.proc.pid})"
            now += wait
        assert crash.restarts == 4
        assert steady.proc.pid == steady_pid and steady.proc.poll() is None  # the others go on
    finally:
        sup.stop_all(timeout=10)
    assert steady.proc.poll() is not None


def test_a_child_that_ran_long_enough_starts_again_from_the_shortest_back_off():
    lines: list[str] = []
    sup = Supervisor(base_delay=1.0, max_delay=30.0, stable_after=60.0, log=lines.append)
    child = sup.add("billing", _crashing, now=0.0)
    child.failures = 4  # it had crashed repeatedly before
    child.proc.wait(timeout=30)
    sup.check(120.0)  # but this run lasted two minutes
    assert "restarting in 1.0s" in lines[-1] and child.failures == 1
    sup.check(121.0)
    child.proc.wait(timeout=30)
    sup.stop_all()
