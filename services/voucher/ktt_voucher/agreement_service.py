"""Use cases of service agreements (AGR-1..AGR-15, VOU-3, VOU-5, VOU-6, DEC-4, DATA-1, REP-3/REP-4).

Each function runs in the caller's transaction: the state change, its outbox events, its
notifications and the audit entry commit together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import OFFICIALS, Principal, Role
from ktt_common.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, RuleViolation
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.agreement import (
    AgreementChanged, AgreementChangedPayload, AgreementEnded, AgreementEndedPayload, AgreementSigned,
    AgreementSignedPayload, ClientRefusedByProvider, ClientRefusedByProviderPayload, FrozenValues, PeriodEnding,
    PeriodEndingPayload, PeriodFacts, ScheduleDayFacts, ScheduleSpan,
)
from ktt_contracts.voucher import ServiceStarted, ServiceStartedPayload

from ktt_voucher import agreement_rules as ar
from ktt_voucher import rules as voucher_rules
from ktt_voucher.agreement_models import (
    Agreement, AgreementNotification, AgreementPeriod, CapacityCopy, ConsentCopy, PriceCopy, ProductCopy, ProviderCopy,
    ProviderRefusal, QueueCopy, RepresentativeCopy, UnitCopy,
)
from ktt_voucher.agreement_schemas import AgreementDraftIn, RefusalIn, ScheduleDayIn, SignatureIn
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


def after_the_end(agreement: Agreement, today: dt.date) -> bool:
    """DATA-2: the agreement has ended (its last day has passed) or was withdrawn."""
    return agreement.state == "withdrawn" or (agreement.state == "ended" and agreement.ended_on is not None
                                              and agreement.ended_on < today)


def provider_may_still_see(agreement: Agreement, principal: Principal, today: dt.date, retention_days: int | None = None) -> bool:
    """DATA-2: after the end a provider keeps what billing and reports need for the retention
    period (``ENDED_AGREEMENT_PROVIDER_DAYS``), then no longer sees the agreement at all."""
    if principal.role is not Role.PROVIDER or not after_the_end(agreement, today):
        return True
    days = retention_days if retention_days is not None else DEFAULT_PROVIDER_RETENTION_DAYS
    last = agreement.ended_on or agreement.updated_at.date()
    return today <= last + dt.timedelta(days=days)


DEFAULT_PROVIDER_RETENTION_DAYS = 400


async def get_agreement(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal, *, for_update: bool = False) -> Agreement:
    query = select(Agreement).where(Agreement.id == agreement_id, visible_to(principal))
    if for_update:
        query = query.with_for_update()
    agreement = (await session.execute(query)).scalar_one_or_none()
    retention = getattr(runtime_of(session).settings, "ended_agreement_provider_days", None)
    if agreement is None or not provider_may_still_see(agreement, principal, _today(session), retention):
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
    """AGR-7 and AGR-17: every required content item of the agreement, listed at once."""
    missing: list[tuple[str, str, str]] = []
    if not body.voucher_number:
        missing.append(("body.voucher_number", "the voucher identifier", "AGR-7"))
    if not body.unit_id:
        missing.append(("body.unit_id", "the provider's unit (location and contacts)", "AGR-7"))
    if not body.product_id:
        missing.append(("body.product_id", "the product (and so the voucher value)", "AGR-7"))
    if not body.start_date:
        missing.append(("body.start_date", "the start date of the period", "AGR-7"))
    if not body.end_date:
        missing.append(("body.end_date", "the end date of the period", "AGR-7"))
    if not body.schedule:
        missing.append(("body.schedule", "the activity days, weekdays and hours per day", "AGR-7"))
    if not body.tasks or not any(t.strip() for t in body.tasks):
        missing.append(("body.tasks", "the work tasks", "AGR-7"))
    if not body.goals:
        missing.append(("body.goals", "the goal of the period", "AGR-7"))
    if not body.instructor or not body.instructor.name:
        missing.append(("body.instructor.name", "the client's instructor", "AGR-7"))
    if not body.instructor or not (body.instructor.phone or body.instructor.email):
        missing.append(("body.instructor.phone", "the instructor's contact details (AGR-2)", "AGR-7"))
    if not body.client_contact or not (body.client_contact.phone or body.client_contact.email):
        missing.append(("body.client_contact", "the client's contact details", "AGR-7"))
    if not body.case_worker or not body.case_worker.name:
        missing.append(("body.case_worker.name", "the case worker (coordinator, AGR-1)", "AGR-7"))
    if not body.case_worker or not (body.case_worker.phone or body.case_worker.email):
        missing.append(("body.case_worker.phone", "the case worker's contact details", "AGR-7"))
    if product_kind == "assessment_period":
        if not body.assessment_justification:
            missing.append(("body.assessment_justification", "the assessment period's justification (VOU-8)", "AGR-7"))
        if not body.assessment_content:
            missing.append(("body.assessment_content", "the assessment period's content (VOU-8)", "AGR-7"))
    if not body.individual_coaching:
        missing.append(("body.individual_coaching", "the amount of individual coaching", "AGR-17"))
    if body.parallel_services is None:
        missing.append(("body.parallel_services", "other services the client takes part in at the same time ([] for none)", "AGR-17"))
    if body.work_cards is None:
        missing.append(("body.work_cards", "work cards or qualification parts to be earned ([] for none)", "AGR-17"))
    terms = body.terms
    for name, what, rule in (
        ("absence_reporting_and_certificates", "the duty to report absences, with certificates", "AGR-7"),
        ("sanctions_for_unauthorised_absence", "the sanctions of unauthorised absence", "AGR-7"),
        ("no_participation_under_influence", "no participation under the influence", "AGR-7"),
        ("termination_and_complaint_terms", "the termination and complaint terms", "AGR-17"),
        ("self_monitoring_plan", "the client gets the self-monitoring plan", "AGR-17"),
        ("orientation_folder", "the client gets an orientation folder", "AGR-17"),
        ("fire_safety_induction", "the client gets fire-safety induction", "AGR-17"),
    ):
        if not terms or not getattr(terms, name):
            missing.append((f"body.terms.{name}", what, rule))
    return [FieldError(field=f, rule=rule, message=f"missing: {what}") for f, what, rule in missing]


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


def insurance_problem(provider: ProviderCopy | None, on: dt.date, field: str = "body.unit_id") -> FieldError | None:
    """PRV-10: a provider whose liability insurance has lapsed takes no new agreements."""
    if provider is None:
        return None
    lapsed = provider.insurance_lapsed_on is not None or (
        provider.insurance_valid_until is not None and provider.insurance_valid_until < on)
    if lapsed:
        return FieldError(field=field, rule="PRV-10",
                          message="the provider's liability insurance is not valid; no new agreements until it is renewed")
    return None


async def place_verdict(session: AsyncSession, unit_id: uuid.UUID, product_id: uuid.UUID, client_id: uuid.UUID,
                        form: str, field: str = "body.unit_id") -> FieldError | None:
    """PRV-6 / PRV-7: an individual place needs a free place not claimed by clients ahead in the
    unit's queue. The registry's figures are a copy: agreements signed here after that copy are
    taken off its free places, so two signings before the registry catches up cannot both take the
    last place."""
    if form != "individual":
        return None  # group places are enrolled by the group (decision of 2026-11-30)
    capacity = await session.get(CapacityCopy, unit_id)
    if capacity is None:
        return None
    signed_since = (await session.execute(select(func.count()).select_from(Agreement).where(
        Agreement.unit_id == unit_id, Agreement.form == "individual", Agreement.state.in_(ar.IN_FORCE_STATES),
        Agreement.signed_at > capacity.event_time,
    ))).scalar_one()
    free = capacity.free_places - signed_since if capacity.taking_clients else 0
    # PRV-7: individual KTT, assessment periods and intensive coaching share the unit's places, so the
    # clients ahead are counted across the unit's queues by the registry's unit-wide rank.
    queues = (await session.execute(select(QueueCopy).where(QueueCopy.unit_id == unit_id))).scalars().all()
    ranks: dict[str, int] = {}
    for queue in queues:
        ranks.update(queue.unit_ranks or ({c: i + 1 for i, c in enumerate(queue.client_ids)}
                                         if queue.product_id == product_id else {}))
    mine = ranks.get(str(client_id))
    ahead = mine - 1 if mine is not None else len(ranks)
    problem = ar.place_problem(free, ahead)
    return FieldError(field=field, rule="PRV-7" if free > 0 else "PRV-6", message=problem) if problem else None


# --- one agreement in force per client (AGR-18, AGR-8, AGR-6, AGR-11) --------------------------------

def period_segments(period: AgreementPeriod) -> list[tuple[dt.date, dt.date, set[str]]]:
    """The stretches of a period with the weekdays of the schedule that applied (AGR-12 reviews)."""
    segments = [(dt.date.fromisoformat(s["start"]), dt.date.fromisoformat(s["end"]), {d["weekday"] for d in s["schedule"]})
                for s in (period.earlier_schedules or [])]
    segments.append((period.schedule_from or period.start, period.end, {d["weekday"] for d in period.schedule}))
    return segments


def projected_days(periods: list[AgreementPeriod], until: dt.date | None = None) -> list[dt.date]:
    """Activity days the agreement's schedules project, up to ``until`` (its last day in force)."""
    days: list[dt.date] = []
    for period in periods:
        for start, end, weekdays in period_segments(period):
            last = min(end, until) if until else end
            if last >= start:
                days += ar.scheduled_days(start, last, weekdays)
    return days


