"""Gathering work that arrives in a steady stream (issue 15): the outbox relay lingers after a wake-up
and a consumer gathers more messages after a short fetch, so that one claim, one transaction and one
publish round take several events instead of one each. Both follow the one rule here, so that an idle
service is not slowed: wait only when the previous arrival came shortly before this one."""

from __future__ import annotations

import time
from collections.abc import Callable

# "Shortly before": within this many windows. A stream of arrivals closer together than this is
# likely to bring more within the window; a lone arrival after a pause is handled at once.
BUSY_WINDOWS = 5.0


class Pace:
    """How long to gather before handling an arrival: ``window`` seconds when the previous arrival came
    less than BUSY_WINDOWS windows ago, else (idle, or ``window`` 0) nothing."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self._clock = clock
        self._last = float("-inf")

    def arrived(self) -> float:
        """Note an arrival now; return the seconds to gather before handling it."""
        now = self._clock()
        busy = now - self._last < BUSY_WINDOWS * self.window
        self._last = now
        return self.window if busy else 0.0
