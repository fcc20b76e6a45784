"""KTT provider registry: approved providers, units, products and Typake-set prices, capacity,
groups, queues, subcontractors, insurance, inspections, feedback and quality."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_registry.api import ROUTERS
from ktt_registry.erasure import from_decision
from ktt_registry.events import SUBSCRIPTIONS
from ktt_registry.jobs import JOBS
from ktt_registry.models import INFRA, Base
from ktt_registry.settings import RegistrySettings

SPEC = ServiceSpec(
    name="provider-registry",
    title="KTT provider registry",
    description="Approved providers, units, products and Typake-set prices, capacity, groups, queues and quality.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=ROUTERS,
    subscriptions=[*SUBSCRIPTIONS, from_decision],
    jobs=JOBS,
    settings_cls=RegistrySettings,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs: Any) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
