"""Running coroutines from tests and fixtures, and waiting on an observable outcome."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any


def _run_to_completion(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """``asyncio.run(make())``, also from inside a running event loop (a benchmark's, a fixture's): there
    the coroutine runs on a loop of its own in a helper thread, and this call waits for it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:  # noqa: BLE001 (handed back to the caller's thread)
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="ktt-run-to-completion")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def eventually(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Wait until ``predicate()`` (sync or async) is truthy; fail the test after ``timeout``.

    This synchronises on an observable outcome, not on the passage of time.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
