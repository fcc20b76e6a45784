"""What the decision service consumes from the voucher service: its explicit event -> handler map.

Both handlers are safe to run twice: the inbox drops a redelivered event, and the natural keys
(one start notice per client and voucher, one flag per source event) drop a re-published one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_common.logging import get_logger
from ktt_contracts.voucher import ServiceStarted, ServiceStartedPayload, VoucherRefused, VoucherStateChangedPayload

from ktt_decision.models import Client, ClientFlag, StartNotice

log = get_logger(__name__)

from_voucher = Subscription(producer="voucher")


def _insert_ignoring_duplicates(session: AsyncSession, model: Any) -> Any:
    dialect = session.bind.dialect.name
    return postgresql.insert(model) if dialect == "postgresql" else sqlite.insert(model)


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
        _insert_ignoring_duplicates(session, StartNotice).values(
            id=notice_id, client_id=client.id, voucher_id=payload.voucher_id, decision_id=payload.decision_id,
            agreement_id=payload.agreement_id, source_event_id=envelope.id, first_name=client.first_name,
            last_name=client.last_name, started_on=payload.started_on, provider_id=payload.provider_id,
            provider_name=payload.provider_name, unit_id=payload.unit_id, unit_name=payload.unit_name,
            form=payload.form, days_per_week=payload.days_per_week, hours_per_day=hours, status="pending",
            created_at=dt.datetime.now(dt.UTC),
        ).on_conflict_do_nothing(index_elements=["client_id", "voucher_id"])
    )
    if result.rowcount == 1:
        await audit(session, "decision-service", "start_notice.create", "start_notice", notice_id, client_ids=[client.id],
                    details={"voucher_id": str(payload.voucher_id), "event_id": envelope.id})
    else:
        log.info("start_notice_exists", client_id=str(client.id), voucher_id=str(payload.voucher_id))


@from_voucher.on(VoucherRefused)
async def on_voucher_refused(session: AsyncSession, envelope: Envelope, payload: VoucherStateChangedPayload) -> None:
    """DEC-9: a refused voucher is recorded on the client for the case worker. Whether the refusal
    had a valid reason (§9.5) and what follows is the case worker's individual assessment: nothing
    here computes a sanction."""
    await record_flag(
        session, envelope, client_id=payload.client_id, kind="voucher_refused", occurred_on=payload.changed_on,
        reason=payload.reason, voucher_id=payload.voucher_id, decision_id=payload.decision_id,
        details={"voucher_number": payload.number, "previous_state": payload.previous_state},
    )


async def record_flag(session: AsyncSession, envelope: Envelope, *, client_id: uuid.UUID, kind: str,
                      occurred_on: dt.date, reason: str | None, voucher_id: uuid.UUID | None = None,
                      decision_id: uuid.UUID | None = None, details: dict[str, Any] | None = None) -> None:
    """One DEC-9 record per source event. Later kinds (absence, no_show_threshold,
    agreement_ended with its reason) come through here from their own handlers."""
    result = await session.execute(
        _insert_ignoring_duplicates(session, ClientFlag).values(
            id=uuid.uuid4(), client_id=client_id, kind=kind, occurred_on=occurred_on, source_event_id=envelope.id,
            source_event_type=envelope.type, voucher_id=voucher_id, decision_id=decision_id, reason=reason,
            details=details or {}, created_at=dt.datetime.now(dt.UTC),
        ).on_conflict_do_nothing(index_elements=["source_event_id"])
    )
    if result.rowcount == 1:
        await audit(session, "decision-service", "client_flag.create", "client", client_id, client_ids=[client_id],
                    details={"kind": kind, "event_id": envelope.id})


SUBSCRIPTIONS = [from_voucher]
