"""The decision service: clients (pseudonymous id <-> hetu), decisions and their versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_decision import sealing as _sealing  # noqa: F401  (seals personal data under the client\'s key, DATA-2)
from ktt_decision.clients.api import router as clients_router
from ktt_decision.consents.api import router as consents_router
from ktt_decision.decisions.api import router as decisions_router
from ktt_decision.events import SUBSCRIPTIONS
from ktt_decision.flags.api import router as flags_router
from ktt_decision.jobs import JOBS
from ktt_decision.models import INFRA, Base
from ktt_decision.notices.api import router as notices_router
from ktt_decision.representatives.api import router as representatives_router
from ktt_decision.settings import DecisionSettings

SPEC = ServiceSpec(
    name="decision",
    title="KTT decision service",
    description="Decisions pushed by client information systems (Effica) and officials; pseudonymous clients, "
                "consents, TE-office start notices and refusal/interruption records.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=[decisions_router, clients_router, consents_router, representatives_router, notices_router,
             flags_router],
    subscriptions=SUBSCRIPTIONS,
    jobs=JOBS,
    settings_cls=DecisionSettings,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs: Any) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