async def client_agreements(session: AsyncSession, client_id: uuid.UUID, *, exclude: uuid.UUID | None = None) -> list[Agreement]:
    """The client's agreements that bind on some day (signed, active, or ended after starting)."""
    rows = (await session.execute(select(Agreement).where(
        Agreement.client_id == client_id, Agreement.state.in_(("signed", "active", "ended")),
    ).order_by(Agreement.start_date))).scalars().all()
    out = []
    for a in rows:
        until = ar.in_force_until(a.state, a.end_date, a.ended_on)
        if a.id != exclude and until is not None and until >= a.start_date:
            out.append(a)
    return out


async def check_in_force(session: AsyncSession, *, client_id: uuid.UUID, provider_id: str, start: dt.date, end: dt.date,
                         weekdays: set[str], exclude: uuid.UUID | None = None) -> tuple[list[FieldError], list[Agreement]]:
    """AGR-18: what a new agreement of the client over [start, end] would mean. Returns the
    refusals and the agreements it replaces: another provider's agreement in force on those days
    ends the day before the new start (AGR-8); the same provider's is continued, not duplicated
    (AGR-10). The weekly limit and the 230 days hold across the client's agreements."""
    errors: list[FieldError] = []
    replaced: list[Agreement] = []
    others = await client_agreements(session, client_id, exclude=exclude)
    periods = await periods_by_agreement(session, [a.id for a in others])
    days = ar.scheduled_days(start, end, weekdays)
    for other in others:
        until = ar.in_force_until(other.state, other.end_date, other.ended_on)
        if ar.overlap(other.start_date, until, start, end):
            if other.provider_id == provider_id:
                errors.append(FieldError(field="body.start_date", rule="AGR-10",
                                         message=f"the client's agreement {other.id} with you is in force until {until}; "
                                                 "agree a continuation or a review instead, or start after it"))
                continue
            replaced.append(other)
            until = ar.replacement_end(start)
        days += projected_days(periods[other.id], until)
    weekly = ar.days_per_week_problem(days)
    if weekly:
        errors.append(weekly)
    cap = ar.check_230_days(days)
    if cap:
        errors.append(cap)
    return errors, replaced


