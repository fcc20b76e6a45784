"""Changes to a signed agreement: continuations (AGR-10, REP-3), reviews (AGR-12) and early
ends (AGR-13). Each is agreed by both parties before it takes effect.

A continuation or review is proposed with the responsible person's signature and takes effect
when the client signs it (own login, the voucher link, or an official attesting paper). An
early end is proposed by one party; a mutual end (``mutual``, ``unsuitable``) waits for the
other party's answer; the client's own termination needs no answer; Typake is told of every
proposal before the end takes effect, which is on its date (at once when the date has come).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import OFFICIALS, Principal, Role
from ktt_common.clock import utc_now
from ktt_common.errors import Conflict, FieldError, Forbidden, NotFound, RuleViolation, refuse
from ktt_common.outbox import emit
from ktt_contracts.agreement import AgreementChanged, AgreementChangedPayload, AgreementEndProposed, AgreementEndProposedPayload

from ktt_voucher.agreements import rules as ar
from ktt_voucher.agreements.ending import end_agreement
from ktt_voucher.agreements.limits import check_in_force
from ktt_voucher.agreements.models import Agreement, AgreementChange, AgreementNotification, AgreementPeriod, UnitCopy
from ktt_voucher.agreements.reading import (
    _schedule_days,
    _schedule_json,
    _today,
    agreement_facts,
    agreement_for,
    get_agreement,
    periods_of,
    projected_days,
)
from ktt_voucher.agreements.schemas import ChangeSignatureIn, ChangeSignIn, ContinuationIn, EndAnswerIn, EndIn, ReviewIn
from ktt_voucher.vouchers.models import Voucher

MUTUAL_KINDS = ("mutual", "unsuitable")


def _party_of(principal: Principal | None) -> str:
    if principal is None or principal.role is Role.CLIENT:
        return "client"
    if principal.role is Role.PROVIDER:
        return "provider"
    return "city"


def _signature(body: ChangeSignatureIn, principal: Principal | None, today: dt.date, *, paper: bool = False) -> dict[str, Any]:
    signed_on = body.signed_on or today
    if signed_on > today:
        raise RuleViolation(f"the signing date {signed_on} is in the future", errors=[
            FieldError(field="body.signed_on", message="a signature cannot be dated in the future")])
    return {"name": body.name, "place": body.place, "signed_on": signed_on.isoformat(),
            "method": "link" if principal is None else "paper_attested" if paper else "login",
            "recorded_by": principal.subject if principal else "voucher-link"}


async def _responsible_signature(session: AsyncSession, agreement: Agreement, body: ChangeSignatureIn,
                                 principal: Principal) -> dict[str, Any]:
    """AGR-1: the provider's side of a change is signed by the unit's responsible person or a deputy."""
    if principal.role is not Role.PROVIDER:
        raise Forbidden("the provider proposes a change, signed by the unit's responsible person (AGR-1)", rule="AGR-1")
    unit = await session.get(UnitCopy, agreement.unit_id)
    allowed = ([unit.responsible_person_name] + list(unit.signing_deputies or [])) if unit else []
    if not any(ar.same_person(body.name, name) for name in allowed):
        raise RuleViolation("a change is signed for the provider by the unit's responsible person or a named deputy (AGR-1)",
                            rule="AGR-1", errors=[FieldError(field="body.signature.name", rule="AGR-1",
                                                             message="not the unit's responsible person nor a deputy")])
    return _signature(body, principal, _today(session))


# --- proposing ------------------------------------------------------------------------------------

async def propose_continuation(session: AsyncSession, agreement_id: uuid.UUID, body: ContinuationIn,
                               principal: Principal) -> AgreementChange:
    """AGR-10: the next period's days, hours and goals; at the latest a week before the period
    ends (REP-3); a drop in days or hours only with a reason."""
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    if agreement.state not in ar.IN_FORCE_STATES:
        raise Conflict(f"the agreement is {agreement.state}; a continuation follows a signed agreement (AGR-10)", rule="AGR-10")
    periods = await periods_of(session, agreement.id)
    today = _today(session)
    start = periods[-1].end + dt.timedelta(days=1)
    schedule = _schedule_days(body.schedule)
    errors = await _check_change(session, agreement, periods, today=today, effective_from=start, end=body.end,
                                 schedule=schedule, reduction_reason=body.reduction_reason, field="body.end")
    timing = ar.check_continuation_in_time(today, periods[-1].end)
    if timing:
        errors.append(timing)
    refuse(errors, "the continuation cannot be agreed")
    signature = await _responsible_signature(session, agreement, body.signature, principal)
    return await _new_change(session, agreement, principal, kind="continuation", effective_from=start, end=body.end,
                             schedule=_schedule_json(schedule), goals=body.goals, tasks=body.tasks,
                             reduction_reason=body.reduction_reason, signature=signature)


async def propose_review(session: AsyncSession, agreement_id: uuid.UUID, body: ReviewIn, principal: Principal) -> AgreementChange:
    """AGR-12: the agreement is reviewed whenever needed: a new schedule, tasks or goals from a day on."""
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    if agreement.state not in ar.IN_FORCE_STATES:
        raise Conflict(f"the agreement is {agreement.state}; only an agreement in force is reviewed (AGR-12)", rule="AGR-12")
    if body.schedule is None and body.tasks is None and body.goals is None:
        raise RuleViolation("a review changes the schedule, the tasks or the goals (AGR-12)", rule="AGR-12",
                            errors=[FieldError(field="body.schedule", rule="AGR-12", message="nothing to change")])
    today = _today(session)
    periods = await periods_of(session, agreement.id)
    errors: list[FieldError] = []
    if body.effective_from < today or body.effective_from > agreement.end_date or body.effective_from < agreement.start_date:
        errors.append(FieldError(field="body.effective_from", rule="AGR-12",
                                 message=f"a review takes effect on a day from today ({today}) within the agreement "
                                         f"({agreement.start_date}-{agreement.end_date})"))
    schedule = _schedule_days(body.schedule) if body.schedule is not None else None
    if schedule is not None and not errors:
        errors += await _check_change(session, agreement, periods, today=today, effective_from=body.effective_from,
                                      end=agreement.end_date, schedule=schedule, reduction_reason=body.reduction_reason,
                                      field="body.schedule")
    refuse(errors, "the review cannot be agreed")
    signature = await _responsible_signature(session, agreement, body.signature, principal)
    return await _new_change(session, agreement, principal, kind="review", effective_from=body.effective_from, end=None,
                             schedule=_schedule_json(schedule) if schedule is not None else None, goals=body.goals,
                             tasks=body.tasks, reduction_reason=body.reduction_reason, signature=signature)


async def _check_change(session: AsyncSession, agreement: Agreement, periods: list[AgreementPeriod], *, today: dt.date,
                        effective_from: dt.date, end: dt.date, schedule: list[ar.ScheduleDay], reduction_reason: str | None,
                        field: str) -> list[FieldError]:
    """AGR-6 on the new schedule, AGR-4 within the decision, AGR-10 progression, and the client's
    weekly limit and 230 days across agreements (AGR-18, AGR-11)."""
    verdict = ar.check_schedule(schedule, field_prefix="body.schedule")
    errors = list(verdict.errors)
    voucher = await session.get(Voucher, agreement.voucher_id)
    assert voucher is not None
    if end < effective_from:
        errors.append(FieldError(field=field, rule="AGR-10", message=f"the new period ends before it starts ({effective_from})"))
    end_error = ar.check_end(end, voucher.valid_to)
    if end_error:
        errors.append(FieldError(field=field, rule="AGR-4", message=end_error.message))
    current = next((p for p in periods if p.start <= effective_from <= p.end), periods[-1])
    drop = ar.schedule_reduction(_schedule_days(current.schedule), schedule)
    if drop and not reduction_reason:
        errors.append(FieldError(field="body.reduction_reason", rule="AGR-10",
                                 message=f"the aim is progression towards 4 days and 6-8 hours; {drop}: give the reason"))
    if errors:
        return errors
    # The agreement's own days up to the change, the new schedule after it, and the client's other agreements.
    own = [d for d in projected_days(periods) if d < effective_from]
    other_errors, clashing = await check_in_force(session, client_id=agreement.client_id, provider_id=agreement.provider_id,
                                                  start=effective_from, end=end, weekdays={d.weekday for d in schedule},
                                                  exclude=agreement.id)
    errors += other_errors
    for other in clashing:  # a change never ends another provider's agreement: that is a new agreement (AGR-8)
        errors.append(FieldError(field=field, rule="AGR-18",
                                 message=f"the client's agreement {other.id} with another provider is in force from "
                                         f"{other.start_date}; end this one before it"))
    combined = own + ar.scheduled_days(effective_from, end, {d.weekday for d in schedule})
    for problem in (ar.days_per_week_problem(combined, field="body.schedule"), ar.check_230_days(combined)):
        if problem and all(problem.message != e.message for e in errors):
            errors.append(problem)
    return errors


async def _new_change(session: AsyncSession, agreement: Agreement, principal: Principal, **values: Any) -> AgreementChange:
    pending = (await session.execute(select(AgreementChange).where(
        AgreementChange.agreement_id == agreement.id, AgreementChange.state == "proposed"))).scalars().all()
    for old in pending:  # a newer proposal replaces one the client has not signed yet
        old.state = "withdrawn"
    signature = values.pop("signature")
    change = AgreementChange(id=uuid.uuid4(), agreement_id=agreement.id, state="proposed", responsible_signature=signature,
                             created_by=principal.subject, created_at=utc_now(), **values)
    session.add(change)
    session.add(AgreementNotification(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="client",
        kind=f"{change.kind}_proposed", message=f"A {change.kind} from {change.effective_from} awaits your signature "
                                                 f"({'AGR-10' if change.kind == 'continuation' else 'AGR-12'})",
        created_at=utc_now()))
    await session.flush()
    await audit(session, principal, f"agreement.{change.kind}.propose", "agreement", agreement.id, client_ids=[agreement.client_id])
    return change


# --- the client's signature makes it take effect ------------------------------------------------------

async def sign_change(session: AsyncSession, agreement_id: uuid.UUID, change_id: uuid.UUID, body: ChangeSignIn,
                      principal: Principal | None, *, link_client: uuid.UUID | None = None) -> AgreementChange:
    agreement = await agreement_for(session, agreement_id, principal, link_client=link_client, for_update=True)
    change = await session.get(AgreementChange, change_id)
    if change is None or change.agreement_id != agreement.id:
        raise NotFound(f"no change {change_id} on this agreement")
    if change.state != "proposed":
        raise Conflict(f"the {change.kind} is {change.state}")
    today = _today(session)
    if body.party == "responsible_person":
        change.responsible_signature = await _responsible_signature(session, agreement, body, principal)  # type: ignore[arg-type]
    else:
        if principal is not None and principal.role is Role.PROVIDER:
            raise Forbidden("the client signs with their own login or the voucher link, or an official attests paper (AGR-1)",
                            rule="AGR-1")
        if principal is not None and principal.role in OFFICIALS and not body.paper:
            raise RuleViolation("an official records the client's signature only as attested from paper (AGR-1)", rule="AGR-1",
                                errors=[FieldError(field="body.paper", rule="AGR-1", message="attest a paper signature")])
        change.client_signature = _signature(body, principal, today, paper=body.paper)
    if change.responsible_signature and change.client_signature:
        await _take_effect(session, agreement, change, today)
    await audit(session, principal or "voucher-link", f"agreement.{change.kind}.sign.{body.party}", "agreement", agreement.id,
                client_ids=[agreement.client_id])
    return change


async def _take_effect(session: AsyncSession, agreement: Agreement, change: AgreementChange, today: dt.date) -> None:
    periods = await periods_of(session, agreement.id)
    schedule = _schedule_days(change.schedule) if change.schedule is not None else None
    errors: list[FieldError] = []
    if change.kind == "continuation":
        timing = ar.check_continuation_in_time(today, periods[-1].end, field="body.signed_on")
        if timing:
            errors.append(timing)
    if schedule is not None and not errors:
        errors += await _check_change(session, agreement, periods, today=today, effective_from=change.effective_from,
                                      end=change.end or agreement.end_date, schedule=schedule,
                                      reduction_reason=change.reduction_reason, field="body.schedule")
    if change.kind == "review" and change.effective_from < today:
        errors.append(FieldError(field="body.signed_on", rule="AGR-12",
                                 message=f"the review was to take effect on {change.effective_from}; propose it again from a later day"))
    refuse(errors, f"the {change.kind} cannot take effect")
    if change.kind == "continuation":
        assert change.end is not None and change.schedule is not None and change.goals is not None
        session.add(AgreementPeriod(
            id=uuid.uuid4(), agreement_id=agreement.id, seq=periods[-1].seq + 1, start=change.effective_from, end=change.end,
            schedule=change.schedule, goals=change.goals, evaluation_due=ar.evaluation_due(change.end),
        ))
        agreement.end_date = change.end
        event_change = "continuation"
    else:
        current = next(p for p in periods if p.start <= change.effective_from <= p.end)
        if change.schedule is not None:
            if change.effective_from > (current.schedule_from or current.start):
                current.earlier_schedules = list(current.earlier_schedules or []) + [{
                    "start": (current.schedule_from or current.start).isoformat(),
                    "end": (change.effective_from - dt.timedelta(days=1)).isoformat(), "schedule": current.schedule}]
                current.schedule_from = change.effective_from
            current.schedule = change.schedule
            for later in periods:
                if later.start > current.end:
                    later.schedule = change.schedule
        if change.goals is not None:
            current.goals = change.goals
        event_change = "schedule"
    if change.tasks is not None:
        agreement.content = {**agreement.content, "tasks": change.tasks}
    change.state, change.agreed_on = "agreed", today
    agreement.updated_at = utc_now()
    await session.flush()
    await emit(session, AgreementChanged, AgreementChangedPayload(
        **(await agreement_facts(session, agreement)), change=event_change), subject=str(agreement.id),
            revision_of=f"agreement:{agreement.id}")
    session.add(AgreementNotification(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="typake",
        kind=f"{change.kind}_agreed", message=f"The {change.kind} from {change.effective_from} was agreed by both parties "
                                              "(AGR-17: changes are told to the case worker)", created_at=utc_now()))


async def list_changes(session: AsyncSession, agreement_id: uuid.UUID, principal: Principal | None,
                       link_client: uuid.UUID | None = None) -> list[AgreementChange]:
    agreement = await agreement_for(session, agreement_id, principal, link_client=link_client)
    return list((await session.execute(select(AgreementChange).where(AgreementChange.agreement_id == agreement.id)
                                       .order_by(AgreementChange.created_at))).scalars())


# --- ending early (AGR-13) ---------------------------------------------------------------------------

async def request_end(session: AsyncSession, agreement_id: uuid.UUID, body: EndIn, principal: Principal | None, *,
                      link_client: uuid.UUID | None = None) -> Agreement:
    """AGR-13: a draft is withdrawn at once. A signed agreement ends early by mutual decision
    (proposed by one party, agreed by the other), by the client's own termination, or by the city;
    Typake is told when the end is proposed, and the end takes effect on its date."""
    agreement = await agreement_for(session, agreement_id, principal, link_client=link_client, for_update=True)
    party = _party_of(principal)
    today = _today(session)
    ended_on = body.ended_on or today
    if agreement.state == "draft":
        await end_agreement(session, agreement, kind=body.kind, reason=body.reason, ended_on=today,
                            actor=principal or "voucher-link")
        return agreement
    if agreement.state not in ar.IN_FORCE_STATES:
        raise Conflict(f"the agreement is already {agreement.state}")
    if body.kind == "city_suspension" and party != "city":
        raise Forbidden("only the city suspends a client's service (AGR-13)", rule="AGR-13")
    if body.kind == "client_terminated" and party == "provider":
        raise Forbidden("the client terminates the agreement themselves, or an official records their written notice (AGR-13)",
                        rule="AGR-13")
    if party == "city" and body.kind != "city_suspension" and not body.paper:
        raise RuleViolation("an official ends an agreement as a city suspension, or records the client's answer from paper",
                            rule="AGR-13", errors=[FieldError(field="body.kind", rule="AGR-13", message="use city_suspension or paper")])
    refuse(ar.end_date_problems(ended_on, agreement.start_date, agreement.end_date, today), "the end date is not possible")
    if body.kind in MUTUAL_KINDS:
        proposer = "client" if party == "city" else party  # an official records the client's proposal from paper
        agreed = False
    else:
        proposer = "client" if body.kind == "client_terminated" else "city"
        agreed = True
    agreement.end_proposal = {"kind": body.kind, "reason": body.reason, "ended_on": ended_on.isoformat(),
                              "proposed_by": proposer, "proposed_on": today.isoformat(), "agreed": agreed,
                              "recorded_by": principal.subject if principal else "voucher-link"}
    agreement.updated_at = utc_now()
    await _tell_typake(session, agreement)
    if agreed and ended_on <= today:
        await _end_now(session, agreement, principal)
    await audit(session, principal or "voucher-link", "agreement.end.propose", "agreement", agreement.id,
                client_ids=[agreement.client_id], details={"kind": body.kind, "ended_on": ended_on.isoformat()})
    return agreement


async def answer_end(session: AsyncSession, agreement_id: uuid.UUID, body: EndAnswerIn, principal: Principal | None, *,
                     link_client: uuid.UUID | None = None) -> Agreement:
    """AGR-13: the other party agrees to (or declines) a proposed mutual end. A declined end is
    the city's to settle: the provider reports the disagreement and its reasons (Typake is told)."""
    agreement = await agreement_for(session, agreement_id, principal, link_client=link_client, for_update=True)
    proposal = agreement.end_proposal
    if agreement.state not in ar.IN_FORCE_STATES or not proposal or proposal.get("agreed"):
        raise Conflict("no end of this agreement is waiting for an answer")
    party = _party_of(principal)
    if party == "city":
        if not body.paper:
            raise RuleViolation("an official records the client's answer only from paper (AGR-13)", rule="AGR-13",
                                errors=[FieldError(field="body.paper", rule="AGR-13", message="record a paper answer")])
        party = "client"
    if party == proposal["proposed_by"]:
        raise Conflict("the other party answers a proposed end (AGR-13: a mutual end needs both)", rule="AGR-13")
    today = _today(session)
    if not body.agree:
        agreement.end_proposal = None
        session.add(AgreementNotification(
            agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="typake",
            kind="end_declined", message=f"The {party} did not agree to end the agreement ({proposal['reason']})"
                                         + (f": {body.comment}" if body.comment else "") + "; the city settles it (AGR-13)",
            created_at=utc_now()))
        await audit(session, principal or "voucher-link", "agreement.end.decline", "agreement", agreement.id,
                    client_ids=[agreement.client_id])
        return agreement
    ended_on = dt.date.fromisoformat(proposal["ended_on"])
    refuse(ar.end_date_problems(ended_on, agreement.start_date, agreement.end_date, today), "the end date is no longer possible")
    agreement.end_proposal = {**proposal, "agreed": True, "agreed_on": today.isoformat(), "agreed_by": party}
    agreement.updated_at = utc_now()
    await _tell_typake(session, agreement)
    if ended_on <= today:
        await _end_now(session, agreement, principal)
    await audit(session, principal or "voucher-link", "agreement.end.agree", "agreement", agreement.id,
                client_ids=[agreement.client_id])
    return agreement


