"""Use cases of reports (REP-1..REP-6, ATT-11, VOU-7, VOU-8): the provider submits, the client
signs (REP-2), the case worker returns or accepts. One transaction each: the state change, its
history line, the audit row and the event (ReportSubmitted, ReportReturned, ReportAccepted) go
together. Every write is safe to repeat: the same submission, signature, return or acceptance
again changes nothing and publishes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.clock import utc_now
from ktt_common.db import affected, insert_for
from ktt_common.errors import Conflict, FieldError, NotFound, RuleViolation
from ktt_common.identifiers import contains_hetu
from ktt_common.outbox import emit, runtime_of
from ktt_contracts.reports import (
    ReportAccepted,
    ReportAcceptedPayload,
    ReportReturned,
    ReportReturnedPayload,
    ReportSubmitted,
    ReportSubmittedPayload,
)

from ktt_attendance.access import sees, visible_agreement
from ktt_attendance.agreements.models import AgreementCopy
from ktt_attendance.clients.models import ClientCopy
from ktt_attendance.log.models import LogEntry
from ktt_attendance.months.rules import month_of, month_range
from ktt_attendance.reports import rules
from ktt_attendance.reports.documents import Certificate
from ktt_attendance.reports.models import Report
from ktt_attendance.reports.schemas import ReportIn, SignatureIn


def _line(action: str, state: str, by: str, on: dt.date, comment: str | None = None) -> dict[str, Any]:
    line = {"at": utc_now().isoformat(), "on": on.isoformat(), "action": action, "state": state, "by": by}
    return line | ({"comment": comment} if comment else {})


def facts(report: Report) -> dict[str, Any]:
    """What every Report* event carries (no client data beyond the pseudonymous id, DATA-4)."""
    return {"report_id": report.id, "kind": report.kind, "agreement_id": report.agreement_id,
            "client_id": report.client_id, "provider_id": report.provider_id, "month": report.month,
            "period_id": report.period_id, "due_on": report.due_on, "late": report.late, "recipients": report.recipients}


def _period(copy: AgreementCopy, period_id: uuid.UUID | None) -> dict[str, Any] | None:
    return next((p for p in copy.periods if period_id is not None and p["period_id"] == str(period_id)), None)


def _last_period(copy: AgreementCopy) -> dict[str, Any] | None:
    return max(copy.periods, key=lambda p: p["end"], default=None)


async def realised_days(session: AsyncSession, agreement_id: uuid.UUID, first: dt.date | None = None,
                        last: dt.date | None = None) -> int:
    """Realised activity days in the daily log (ATT-11, REP-5): present days, as billing counts them."""
    where = [LogEntry.agreement_id == agreement_id, LogEntry.realised.is_(True)]
    if first is not None:
        where.append(LogEntry.date >= first)
    if last is not None:
        where.append(LogEntry.date <= last)
    return int((await session.execute(select(func.count()).select_from(LogEntry).where(*where))).scalar_one())


async def reported_hours(session: AsyncSession, agreement_id: uuid.UUID, except_key: str) -> Decimal:
    """VOU-7: coaching hours already reported on the agreement in its other hour reports."""
    rows = (await session.execute(select(Report.content).where(
        Report.agreement_id == agreement_id, Report.kind == rules.COACHING, Report.key != except_key,
        Report.state.in_(("awaiting_signature", "submitted", "returned", "accepted"))))).scalars()
    return sum((Decimal(str(h["hours"])) for content in rows for h in (content or {}).get("hours", [])), Decimal(0))


def _placing(copy: AgreementCopy, body: ReportIn, today: dt.date) -> tuple[list[rules.Missing], str | None, dt.date | None]:
    """Where the report sits: its month and due day, and what is wrong with its month or period."""
    problems: list[rules.Missing] = []
    kind = body.kind
    if kind in rules.BY_MONTH:
        if body.month is None:
            return problems, None, None
        first, last = month_range(body.month)  # the schema checked the pattern
        if copy.last_day is None or copy.start is None or first > copy.last_day or last < copy.start:
            problems.append(rules.Missing("body.month", "ATT-11" if kind == rules.MONTHLY_FOLLOW_UP else "VOU-7",
                                          f"the agreement is in force from {copy.start} to {copy.last_day}; "
                                          f"{body.month} is outside it"))
        elif first > today:
            problems.append(rules.Missing("body.month", "ATT-11" if kind == rules.MONTHLY_FOLLOW_UP else "VOU-7",
                                          f"{body.month} has not begun; report on it once it has"))
        return problems, body.month, rules.follow_up_due(body.month)
    period = _period(copy, body.period_id)
    if body.period_id is not None and period is None:
        rule = {rules.INTERIM: "REP-3", rules.GROUP: "REP-6"}.get(kind, "REP-4")
        problems.append(rules.Missing("body.period_id", rule, f"the agreement has no period {body.period_id}"))
    if kind in (rules.INTERIM, rules.FINAL, rules.GROUP):
        period = period or (None if kind == rules.INTERIM else _last_period(copy))
        if period is None:
            return problems, None, None
        end = dt.date.fromisoformat(period["end"])
        return problems, month_of(end), rules.evaluation_due(end)
    last = copy.last_day or today
    return problems, month_of(min(last, today)), (last if kind == rules.CERTIFICATE else None)


def _refuse(problems: list[rules.Missing], kind: str) -> RuleViolation:
    distinct = sorted({p.rule for p in problems})
    rule = distinct[0] if len(distinct) == 1 else "REP-1"
    return RuleViolation(f"the {kind} report cannot be taken: " + "; ".join(f"{p.field}: {p.message} ({p.rule})" for p in problems),
                         rule=rule, errors=[FieldError(field=p.field, rule=p.rule, message=p.message) for p in problems])


def _hetu_problems(value: Any, path: str) -> list[rules.Missing]:
    if isinstance(value, str):
        return [rules.Missing(path, "DATA-4", "remove the personal identity code")] if contains_hetu(value) else []
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in _hetu_problems(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _hetu_problems(v, f"{path}.{i}")]
    return []


async def submit(session: AsyncSession, principal: Principal, body: ReportIn) -> tuple[Report, bool]:
    """REP-1: the provider submits a report of its own client's agreement (DATA-3: another's is 404).
    Every missing or wrong field comes back at once in one 422 naming each rule. A report that needs
    the client's signature (REP-2) and has none waits ``awaiting_signature``; otherwise it is
    submitted and ReportSubmitted published. The same submission again answers with the stored
    report (created=False); a different one of a submitted or accepted report is a conflict."""
    copy = await visible_agreement(session, principal, body.agreement_id, for_update=True)
    today = runtime_of(session).clock.today()
    kind = body.kind
    content = body.fields()
    problems = rules.missing_fields(kind, body.model_dump(mode="json"))
    placing_problems, month, due = _placing(copy, body, today)
    problems += placing_problems + _hetu_problems(content, "body")
    key = rules.report_key(kind, month=month, period_id=body.period_id)
    if kind == rules.COACHING and body.hours and month and not placing_problems:
        first, last = month_range(month)
        problems += rules.hours_problems(
            [h.model_dump() for h in body.hours], copy.approved_hours, await reported_hours(session, copy.agreement_id, key),
            max(first, copy.start or first), min(last, copy.last_day or last), today)
    if kind == rules.CERTIFICATE and (problem := rules.certificate_problem(copy.last_day, today)):
        problems.append(rules.Missing("body.kind", "REP-5", problem))
    if body.signature is not None and body.signature.signed_on > today:
        problems.append(rules.Missing("body.signature.signed_on", "REP-2", "the client signs on or before today"))
    if problems:
        raise _refuse(problems, kind)

    # The row exists from here on (made now unless a due one was): an insert that ignores a conflict,
    # so a submission racing the job or another submission never fails on the unique key.
    await ensure_due(session, agreement_id=copy.agreement_id, kind=kind, client_id=copy.client_id,  # type: ignore[arg-type]  # set with the facts
                     provider_id=copy.provider_id, unit_id=copy.unit_id, month=month or month_of(today),  # type: ignore[arg-type]  # by AgreementSigned
                     period_id=body.period_id, due_on=due, on=today, by=principal.subject, key=key, record=False)
    report = (await session.execute(select(Report).where(
        Report.agreement_id == copy.agreement_id, Report.key == key).with_for_update())).scalar_one()
    signature = {"method": "paper", "signed_on": body.signature.signed_on.isoformat(), "recorded_by": principal.subject} \
        if body.signature else None
    if report.content == content and report.state in ("submitted", "accepted", "awaiting_signature") \
            and (signature is None or (report.signature or {}).get("signed_on") == signature["signed_on"]):
        return report, False  # the same submission again
    if report.state not in rules.OPEN_FOR_SUBMISSION:
        raise Conflict(f"this {kind} report is already {report.state}; the case worker returns it if it needs changes",
                       rule="REP-1")
    client = await session.get(ClientCopy, copy.client_id)
    if report.unit_id is None:
        report.unit_id = copy.unit_id
    report.period_id = body.period_id or report.period_id or (
        uuid.UUID(p["period_id"]) if kind in (rules.FINAL, rules.GROUP) and (p := _last_period(copy)) else None)
    report.recipients = rules.recipients(kind, client.case_worker_office if client else None)
    if report.content != content:
        report.signature = None  # REP-2: the client signs what is submitted, so a changed report is signed anew
    report.content = content
    report.signature = signature or report.signature
    if kind == rules.MONTHLY_FOLLOW_UP:
        first, last = month_range(report.month or "")  # a monthly follow-up is stored with its month (ATT-11)
        report.realised_days = await realised_days(session, copy.agreement_id, first, last)
    elif kind in (rules.CERTIFICATE, rules.FINAL, rules.GROUP):
        report.realised_days = await realised_days(session, copy.agreement_id)
    report.updated_at = utc_now()
    await session.flush()
    if kind in rules.NEEDS_SIGNATURE and report.signature is None:
        report.state = "awaiting_signature"
        report.history = [*report.history, _line("submitted", report.state, principal.subject, today)]
    else:
        await _submitted(session, report, principal.subject, today)
    await audit(session, principal, "report.submit", "report", report.id, client_ids=[report.client_id],
                details={"kind": kind, "state": report.state})
    return report, True


async def _submitted(session: AsyncSession, report: Report, by: str, today: dt.date) -> None:
    report.state, report.submitted_on, report.returned_comment = "submitted", today, None
    report.late = report.late or rules.is_late(report.due_on, today)
    report.history = [*report.history, _line("submitted", "submitted", by, today)]
    report.updated_at = utc_now()
    await emit(session, ReportSubmitted, ReportSubmittedPayload(**facts(report), submitted_on=today), subject=str(report.id))


async def visible_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID, *,
                         for_update: bool = False) -> Report:
    """DATA-3: a provider sees its own clients' reports, a client its own; another's is 404."""
    report = await session.get(Report, report_id, with_for_update=for_update)
    mine = report is not None and sees(principal, report.provider_id) and (
        principal.role is not Role.CLIENT or str(report.client_id) == principal.client_id)
    if not mine:
        raise NotFound(f"no report {report_id} of yours is known", rule="DATA-3")
    assert report is not None
    return report


async def sign(session: AsyncSession, principal: Principal, report_id: uuid.UUID, body: SignatureIn) -> Report:
    """REP-2: the client's signature, on paper (the provider records the day) or through the client's
    own login (today). A signed report is submitted (ReportSubmitted). Signing again changes nothing."""
    report = await visible_report(session, principal, report_id, for_update=True)
    today = runtime_of(session).clock.today()
    if principal.role is Role.CLIENT:
        signature = {"method": "client_login", "signed_on": today.isoformat(), "recorded_by": principal.subject}
    else:
        if body.signed_on is None or body.signed_on > today:
            raise RuleViolation("record the day the client signed the report on paper (on or before today)", rule="REP-2",
                                errors=[FieldError(field="body.signed_on", rule="REP-2", message="the day of the paper signature")])
        signature = {"method": "paper", "signed_on": body.signed_on.isoformat(), "recorded_by": principal.subject}
    if report.signature is not None and report.state in ("submitted", "accepted"):
        return report  # already signed and submitted
    if problem := rules.transition_problem(report.state, "sign"):
        raise Conflict(problem, rule="REP-2")
    report.signature = signature
    await _submitted(session, report, principal.subject, today)
    await audit(session, principal, "report.sign", "report", report.id, client_ids=[report.client_id],
                details={"method": signature["method"]})
    return report


async def return_report(session: AsyncSession, principal: Principal, report_id: uuid.UUID, comment: str) -> Report:
    """REP-1: the case worker returns a submitted report with a comment; the provider completes and
    submits it again. Returning it again with the same comment changes nothing."""
    report = await visible_report(session, principal, report_id, for_update=True)
    today = runtime_of(session).clock.today()
    if contains_hetu(comment):
        raise RuleViolation("free text may not hold a personal identity code", rule="DATA-4",
                            errors=[FieldError(field="body.comment", rule="DATA-4", message="remove the personal identity code")])
    if report.state == "returned" and report.returned_comment == comment:
        return report
    if problem := rules.transition_problem(report.state, "return"):
        raise Conflict(problem, rule="REP-1")
    report.state, report.returned_comment, report.updated_at = "returned", comment, utc_now()
    report.history = [*report.history, _line("returned", "returned", principal.subject, today, comment)]
    await emit(session, ReportReturned, ReportReturnedPayload(**facts(report), returned_on=today), subject=str(report.id))
    await audit(session, principal, "report.return", "report", report.id, client_ids=[report.client_id])
    return report


async def accept(session: AsyncSession, principal: Principal, report_id: uuid.UUID) -> Report:
    """REP-1 / BIL-3: the case worker accepts a submitted report (ReportAccepted). Again: no change."""
    report = await visible_report(session, principal, report_id, for_update=True)
    today = runtime_of(session).clock.today()
    if report.state == "accepted":
        return report
    if problem := rules.transition_problem(report.state, "accept"):
        raise Conflict(problem, rule="REP-1")
    report.state, report.accepted_on, report.updated_at = "accepted", today, utc_now()
    report.history = [*report.history, _line("accepted", "accepted", principal.subject, today)]
    await emit(session, ReportAccepted, ReportAcceptedPayload(**facts(report), accepted_on=today), subject=str(report.id))
    await audit(session, principal, "report.accept", "report", report.id, client_ids=[report.client_id])
    return report


async def ensure_due(session: AsyncSession, *, agreement_id: uuid.UUID, kind: str, client_id: uuid.UUID, provider_id: str,
                     unit_id: uuid.UUID | None, month: str, period_id: uuid.UUID | None, due_on: dt.date | None,
                     on: dt.date, by: str, key: str | None = None, record: bool = True) -> bool:
    """A report the provider owes (ATT-11, REP-3, REP-4, REP-6), made once per agreement and key
    (a unique row: the job or event again makes nothing). Returns whether it was made; ``record``
    writes its "due" history line (not when a submission makes the row itself)."""
    now = utc_now()
    key = key or rules.report_key(kind, month=month, period_id=period_id)
    client = await session.get(ClientCopy, client_id)
    result = await session.execute(insert_for(session, Report.__table__).values(
        id=uuid.uuid4(), agreement_id=agreement_id, key=key, kind=kind, client_id=client_id, provider_id=provider_id,
        unit_id=unit_id, state="due", month=month, period_id=period_id, due_on=due_on, late=False,
        recipients=rules.recipients(kind, client.case_worker_office if client else None), history=[_line("due", "due", by, on)] if record else [], created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["agreement_id", "key"]))
    return bool(affected(result))


async def certificate(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID) -> tuple[Certificate, str | None]:
    """REP-5: the certificate of participation at the end of the service, from the agreement and the
    daily log: its realised days, and the work cards the provider recorded as earned. Returns it
    with the client's language."""
    copy = await visible_agreement(session, principal, agreement_id)
    if principal.role is Role.CLIENT and str(copy.client_id) != principal.client_id:
        raise NotFound(f"no agreement {agreement_id} of yours is known to the attendance service", rule="DATA-3")
    today = runtime_of(session).clock.today()
    if problem := rules.certificate_problem(copy.last_day, today):
        raise RuleViolation(problem, rule="REP-5", errors=[FieldError(field="path.agreement_id", rule="REP-5", message=problem)])
    contents = (await session.execute(select(Report.content).where(
        Report.agreement_id == copy.agreement_id, Report.kind.in_((rules.CERTIFICATE, rules.FINAL, rules.GROUP)),
        Report.content.is_not(None)))).scalars()
    cards = sorted({card for content in contents for card in (content or {}).get("work_cards", [])})
    client = await session.get(ClientCopy, copy.client_id)
    assert copy.start is not None and copy.last_day is not None and copy.client_id is not None
    cert = Certificate(client_id=str(copy.client_id), provider_id=copy.provider_id or "", form=copy.form,
                       first_day=copy.started_on or copy.start, last_day=copy.last_day,
                       realised_days=await realised_days(session, copy.agreement_id), work_cards=cards, issued_on=today)
    await audit(session, principal, "certificate.print", "agreement", copy.agreement_id, client_ids=[copy.client_id],
                details={"realised_days": cert.realised_days})
    return cert, client.language if client else None
