"""Everything one running service holds: settings, clock, database, bus, relay, consumers, jobs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ktt_common.bus import NatsBus
from ktt_common.clock import Clock, SharedFileClock
from ktt_common.db import create_driver_pool, create_engine, create_sessionmaker
from ktt_common.inbox import ConsumerRunner, Subscription
from ktt_common.infra import InfraTables
from ktt_common.jobs import JobRegistry
from ktt_common.logging import get_logger
from ktt_common.relay import OutboxRelay
from ktt_common.scheduler import JobScheduler
from ktt_common.settings import Settings

log = get_logger(__name__)


@dataclass
class ServiceSpec:
    """The wiring of one service, declared in its ``app.py``."""

    name: str
    title: str
    description: str
    metadata: MetaData
    infra: InfraTables
    migrations_dir: Path
    routers: list[APIRouter] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    jobs: JobRegistry = field(default_factory=JobRegistry)
    version: str = "0.1.0"
    # A service with settings of its own subclasses Settings and names the class here.
    settings_cls: type[Settings] = Settings

    def load_settings(self, **overrides: Any) -> Settings:
        return self.settings_cls(service=self.name, **overrides)


class Runtime:
    def __init__(self, spec: ServiceSpec, settings: Settings, clock: Clock | None = None) -> None:
        self.spec = spec
        self.settings = settings
        self.infra = spec.infra
        from ktt_common.housekeeping import PLATFORM_JOBS

        self.jobs = spec.jobs.merged(PLATFORM_JOBS)
        self.clock: Clock = clock or (
            SharedFileClock(settings.data_dir / "clock.json") if settings.development else Clock()
        )
        assert settings.database_url
        self.engine: AsyncEngine = create_engine(settings.database_url)
        self.sessionmaker: async_sessionmaker[AsyncSession] = create_sessionmaker(self.engine, info={"runtime": self})
        self.bus = NatsBus(settings, {spec.name} | {s.producer for s in spec.subscriptions})
        self.relay = OutboxRelay(self)
        self.consumers = [ConsumerRunner(self, s) for s in spec.subscriptions]
        self.scheduler = JobScheduler(self)
        self._tasks: list[asyncio.Task[None]] = []
        self._driver_pool: Any = None
        self._driver_pool_lock = asyncio.Lock()

    def consumer(self, producer: str) -> ConsumerRunner:
        return next(c for c in self.consumers if c.sub.producer == producer)

    async def driver_pool(self) -> Any:
        """An asyncpg pool beside the engine (PostgreSQL only; :func:`ktt_common.db.create_driver_pool`),
        made on first use and closed by :meth:`stop`."""
        if self._driver_pool is None:
            async with self._driver_pool_lock:
                if self._driver_pool is None:
                    self._driver_pool = await create_driver_pool(self.engine)
        return self._driver_pool

    async def start(self) -> None:
        if not self.settings.run_background:
            return
        self.bus.start()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.spec.name}-outbox-relay"))
        for consumer in self.consumers:
            self._tasks.append(asyncio.create_task(consumer.run(), name=f"{consumer.name}"))
        if self.settings.scheduler_enabled:
            self._tasks.append(asyncio.create_task(self.scheduler.run(), name=f"{self.spec.name}-scheduler"))

    async def stop(self) -> None:
        for consumer in self.consumers:
            consumer.stop()
        self.relay.stop()
        self.scheduler.stop()
        tasks = list(self._tasks)
        self._tasks.clear()
        if tasks:
            # Consumers finish the message in hand and leave within one fetch timeout.
            _done, pending = await asyncio.wait(tasks, timeout=5)
            for task in pending:
                task.cancel()
            if pending:
                _done, still = await asyncio.wait(pending, timeout=5)
                for task in still:
                    log.error("task_did_not_stop", task=task.get_name())
        await self.bus.close()
        pool, self._driver_pool = self._driver_pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), 5)  # waits for reads in flight to give back their connection
            except TimeoutError:
                pool.terminate()
        await self.engine.dispose()
