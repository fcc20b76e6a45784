"""The voucher service: PSOP-style vouchers (agreements and periods come later)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_voucher.api import router
from ktt_voucher.events import SUBSCRIPTIONS
from ktt_voucher.models import INFRA, Base

SPEC = ServiceSpec(
    name="voucher",
    title="KTT voucher service",
    description="Service vouchers issued on decisions; later agreements, schedules and periods.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=[router],
    subscriptions=SUBSCRIPTIONS,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
