"""DEC-6: a started service (ServiceStarted from the voucher service) becomes a TE-office start notice."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.db import insert_for
from ktt_common.events import Envelope
from ktt_common.logging import get_logger
from ktt_contracts.voucher import ServiceStarted, ServiceStartedPayload

from ktt_decision.clients.models import Client
from ktt_decision.notices.models import StartNotice
from ktt_decision.subscriptions import from_voucher

log = get_logger(__name__)


@from_voucher.on(ServiceStarted)
async def on_service_started(session: AsyncSession, envelope: Envelope, payload: ServiceStartedPayload) -> None:
    """DEC-6: the city tells the TE office of every client who started KTT, with the individual
    start data. One notice per (client, voucher) start, however often the start is published."""
    client = await session.get(Client, payload.client_id)
    if client is None:
        # Retried, then parked where an operator sees it: a start for a client we never decided on.
        raise LookupError(f"ServiceStarted for unknown client {payload.client_id}")
    hours = None if payload.hours_per_day is None else Decimal(str(payload.hours_per_day)).quantize(Decimal("0.01"))
    notice_id = uuid.uuid4()
    result = await session.execute(
        insert_for(session, StartNotice).values(
            id=notice_id, client_id=client.id, voucher_id=payload.voucher_id, decision_id=payload.decision_id,
            agreement_id=payload.agreement_id, source_event_id=envelope.id, first_name=client.first_name,
            last_name=client.last_name, started_on=payload.started_on, provider_id=payload.provider_id,
            provider_name=payload.provider_name, unit_id=payload.unit_id, unit_name=payload.unit_name,
            form=payload.form, days_per_week=payload.days_per_week, hours_per_day=hours, status="pending",
            created_at=dt.datetime.now(dt.UTC),
        ).on_conflict_do_nothing(index_elements=["client_id", "voucher_id"])
    )
    if cast("CursorResult[Any]", result).rowcount == 1:
        await audit(session, "decision-service", "start_notice.create", "start_notice", notice_id, client_ids=[client.id],
                    details={"voucher_id": str(payload.voucher_id), "event_id": envelope.id})
    else:
        log.info("start_notice_exists", client_id=str(client.id), voucher_id=str(payload.voucher_id))
