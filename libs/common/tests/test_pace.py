"""Issue 15: the one rule by which the relay lingers and a consumer gathers: only while arrivals keep coming."""

from __future__ import annotations

from ktt_common.pace import BUSY_WINDOWS, Pace


def test_an_arrival_after_a_pause_is_handled_at_once_one_in_a_stream_waits() -> None:
    clock = [1000.0]
    p = Pace(0.02, clock=lambda: clock[0])
    assert p.arrived() == 0.0  # the first
    clock[0] += 0.01
    assert p.arrived() == 0.02  # close after the previous one
    clock[0] += BUSY_WINDOWS * 0.02 * 0.9
    assert p.arrived() == 0.02
    clock[0] += BUSY_WINDOWS * 0.02 + 0.001
    assert p.arrived() == 0.0  # after a pause


def test_a_window_of_zero_never_waits() -> None:
    p = Pace(0.0, clock=lambda: 1000.0)
    assert [p.arrived() for _ in range(3)] == [0.0, 0.0, 0.0]
