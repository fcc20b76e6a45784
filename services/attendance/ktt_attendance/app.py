"""KTT attendance service: the daily log of attendance, absences, alerts, Kela notices, month reporting, and reports
and evaluations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from ktt_common.app import create_service_app
from ktt_common.clock import Clock
from ktt_common.runtime import ServiceSpec
from ktt_common.settings import Settings

from ktt_attendance.agreements.api import router as agreements_router
from ktt_attendance.agreements.events import SUBSCRIPTIONS as AGREEMENT_SUBSCRIPTIONS
from ktt_attendance.alerts.api import router as alerts_router
from ktt_attendance.clients import erasure as _erasure  # noqa: F401  (ClientErased, DATA-2)
from ktt_attendance.clients.api import router as clients_router
from ktt_attendance.clients.events import SUBSCRIPTIONS as CLIENT_SUBSCRIPTIONS
from ktt_attendance.jobs import JOBS
from ktt_attendance.log.api import router as log_router
from ktt_attendance.models import INFRA, Base
from ktt_attendance.months.api import router as months_router
from ktt_attendance.notices.api import router as notices_router
from ktt_attendance.reports import events as _report_events  # noqa: F401  (PeriodEnding -> due evaluations)
from ktt_attendance.reports.api import router as reports_router
from ktt_attendance.settings import AttendanceSettings

SPEC = ServiceSpec(
    name="attendance",
    title="KTT attendance service",
    description="The daily log of attendance and absences posted by providers, with alerts, Kela notices, month reporting, "
                "and reports and evaluations.",
    metadata=Base.metadata,
    infra=INFRA,
    migrations_dir=Path(__file__).resolve().parent.parent,
    routers=[log_router, agreements_router, months_router, alerts_router, notices_router, clients_router,
             reports_router],
    subscriptions=AGREEMENT_SUBSCRIPTIONS + CLIENT_SUBSCRIPTIONS,
    jobs=JOBS,
    settings_cls=AttendanceSettings,
)


def create_app(settings: Settings | None = None, clock: Clock | None = None, **kwargs: Any) -> FastAPI:
    return create_service_app(SPEC, settings, clock=clock, **kwargs)
