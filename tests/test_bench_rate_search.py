"""The decision-rate benchmark's search for the sustainable rate (tests/bench/decision_rate.py): up the
ramp or down the steps, then bisection to within the resolution, in a bounded number of phases. The
phases here are a threshold (rates up to it hold), so the search's answer is known."""

from __future__ import annotations

import asyncio

import pytest

from tests.bench.decision_rate import MAX_BISECT, RESOLUTION, search_sustainable

RAMP = [125.0, 150.0, 200.0, 250.0, 300.0, 400.0]
DOWN = [50.0, 25.0, 10.0]


def search(threshold: float, **kwargs: object) -> tuple[float | None, float | None, list[float]]:
    tried: list[float] = []

    async def trial(rate: float) -> bool:
        tried.append(rate)
        return rate <= threshold

    held, failed = asyncio.run(search_sustainable(trial, 100.0, 100.0 <= threshold, RAMP, DOWN, **kwargs))  # type: ignore[arg-type]
    return held, failed, tried


@pytest.mark.parametrize("threshold", [12.0, 30.0, 47.0, 64.0, 73.0, 99.0, 118.0, 170.0, 333.0])
def test_the_search_brackets_the_threshold_within_the_resolution(threshold: float) -> None:
    held, failed, tried = search(threshold)
    assert held is not None and failed is not None
    assert held <= threshold < failed
    assert failed - held <= RESOLUTION
    bisections = len(tried) - (len([r for r in RAMP if r <= threshold]) + 1 if threshold >= 100 else
                               len([r for r in DOWN if r > threshold]) + 1)
    assert 0 <= bisections <= MAX_BISECT


def test_the_old_coarse_ramp_is_refined() -> None:
    """73/s held on a run where the ramp 100 -> 50 -> 25 could only say 50."""
    held, failed, tried = search(73.0)
    assert tried[0] == 50.0 and held == 70.0 and failed == 75.0
    assert tried == [50.0, 75.0, 60.0, 70.0]  # round rates, a multiple of 5 each


def test_no_rate_held_or_none_failed() -> None:
    assert search(5.0)[:2] == (None, 10.0)
    assert search(1000.0)[:2] == (400.0, None)


def test_without_steps_or_bisection_only_the_steady_rate_counts() -> None:
    """What --quick asks for: no phase after the steady run."""
    tried: list[float] = []

    async def trial(rate: float) -> bool:
        tried.append(rate)
        return False

    assert asyncio.run(search_sustainable(trial, 5.0, False, [], [], max_bisect=0)) == (None, 5.0)
    assert asyncio.run(search_sustainable(trial, 5.0, True, [], [], max_bisect=0)) == (5.0, None)
    assert tried == []


def test_the_replay_ratio_without_the_driver_leaves_out_only_the_drivers_cpu() -> None:
    from tests.bench.decision_rate import system_cpu_ratio

    new = {"decision": 16.6, "voucher": 4.3, "driver": 4.5, "machine": 33.7}
    replay = {"decision": 3.8, "voucher": 0.04, "driver": 5.5, "machine": 10.3}
    assert system_cpu_ratio(new, replay) == round((33.7 - 4.5) / (10.3 - 5.5), 2)
    assert system_cpu_ratio(new, {**replay, "machine": 5.5}) is None  # nothing left to divide by


def test_the_machines_busy_time_counts_up() -> None:
    from tests.bench.decision_rate import machine_busy_seconds

    first = machine_busy_seconds()
    sum(i * i for i in range(300_000))  # some work of this process, so the machine was busy meanwhile
    assert machine_busy_seconds() > first >= 0
