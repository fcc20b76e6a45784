"""What the city keeps about a client beside the decisions: consents (DATA-1), representatives
(VOU-9), TE-office start notices (DEC-6), refusal and interruption flags (DEC-9), and plan data for a
provider (DATA-1). Each use case runs in the caller's transaction with its audit entry and events."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit, audit_many
from ktt_common.auth import Principal, Role
from ktt_common.errors import Conflict, FieldError, Forbidden, NotFound, refuse
from ktt_common.outbox import emit, runtime_of
from ktt_common.pagination import PageRequest, paginate
from ktt_contracts.decision import (
    ConsentRecorded,
    ConsentRecordedPayload,
    ConsentWithdrawn,
    ConsentWithdrawnPayload,
    RepresentativeAuthorised,
    RepresentativeAuthorisedPayload,
    RepresentativeWithdrawn,
    RepresentativeWithdrawnPayload,
)

from ktt_decision import rules
from ktt_decision.models import ClientFlag, Consent, Decision, KnownProvider, Representative, StartNotice
from ktt_decision.schemas import ConsentIn, RepresentativeIn
from ktt_decision.sealing import representative_name_key
from ktt_decision.service import _client, client_hetu

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
    errors: list[FieldError] = []
    if body.given_on > today:
        errors.append(FieldError(field="body.given_on", rule="DATA-1",
                                 message=f"a consent is recorded after the client gave it: given_on must be on or before {today}"))
    if body.valid_until is not None and body.valid_until < body.given_on:
        errors.append(FieldError(field="body.valid_until", rule="DATA-1",
                                 message="valid_until is before given_on; give the last day the consent holds"))
    errors += rules.check_no_hetu({"body.provider_id": body.provider_id})  # published in ConsentRecorded
    refuse(errors)
    scope = sorted(set(body.scope))
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

def representative_is_active(rep: Representative, today: dt.date) -> bool:
    return rules.representative_acts(authorised_on=rep.authorised_on, valid_until=rep.valid_until,
                                     withdrawn_on=rep.withdrawn_on, today=today)


def _representative_facts(rep: Representative) -> dict[str, Any]:
    return dict(representative_id=rep.id, client_id=rep.client_id, name=rep.name, scope=list(rep.scope),
                authorised_on=rep.authorised_on, valid_until=rep.valid_until)


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
    errors += rules.check_no_hetu({"body.name": body.name, "body.relation": body.relation, "body.phone": body.phone,
                                   "body.email": body.email})
    refuse(errors)
    scope = sorted(set(body.scope))
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
    refuse(rules.check_withdrawal_day(when, rep.authorised_on, today, rule="VOU-9",
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


# --- TE-office start notices (DEC-6) ---------------------------------------------------------

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


# --- refusals and interruptions (DEC-9) ------------------------------------------------------

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
