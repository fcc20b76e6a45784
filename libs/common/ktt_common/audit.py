"""Append-only audit log of reads and writes of client data, written in the action's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.auth import Principal
from ktt_common.outbox import runtime_of
from ktt_common.request_context import correlation_id_var


async def audit(
    session: AsyncSession,
    actor: Principal | str,
    action: str,
    target_type: str,
    target_id: Any = None,
    *,
    client_ids: Iterable[Any] = (),
    details: dict[str, Any] | None = None,
) -> None:
    """Record who did what to which entity and which clients it touched (never a hetu)."""
    rt = runtime_of(session)
    if isinstance(actor, Principal):
        who, role, provider_id = actor.subject, actor.role.value, actor.provider_id
    else:
        who, role, provider_id = actor, "system", None
    await session.execute(
        insert(rt.infra.audit_log).values(
            at=dt.datetime.now(dt.UTC), actor=who, role=role, provider_id=provider_id, action=action,
            target_type=target_type, target_id=None if target_id is None else str(target_id),
            client_ids=[str(c) for c in client_ids], correlation_id=correlation_id_var.get(), details=details,
        )
    )


async def audit_many(
    session: AsyncSession,
    actor: Principal | str,
    action: str,
    target_type: str,
    entries: Iterable[tuple[Any, Iterable[Any], dict[str, Any] | None]],
) -> None:
    """One audit row per (target id, client ids, details), written in one statement: a job that creates
    hundreds of entities records each of them without a round trip apiece."""
    rt = runtime_of(session)
    if isinstance(actor, Principal):
        who, role, provider_id = actor.subject, actor.role.value, actor.provider_id
    else:
        who, role, provider_id = actor, "system", None
    at, correlation_id = dt.datetime.now(dt.UTC), correlation_id_var.get()
    rows = [dict(at=at, actor=who, role=role, provider_id=provider_id, action=action, target_type=target_type,
                 target_id=None if target_id is None else str(target_id), client_ids=[str(c) for c in client_ids],
                 correlation_id=correlation_id, details=details)
            for target_id, client_ids, details in entries]
    if rows:
        await session.execute(insert(rt.infra.audit_log), rows)
