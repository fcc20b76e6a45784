from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ktt_common.clock import FrozenClock
from ktt_common.testing import RunningService, run_service, service_settings
from ktt_decision.app import create_app as create_decision
from ktt_voucher.app import create_app as create_voucher

import datetime as dt

APPS = {"decision": create_decision, "voucher": create_voucher}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(dt.date(2026, 11, 26))


@pytest.fixture
def start(databases: Callable[..., Any], nats_server: Any, tmp_path: Path, clock: FrozenClock) -> Callable[..., Any]:
    """start(service, database_url=None, **settings) -> async context manager of a RunningService."""

    @asynccontextmanager
    async def _start(service: str, database_url: str | None = None, **overrides: Any) -> AsyncIterator[RunningService]:
        url = database_url or await databases(service)
        settings = service_settings(service, database_url=url, nats_url=nats_server.url, data_dir=tmp_path, **overrides)
        async with run_service(APPS[service], settings, clock) as running:
            yield running

    return _start
