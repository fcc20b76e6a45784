"""A service's app under test: its settings, its lifespan running, and an httpx client on it."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ktt_common.auth import issue_token
from ktt_common.clock import Clock
from ktt_common.runtime import Runtime
from ktt_common.settings import DEV_JWT_SECRET, Settings
from ktt_common.testing.aio import eventually

WATCHDOG_SECONDS = float(os.environ.get("KTT_TEST_WATCHDOG_SECONDS", "120"))


def service_settings(service: str, *, database_url: str, nats_url: str, data_dir: Path,
                     settings_cls: type[Settings] | None = None, **overrides: Any) -> Settings:
    """Settings for a service under test: its own settings class (from its SPEC) when it has one."""
    values: dict[str, Any] = {
        "service": service, "environment": "test", "database_url": database_url, "nats_url": nats_url, "data_dir": data_dir,
        "consumer_backoff_seconds": [0.05, 0.1, 0.2], "consumer_max_deliver": 3, "outbox_poll_seconds": 0.2,
        "consumer_fetch_timeout_seconds": 0.25,
        # Tests drive the scheduler by calling rt.scheduler.tick() with a frozen clock.
        "scheduler_enabled": False,
        "log_json": True,
    }
    values.update(overrides)
    if settings_cls is None:
        try:
            from ktt_common.serve import service_module

            settings_cls = service_module(service).SPEC.settings_cls
        except KeyError:
            settings_cls = Settings
    return settings_cls(**values)


@dataclass
class RunningService:
    app: Any
    client: httpx.AsyncClient
    rt: Runtime

    def token(self, role: str, **claims: Any) -> str:
        return issue_token(DEV_JWT_SECRET, role=role, **claims)

    def auth(self, role: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **claims)}"}


@asynccontextmanager
async def run_service(create_app: Callable[..., Any], settings: Settings, clock: Clock | None = None,
                      wait_ready: bool = True) -> AsyncIterator[RunningService]:
    """Start an app with its lifespan (bus, relay, consumers) and yield a client on it."""
    app = create_app(settings, clock, configure_logs=False)
    loop = asyncio.get_running_loop()

    def dump_tasks() -> None:
        # A hang then says where it waits (pytest-timeout fails the test a little later).
        print(f"\n--- watchdog: {settings.service} still running after {WATCHDOG_SECONDS:.0f}s; asyncio tasks:", file=sys.stderr)
        for task in asyncio.all_tasks(loop):
            task.print_stack(limit=15, file=sys.stderr)

    watchdog = loop.call_later(WATCHDOG_SECONDS, dump_tasks)
    try:
        async with _running(app, settings, wait_ready) as running:
            yield running
    finally:
        watchdog.cancel()


@asynccontextmanager
async def _running(app: Any, settings: Settings, wait_ready: bool) -> AsyncIterator[RunningService]:
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        if wait_ready and settings.run_background:
            await rt.bus.wait_ready(15)
            await eventually(lambda: all(c.bound for c in rt.consumers), timeout=15, what="consumers bound")
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{settings.service}") as client:
            yield RunningService(app=app, client=client, rt=rt)


def see_the_day(clock: Clock, day: dt.date | str) -> None:
    """Move a test's clock forward to 09:00 Helsinki of ``day`` when that is still in the future:
    a daily job runs only for a date that has come (OPS-1), as in production."""
    import datetime as dt

    from ktt_common.clock import HELSINKI

    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    if day > clock.today():
        clock.set(dt.datetime.combine(day, dt.time(9, 0), tzinfo=HELSINKI))
