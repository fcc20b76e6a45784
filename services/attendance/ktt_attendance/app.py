"""KTT attendance service: The daily log of attendance, absences and reports posted by providers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_attendance.models import INFRA, Base

SPEC = ServiceSpec(
    name="attendance",
    title="KTT attendance service",
    description="The daily log of attendance, absences and reports posted by providers.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
