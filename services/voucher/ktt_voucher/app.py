"""The voucher service: PSOP-style vouchers, their states, links and checks; service agreements, schedules and periods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_voucher import erasure as _erasure  # noqa: F401  (registers the ClientErased handler on from_decision)
from ktt_voucher.agreements.api import router as agreement_router
from ktt_voucher.agreements.events import SUBSCRIPTIONS as AGREEMENT_SUBSCRIPTIONS
from ktt_voucher.agreements.report_events import SUBSCRIPTIONS as REPORT_SUBSCRIPTIONS
from ktt_voucher.jobs import JOBS
from ktt_voucher.models import INFRA, Base
from ktt_voucher.settings import VoucherSettings
from ktt_voucher.vouchers.api import router
from ktt_voucher.vouchers.events import SUBSCRIPTIONS

SPEC = ServiceSpec(
    name="voucher",
    title="KTT voucher service",
    description="Service vouchers issued on decisions; service agreements with their schedules, periods and deadlines.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=[router, agreement_router],
    subscriptions=SUBSCRIPTIONS + AGREEMENT_SUBSCRIPTIONS + REPORT_SUBSCRIPTIONS,
    jobs=JOBS,
    settings_cls=VoucherSettings,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs: Any) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