async def replace_agreements(session: AsyncSession, replaced: list[Agreement], new: Agreement, actor: Principal | str) -> None:
    """AGR-8 / AGR-18: the previous agreements end the day before the new one starts."""
    last_day = ar.replacement_end(new.start_date)
    for old in replaced:
        if old.state == "ended":
            # Already ending on a later day (a change of provider before): end earlier, told again.
            await session.execute(update(Agreement).where(Agreement.id == old.id, Agreement.state == "ended")
                                  .values(ended_on=last_day, updated_at=_now()).execution_options(synchronize_session=False))
            await session.refresh(old)
            await emit(session, AgreementEnded, _ended_payload(old), subject=str(old.id))
        else:
            await end_agreement(session, old, kind="provider_change", reason=f"replaced by agreement {new.id} (AGR-8)",
                                ended_on=last_day, actor=actor)


async def first_service_day(session: AsyncSession, client_id: uuid.UUID, planned: dt.date | None) -> dt.date | None:
    """VOU-6: the client's first day of voucher-bought KTT: the first day a service actually
    started, across providers and decisions; until one has, the earliest planned first day of the
    client's agreements in force (``planned`` is the one being signed)."""
    started = (await session.execute(select(func.min(Agreement.started_on)).where(
        Agreement.client_id == client_id, Agreement.started_on.is_not(None)))).scalar_one_or_none()
    if started:
        return started
    binding = await client_agreements(session, client_id)
    periods = await periods_by_agreement(session, [a.id for a in binding])
    firsts = [d for a in binding
              for d in projected_days(periods[a.id][:1], ar.in_force_until(a.state, a.end_date, a.ended_on))[:1]]
    return min(firsts + ([planned] if planned else []), default=None)


