"""Use cases of service agreements (AGR-1..AGR-15, VOU-3, VOU-5, VOU-6, DEC-4, DATA-1, REP-3/REP-4).

Each function runs in the caller's transaction: the state change, its outbox events, its
notifications and the audit entry commit together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import OFFICIALS, Principal, Role
from ktt_common.errors import Conflict, FieldError, Forbidden, NotFound, RuleViolation
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.agreement import (
    AgreementChanged, AgreementChangedPayload, AgreementEnded, AgreementEndedPayload, AgreementSigned,
    AgreementSignedPayload, ClientRefusedByProvider, ClientRefusedByProviderPayload, FrozenValues, PeriodEnding,
    PeriodEndingPayload, PeriodFacts, ScheduleDayFacts,
)
from ktt_contracts.periods import period_length_problem
from ktt_contracts.voucher import ServiceStarted, ServiceStartedPayload

from ktt_voucher import agreement_rules as ar
from ktt_voucher import rules as voucher_rules
from ktt_voucher.agreement_models import (
    Agreement, AgreementNotification, AgreementPeriod, ConsentCopy, PriceCopy, ProductCopy, ProviderCopy,
    ProviderRefusal, UnitCopy,
)
from ktt_voucher.agreement_schemas import AgreementDraftIn, ContinuationIn, EndIn, RefusalIn, ScheduleDayIn, SignatureIn
from ktt_voucher.models import Voucher
from ktt_voucher.service import transition

OPEN_STATES = ("draft", "signed", "active")
# Voucher types and the products that may be bought with them (VOU-1).
PRODUCTS_FOR_VOUCHER = {
    "regular": {"individual", "group"},
    "assessment_period": {"assessment_period"},
    "intensive_coaching": {"intensive_coaching"},
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _today(session: AsyncSession) -> dt.date:
    return runtime_of(session).clock.today()


def _schedule_days(schedule: list[ScheduleDayIn] | list[dict[str, str]]) -> list[ar.ScheduleDay]:
    days = []
    for d in schedule:
        if isinstance(d, dict):
            days.append(ar.ScheduleDay(d["weekday"], dt.time.fromisoformat(d["start"]), dt.time.fromisoformat(d["end"])))
        else:
            days.append(ar.ScheduleDay(d.weekday.lower(), d.start, d.end))
    return days


def _schedule_json(days: list[ar.ScheduleDay]) -> list[dict[str, str]]:
    return [{"weekday": d.weekday, "start": d.start.strftime("%H:%M"), "end": d.end.strftime("%H:%M")} for d in days]


# --- reading ---------------------------------------------------------------------------------

def visible_to(principal: Principal) -> Any:
    """DATA-3 in the query: a provider sees its own agreements, a client its own, officials all."""
    if principal.role is Role.PROVIDER:
        return Agreement.provider_id == principal.provider_id
    if principal.role is Role.CLIENT:
        return Agreement.client_id == uuid.UUID(principal.client_id)  # type: ignore[arg-type]
    return True


async def get_agreement(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal, *, for_update: bool = False) -> Agreement:
    query = select(Agreement).where(Agreement.id == agreement_id, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    agreement = (await session.execute(query)).scalar_one_or_none()
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id} that you may see")
    return agreement


async def periods_of(session: AsyncSession, agreement_id: uuid.UUID) -> list[AgreementPeriod]:
    return list((await session.execute(
        select(AgreementPeriod).where(AgreementPeriod.agreement_id == agreement_id).order_by(AgreementPeriod.seq)
    )).scalars())


async def plan_visible_pairs(session: AsyncSession, pairs: list[tuple[uuid.UUID, str]], on: dt.date) -> set[tuple[uuid.UUID, str]]:
    """DATA-1 for many agreements in one query: the (client, provider) pairs whose consent covers the plan today."""
    if not pairs:
        return set()
    consents = (await session.execute(select(ConsentCopy).where(
        ConsentCopy.client_id.in_({c for c, _ in pairs}), ConsentCopy.provider_id.in_({p for _, p in pairs}),
        ConsentCopy.withdrawn_on.is_(None), ConsentCopy.given_on <= on,
    ))).scalars()
    return {(c.client_id, c.provider_id) for c in consents
            if "plan" in c.scope and (c.valid_until is None or c.valid_until >= on)}


async def periods_by_agreement(session: AsyncSession, agreement_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[AgreementPeriod]]:
    """The periods of many agreements in one query, in order."""
    found: dict[uuid.UUID, list[AgreementPeriod]] = {a: [] for a in agreement_ids}
    if agreement_ids:
        for period in (await session.execute(select(AgreementPeriod).where(AgreementPeriod.agreement_id.in_(agreement_ids))
                                             .order_by(AgreementPeriod.seq))).scalars():
            found[period.agreement_id].append(period)
    return found


# --- drafting --------------------------------------------------------------------------------

def missing_items(body: AgreementDraftIn, product_kind: str | None) -> list[FieldError]:
    """AGR-7: every required content item of the agreement, listed at once."""
    missing: list[tuple[str, str]] = []
    if not body.voucher_number:
        missing.append(("body.voucher_number", "the voucher identifier"))
    if not body.unit_id:
        missing.append(("body.unit_id", "the provider's unit (location and contacts)"))
    if not body.product_id:
        missing.append(("body.product_id", "the product (and so the voucher value)"))
    if not body.start_date:
        missing.append(("body.start_date", "the start date of the period"))
    if not body.end_date:
        missing.append(("body.end_date", "the end date of the period"))
    if not body.schedule:
        missing.append(("body.schedule", "the activity days, weekdays and hours per day"))
    if not body.tasks or not any(t.strip() for t in body.tasks):
        missing.append(("body.tasks", "the work tasks"))
    if not body.goals:
        missing.append(("body.goals", "the goal of the period"))
    if not body.instructor or not body.instructor.name:
        missing.append(("body.instructor.name", "the client's instructor"))
    if not body.instructor or not (body.instructor.phone or body.instructor.email):
        missing.append(("body.instructor.phone", "the instructor's contact details (AGR-2)"))
    if not body.client_contact or not (body.client_contact.phone or body.client_contact.email):
        missing.append(("body.client_contact", "the client's contact details"))
    if not body.case_worker or not body.case_worker.name:
        missing.append(("body.case_worker.name", "the case worker (coordinator, AGR-1)"))
    if not body.case_worker or not body.case_worker.office:
        missing.append(("body.case_worker.office", "the case worker's office"))
    if product_kind == "assessment_period":
        if not body.assessment_justification:
            missing.append(("body.assessment_justification", "the assessment period's justification (VOU-8)"))
        if not body.assessment_content:
            missing.append(("body.assessment_content", "the assessment period's content (VOU-8)"))
    terms = body.terms
    if not terms or not terms.absence_reporting_and_certificates:
        missing.append(("body.terms.absence_reporting_and_certificates", "the duty to report absences, with certificates"))
    if not terms or not terms.sanctions_for_unauthorised_absence:
        missing.append(("body.terms.sanctions_for_unauthorised_absence", "the sanctions of unauthorised absence"))
    if not terms or not terms.no_participation_under_influence:
        missing.append(("body.terms.no_participation_under_influence", "no participation under the influence"))
    return [FieldError(field=f, rule="AGR-7", message=f"missing: {what}") for f, what in missing]


async def voucher_by_number(session: AsyncSession, raw: str, field: str = "body.voucher_number") -> Voucher:
    """VOU-5: the provider checks the voucher before every agreement."""
    parsed = voucher_rules.parse_voucher_number(raw)
    if parsed.problem is not None:
        raise RuleViolation(voucher_rules.CHECK_REASON_TEXT[parsed.problem], rule="VOU-5",
                            errors=[FieldError(field=field, rule="VOU-5", message=voucher_rules.CHECK_REASON_TEXT[parsed.problem])])
    voucher = (await session.execute(select(Voucher).where(Voucher.number == parsed.formatted))).scalar_one_or_none()
    if voucher is None:
        raise RuleViolation("No voucher has this number.", rule="VOU-5",
                            errors=[FieldError(field=field, rule="VOU-5", message="no voucher has this number")])
    return voucher


def _refuse(errors: list[FieldError], summary: str) -> None:
    if errors:
        rules_cited = sorted({e.rule for e in errors if e.rule})
        raise RuleViolation(summary + ": " + "; ".join(f"{e.field}: {e.message}" for e in errors),
                            rule=rules_cited[0] if len(rules_cited) == 1 else None, errors=errors)


async def _price_in_force(session: AsyncSession, product_id: uuid.UUID, on: dt.date) -> PriceCopy | None:
    return (await session.execute(
        select(PriceCopy).where(PriceCopy.product_id == product_id, PriceCopy.effective_from <= on)
        .order_by(PriceCopy.effective_from.desc(), PriceCopy.version.desc()).limit(1)
    )).scalar_one_or_none()


async def draft_agreement(session: AsyncSession, body: AgreementDraftIn, principal: Principal) -> Agreement:
    """A provider drafts an agreement on a valid voucher number for its own approved unit and priced product."""
    provider_id = principal.provider_id
    assert provider_id
    today = _today(session)
    product = await session.get(ProductCopy, body.product_id) if body.product_id else None
    _refuse(missing_items(body, product.kind if product else None), "the agreement is incomplete (AGR-7)")
    assert body.voucher_number and body.unit_id and body.start_date and body.end_date and body.schedule

    voucher = await voucher_by_number(session, body.voucher_number)
    unit = await session.get(UnitCopy, body.unit_id)
    if unit is None or unit.provider_id != provider_id or product is None or product.provider_id != provider_id:
        raise Forbidden("the unit and the product must be your own provider's (DATA-3)", rule="DATA-3")

    errors: list[FieldError] = []
    provider = await session.get(ProviderCopy, provider_id)
    if provider is None or provider.status != "approved":
        errors.append(FieldError(field="body.unit_id", rule="PRV-1",
                                 message="only providers on the approved list may accept vouchers"))
    if not unit.taking_clients:
        errors.append(FieldError(field="body.unit_id", rule="PRV-8", message="the unit is marked unable to take clients"))
    if not product.active:
        errors.append(FieldError(field="body.product_id", rule="PRV-4", message="the product is not offered"))
    if product.kind not in PRODUCTS_FOR_VOUCHER.get(voucher.type, set()):
        errors.append(FieldError(field="body.product_id", rule="VOU-1",
                                 message=f"a {voucher.type} voucher buys {' or '.join(sorted(PRODUCTS_FOR_VOUCHER[voucher.type]))} products, not {product.kind}"))
    if await _price_in_force(session, product.product_id, body.start_date) is None:
        errors.append(FieldError(field="body.product_id", rule="VOU-1",
                                 message="Typake has set no voucher value for this product from the start date"))
    verdict = voucher_rules.check_verdict(voucher.state, voucher.valid_from, voucher.valid_to, today)
    if verdict is not None and verdict != "not_yet_valid":
        errors.append(FieldError(field="body.voucher_number", rule="VOU-5", message=voucher_rules.CHECK_REASON_TEXT[verdict]))
    if body.start_date < voucher.valid_from:
        errors.append(FieldError(field="body.start_date", rule="AGR-4",
                                 message=f"the voucher is valid from {voucher.valid_from}; start on or after it"))
    end_error = ar.check_end(body.end_date, voucher.valid_to)
    if end_error:
        errors.append(end_error)
    length = period_length_problem(body.start_date, body.end_date)
    if length:
        errors.append(FieldError(field="body.end_date", rule="DEC-4", message=length))
    lead = ar.check_signing_lead(today, body.start_date)
    if lead:
        errors.append(lead)
    schedule = _schedule_days(body.schedule)
    verdict_schedule = ar.check_schedule(schedule)
    errors += verdict_schedule.errors
    open_same = (await session.execute(select(Agreement.id).where(
        Agreement.voucher_id == voucher.id, Agreement.provider_id == provider_id, Agreement.state.in_(OPEN_STATES),
    ))).first()
    if open_same:
        errors.append(FieldError(field="body.voucher_number", rule="AGR-10",
                                 message=f"this client already has an open agreement {open_same[0]} with you; agree a continuation instead"))
    _refuse(errors, "the agreement cannot be drafted")

    warnings = [w.model_dump(exclude_none=True) for w in verdict_schedule.warnings]
    deadline = voucher_rules.start_deadline(voucher.decided_on) if voucher.decided_on else None
    if deadline and body.start_date > deadline:
        warnings.append({"field": "body.start_date", "rule": "VOU-3",
                         "message": f"the service should start by {deadline}; unless an official overrides the start date "
                                    "with a reason, the voucher shows as delayed"})
    previous = (await session.execute(select(Agreement).where(
        Agreement.voucher_id == voucher.id, Agreement.provider_id != provider_id, Agreement.state.in_(("signed", "active")),
    ))).scalar_one_or_none()
    now = _now()
    agreement = Agreement(
        id=uuid.uuid4(), voucher_id=voucher.id, client_id=voucher.client_id, decision_id=voucher.decision_id,
        provider_id=provider_id, unit_id=unit.unit_id, product_id=product.product_id, product_kind=product.kind,
        form=product.form, state="draft", start_date=body.start_date, end_date=body.end_date,
        content=body.model_dump(mode="json", exclude={"voucher_number", "unit_id", "product_id", "start_date", "end_date", "schedule"})
        | {"unit": {"name": unit.name, "address": f"{unit.street_address}, {unit.postal_code} {unit.city}",
                    "service_producer_code": unit.service_producer_code},
           "responsible_person": {"name": unit.responsible_person_name, "phone": unit.responsible_person_phone,
                                  "email": unit.responsible_person_email}},
        warnings=warnings, previous_agreement_id=previous.id if previous else None,
        created_by=principal.subject, created_at=now, updated_at=now,
    )
    session.add(agreement)
    session.add(AgreementPeriod(
        id=uuid.uuid4(), agreement_id=agreement.id, seq=1, start=body.start_date, end=body.end_date,
        schedule=_schedule_json(schedule), goals=body.goals or "", evaluation_due=ar.evaluation_due(body.end_date),
    ))
    await session.flush()
    await audit(session, principal, "agreement.draft", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


# --- signing (AGR-1, AGR-3, AGR-5, AGR-8, VOU-6) ------------------------------------------------

async def sign(session: AsyncSession, agreement_id: uuid.UUID, body: SignatureIn, principal: Principal) -> Agreement:
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    if agreement.state != "draft":
        raise Conflict(f"the agreement is {agreement.state}; only a draft is signed")
    if principal.role is Role.CLIENT and body.party != "client":
        raise Forbidden("a client signs as the client")
    today = _today(session)
    signed_on = body.signed_on or today
    if signed_on > today:
        raise RuleViolation(f"the signing date {signed_on} is in the future; record a signature on or after it happens",
                            errors=[FieldError(field="body.signed_on", message="a signature cannot be dated in the future")])
    signature = {"name": body.name, "place": body.place, "signed_on": signed_on.isoformat(), "recorded_by": principal.subject}
    if body.party == "responsible_person":
        agreement.responsible_signature = signature
    else:
        agreement.client_signature = signature
    if agreement.responsible_signature and agreement.client_signature:
        await _complete_signing(session, agreement, principal)
    agreement.updated_at = _now()
    await audit(session, principal, f"agreement.sign.{body.party}", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


async def _complete_signing(session: AsyncSession, agreement: Agreement, principal: Principal) -> None:
    assert agreement.responsible_signature and agreement.client_signature
    signed_on = max(dt.date.fromisoformat(agreement.responsible_signature["signed_on"]),
                    dt.date.fromisoformat(agreement.client_signature["signed_on"]))
    errors: list[FieldError] = []
    lead = ar.check_signing_lead(signed_on, agreement.start_date)
    if lead:
        errors.append(FieldError(field="body.signed_on", rule="AGR-3", message=lead.message))
    voucher = await session.get(Voucher, agreement.voucher_id)
    assert voucher is not None
    verdict = voucher_rules.check_verdict(voucher.state, voucher.valid_from, voucher.valid_to, signed_on)
    if verdict is not None and verdict != "not_yet_valid":
        errors.append(FieldError(field="voucher", rule="VOU-5", message=voucher_rules.CHECK_REASON_TEXT[verdict]))
    provider = await session.get(ProviderCopy, agreement.provider_id)
    if provider is None or provider.status != "approved":
        errors.append(FieldError(field="provider", rule="PRV-1", message="the provider is not on the approved list"))
    price = await _price_in_force(session, agreement.product_id, agreement.start_date)
    if price is None:
        errors.append(FieldError(field="product", rule="VOU-1", message="no voucher value is set for the product"))
    _refuse(errors, "the agreement cannot be signed")
    assert price is not None
    # Frozen copy of the values (VOU-1, BIL-6): later price changes never rewrite them.
    agreement.price_version = price.version
    agreement.day_value_first_year_cents = price.day_value_first_year_cents
    agreement.base_day_value_cents = price.base_day_value_cents
    agreement.hour_value_cents = price.hour_value_cents
    agreement.base_value_from = ar.base_value_from(await first_service_start(session, agreement))
    agreement.signed_on = signed_on
    agreement.state = "signed"
    await session.flush()
    # AGR-8: a change of provider means a new agreement; the old one ends the day before this starts.
    if agreement.previous_agreement_id:
        old = await session.get(Agreement, agreement.previous_agreement_id)
        if old is not None and old.state in ("signed", "active"):
            await end_agreement(session, old, kind="provider_change", reason=f"replaced by agreement {agreement.id}",
                                ended_on=max(old.start_date, agreement.start_date - dt.timedelta(days=1)), actor=principal)
    await emit(session, AgreementSigned, AgreementSignedPayload(
        **(await agreement_facts(session, agreement)), signed_on=signed_on), subject=str(agreement.id))
    # AGR-5: copies to the client, Typake and, for a social-work client, the social worker.
    office = (agreement.content.get("case_worker") or {}).get("office")
    recipients = ["client", "typake"] + (["social_worker"] if office == "social_work" else [])
    for recipient in recipients:
        session.add(AgreementNotification(
            agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient=recipient,
            kind="agreement_copy", message=f"Copy of the service agreement signed on {signed_on} (AGR-5)", created_at=_now(),
        ))


async def first_service_start(session: AsyncSession, agreement: Agreement) -> dt.date:
    """VOU-6: one year of service counts from the client's first service start under the voucher,
    across provider changes."""
    earlier = (await session.execute(
        select(Agreement.start_date).where(
            Agreement.voucher_id == agreement.voucher_id, Agreement.id != agreement.id,
            or_(Agreement.started_on.is_not(None), Agreement.state.in_(("signed", "active"))),
        ).order_by(Agreement.start_date).limit(1)
    )).scalar_one_or_none()
    return min(earlier, agreement.start_date) if earlier else agreement.start_date


async def agreement_facts(session: AsyncSession, agreement: Agreement) -> dict[str, Any]:
    periods = await periods_of(session, agreement.id)
    return {
        "agreement_id": agreement.id, "voucher_id": agreement.voucher_id, "decision_id": agreement.decision_id,
        "client_id": agreement.client_id, "provider_id": agreement.provider_id, "unit_id": agreement.unit_id,
        "product_id": agreement.product_id, "product_kind": agreement.product_kind, "form": agreement.form,
        "start": agreement.start_date, "end": agreement.end_date,
        "periods": [PeriodFacts(period_id=p.id, seq=p.seq, start=p.start, end=p.end, goals=p.goals,
                                evaluation_due=p.evaluation_due,
                                schedule=[ScheduleDayFacts(**d) for d in p.schedule]) for p in periods],
        "values": FrozenValues(price_version=agreement.price_version or 0,
                               day_value_first_year_cents=agreement.day_value_first_year_cents,
                               base_day_value_cents=agreement.base_day_value_cents,
                               hour_value_cents=agreement.hour_value_cents),
        "base_value_from": agreement.base_value_from,
        "previous_agreement_id": agreement.previous_agreement_id,
    }


async def override_start(session: AsyncSession, agreement_id: uuid.UUID, reason: str, principal: Principal) -> Agreement:
    """VOU-3: an official accepts a start later than 14 days after the decision, with a reason."""
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    agreement.start_override_reason = reason
    agreement.start_override_by = principal.subject
    agreement.warnings = [w for w in agreement.warnings if w.get("rule") != "VOU-3"]
    agreement.updated_at = _now()
    await audit(session, principal, "agreement.start_override", "agreement", agreement.id, client_ids=[agreement.client_id],
                details={"reason": reason})
    return agreement


# --- continuation (AGR-10, AGR-11, DEC-4) ---------------------------------------------------------

async def add_continuation(session: AsyncSession, agreement_id: uuid.UUID, body: ContinuationIn, principal: Principal) -> Agreement:
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    if agreement.state not in ("signed", "active"):
        raise Conflict(f"the agreement is {agreement.state}; a continuation follows a signed agreement (AGR-10)", rule="AGR-10")
    periods = await periods_of(session, agreement.id)
    start = periods[-1].end + dt.timedelta(days=1)
    voucher = await session.get(Voucher, agreement.voucher_id)
    assert voucher is not None
    schedule = _schedule_days(body.schedule)
    verdict = ar.check_schedule(schedule)
    errors = list(verdict.errors)
    length = period_length_problem(start, body.end)
    if length:
        errors.append(FieldError(field="body.end", rule="DEC-4", message=length))
    end_error = ar.check_end(body.end, voucher.valid_to)
    if end_error:
        errors.append(FieldError(field="body.end", rule="AGR-4", message=end_error.message))
    projected: list[dt.date] = []
    for p in periods:
        projected += ar.scheduled_days(p.start, p.end, {d["weekday"] for d in p.schedule})
    projected += ar.scheduled_days(start, body.end, {d.weekday for d in schedule})
    cap = ar.check_230_days(projected)
    if cap:
        errors.append(cap)
    _refuse(errors, "the continuation cannot be agreed")
    session.add(AgreementPeriod(
        id=uuid.uuid4(), agreement_id=agreement.id, seq=periods[-1].seq + 1, start=start, end=body.end,
        schedule=_schedule_json(schedule), goals=body.goals, evaluation_due=ar.evaluation_due(body.end),
    ))
    agreement.end_date = body.end
    agreement.updated_at = _now()
    agreement.warnings = [w.model_dump(exclude_none=True) for w in verdict.warnings]
    await session.flush()
    await emit(session, AgreementChanged, AgreementChangedPayload(
        **(await agreement_facts(session, agreement)), change="continuation"), subject=str(agreement.id))
    await audit(session, principal, "agreement.continuation", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


# --- ending (AGR-13, AGR-8) -----------------------------------------------------------------------

async def end_agreement(session: AsyncSession, agreement: Agreement, *, kind: str, reason: str | None,
                        ended_on: dt.date, actor: Principal | str) -> bool:
    """End an agreement once (a compare-and-set on its state), publish AgreementEnded and tell Typake."""
    if agreement.state not in ("draft", "signed", "active"):
        return False
    if agreement.state == "draft":
        agreement.state = "withdrawn"
        agreement.end_kind, agreement.end_reason, agreement.ended_on = kind, reason, ended_on
        return True
    result = await session.execute(
        update(Agreement).where(Agreement.id == agreement.id, Agreement.state == agreement.state)
        .values(state="ended", ended_on=ended_on, end_kind=kind, end_reason=reason, updated_at=_now())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(agreement)
    if result.rowcount != 1:
        return False
    early = kind != "fixed_term"
    await emit(session, AgreementEnded, AgreementEndedPayload(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id,
        provider_id=agreement.provider_id, unit_id=agreement.unit_id, ended_on=ended_on, kind=kind,  # type: ignore[arg-type]
        reason=reason, early=early), subject=str(agreement.id))
    session.add(AgreementNotification(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="typake",
        kind="agreement_ended", message=f"Agreement ended on {ended_on}: {kind}" + (f" ({reason})" if reason else "") + " (AGR-13)",
        created_at=_now(),
    ))
    actor_name = actor.subject if isinstance(actor, Principal) else actor
    await audit(session, actor if isinstance(actor, Principal) else actor_name, "agreement.end", "agreement", agreement.id,
                client_ids=[agreement.client_id], details={"kind": kind, "reason": reason})
    return True


async def end_by_request(session: AsyncSession, agreement_id: uuid.UUID, body: EndIn, principal: Principal) -> Agreement:
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    if body.kind == "city_suspension" and principal.role not in OFFICIALS:
        raise Forbidden("only the city suspends a client's service (AGR-13)", rule="AGR-13")
    if agreement.state not in ("signed", "active", "draft"):
        raise Conflict(f"the agreement is already {agreement.state}")
    await end_agreement(session, agreement, kind=body.kind, reason=body.reason,
                        ended_on=body.ended_on or _today(session), actor=principal)
    return agreement


async def end_open_agreements(session: AsyncSession, where: Any, *, kind: str, reason: str, on: dt.date, actor: str) -> int:
    agreements = (await session.execute(select(Agreement).where(where, Agreement.state.in_(OPEN_STATES)))).scalars().all()
    ended = 0
    for agreement in agreements:
        ended += await end_agreement(session, agreement, kind=kind, reason=reason, ended_on=on, actor=actor)
    return ended


async def follow_shortened_decision(session: AsyncSession, decision_id: uuid.UUID, new_end: dt.date, *, actor: str) -> int:
    """AGR-4 / DEC-7: an agreement ends at the latest when its decision ends. When an amendment
    moves the decision's end earlier, open agreements are cut to it (periods after it dropped, the
    last one shortened with its evaluation date), or end if they would not start before it;
    the provider and Typake are told."""
    agreements = (await session.execute(select(Agreement).where(
        Agreement.decision_id == decision_id, Agreement.state.in_(OPEN_STATES), Agreement.end_date > new_end,
    ))).scalars().all()
    changed = 0
    for agreement in agreements:
        if agreement.start_date > new_end:
            changed += await end_agreement(session, agreement, kind="decision_shortened",
                                           reason=f"the decision now ends on {new_end}, before this agreement starts",
                                           ended_on=new_end, actor=actor)
            continue
        for period in await periods_of(session, agreement.id):
            if period.start > new_end:
                await session.delete(period)
            elif period.end > new_end:
                period.end, period.evaluation_due = new_end, ar.evaluation_due(new_end)
        agreement.end_date = new_end
        agreement.updated_at = _now()
        await session.flush()
        for recipient in ("provider", "typake"):
            session.add(AgreementNotification(
                agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient=recipient,
                kind="agreement_shortened", message=f"The decision was amended to end on {new_end}; the agreement ends then too (AGR-4)",
                created_at=_now(),
            ))
        if agreement.state != "draft":
            await emit(session, AgreementChanged, AgreementChangedPayload(
                **(await agreement_facts(session, agreement)), change="decision_shortened"), subject=str(agreement.id))
        changed += 1
    return changed


# --- provider refusals (AGR-15) --------------------------------------------------------------------

async def refuse_client(session: AsyncSession, body: RefusalIn, principal: Principal) -> ProviderRefusal:
    voucher = await voucher_by_number(session, body.voucher_number)
    if body.unit_id:
        unit = await session.get(UnitCopy, body.unit_id)
        if unit is None or unit.provider_id != principal.provider_id:
            raise Forbidden("the unit must be your own provider's (DATA-3)", rule="DATA-3")
    today = _today(session)
    refusal = ProviderRefusal(
        id=uuid.uuid4(), voucher_id=voucher.id, client_id=voucher.client_id, provider_id=principal.provider_id or "",
        unit_id=body.unit_id, reason=body.reason, refused_on=today, created_by=principal.subject, created_at=_now(),
    )
    session.add(refusal)
    session.add(AgreementNotification(
        voucher_id=voucher.id, client_id=voucher.client_id, recipient="typake", kind="client_refused",
        message=f"Provider {principal.provider_id} refused the client: {body.reason} (AGR-15)", created_at=_now(),
    ))
    await emit(session, ClientRefusedByProvider, ClientRefusedByProviderPayload(
        refusal_id=refusal.id, voucher_id=voucher.id, client_id=voucher.client_id, provider_id=refusal.provider_id,
        unit_id=body.unit_id, reason=body.reason, refused_on=today), subject=str(voucher.id))
    await audit(session, principal, "agreement.refuse_client", "voucher", voucher.id, client_ids=[voucher.client_id])
    return refusal


# --- daily jobs -------------------------------------------------------------------------------------

async def start_services(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """ServiceStarted when the first scheduled day comes; the voucher becomes in use (VOU-3, DEC-6).
    A guarded update makes each start happen once however often or concurrently the job runs."""
    due = (await session.execute(select(Agreement).where(
        Agreement.state == "signed", Agreement.start_date <= run_date, Agreement.started_on.is_(None),
    ))).scalars().all()
    started = 0
    for agreement in due:
        periods = await periods_of(session, agreement.id)
        weekdays = {d["weekday"] for d in periods[0].schedule}
        first_day = next(iter(ar.scheduled_days(agreement.start_date, agreement.end_date, weekdays)), None)
        if first_day is None or first_day > run_date:
            continue
        result = await session.execute(
            update(Agreement).where(Agreement.id == agreement.id, Agreement.started_on.is_(None))
            .values(started_on=first_day, state="active", updated_at=_now()).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            continue
        await session.refresh(agreement)
        voucher = await session.get(Voucher, agreement.voucher_id)
        assert voucher is not None
        if voucher.state in ("issued", "delayed"):
            await transition(session, voucher, "in_use", reason="VOU-3: the client's service started", actor="job:services-starting",
                             on_date=run_date)
        schedule = periods[0].schedule
        provider = await session.get(ProviderCopy, agreement.provider_id)
        await emit(session, ServiceStarted, ServiceStartedPayload(
            client_id=agreement.client_id, voucher_id=agreement.voucher_id, decision_id=agreement.decision_id,
            agreement_id=agreement.id, provider_id=agreement.provider_id, provider_name=provider.name if provider else None,
            unit_id=str(agreement.unit_id), unit_name=(agreement.content.get("unit") or {}).get("name"), started_on=first_day,
            form=agreement.form, days_per_week=len(schedule),  # type: ignore[arg-type]
            hours_per_day=round(sum(d.hours for d in _schedule_days(schedule)) / len(schedule), 2),
        ), subject=str(agreement.id))
        started += 1
    return {"started": started}


async def publish_periods_ending(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """PeriodEnding exactly once per period at the lead time before its end (REP-3, REP-4)."""
    lead = runtime_of(session).settings.period_ending_lead_days  # type: ignore[attr-defined]
    rows = (await session.execute(
        select(AgreementPeriod, Agreement).join(Agreement, Agreement.id == AgreementPeriod.agreement_id).where(
            Agreement.state.in_(("signed", "active")), AgreementPeriod.ending_notified_on.is_(None),
            AgreementPeriod.end >= run_date, AgreementPeriod.end <= run_date + dt.timedelta(days=lead),
        )
    )).all()
    published = 0
    for period, agreement in rows:
        claimed = await session.execute(
            update(AgreementPeriod).where(AgreementPeriod.id == period.id, AgreementPeriod.ending_notified_on.is_(None))
            .values(ending_notified_on=run_date).execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        final = period.end >= agreement.end_date
        await emit(session, PeriodEnding, PeriodEndingPayload(
            agreement_id=agreement.id, client_id=agreement.client_id, provider_id=agreement.provider_id,
            period_id=period.id, period_seq=period.seq, period_end=period.end, evaluation_due=period.evaluation_due,
            evaluation_kind="final" if final else "interim"), subject=str(agreement.id))
        published += 1
    return {"published": published}


async def end_fixed_terms(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """AGR-13: a fixed-term agreement ends by itself after its last day (on that day, even when
    the job runs late)."""
    agreements = (await session.execute(select(Agreement).where(
        Agreement.end_date < run_date, Agreement.state.in_(("signed", "active")),
    ))).scalars().all()
    ended = 0
    for agreement in agreements:
        ended += await end_agreement(session, agreement, kind="fixed_term", reason=None, ended_on=agreement.end_date,
                                     actor="job:agreements-ending")
    return {"ended": ended}


# --- deadlines view (VOU-3, AGR-3, REP-3, REP-4) -------------------------------------------------------

async def deadlines(session: AsyncSession, *, client_id: uuid.UUID | None, office: str | None, today: dt.date) -> list[dict[str, Any]]:
    """Every open deadline of a client, or of a case-worker office's clients, overdue first."""
    vouchers_q = select(Voucher).where(Voucher.state.in_(("issued", "delayed", "in_use")))
    if client_id is not None:
        vouchers_q = vouchers_q.where(Voucher.client_id == client_id)
    vouchers = list((await session.execute(vouchers_q)).scalars())
    if not vouchers:
        return []
    voucher_ids = [v.id for v in vouchers]
    agreements = list((await session.execute(
        select(Agreement).where(Agreement.voucher_id.in_(voucher_ids), Agreement.state.in_(OPEN_STATES))
    )).scalars())
    if office is not None:
        offices = {a.voucher_id: (a.content.get("case_worker") or {}).get("office") for a in agreements}
        vouchers = [v for v in vouchers if getattr(v, "case_worker_office", None) == office or offices.get(v.id) == office]
    by_voucher: dict[uuid.UUID, list[Agreement]] = {}
    for a in agreements:
        by_voucher.setdefault(a.voucher_id, []).append(a)
    periods = await periods_by_agreement(session, [a.id for a in agreements])
    out: list[dict[str, Any]] = []

    def add(kind: str, rule: str, due: dt.date, voucher: Voucher, detail: str, agreement: Agreement | None = None) -> None:
        out.append({"kind": kind, "rule": rule, "due": due, "overdue": due < today, "client_id": voucher.client_id,
                    "voucher_id": voucher.id, "agreement_id": agreement.id if agreement else None, "detail": detail})

    for voucher in vouchers:
        mine = by_voucher.get(voucher.id, [])
        started = any(a.started_on for a in mine)
        if voucher.decided_on and not mine and voucher.state != "in_use":
            add("contact_provider", "VOU-3", voucher_rules.contact_deadline(voucher.decided_on), voucher,
                "the client contacts a provider within 7 days of the decision")
        if voucher.decided_on and not started and voucher.state != "in_use" and not any(a.start_override_reason for a in mine):
            add("service_start", "VOU-3", voucher_rules.start_deadline(voucher.decided_on), voucher,
                "the service starts at the latest 14 days after the decision")
        for agreement in mine:
            if agreement.state == "draft":
                add("signing", "AGR-3", agreement.start_date - dt.timedelta(days=ar.SIGNING_LEAD_DAYS), voucher,
                    "the agreement is signed at least 3 days before the start", agreement)
                continue
            for period in periods.get(agreement.id, []):
                if period.end < today:
                    continue
                add("evaluation", "REP-3" if period.end < agreement.end_date else "REP-4", period.evaluation_due, voucher,
                    f"{'interim' if period.end < agreement.end_date else 'final'} evaluation of period {period.seq}", agreement)
                add("period_end", "AGR-12", period.end, voucher, f"period {period.seq} ends; review the agreement", agreement)
    out.sort(key=lambda d: (not d["overdue"], d["due"]))
    return out
