"""KTT billing service: monthly settlements per provider, invoice lines, holds, corrections, disputes and payment batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_billing.copies.erasure import FROM_DECISION
from ktt_billing.copies.events import SUBSCRIPTIONS
from ktt_billing.corrections.api import router as reconciliation_router
from ktt_billing.disputes.api import router as disputes_router
from ktt_billing.models import INFRA, Base
from ktt_billing.payments.api import router as payments_router
from ktt_billing.settings import BillingSettings
from ktt_billing.settlements.api import router as settlements_router
from ktt_billing.settlements.jobs import JOBS

SPEC = ServiceSpec(
    name="billing",
    title="KTT billing service",
    description="Monthly settlements per provider, invoice lines, holds, corrections, disputes and payment batches.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=[settlements_router, disputes_router, reconciliation_router, payments_router],
    subscriptions=[*SUBSCRIPTIONS, FROM_DECISION],
    jobs=JOBS,
    settings_cls=BillingSettings,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs: Any) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
