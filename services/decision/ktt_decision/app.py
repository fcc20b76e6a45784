"""The decision service: clients (pseudonymous id <-> hetu), decisions and their versions."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_decision import sealing as _sealing  # noqa: F401  (seals personal data under the client's key, DATA-2)
from ktt_decision.api import router
from ktt_decision.events import SUBSCRIPTIONS
from ktt_decision.models import INFRA, Base
from ktt_decision.retention import JOBS
from ktt_decision.settings import DecisionSettings

SPEC = ServiceSpec(
    name="decision",
    title="KTT decision service",
    description="Decisions pushed by client information systems (Effica) and officials; pseudonymous clients, "
                "consents, TE-office start notices and refusal/interruption records.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=[router],
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    settings_cls=DecisionSettings,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
