"""Who sees which rows (DATA-3): a provider its own agreements only, officials every agreement.

A provider asking for another provider's agreement gets the same answer as for one that does not
exist, so nothing about it is revealed."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.auth import Principal, Role
from ktt_common.errors import NotFound

from ktt_attendance.agreements.models import AgreementCopy


def not_yours(agreement_id: uuid.UUID | str) -> str:
    return f"no agreement {agreement_id} of yours is known to the attendance service"


def sees(principal: Principal, provider_id: str | None) -> bool:
    """DATA-3: a provider sees its own clients only; officials see all."""
    return principal.role is not Role.PROVIDER or (provider_id is not None and provider_id == principal.provider_id)


async def visible_agreement(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID,
                            *, for_update: bool = False) -> AgreementCopy:
    copy = await session.get(AgreementCopy, agreement_id, with_for_update=for_update)
    if copy is None or not copy.has_facts or not sees(principal, copy.provider_id):
        raise NotFound(not_yours(agreement_id), rule="DATA-3")
    return copy
