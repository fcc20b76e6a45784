from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from ktt_common.clock import FrozenClock
from ktt_common.testing import RunningService, run_service, service_settings
from ktt_attendance.app import create_app

sys.path.insert(0, str(Path(__file__).parent))  # attendance_builders

from attendance_builders import TODAY, Attendance  # noqa: E402


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def start_attendance(databases: Callable[..., Any], nats_server: Any, tmp_path: Path, clock: FrozenClock) -> Callable[..., Any]:
    """start_attendance(**settings overrides) -> async context manager of an Attendance helper."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Attendance]:
        url = await databases("attendance")
        settings = service_settings("attendance", database_url=url, nats_url=nats_server.url, data_dir=tmp_path, **overrides)
        async with run_service(create_app, settings, clock) as running:
            yield Attendance(running, clock)

    return start


@pytest.fixture
async def att(start_attendance: Callable[..., Any]) -> AsyncIterator[Attendance]:
    async with start_attendance() as helper:
        yield helper


@pytest.fixture
def svc(att: Attendance) -> RunningService:
    return att.svc
