"""Representatives (VOU-9): record, withdraw and list a client's authorised representatives; each
use case runs in the caller's transaction with its audit entry and events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, NotFound, refuse
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.decision import (
    RepresentativeAuthorised,
    RepresentativeAuthorisedPayload,
    RepresentativeWithdrawn,
    RepresentativeWithdrawnPayload,
)

from ktt_decision.clients.service import _client
from ktt_decision.consents import rules as consents_rules
from ktt_decision.decisions import rules as decisions_rules
from ktt_decision.representatives import rules
from ktt_decision.representatives.models import Representative
from ktt_decision.representatives.schemas import RepresentativeIn
from ktt_decision.sealing import representative_name_key


def representative_is_active(rep: Representative, today: dt.date) -> bool:
    return rules.representative_acts(authorised_on=rep.authorised_on, valid_until=rep.valid_until,
                                     withdrawn_on=rep.withdrawn_on, today=today)



def _representative_facts(rep: Representative) -> dict[str, Any]:
    return {"representative_id": rep.id, "client_id": rep.client_id, "name": rep.name, "scope": list(rep.scope),
            "authorised_on": rep.authorised_on, "valid_until": rep.valid_until}



def _same_authorisation(rep: Representative, body: RepresentativeIn, scope: list[str]) -> bool:
    """The name matched already by its key (case and spacing aside); the rest must be the same."""
    return (rep.phone, rep.email, rep.relation, rep.valid_until, sorted(rep.scope)) == (
        body.phone, body.email, body.relation, body.valid_until, scope)



async def record_representative(session: AsyncSession, client_id: uuid.UUID, body: RepresentativeIn,
                                 principal: Principal) -> tuple[Representative, bool]:
    """VOU-9: record a representative the client authorised to act for them; publish it.

    Idempotent on (client, name, authorised_on): the same authorisation again returns the stored
    one and publishes nothing; the same key with other content is a 409 (withdraw it and record
    the new one). No hetu is collected, and none may hide in the free text (DATA-4)."""
    await _client(session, client_id)
    today = runtime_of(session).clock.today()
    errors = rules.check_representative(authorised_on=body.authorised_on, valid_until=body.valid_until,
                                        phone=body.phone, email=body.email, today=today)
    errors += decisions_rules.check_no_hetu({"body.name": body.name, "body.relation": body.relation, "body.phone": body.phone,
                                   "body.email": body.email})
    refuse(errors)
    scope: list[str] = sorted(set(body.scope))
    key = representative_name_key(session, body.name)  # a keyed hash (ktt_decision.sealing)
    natural = (Representative.client_id == client_id, Representative.name_key == key,
               Representative.authorised_on == body.authorised_on)
    existing = (await session.execute(select(Representative).where(*natural))).scalar_one_or_none()
    if existing is None:
        rep = Representative(id=uuid.uuid4(), client_id=client_id, name=body.name, name_key=key, phone=body.phone,
                             email=body.email, relation=body.relation, scope=scope, authorised_on=body.authorised_on,
                             valid_until=body.valid_until, recorded_by=principal.subject, recorded_at=dt.datetime.now(dt.UTC))
        try:
            async with session.begin_nested():
                session.add(rep)
        except IntegrityError:  # recorded concurrently
            existing = (await session.execute(select(Representative).where(*natural))).scalar_one()
    if existing is not None:
        if not _same_authorisation(existing, body, scope):
            raise Conflict(f"an authorisation of {existing.name} given on {existing.authorised_on} is already recorded "
                           f"with other details (representative {existing.id}); withdraw it and record the new one",
                           rule="VOU-9")
        return existing, False
    await emit(session, RepresentativeAuthorised, RepresentativeAuthorisedPayload(**_representative_facts(rep)),
               subject=str(client_id))
    await audit(session, principal, "representative.record", "representative", rep.id, client_ids=[client_id],
                details={"scope": scope, "authorised_on": rep.authorised_on.isoformat()})
    return rep, True



async def withdraw_representative(session: AsyncSession, client_id: uuid.UUID, representative_id: uuid.UUID,
                                  withdrawn_on: dt.date | None, principal: Principal) -> Representative:
    """VOU-9: the authorisation ends from ``withdrawn_on``; withdrawing again changes and publishes nothing."""
    rep = (await session.execute(
        select(Representative).where(Representative.id == representative_id, Representative.client_id == client_id)
        .with_for_update().execution_options(populate_existing=True)
    )).scalar_one_or_none()
    if rep is None:
        raise NotFound(f"client {client_id} has no representative {representative_id}")
    if rep.withdrawn_on is not None:
        return rep
    today = runtime_of(session).clock.today()
    when = withdrawn_on or today
    refuse(consents_rules.check_withdrawal_day(when, rep.authorised_on, today, rule="VOU-9",
                                         granted="the day of the authorisation"))
    rep.withdrawn_on, rep.withdrawn_by = when, principal.subject
    await emit(session, RepresentativeWithdrawn, RepresentativeWithdrawnPayload(
        **_representative_facts(rep), withdrawn_on=when), subject=str(client_id))
    await audit(session, principal, "representative.withdraw", "representative", rep.id, client_ids=[client_id],
                details={"withdrawn_on": when.isoformat()})
    return rep



async def list_representatives(session: AsyncSession, client_id: uuid.UUID, principal: Principal) -> list[Representative]:
    await _client(session, client_id)
    rows = (await session.execute(
        select(Representative).where(Representative.client_id == client_id)
        .order_by(Representative.authorised_on.desc(), Representative.recorded_at.desc())
    )).scalars().all()
    await audit(session, principal, "representative.list", "client", client_id, client_ids=[client_id])
    return list(rows)
