from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sys

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ktt_common.clock import FrozenClock
from ktt_common.db import create_engine
from ktt_common.testing import RunningService, run_service, service_settings

import ktt_probe as probe  # noqa: E402  (a test-only service beside this file)


@pytest.fixture
def probe_switch() -> Any:
    probe.switch.failing = False
    probe.switch.calls = 0
    probe.switch.batches = 0
    probe.switch.failing_items = set()
    probe.switch.gate = None
    yield probe.switch
    probe.switch.failing = False
    if probe.switch.gate is not None:
        probe.switch.gate.set()
    probe.switch.gate = None


@pytest.fixture
def start_probe(empty_database: Callable[..., Any], nats_server: Any, tmp_path: Path) -> Callable[..., Any]:
    """start_probe(database_url=None, **settings) -> async context manager of the probe service."""

    @asynccontextmanager
    async def _start(database_url: str | None = None, **overrides: Any) -> AsyncIterator[RunningService]:
        url = database_url or await empty_database()
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(probe.metadata.create_all)
        await engine.dispose()
        settings = service_settings("probe", database_url=url, nats_url=nats_server.url, data_dir=tmp_path, **overrides)
        async with run_service(probe.create_app, settings, FrozenClock(dt.date(2026, 11, 26))) as running:
            running.database_url = url  # type: ignore[attr-defined]
            yield running

    return _start