async def _tell_typake(session: AsyncSession, agreement: Agreement) -> None:
    """AGR-13: Typake is told before the end takes effect, so the client's benefits and path do not break."""
    proposal = agreement.end_proposal
    assert proposal is not None
    await emit(session, AgreementEndProposed, AgreementEndProposedPayload(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id,
        provider_id=agreement.provider_id, kind=proposal["kind"], reason=proposal["reason"],
        ended_on=dt.date.fromisoformat(proposal["ended_on"]), proposed_by=proposal["proposed_by"], agreed=proposal["agreed"],
    ), subject=str(agreement.id), revision_of=f"agreement:{agreement.id}")
    session.add(AgreementNotification(
        agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient="typake",
        kind="end_agreed" if proposal["agreed"] else "end_proposed",
        message=f"The agreement is to end on {proposal['ended_on']} ({proposal['kind']}: {proposal['reason']}); "
                + ("agreed, it takes effect on that day" if proposal["agreed"] else f"proposed by the {proposal['proposed_by']}, "
                   "waiting for the other party") + " (AGR-13)",
        created_at=utc_now()))


async def _end_now(session: AsyncSession, agreement: Agreement, principal: Principal | None) -> None:
    proposal = agreement.end_proposal
    assert proposal is not None
    await end_agreement(session, agreement, kind=proposal["kind"], reason=proposal["reason"],
                        ended_on=dt.date.fromisoformat(proposal["ended_on"]), actor=principal or "voucher-link")
