"""Consents (DATA-1): record, withdraw, list and check the client's written consents to share data
with a provider, and the plan data a consent opens to that provider. Each use case runs in the
caller's transaction with its audit entry and events."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import Forbidden, NotFound, refuse
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.decision import (
    ConsentRecorded,
    ConsentRecordedPayload,
    ConsentWithdrawn,
    ConsentWithdrawnPayload,
)

from ktt_decision.clients.service import _client
from ktt_decision.consents import rules
from ktt_decision.consents.models import Consent
from ktt_decision.consents.schemas import ConsentIn
from ktt_decision.decisions import rules as decisions_rules
from ktt_decision.decisions.models import Decision
from ktt_decision.providers.models import KnownProvider

# --- consent (DATA-1) ---------------------------------------------------------------------

def consent_is_active(consent: Consent, today: dt.date, scope: str = "plan") -> bool:
    return rules.consent_covers(scope=consent.scope, given_on=consent.given_on, valid_until=consent.valid_until,
                                withdrawn_on=consent.withdrawn_on, wanted_scope=scope, today=today)


async def _provider_status(session: AsyncSession, provider_id: str) -> str | None:
    known = await session.get(KnownProvider, provider_id)
    return known.status if known is not None else None


async def record_consent(session: AsyncSession, client_id: uuid.UUID, body: ConsentIn,
                         principal: Principal) -> tuple[Consent, bool]:
    """DATA-1: record the client's written consent to share data with one provider; publish it.
    The same consent recorded again (client, provider, date, scope) returns the stored one."""
    await _client(session, client_id)
    today = runtime_of(session).clock.today()
    errors = rules.check_consent_dates(body.given_on, body.valid_until, today)
    errors += decisions_rules.check_no_hetu({"body.provider_id": body.provider_id})  # published in ConsentRecorded
    refuse(errors)
    scope: list[str] = sorted(set(body.scope))
    scope_key = ",".join(scope)
    natural = (Consent.client_id == client_id, Consent.provider_id == body.provider_id,
               Consent.given_on == body.given_on, Consent.scope_key == scope_key)
    existing = (await session.execute(select(Consent).where(*natural))).scalar_one_or_none()
    if existing is not None:
        return existing, False  # a replay answers as the first time, whatever became of the provider
    refuse(rules.check_consent_provider(body.provider_id, await _provider_status(session, body.provider_id)))
    consent = Consent(id=uuid.uuid4(), client_id=client_id, provider_id=body.provider_id, scope=scope, scope_key=scope_key,
                      given_on=body.given_on, valid_until=body.valid_until, recorded_by=principal.subject,
                      recorded_at=dt.datetime.now(dt.UTC))
    try:
        async with session.begin_nested():
            session.add(consent)
    except IntegrityError:  # recorded concurrently
        return (await session.execute(select(Consent).where(*natural))).scalar_one(), False
    await emit(session, ConsentRecorded, ConsentRecordedPayload(
        consent_id=consent.id, client_id=client_id, provider_id=consent.provider_id, scope=scope,
        given_on=consent.given_on, valid_until=consent.valid_until,
    ), subject=str(client_id))
    await audit(session, principal, "consent.record", "consent", consent.id, client_ids=[client_id],
                details={"provider_id": consent.provider_id, "scope": scope})
    return consent, True


async def withdraw_consent(session: AsyncSession, client_id: uuid.UUID, consent_id: uuid.UUID,
                           withdrawn_on: dt.date | None, principal: Principal) -> Consent:
    """DATA-1: the client withdraws a consent; withdrawing again changes and publishes nothing."""
    consent = (await session.execute(
        select(Consent).where(Consent.id == consent_id, Consent.client_id == client_id).with_for_update()
        .execution_options(populate_existing=True)
    )).scalar_one_or_none()
    if consent is None:
        raise NotFound(f"client {client_id} has no consent {consent_id}")
    if consent.withdrawn_on is not None:
        return consent
    today = runtime_of(session).clock.today()
    when = withdrawn_on or today
    refuse(rules.check_withdrawal_day(when, consent.given_on, today, rule="DATA-1",
                                         granted="the day the consent was given"))
    consent.withdrawn_on, consent.withdrawn_by = when, principal.subject
    await emit(session, ConsentWithdrawn, ConsentWithdrawnPayload(
        consent_id=consent.id, client_id=client_id, provider_id=consent.provider_id, withdrawn_on=when,
    ), subject=str(client_id))
    await audit(session, principal, "consent.withdraw", "consent", consent.id, client_ids=[client_id])
    return consent


async def list_consents(session: AsyncSession, client_id: uuid.UUID, principal: Principal) -> list[Consent]:
    await _client(session, client_id)
    rows = (await session.execute(
        select(Consent).where(Consent.client_id == client_id).order_by(Consent.given_on.desc(), Consent.recorded_at.desc())
    )).scalars().all()
    await audit(session, principal, "consent.list", "client", client_id, client_ids=[client_id])
    return list(rows)


async def check_consent(session: AsyncSession, client_id: uuid.UUID, provider_id: str, scope: str,
                        principal: Principal) -> Consent | None:
    """DATA-1: the consent (if any) that lets ``provider_id`` see the client's data of ``scope`` today.
    A provider may ask only about itself (DATA-3): the caller checks that before."""
    today = runtime_of(session).clock.today()
    rows = (await session.execute(
        select(Consent).where(Consent.client_id == client_id, Consent.provider_id == provider_id)
        .order_by(Consent.given_on.desc())
    )).scalars().all()
    found = next((c for c in rows if consent_is_active(c, today, scope)), None)
    await audit(session, principal, "consent.check", "client", client_id, client_ids=[client_id],
                details={"provider_id": provider_id, "scope": scope, "allowed": found is not None})
    return found


# --- representatives (VOU-9) --------------------------------------------------------------------


# --- TE-office start notices (DEC-6) ---------------------------------------------------------


# --- refusals and interruptions (DEC-9) ------------------------------------------------------


# --- plan data for a provider (DATA-1) ----------------------------------------------------------

async def plan_data(session: AsyncSession, client_id: uuid.UUID, principal: Principal) -> list[Decision]:
    """The plans behind the client's active decisions. Officials see them; a provider only with the
    client's recorded consent for that provider covering the plan (DATA-1)."""
    await _client(session, client_id)
    if principal.role is Role.PROVIDER:
        assert principal.provider_id
        if await check_consent(session, client_id, principal.provider_id, "plan", principal) is None:
            raise Forbidden("the client has not consented to share plan data with your organisation (DATA-1); "
                            "ask the client and the case worker to record a written consent", rule="DATA-1")
    rows = (await session.execute(
        select(Decision).where(Decision.client_id == client_id, Decision.status == "active").order_by(Decision.decided_on)
    )).scalars().all()
    await audit(session, principal, "plan.read", "client", client_id, client_ids=[client_id])
    return list(rows)
