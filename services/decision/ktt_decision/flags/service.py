"""Refusals and interruptions (DEC-9): the client's recorded flags; nothing computes a sanction."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal

from ktt_decision.clients.service import _client
from ktt_decision.flags.models import ClientFlag


async def list_flags(session: AsyncSession, client_id: uuid.UUID, principal: Principal) -> list[ClientFlag]:
    """DEC-9: the client's recorded refusals and interruptions, newest first. Nothing computes a
    sanction: the case worker assesses each case (valid reasons, §9.5) outside this system."""
    await _client(session, client_id)
    rows = (await session.execute(
        select(ClientFlag).where(ClientFlag.client_id == client_id)
        .order_by(ClientFlag.occurred_on.desc(), ClientFlag.created_at.desc())
    )).scalars().all()
    await audit(session, principal, "client_flag.list", "client", client_id, client_ids=[client_id])
    return list(rows)
