from __future__ import annotations

import datetime as dt
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ktt_common.clock import FrozenClock
from ktt_common.testing import RunningService, run_service, service_settings
from ktt_registry.app import create_app

sys.path.insert(0, str(Path(__file__).parent))  # registry_builders


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(dt.date(2026, 11, 30))


@pytest.fixture
def start_registry(databases: Callable[..., Any], nats_server: Any, tmp_path: Path, clock: FrozenClock) -> Callable[..., Any]:
    """start_registry(**settings) -> async context manager of a running provider registry."""

    @asynccontextmanager
    async def _start(**overrides: Any) -> AsyncIterator[RunningService]:
        settings = service_settings("provider-registry", database_url=await databases("provider-registry"),
                                    nats_url=nats_server.url, data_dir=tmp_path, **overrides)
        async with run_service(create_app, settings, clock) as running:
            yield running

    return _start


@pytest.fixture
async def registry(start_registry: Callable[..., Any]) -> AsyncIterator[RunningService]:
    async with start_registry() as svc:
        yield svc
