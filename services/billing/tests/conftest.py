from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from ktt_common.clock import FrozenClock
from ktt_common.testing import RunningService, run_service, service_settings
from ktt_billing.app import create_app

sys.path.insert(0, str(Path(__file__).parent))  # billing_builders

from billing_builders import TODAY, Feed  # noqa: E402


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(TODAY)


@pytest.fixture
def billing_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def billing_service(databases: Callable[..., Any], nats_server: Any, tmp_path: Path, clock: FrozenClock,
                          billing_overrides: dict[str, Any]) -> AsyncIterator[RunningService]:
    url = await databases("billing")
    settings = service_settings("billing", database_url=url, nats_url=nats_server.url, data_dir=tmp_path,
                                **billing_overrides)
    async with run_service(create_app, settings, clock) as running:
        yield running


@pytest.fixture
def feed(billing_service: RunningService, clock: FrozenClock) -> Feed:
    return Feed(billing_service, clock)


