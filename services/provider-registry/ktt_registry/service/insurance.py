"""Liability insurance kept valid (PRV-10): policy periods, lapses and renewals.

Every recorded policy period is kept, so a renewal recorded in advance never hides the policy still
in force. An approved provider with no valid insurance on a day has a lapse: an open alert for
officials and ``ProviderInsuranceLapsed``, once per lapse; when valid insurance is in force again
the alert is resolved and ``ProviderInsuranceRenewed`` published, once. Both are decided by
:func:`reconcile`, which the daily ``insurance-expiry`` job runs for every approved provider (and
every provider with an open lapse) and recording a policy runs for that provider at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.db import affected
from ktt_common.errors import FieldError, refuse
from ktt_common.outbox import emit
from ktt_contracts.registry import (
    ProviderChanged,
    ProviderChangedPayload,
    ProviderInsuranceLapsed,
    ProviderInsuranceLapsedPayload,
    ProviderInsuranceRenewed,
    ProviderInsuranceRenewedPayload,
)

from ktt_registry import rules_oversight as oversight
from ktt_registry.models import InsurancePolicy, Provider, RegistryAlert
from ktt_registry.schemas import InsuranceIn, InsuranceOut, PolicyOut
from ktt_registry.service.common import (
    now,
    own_provider,
    policies_of,
    policy_periods,
    provider_facts,
    today,
)

LAPSE = "insurance_lapsed"


async def open_lapse(session: AsyncSession, provider_id: str) -> RegistryAlert | None:
    return (await session.execute(
        select(RegistryAlert).where(RegistryAlert.provider_id == provider_id, RegistryAlert.kind == LAPSE,
                                    RegistryAlert.open.is_(True))
    )).scalar_one_or_none()


def _lapse_message(provider: Provider, lapsed_on: dt.date, last_end: dt.date | None) -> str:
    ended = f"the last policy ended on {last_end.isoformat()}" if last_end else "no policy in force is recorded"
    return (f"{provider.name} has had no valid liability insurance since {lapsed_on.isoformat()} ({ended}); "
            "no new agreements until a valid policy is recorded (PRV-10)")


async def reconcile(session: AsyncSession, provider: Provider, on: dt.date) -> str | None:
    """PRV-10: open a lapse for an approved provider not insured on ``on``, or close the open lapse of a
    provider insured again; publish either once. Returns "lapsed", "renewed" or None (nothing new)."""
    periods = policy_periods(await policies_of(session, provider.id))
    insured = oversight.insured_on(periods, on)
    current = await open_lapse(session, provider.id)
    if insured and current is not None:
        closed = affected(await session.execute(
            update(RegistryAlert).where(RegistryAlert.id == current.id, RegistryAlert.open.is_(True))
            .values(open=None, resolved_on=on)
        ))
        if not closed:
            return None  # someone else closed it in the meantime
        await emit(session, ProviderInsuranceRenewed, ProviderInsuranceRenewedPayload(
            **await provider_facts(session, provider, on), renewed_on=on), subject=provider.id,
            revision_of=f"provider:{provider.id}")
        return "renewed"
    if insured or current is not None or provider.status != "approved":
        return None
    lapsed_on = oversight.lapse_start(periods, on)
    earlier = (await session.execute(
        select(RegistryAlert).where(RegistryAlert.provider_id == provider.id, RegistryAlert.kind == LAPSE,
                                    RegistryAlert.since == lapsed_on)
    )).scalar_one_or_none()
    if earlier is not None:
        # The same lapse was raised and resolved before. A run for a day before it was resolved is
        # history (a re-run of a missed night): nothing new. On or after that day the cover that ended
        # it has gone (a corrected policy): the lapse is open again and published again.
        if earlier.resolved_on is None or on < earlier.resolved_on:
            return None
        reopened = affected(await session.execute(
            update(RegistryAlert).where(RegistryAlert.id == earlier.id, RegistryAlert.open.is_(None))
            .values(open=True, resolved_on=None, acknowledged=False, acknowledged_by=None, acknowledged_on=None)
        ))
        if not reopened:
            return None
    else:
        try:
            async with session.begin_nested():
                session.add(RegistryAlert(
                    id=uuid.uuid4(), kind=LAPSE, provider_id=provider.id, rule="PRV-10", since=lapsed_on,
                    message=_lapse_message(provider, lapsed_on, oversight.insurance_end(periods, on)), open=True,
                    acknowledged=False, created_at=now(),
                ))
        except IntegrityError:
            return None  # a concurrent run raised this lapse already
    await emit(session, ProviderInsuranceLapsed, ProviderInsuranceLapsedPayload(
        **await provider_facts(session, provider, on), lapsed_on=lapsed_on), subject=provider.id,
        revision_of=f"provider:{provider.id}")
    return "lapsed"


async def record_policy(session: AsyncSession, provider_id: str, body: InsuranceIn, principal: Principal) -> Provider:
    """PRV-10: record a liability insurance policy period (the same number and start again corrects it).
    A provider insured again after a lapse is published as renewed at once; a change of the insurance
    end otherwise is published as ProviderChanged, so every copy of the provider knows it."""
    provider = await own_provider(session, principal, provider_id, for_update=True)
    if body.valid_until < body.valid_from:
        refuse([FieldError(field="body.valid_until", rule="PRV-10", message="the policy ends before it starts")])
    day = today(session)
    end_before = oversight.insurance_end(policy_periods(await policies_of(session, provider.id)), day)
    policy = (await session.execute(
        select(InsurancePolicy).where(InsurancePolicy.provider_id == provider.id,
                                      InsurancePolicy.policy_number == body.policy_number,
                                      InsurancePolicy.valid_from == body.valid_from).with_for_update()
    )).scalar_one_or_none()
    if policy is None:
        session.add(InsurancePolicy(id=uuid.uuid4(), provider_id=provider.id, insurer=body.insurer,
                                    policy_number=body.policy_number, valid_from=body.valid_from, valid_until=body.valid_until,
                                    recorded_on=day, recorded_by=principal.subject, created_at=now()))
    elif (policy.insurer, policy.valid_until) != (body.insurer, body.valid_until):
        policy.insurer, policy.valid_until, policy.recorded_on, policy.recorded_by = (
            body.insurer, body.valid_until, day, principal.subject)
    provider.insurance_insurer, provider.insurance_policy_number = body.insurer, body.policy_number
    provider.insurance_valid_from, provider.insurance_valid_until = body.valid_from, body.valid_until
    provider.updated_at = now()
    await session.flush()
    published = await reconcile(session, provider, day)
    end_after = oversight.insurance_end(policy_periods(await policies_of(session, provider.id)), day)
    if published is None and end_after != end_before:
        await emit(session, ProviderChanged, ProviderChangedPayload(
            **await provider_facts(session, provider, day), changed_fields=["insurance_valid_until"], changed_on=day,
        ), subject=provider.id, revision_of=f"provider:{provider.id}")
    await audit(session, principal, "provider.insurance", "provider", provider.id,
                details={"policy_number": body.policy_number, "valid_from": body.valid_from.isoformat(),
                         "valid_until": body.valid_until.isoformat()})
    return provider


async def insurance_view(session: AsyncSession, provider_id: str, principal: Principal) -> InsuranceOut:
    provider = await own_provider(session, principal, provider_id)
    day = today(session)
    policies = await policies_of(session, provider.id)
    periods = policy_periods(policies)
    lapse = await open_lapse(session, provider.id)
    return InsuranceOut(provider_id=provider.id, insured_today=oversight.insured_on(periods, day),
                        valid_until=oversight.insurance_end(periods, day), lapsed_since=lapse.since if lapse else None,
                        policies=[PolicyOut.model_validate(p) for p in policies])


async def insurance_expiry(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """PRV-10, daily: every approved provider not validly insured on the run date gets an alert and one
    ProviderInsuranceLapsed per lapse; a lapse whose provider is insured again is resolved and
    ProviderInsuranceRenewed published. Running it again for the same date publishes nothing new."""
    with_open_lapse = select(RegistryAlert.provider_id).where(RegistryAlert.kind == LAPSE, RegistryAlert.open.is_(True))
    providers = (await session.execute(
        select(Provider).where(or_(Provider.status == "approved", Provider.id.in_(with_open_lapse)))
        .order_by(Provider.id).with_for_update()
    )).scalars().all()
    outcome = {"lapsed": 0, "renewed": 0}
    for provider in providers:
        found = await reconcile(session, provider, run_date)
        if found:
            outcome[found] += 1
    return {**outcome, "checked": len(providers)}
