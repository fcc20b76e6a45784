"""Platform jobs that every service runs besides its own: the bus tables never grow for ever."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.clock import HELSINKI
from ktt_common.db import affected
from ktt_common.idempotency import purge_idempotency_keys
from ktt_common.jobs import JobRegistry
from ktt_common.outbox import runtime_of

PLATFORM_JOBS = JobRegistry()


@PLATFORM_JOBS.job("bus-retention", "Purge outbox rows published, inbox keys handled and Idempotency-Keys "
                                    "kept longer ago than OUTBOX_RETENTION_DAYS / INBOX_RETENTION_DAYS / "
                                    "IDEMPOTENCY_RETENTION_DAYS before the date")
async def purge_bus_records(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """Parked and unpublished outbox rows are kept whatever their age (an operator acts on them).
    Inbox keys are kept longer than JetStream's duplicate window so a redelivery is still recognised."""
    rt = runtime_of(session)
    s = rt.settings
    midnight = dt.datetime.combine(run_date, dt.time(0, 0), tzinfo=HELSINKI)
    outbox, inbox = rt.infra.outbox, rt.infra.inbox
    purged_outbox = affected(await session.execute(
        delete(outbox).where(outbox.c.published_at.is_not(None),
                             outbox.c.published_at < midnight - dt.timedelta(days=s.outbox_retention_days))
    ))
    purged_inbox = affected(await session.execute(
        delete(inbox).where(inbox.c.handled_at < midnight - dt.timedelta(days=s.inbox_retention_days))
    ))
    purged_keys = await purge_idempotency_keys(
        session, rt.infra.idempotency_key, midnight - dt.timedelta(days=s.idempotency_retention_days))
    return {"outbox_purged": purged_outbox, "inbox_purged": purged_inbox, "idempotency_keys_purged": purged_keys}
