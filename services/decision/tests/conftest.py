from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ktt_common.clock import FrozenClock
from ktt_common.testing import RunningService, run_service, service_settings
from ktt_decision.app import create_app

TODAY = dt.date(2026, 11, 26)


@pytest.fixture
async def decision_service(databases: Callable[..., Any], nats_server: Any, tmp_path: Path) -> AsyncIterator[RunningService]:
    url = await databases("decision")
    settings = service_settings("decision", database_url=url, nats_url=nats_server.url, data_dir=tmp_path)
    async with run_service(create_app, settings, FrozenClock(TODAY)) as running:
        yield running


@pytest.fixture
def start_decision(databases: Callable[..., Any], nats_server: Any, tmp_path: Path) -> Callable[..., Any]:
    """start_decision(**settings overrides): a decision service with settings of the test's own."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[RunningService]:
        url = await databases("decision")
        settings = service_settings("decision", database_url=url, nats_url=nats_server.url, data_dir=tmp_path, **overrides)
        async with run_service(create_app, settings, FrozenClock(TODAY)) as running:
            yield running

    return start
