"""KTT billing service: Monthly settlements per provider, invoice lines, holds, corrections and payment batches."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_billing.models import INFRA, Base

SPEC = ServiceSpec(
    name="billing",
    title="KTT billing service",
    description="Monthly settlements per provider, invoice lines, holds, corrections and payment batches.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
