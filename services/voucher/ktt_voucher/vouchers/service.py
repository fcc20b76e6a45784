"""Use cases of vouchers: each runs in the caller's one transaction, changes state, records the
history row, writes the event to the outbox and (for people) the audit log, together."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common import bulk
from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.clock import utc_now
from ktt_common.db import insert_for
from ktt_common.errors import Conflict, DomainError, FieldError, Forbidden, NotFound, RuleViolation
from ktt_common.events import EventType
from ktt_common.outbox import emit, emit_many, runtime_of
from ktt_common.pagination import PageRequest, paginate
from ktt_contracts.decision import DecisionFacts
from ktt_contracts.voucher import (
    VoucherIssued,
    VoucherIssuedPayload,
    VoucherRefused,
    VoucherRevoked,
    VoucherStateChanged,
    VoucherStateChangedPayload,
    VoucherValidityChanged,
    VoucherValidityChangedPayload,
)

from ktt_voucher.agreements.models import RepresentativeCopy
from ktt_voucher.vouchers import rules
from ktt_voucher.vouchers.models import Voucher, VoucherEvent, VoucherLink


class LinkGone(DomainError):
    status = 410
    slug = "link-expired"
    title = "This link has expired"


def facts(voucher: Voucher) -> dict[str, Any]:
    return {
        "voucher_id": voucher.id, "number": voucher.number, "decision_id": voucher.decision_id, "client_id": voucher.client_id,
        "type": voucher.type, "state": voucher.state, "valid_from": voucher.valid_from, "valid_to": voucher.valid_to,
    }


def actor_name(actor: Principal | str) -> str:
    return f"{actor.role.value}:{actor.subject}" if isinstance(actor, Principal) else actor


async def _record(
    session: AsyncSession, voucher: Voucher, *, kind: str, from_state: str | None, to_state: str | None,
    reason: str | None, actor: Principal | str, on_date: dt.date, details: dict[str, Any] | None = None,
) -> None:
    session.add(VoucherEvent(
        id=uuid.uuid4(), voucher_id=voucher.id, kind=kind, from_state=from_state, to_state=to_state, reason=reason,
        actor=actor_name(actor)[:200], on_date=on_date, at=utc_now(), details=details,
    ))
    await session.flush()


# --- issuing (DEC-1, VOU-1) ----------------------------------------------------------------

async def voucher_of_decision(session: AsyncSession, decision_id: uuid.UUID) -> Voucher | None:
    return (await session.execute(select(Voucher).where(Voucher.decision_id == decision_id))).scalar_one_or_none()


async def issue_voucher(session: AsyncSession, decision: DecisionFacts, *, actor: str,
                        correlation_id: str | None = None) -> uuid.UUID | None:
    """DEC-1 / VOU-1: exactly one voucher per decision, valid for the decision period. Returns its
    id, or None when the decision already has its voucher (a replay, or a concurrent delivery)."""
    return (await issue_vouchers(session, [(decision, correlation_id)], actor=actor))[0]


async def issue_vouchers(session: AsyncSession, decisions: Sequence[tuple[DecisionFacts, str | None]], *,
                         actor: str) -> list[uuid.UUID | None]:
    """:func:`issue_voucher` for many decisions (with each one's correlation id) in one statement per
    table (issue 15): the vouchers, their history rows, their VoucherIssued events. The unique
    decision_id (and number) settle a replay or a concurrent delivery without a read before and a
    savepoint around the insert. Returns each decision's new voucher id, or None."""
    now, today = utc_now(), runtime_of(session).clock.today()
    table = Voucher.__table__
    issued: dict[int, dict[str, Any]] = {}
    pending = list(range(len(decisions)))
    for _attempt in range(5):
        rows = {i: _voucher_row(decisions[i][0], now) for i in pending}
        # Rows as parameters, not in .values(): one cached statement, sent as one multi-row INSERT.
        inserted = set((await session.execute(
            insert_for(session, table).on_conflict_do_nothing().returning(table.c.id), list(rows.values())
        )).scalars())
        missed = [i for i in pending if rows[i]["id"] not in inserted]
        issued.update((i, rows[i]) for i in pending if rows[i]["id"] in inserted)
        if not missed:
            break
        # Not inserted: a replay, or another delivery issued it first; else a number collision (1 in 10^12): draw another.
        have = set((await session.execute(select(Voucher.decision_id).where(
            Voucher.decision_id.in_({decisions[i][0].decision_id for i in missed})))).scalars())
        pending = [i for i in missed if decisions[i][0].decision_id not in have]
        if not pending:
            break
    else:
        raise RuntimeError("could not draw a unique voucher number")
    order = sorted(issued)
    if order:
        await bulk.write_rows(session, cast("Table", VoucherEvent.__table__), [{
            "id": uuid.uuid4(), "voucher_id": issued[i]["id"], "kind": "issued", "from_state": None, "to_state": "issued",
            "reason": "DEC-1: decision made", "actor": actor[:200], "on_date": today, "at": now,
            "details": {"decision_version": decisions[i][0].version}} for i in order])
        await emit_many(session, [(VoucherIssued, VoucherIssuedPayload(voucher_id=issued[i]["id"], **{
            k: issued[i][k] for k in ("number", "decision_id", "client_id", "type", "state", "valid_from", "valid_to")
        }), str(issued[i]["id"])) for i in order], correlation_ids=[decisions[i][1] for i in order])
    return [issued[i]["id"] if i in issued else None for i in range(len(decisions))]


def _voucher_row(decision: DecisionFacts, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(), "number": rules.new_voucher_number(), "decision_id": decision.decision_id,
        "client_id": decision.client_id, "type": decision.voucher_kind, "state": "issued",
        "valid_from": decision.period_start, "valid_to": decision.period_end, "decided_on": decision.decided_on,
        "decision_version": decision.version, "language": decision.language,
        "case_worker_office": decision.case_worker_office, "approved_hours": decision.approved_hours,
        "received_on": getattr(decision, "received_on", None) or decision.decided_on, "created_at": now, "updated_at": now,
    }


# --- state transitions ---------------------------------------------------------------------

STATE_EVENTS: dict[str, EventType[Any]] = {"revoked": VoucherRevoked, "refused": VoucherRefused}


async def transition(
    session: AsyncSession, voucher: Voucher, target: str, *, reason: str | None, actor: Principal | str,
    on_date: dt.date, correlation_id: str | None = None,
) -> bool:
    """Move ``voucher`` to ``target`` if the transition table allows it. The update is a
    compare-and-set on the current state, so two concurrent runs change (and publish) once.
    Returns True when this call made the change."""
    previous = voucher.state
    if not rules.can_transition(previous, target):
        return False
    result = await session.execute(
        update(Voucher).where(Voucher.id == voucher.id, Voucher.state == previous)
        .values(state=target, state_reason=reason, updated_at=utc_now())
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", result).rowcount != 1:
        await session.refresh(voucher)
        return False  # someone else moved it first
    await session.refresh(voucher)
    await _record(session, voucher, kind="state_changed", from_state=previous, to_state=target, reason=reason,
                  actor=actor, on_date=on_date)
    event_type = STATE_EVENTS.get(target, VoucherStateChanged)
    await emit(session, event_type, VoucherStateChangedPayload(
        **facts(voucher), previous_state=previous, reason=reason, changed_on=on_date,
    ), subject=str(voucher.id), correlation_id=correlation_id)
    return True


# --- decision follows (DEC-7) --------------------------------------------------------------

async def apply_amendment(session: AsyncSession, decision: DecisionFacts, *, actor: str,
                          correlation_id: str | None = None) -> str:
    """DEC-7: move the validity with an amended decision; an older version is ignored."""
    voucher = await voucher_of_decision(session, decision.decision_id)
    if voucher is None:
        # Out of order: the amendment came before DecisionMade. Its facts are complete, so issue
        # the voucher from them; the late DecisionMade then finds the voucher and does nothing.
        await issue_voucher(session, decision, actor=actor, correlation_id=correlation_id)
        return "issued"
    verdict = rules.amendment_verdict(
        applied_version=voucher.decision_version, state=voucher.state, valid_from=voucher.valid_from,
        valid_to=voucher.valid_to, type_=voucher.type, new_version=decision.version,
        period_start=decision.period_start, period_end=decision.period_end, voucher_kind=decision.voucher_kind,
    )
    if not verdict.apply:
        return "ignored"
    previous_from, previous_to, previous_type = voucher.valid_from, voucher.valid_to, voucher.type
    voucher.decision_version = decision.version
    voucher.decided_on = voucher.decided_on or decision.decided_on
    voucher.received_on = getattr(decision, "received_on", None) or voucher.received_on or decision.decided_on
    voucher.language = decision.language
    voucher.case_worker_office = decision.case_worker_office
    voucher.approved_hours = decision.approved_hours  # VOU-7
    if not (verdict.validity_changed or verdict.type_changed):
        voucher.updated_at = utc_now()
        return "unchanged"
    voucher.valid_from, voucher.valid_to, voucher.type = verdict.valid_from, verdict.valid_to, verdict.type
    voucher.updated_at = utc_now()
    today = runtime_of(session).clock.today()
    await _record(session, voucher, kind="validity_changed" if verdict.validity_changed else "type_changed",
                  from_state=None, to_state=None, reason=f"DEC-7: decision amended to version {decision.version}",
                  actor=actor, on_date=today, details={
                      "previous_valid_from": previous_from.isoformat(), "previous_valid_to": previous_to.isoformat(),
                      "previous_type": previous_type, "decision_version": decision.version,
                  })
    await emit(session, VoucherValidityChanged, VoucherValidityChangedPayload(
        **facts(voucher), previous_valid_from=previous_from, previous_valid_to=previous_to,
        decision_version=decision.version, previous_type=previous_type if verdict.type_changed else None,
    ), subject=str(voucher.id), correlation_id=correlation_id)
    return "changed"


# --- refusal (VOU-4) -----------------------------------------------------------------------

async def refuse(session: AsyncSession, voucher: Voucher, reason: str, actor: Principal | str) -> bool:
    """VOU-4: the client refuses the voucher; the decision stands (the decision service records the
    refusal for DEC-9 from VoucherRefused). Refusing again is harmless; a voucher that is no
    longer open to refusal gives 409 naming VOU-4."""
    if voucher.state == "refused":
        return False
    refusal = rules.transition_refusal(voucher.state, "refused")
    if refusal is not None:
        raise Conflict(f"{refusal}. Nothing was changed.", rule="VOU-4", state=voucher.state)
    today = runtime_of(session).clock.today()
    changed = await transition(session, voucher, "refused", reason=reason, actor=actor, on_date=today)
    if not changed and voucher.state != "refused":
        raise Conflict(f"VOU-4: the voucher became {voucher.state} meanwhile; nothing was changed", rule="VOU-4")
    await audit(session, actor, "voucher.refuse", "voucher", voucher.id, client_ids=[voucher.client_id],
                details={"reason": reason})
    return changed


# --- personal links (VOU-2) ----------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_link(session: AsyncSession, voucher: Voucher, principal: Principal, ttl_days: int,
                      representative_id: uuid.UUID | None = None) -> tuple[str, dt.datetime]:
    """VOU-2: a personal link whose unguessable token (256 random bits) is the credential. The
    token is returned once and stored only as its hash. VOU-9: a link may be made for the client's
    authorised representative, who then acts for the client through it."""
    if representative_id is not None:
        await authorised_representative(session, representative_id, voucher.client_id, field="body.representative_id")
    token = secrets.token_urlsafe(32)
    expires_at = runtime_of(session).clock.now() + dt.timedelta(days=ttl_days)
    session.add(VoucherLink(id=uuid.uuid4(), voucher_id=voucher.id, token_hash=hash_token(token),
                            created_by=actor_name(principal)[:200], created_at=utc_now(), expires_at=expires_at,
                            representative_id=representative_id))
    await audit(session, principal, "voucher.link.create", "voucher", voucher.id, client_ids=[voucher.client_id],
                details={"expires_at": expires_at.isoformat(),
                         "representative_id": str(representative_id) if representative_id else None})
    return token, expires_at


def require_scope(rep: RepresentativeCopy | None, scope: str) -> None:
    """VOU-9: a representative acts only within what the client authorised."""
    if rep is not None and scope not in (rep.scope or []):
        raise Forbidden(f"the client has not authorised this representative to {scope.replace('_', ' ')} (VOU-9)", rule="VOU-9")


async def authorised_representative(session: AsyncSession, representative_id: uuid.UUID, client_id: uuid.UUID,
                                    field: str = "representative") -> RepresentativeCopy:
    """VOU-9: the representative the client authorised, valid today and not withdrawn."""
    rep = await session.get(RepresentativeCopy, representative_id)
    today = runtime_of(session).clock.today()
    if rep is None or rep.client_id != client_id:
        raise RuleViolation("the client has authorised no such representative (VOU-9)", rule="VOU-9",
                            errors=[FieldError(field=field, rule="VOU-9", message="no authorised representative of this client")])
    if rep.withdrawn_on is not None and rep.withdrawn_on <= today or rep.valid_until is not None and rep.valid_until < today \
            or rep.authorised_on > today:
        raise Forbidden("the representative's authorisation is not in force (VOU-9)", rule="VOU-9")
    return rep


async def link_context(session: AsyncSession, token: str) -> tuple[Voucher, RepresentativeCopy | None]:
    """The voucher a link opens and, for a representative's link, the representative (still authorised, VOU-9)."""
    voucher = await voucher_by_link(session, token)
    link = (await session.execute(select(VoucherLink).where(VoucherLink.token_hash == hash_token(token)))).scalar_one()
    rep = await authorised_representative(session, link.representative_id, voucher.client_id) if link.representative_id else None
    return voucher, rep


async def voucher_by_link(session: AsyncSession, token: str) -> Voucher:
    """The voucher a link opens. An unknown token and an expired one say nothing of the voucher."""
    link = None
    if 16 <= len(token) <= 200:
        link = (await session.execute(select(VoucherLink).where(VoucherLink.token_hash == hash_token(token)))).scalar_one_or_none()
    if link is None:
        raise NotFound("this voucher link is not valid; check the address or ask your case worker for a new link")
    if runtime_of(session).clock.now() >= link.expires_at:
        raise LinkGone("this voucher link has expired; ask your case worker for a new link", rule="VOU-2")
    voucher = await session.get(Voucher, link.voucher_id)
    assert voucher is not None
    return voucher


async def get_voucher(session: AsyncSession, voucher_id: uuid.UUID) -> Voucher:
    voucher = await session.get(Voucher, voucher_id)
    if voucher is None:
        raise NotFound(f"no voucher {voucher_id}")
    return voucher


# --- the provider's check and the client's contact (VOU-5, VOU-3) -------------------------------

async def voucher_by_number(session: AsyncSession, raw: str, field: str = "body.voucher_number") -> Voucher:
    """VOU-5: the provider checks the voucher before every agreement."""
    parsed = rules.parse_voucher_number(raw)
    if parsed.problem is not None:
        raise RuleViolation(rules.CHECK_REASON_TEXT[parsed.problem], rule="VOU-5",
                            errors=[FieldError(field=field, rule="VOU-5", message=rules.CHECK_REASON_TEXT[parsed.problem])])
    voucher = (await session.execute(select(Voucher).where(Voucher.number == parsed.formatted))).scalar_one_or_none()
    if voucher is None:
        raise RuleViolation("No voucher has this number.", rule="VOU-5",
                            errors=[FieldError(field=field, rule="VOU-5", message="no voucher has this number")])
    return voucher


async def record_provider_contact(session: AsyncSession, body: Any, principal: Principal) -> dict[str, Any]:
    """VOU-3: the provider records the client's contact about the voucher (checked as in VOU-5)."""
    voucher = await voucher_by_number(session, body.voucher_number)
    today = runtime_of(session).clock.today()
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
    in_time = received is None or contacted_on <= rules.contact_deadline(received)
    return {"voucher_id": voucher.id, "contacted_on": voucher.contacted_on, "in_time": in_time}


async def record_contact(session: AsyncSession, voucher: Voucher, provider_id: str, on: dt.date) -> bool:
    """VOU-3: the first contact between the client and a provider is kept on the voucher."""
    if voucher.contacted_on is not None and voucher.contacted_on <= on:
        return False
    voucher.contacted_on, voucher.contacted_provider_id = on, provider_id
    voucher.updated_at = utc_now()
    return True


# --- the read use cases of the HTTP layer (routers run no queries, issue 12 item 10) -------------

async def list_vouchers(session: AsyncSession, principal: Principal, page: PageRequest, *, decision_id: uuid.UUID | None,
                        client_id: uuid.UUID | None, state: str | None) -> tuple[list[Voucher], str | None]:
    """One page of vouchers, oldest first, audited."""
    query = select(Voucher)
    if decision_id is not None:
        query = query.where(Voucher.decision_id == decision_id)
    if client_id is not None:
        query = query.where(Voucher.client_id == client_id)
    if state is not None:
        query = query.where(Voucher.state == state)
    rows, cursor = await paginate(session, query, (Voucher.created_at, Voucher.id), page)
    await audit(session, principal, "voucher.list", "voucher", None, client_ids={v.client_id for v in rows})
    return rows, cursor


async def check_number(session: AsyncSession, principal: Principal, number: str,
                       today: dt.date) -> tuple[rules.ParsedNumber, Voucher | None, rules.CheckReason | None]:
    """VOU-5: the voucher a number names (a typo is caught by the check character before any
    lookup) and why it is not valid today, if it is not; audited without personal data."""
    parsed = rules.parse_voucher_number(number)
    voucher = None
    reason: rules.CheckReason | None = parsed.problem
    if reason is None:
        voucher = (await session.execute(select(Voucher).where(Voucher.number == parsed.number))).scalar_one_or_none()
        if voucher is None:
            reason = "unknown_number"
        else:
            reason = rules.check_verdict(voucher.state, voucher.valid_from, voucher.valid_to, today)
    await audit(session, principal, "voucher.check", "voucher", voucher.id if voucher else None,
                client_ids=[voucher.client_id] if voucher else [],
                details={"number": parsed.number or number[:40], "valid": reason is None, "reason": reason})
    return parsed, voucher, reason


async def voucher_with_history(session: AsyncSession, voucher_id: uuid.UUID,
                               principal: Principal) -> tuple[Voucher, list[VoucherEvent]]:
    voucher = await get_voucher(session, voucher_id)
    history = (await session.execute(
        select(VoucherEvent).where(VoucherEvent.voucher_id == voucher.id).order_by(VoucherEvent.at, VoucherEvent.id)
    )).scalars().all()
    await audit_read(session, principal, "voucher.read", voucher)
    return voucher, list(history)


async def audit_read(session: AsyncSession, actor: Principal | str, action: str, voucher: Voucher) -> None:
    """Every read of a voucher is an audit row naming its client."""
    await audit(session, actor, action, "voucher", voucher.id, client_ids=[voucher.client_id])