def planned_first_day(agreement: Agreement, periods: list[AgreementPeriod]) -> dt.date:
    days = projected_days(periods[:1])
    return days[0] if days else agreement.start_date


async def draft_agreement(session: AsyncSession, body: AgreementDraftIn, principal: Principal) -> Agreement:
    """A provider drafts an agreement on a valid voucher number for its own approved unit and priced product."""
    provider_id = principal.provider_id
    assert provider_id
    today = _today(session)
    product = await session.get(ProductCopy, body.product_id) if body.product_id else None
    _refuse(missing_items(body, product.kind if product else None), "the agreement is incomplete (AGR-7, AGR-17)")
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
    insurance = insurance_problem(provider, today)
    if insurance:
        errors.append(insurance)
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
    if body.end_date < body.start_date:
        # DEC-4: the 3-24 months are the decision's KTT period; an agreement inside it may be shorter
        # (a change of provider continues the same period), but it cannot end before it starts.
        errors.append(FieldError(field="body.end_date", rule="AGR-4", message="the agreement ends before it starts"))
    office = voucher.case_worker_office
    if office and body.case_worker and body.case_worker.office and body.case_worker.office != office:
        errors.append(FieldError(field="body.case_worker.office", rule="AGR-5",
                                 message=f"the decision names the case worker's office as {office}; copies follow the decision"))
    lead = ar.check_signing_lead(today, body.start_date)
    if lead:
        errors.append(lead)
    schedule = _schedule_days(body.schedule)
    verdict_schedule = ar.check_schedule(schedule)
    errors += verdict_schedule.errors
    open_draft = (await session.execute(select(Agreement.id).where(
        Agreement.client_id == voucher.client_id, Agreement.provider_id == provider_id, Agreement.state == "draft",
    ))).first()
    if open_draft:
        errors.append(FieldError(field="body.voucher_number", rule="AGR-18",
                                 message=f"you already have a draft agreement {open_draft[0]} with this client; sign or withdraw it"))
    replaced: list[Agreement] = []
    if not errors:  # only dates already inside the voucher's validity are projected day by day
        in_force_errors, replaced = await check_in_force(
            session, client_id=voucher.client_id, provider_id=provider_id, start=body.start_date, end=body.end_date,
            weekdays={d.weekday for d in schedule})
        errors += in_force_errors
    place = await place_verdict(session, unit.unit_id, product.product_id, voucher.client_id, product.form)
    if place:
        errors.append(place)
    _refuse(errors, "the agreement cannot be drafted")

    warnings = [w.model_dump(exclude_none=True) for w in verdict_schedule.warnings]
    received = voucher.received_on or voucher.decided_on
    deadline = voucher_rules.start_deadline(received) if received else None
    if deadline and body.start_date > deadline and not replaced:  # a change of provider is not a late first start
        warnings.append({"field": "body.start_date", "rule": "VOU-3",
                         "message": f"the service should start by {deadline}; unless an official overrides the start date "
                                    "with a reason, the voucher shows as delayed"})
    for old in replaced:
        warnings.append({"field": "body.start_date", "rule": "AGR-18",
                         "message": f"signing this ends the client's agreement {old.id} with another provider on "
                                    f"{ar.replacement_end(body.start_date)} (AGR-8)"})
    now = _now()
    case_worker = (body.case_worker.model_dump(mode="json") if body.case_worker else {}) | ({"office": office} if office else {})
    agreement = Agreement(
        id=uuid.uuid4(), voucher_id=voucher.id, client_id=voucher.client_id, decision_id=voucher.decision_id,
        provider_id=provider_id, unit_id=unit.unit_id, product_id=product.product_id, product_kind=product.kind,
        form=product.form, state="draft", start_date=body.start_date, end_date=body.end_date,
        content=body.model_dump(mode="json", exclude={"voucher_number", "unit_id", "product_id", "start_date", "end_date", "schedule"})
        | {"case_worker": case_worker,
           "unit": {"name": unit.name, "address": f"{unit.street_address}, {unit.postal_code} {unit.city}",
                    "service_producer_code": unit.service_producer_code},
           "responsible_person": {"name": unit.responsible_person_name, "phone": unit.responsible_person_phone,
                                  "email": unit.responsible_person_email}},
        warnings=warnings, previous_agreement_id=replaced[-1].id if replaced else None,
        created_by=principal.subject, created_at=now, updated_at=now,
    )
    session.add(agreement)
    session.add(AgreementPeriod(
        id=uuid.uuid4(), agreement_id=agreement.id, seq=1, start=body.start_date, end=body.end_date,
        schedule=_schedule_json(schedule), goals=body.goals or "", evaluation_due=ar.evaluation_due(body.end_date),
    ))
    await record_contact(session, voucher, provider_id, today)  # VOU-3: a draft means the client has been in contact
    await session.flush()
    await audit(session, principal, "agreement.draft", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


async def record_provider_contact(session: AsyncSession, body: Any, principal: Principal) -> dict[str, Any]:
    """VOU-3: the provider records the client's contact about the voucher (checked as in VOU-5)."""
    voucher = await voucher_by_number(session, body.voucher_number)
    today = _today(session)
    contacted_on = body.contacted_on or today
    if contacted_on > today:
        raise RuleViolation("a contact cannot be dated in the future", rule="VOU-3",
                            errors=[FieldError(field="body.contacted_on", rule="VOU-3", message="a date on or before today")])
    received = voucher.received_on or voucher.decided_on
    if received and contacted_on < received:
        raise RuleViolation(f"the client received the decision on {received}; the contact is on or after it", rule="VOU-3",
                            errors=[FieldError(field="body.contacted_on", rule="VOU-3", message=f"on or after {received}")])
    assert principal.provider_id
    await record_contact(session, voucher, principal.provider_id, contacted_on)
    await audit(session, principal, "voucher.contact", "voucher", voucher.id, client_ids=[voucher.client_id],
                details={"contacted_on": contacted_on.isoformat()})
    in_time = received is None or contacted_on <= voucher_rules.contact_deadline(received)
    return {"voucher_id": voucher.id, "contacted_on": voucher.contacted_on, "in_time": in_time}


async def record_contact(session: AsyncSession, voucher: Voucher, provider_id: str, on: dt.date) -> bool:
    """VOU-3: the first contact between the client and a provider is kept on the voucher."""
    if voucher.contacted_on is not None and voucher.contacted_on <= on:
        return False
    voucher.contacted_on, voucher.contacted_provider_id = on, provider_id
    voucher.updated_at = _now()
    return True


# --- signing (AGR-1, AGR-3, AGR-5, AGR-7, AGR-8, AGR-18, VOU-6) -----------------------------------

SIGNATURE_FIELDS = {"responsible_person": "responsible_signature", "instructor": "instructor_signature",
                    "client": "client_signature"}


def _signature_problem(agreement: Agreement, unit: UnitCopy | None, body: SignatureIn,
                       principal: Principal | None) -> DomainError | None:
    """AGR-1: who may put which signature on the agreement. ``principal`` None means the voucher link."""
    if body.party in ("responsible_person", "instructor"):
        if principal is None or principal.role is not Role.PROVIDER:
            return Forbidden(f"the {body.party.replace('_', ' ')} signs with the provider's own login (AGR-1)", rule="AGR-1")
        if body.party == "responsible_person":
            allowed = [unit.responsible_person_name] + list(unit.signing_deputies or []) if unit else []
            if not any(ar.same_person(body.name, name) for name in allowed):
                return RuleViolation(
                    "the agreement is signed for the provider by the unit's responsible person or a named deputy with "
                    f"signing authority ({', '.join(a for a in allowed if a) or 'none recorded'}) (AGR-1)", rule="AGR-1",
                    errors=[FieldError(field="body.name", rule="AGR-1",
                                       message="not the unit's responsible person nor a deputy with signing authority")])
        else:
            instructor = (agreement.content.get("instructor") or {}).get("name")
            if not ar.same_person(body.name, instructor):
                return RuleViolation(f"the instructor named in the agreement ({instructor}) signs it (AGR-7)", rule="AGR-7",
                                     errors=[FieldError(field="body.name", rule="AGR-7",
                                                        message="not the instructor named in the agreement")])
        return None
    # The client's signature: their own login, the voucher link, or an official attesting paper.
    if principal is None or principal.role is Role.CLIENT:
        return None
    if principal.role in OFFICIALS:
        if not body.paper:
            return RuleViolation("an official records the client's signature only as attested from paper: set paper "
                                 "and signed_on to the paper's date (AGR-1)", rule="AGR-1",
                                 errors=[FieldError(field="body.paper", rule="AGR-1", message="attest a paper signature")])
        return None
    return Forbidden("the client signs with their own login or the voucher link, or an official attests a paper "
                     "signature; a provider cannot record it (AGR-1)", rule="AGR-1")


async def sign(session: AsyncSession, agreement_id: uuid.UUID, body: SignatureIn, principal: Principal | None, *,
               link_client: uuid.UUID | None = None, representative: RepresentativeCopy | None = None) -> Agreement:
    if principal is None:
        agreement = (await session.execute(select(Agreement).where(
            Agreement.id == agreement_id, Agreement.client_id == link_client).with_for_update())).scalar_one_or_none()
        if agreement is None:
            raise NotFound(f"no agreement {agreement_id} of this voucher's client")
    else:
        agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    if agreement.state != "draft":
        raise Conflict(f"the agreement is {agreement.state}; only a draft is signed")
    if principal is not None and principal.role is Role.CLIENT and body.party != "client":
        raise Forbidden("a client signs as the client", rule="AGR-1")
    unit = await session.get(UnitCopy, agreement.unit_id)
    problem = _signature_problem(agreement, unit, body, principal)
    if problem is not None:
        raise problem
    today = _today(session)
    signed_on = body.signed_on or today
    if signed_on > today:
        raise RuleViolation(f"the signing date {signed_on} is in the future; record a signature on or after it happens",
                            errors=[FieldError(field="body.signed_on", message="a signature cannot be dated in the future")])
    method = ("link" if principal is None else "paper_attested" if body.paper else "login")
    signature: dict[str, Any] = {"name": body.name, "place": body.place, "signed_on": signed_on.isoformat(), "method": method,
                                 "recorded_by": principal.subject if principal else "voucher-link"}
    if representative is not None:
        signature["representative"] = {"id": str(representative.representative_id), "name": representative.name}  # VOU-9
    setattr(agreement, SIGNATURE_FIELDS[body.party], signature)
    if agreement.responsible_signature and agreement.instructor_signature and agreement.client_signature:
        await _complete_signing(session, agreement, principal or "voucher-link")
    agreement.updated_at = _now()
    await audit(session, principal or (f"representative:{representative.representative_id}" if representative else "voucher-link"),
                f"agreement.sign.{body.party}", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


async def _complete_signing(session: AsyncSession, agreement: Agreement, actor: Principal | str) -> None:
    assert agreement.responsible_signature and agreement.client_signature and agreement.instructor_signature
    signed_on = max(dt.date.fromisoformat(s["signed_on"]) for s in
                    (agreement.responsible_signature, agreement.client_signature, agreement.instructor_signature))
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
    insurance = insurance_problem(provider, _today(session), field="provider")
    if insurance:
        errors.append(insurance)
    price = await _price_in_force(session, agreement.product_id, agreement.start_date)
    if price is None:
        errors.append(FieldError(field="product", rule="VOU-1", message="no voucher value is set for the product"))
    periods = await periods_of(session, agreement.id)
    in_force_errors, replaced = await check_in_force(
        session, client_id=agreement.client_id, provider_id=agreement.provider_id, start=agreement.start_date,
        end=agreement.end_date, weekdays={d["weekday"] for d in periods[0].schedule}, exclude=agreement.id)
    errors += in_force_errors
    if not any(a.unit_id == agreement.unit_id for a in replaced):  # a client moving within one unit keeps their place
        place = await place_verdict(session, agreement.unit_id, agreement.product_id, agreement.client_id, agreement.form,
                                    field="unit")
        if place:
            errors.append(place)
    _refuse(errors, "the agreement cannot be signed")
    assert price is not None
    # AGR-8 / AGR-18: a change of provider means a new agreement; the old one ends the day before this starts.
    await replace_agreements(session, replaced, agreement, actor)
    # Frozen copy of the values (VOU-1, BIL-6): later price changes never rewrite them.
    agreement.price_version = price.version
    agreement.day_value_first_year_cents = price.day_value_first_year_cents
    agreement.base_day_value_cents = price.base_day_value_cents
    agreement.hour_value_cents = price.hour_value_cents
    first_day = await first_service_day(session, agreement.client_id, planned_first_day(agreement, periods))
    assert first_day is not None
    agreement.base_value_from = ar.base_value_from(first_day)  # VOU-6: the client's year
    agreement.previous_agreement_id = replaced[-1].id if replaced else agreement.previous_agreement_id
    agreement.signed_on = signed_on
    agreement.signed_at = _now()
    agreement.state = "signed"
    await _flush_in_force(session)
    await emit(session, AgreementSigned, AgreementSignedPayload(
        **(await agreement_facts(session, agreement)), signed_on=signed_on), subject=str(agreement.id))
    # AGR-5: copies to the client, Typake and, for a social-work client, the social worker: the
    # decision's office decides (what the provider typed does not).
    office = voucher.case_worker_office or (agreement.content.get("case_worker") or {}).get("office")
    recipients = ["client", "typake"] + (["social_worker"] if office == "social_work" else [])
    for recipient in recipients:
        session.add(AgreementNotification(
            agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient=recipient,
            kind="agreement_copy", message=f"Copy of the service agreement signed on {signed_on} (AGR-5)", created_at=_now(),
        ))


async def _flush_in_force(session: AsyncSession) -> None:
    """AGR-18 in the database: a concurrent signing that slipped past the check meets the
    constraint; the caller gets a 409 naming the rule, and nothing is written."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("another agreement of this client came into force on these days meanwhile; reload and try again "
                       "(AGR-18: at most one agreement in force per client)", rule="AGR-18") from exc


async def correct_base_value_dates(session: AsyncSession, client_id: uuid.UUID) -> int:
    """VOU-6: once the client's first service day is known, every open agreement of the client
    counts the base value from one year after it; a changed date is published (AgreementChanged)."""
    first_day = await first_service_day(session, client_id, None)
    if first_day is None:
        return 0
    # (Only a started service fixes the year; until then the planned first day stands.)
    correct = ar.base_value_from(first_day)
    changed = 0
    for agreement in (await session.execute(select(Agreement).where(
            Agreement.client_id == client_id, Agreement.state.in_(ar.IN_FORCE_STATES)))).scalars():
        if agreement.base_value_from != correct:
            agreement.base_value_from = correct
            agreement.updated_at = _now()
            await session.flush()
            await emit(session, AgreementChanged, AgreementChangedPayload(
                **(await agreement_facts(session, agreement)), change="base_value_from"), subject=str(agreement.id))
            changed += 1
    return changed


async def agreement_facts(session: AsyncSession, agreement: Agreement) -> dict[str, Any]:
    periods = await periods_of(session, agreement.id)
    voucher = await session.get(Voucher, agreement.voucher_id)
    first_day = await first_service_day(session, agreement.client_id, planned_first_day(agreement, periods))
    return {
        "agreement_id": agreement.id, "voucher_id": agreement.voucher_id, "decision_id": agreement.decision_id,
        "client_id": agreement.client_id, "provider_id": agreement.provider_id, "unit_id": agreement.unit_id,
        "product_id": agreement.product_id, "product_kind": agreement.product_kind, "form": agreement.form,
        "start": agreement.start_date, "end": agreement.end_date,
        "periods": [PeriodFacts(period_id=p.id, seq=p.seq, start=p.start, end=p.end, goals=p.goals,
                                evaluation_due=p.evaluation_due, schedule_from=p.schedule_from,
                                earlier_schedules=[ScheduleSpan(**s) for s in (p.earlier_schedules or [])],
                                schedule=[ScheduleDayFacts(**d) for d in p.schedule]) for p in periods],
        "values": FrozenValues(price_version=agreement.price_version or 0,
                               day_value_first_year_cents=agreement.day_value_first_year_cents,
                               base_day_value_cents=agreement.base_day_value_cents,
                               hour_value_cents=agreement.hour_value_cents),
        "base_value_from": agreement.base_value_from,
        "client_first_service_day": first_day,
        "approved_hours": voucher.approved_hours if voucher else None,  # VOU-7
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


# --- ending (AGR-13, AGR-8) -----------------------------------------------------------------------

def _ended_payload(agreement: Agreement) -> AgreementEndedPayload:
    assert agreement.ended_on is not None
    return AgreementEndedPayload(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id,
        provider_id=agreement.provider_id, unit_id=agreement.unit_id, ended_on=agreement.ended_on,
        kind=agreement.end_kind, reason=agreement.end_reason, early=agreement.end_kind != "fixed_term")  # type: ignore[arg-type]


async def end_agreement(session: AsyncSession, agreement: Agreement, *, kind: str, reason: str | None,
                        ended_on: dt.date, actor: Principal | str) -> bool:
    """End an agreement once (a compare-and-set on its state), publish AgreementEnded and tell Typake.
    A draft is withdrawn instead: it never bound anyone."""
    if agreement.state not in OPEN_STATES:
        return False
    if agreement.state == "draft":
        agreement.state = "withdrawn"
        agreement.end_kind, agreement.end_reason, agreement.ended_on = kind, reason, ended_on
        return True
    result = await session.execute(
        update(Agreement).where(Agreement.id == agreement.id, Agreement.state == agreement.state)
        .values(state="ended", ended_on=ended_on, end_kind=kind, end_reason=reason, end_proposal=None, updated_at=_now())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(agreement)
    if result.rowcount != 1:
        return False
    await emit(session, AgreementEnded, _ended_payload(agreement), subject=str(agreement.id))
    session.add(AgreementNotification(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="typake",
        kind="agreement_ended", message=f"Agreement ended on {ended_on}: {kind}" + (f" ({reason})" if reason else "") + " (AGR-13)",
        created_at=_now(),
    ))
    actor_name = actor.subject if isinstance(actor, Principal) else actor
    await audit(session, actor if isinstance(actor, Principal) else actor_name, "agreement.end", "agreement", agreement.id,
                client_ids=[agreement.client_id], details={"kind": kind, "reason": reason})
    return True


async def end_open_agreements(session: AsyncSession, where: Any, *, kind: str, reason: str, on: dt.date, actor: str) -> int:
    agreements = (await session.execute(select(Agreement).where(where, Agreement.state.in_(OPEN_STATES)))).scalars().all()
    ended = 0
    for agreement in agreements:
        ended += await end_agreement(session, agreement, kind=kind, reason=reason, ended_on=on, actor=actor)
    return ended


async def publish_changed(session: AsyncSession, where: Any, change: str) -> int:
    """AgreementChanged for every agreement in force matching ``where`` (e.g. VOU-7 hours changed)."""
    agreements = (await session.execute(select(Agreement).where(where, Agreement.state.in_(ar.IN_FORCE_STATES)))).scalars().all()
    for agreement in agreements:
        await emit(session, AgreementChanged, AgreementChangedPayload(
            **(await agreement_facts(session, agreement)), change=change), subject=str(agreement.id))  # type: ignore[arg-type]
    return len(agreements)


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
        first_day = next(iter(projected_days(periods)), None)
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
        await correct_base_value_dates(session, agreement.client_id)  # VOU-6: the first actual day is known now
        started += 1
    return {"started": started}


async def publish_periods_ending(session: AsyncSession, run_date: dt.date) -> dict[str, Any]:
    """PeriodEnding exactly once per period at the lead time before its end (REP-3, REP-4)."""
    lead = runtime_of(session).settings.period_ending_lead_days  # type: ignore[attr-defined]
    rows = (await session.execute(
        select(AgreementPeriod, Agreement).join(Agreement, Agreement.id == AgreementPeriod.agreement_id).where(
            Agreement.state.in_(ar.IN_FORCE_STATES), AgreementPeriod.ending_notified_on.is_(None),
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
    the job runs late); an agreed early end takes effect on its date."""
    agreements = (await session.execute(select(Agreement).where(
        Agreement.state.in_(("signed", "active")),
        or_(Agreement.end_date < run_date, Agreement.end_proposal.is_not(None)),
    ))).scalars().all()
    ended = early = 0
    for agreement in agreements:
        proposal = agreement.end_proposal or {}
        if proposal.get("agreed") and dt.date.fromisoformat(proposal["ended_on"]) <= run_date:
            early += await end_agreement(session, agreement, kind=proposal["kind"], reason=proposal["reason"],
                                         ended_on=dt.date.fromisoformat(proposal["ended_on"]), actor="job:agreements-ending")
        elif agreement.end_date < run_date:
            ended += await end_agreement(session, agreement, kind="fixed_term", reason=None, ended_on=agreement.end_date,
                                         actor="job:agreements-ending")
    return {"ended": ended, "ended_early": early}


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
        received = voucher.received_on or voucher.decided_on  # VOU-3: counted from the client's receipt
        if received and not mine and voucher.contacted_on is None and voucher.state != "in_use":
            add("contact_provider", "VOU-3", voucher_rules.contact_deadline(received), voucher,
                "the client contacts a provider within 7 days of receiving the decision")
        if received and not started and voucher.state != "in_use" and not any(a.start_override_reason for a in mine):
            add("service_start", "VOU-3", voucher_rules.start_deadline(received), voucher,
                "the service starts at the latest 14 days after the client received the decision")
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
