"""TE-office start notices (DEC-6): list, read (with the hetu, audited) and mark sent."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit, audit_many
from ktt_common.auth import Principal
from ktt_common.errors import NotFound
from ktt_common.outbox import runtime_of
from ktt_common.pagination import PageRequest, paginate

from ktt_decision.clients.service import _client, client_hetu
from ktt_decision.notices.models import StartNotice


async def list_start_notices(session: AsyncSession, status: str | None, principal: Principal,
                             page: PageRequest) -> tuple[list[StartNotice], str | None]:
    """One page of notices, oldest start first; each notice read is its own audit row (not every
    client id in one row, issue 12 item 9)."""
    query = select(StartNotice)
    if status:
        query = query.where(StartNotice.status == status)
    rows, cursor = await paginate(session, query, (StartNotice.started_on, StartNotice.created_at, StartNotice.id), page)
    await audit_many(session, principal, "start_notice.list", "start_notice",
                     [(n.id, [str(n.client_id)], {"status": status}) for n in rows])
    return rows, cursor



async def read_start_notice(session: AsyncSession, notice_id: uuid.UUID, principal: Principal) -> tuple[StartNotice, str]:
    """One notice with the client's hetu decrypted for the TE office (DEC-6, DATA-4: shown only
    here, where it is required); the read is audited."""
    notice = await session.get(StartNotice, notice_id)
    if notice is None:
        raise NotFound(f"no start notice {notice_id}")
    client = await _client(session, notice.client_id)
    hetu = await client_hetu(session, client)  # "erased" after the retention period (DATA-2)
    await audit(session, principal, "start_notice.read_hetu", "start_notice", notice.id, client_ids=[notice.client_id])
    return notice, hetu



async def mark_start_notice_sent(session: AsyncSession, notice_id: uuid.UUID, principal: Principal) -> StartNotice:
    notice = (await session.execute(
        select(StartNotice).where(StartNotice.id == notice_id).with_for_update().execution_options(populate_existing=True)
    )).scalar_one_or_none()
    if notice is None:
        raise NotFound(f"no start notice {notice_id}")
    if notice.status == "sent":
        return notice  # marking twice changes nothing
    notice.status, notice.sent_on, notice.sent_by = "sent", runtime_of(session).clock.today(), principal.subject
    await audit(session, principal, "start_notice.mark_sent", "start_notice", notice.id, client_ids=[notice.client_id])
    return notice
