"""Use cases of decisions: push (new, replay or amendment), revoke, read and list. Each runs in the caller's transaction: state change,
audit entry and outbox event commit together."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.db import dialect_name
from ktt_common.errors import Conflict, FieldError, NotFound, refuse
from ktt_common.identifiers import IdentifierError, hetu_birth_date, validate_hetu
from ktt_common.outbox import emit, emit_at_commit, runtime_of
from ktt_common.pii import PiiVault
from ktt_contracts.decision import (
    DecisionAmended,
    DecisionAmendedPayload,
    DecisionMade,
    DecisionMadePayload,
    DecisionRevoked,
    DecisionRevokedPayload,
)

from ktt_decision.clients.models import Client
from ktt_decision.clients.service import _seal_old_ciphertext, _update_client, _upsert_client, new_client, vault_of
from ktt_decision.decisions import rules, writing
from ktt_decision.decisions.models import Decision, DecisionVersion
from ktt_decision.decisions.reading import Probe
from ktt_decision.decisions.rules import amendment_changes
from ktt_decision.decisions.schemas import DecisionIn
from ktt_decision.sealing import seal_values
from ktt_decision.settings import DecisionSettings


@dataclass(frozen=True)
class PushResult:
    decision: Decision
    created: bool
    amended: bool = False


def _content_hash(body: DecisionIn, hetu_lookup: str) -> tuple[dict[str, Any], str]:
    """The version's content without the hetu (replaced by its keyed hash) and a hash of it.

    ``received_on`` is stored as the day that applies (VOU-3: ``decided_on`` when none was sent);
    when it is that default it is left out of the hash, so a version sent without it, with it
    equal to ``decided_on``, or received before the field existed is the same version."""
    content = body.model_dump(mode="json")
    content["client"].pop("hetu")
    content["received_on"] = content.get("received_on") or content["decided_on"]
    hashed = {k: v for k, v in content.items() if not (k == "received_on" and v == content["decided_on"])}
    canonical = json.dumps({"content": hashed, "hetu": hetu_lookup}, sort_keys=True, separators=(",", ":"))
    return content, hashlib.sha256(canonical.encode()).hexdigest()


def validate(body: DecisionIn, settings: DecisionSettings, today: dt.date) -> str:
    """Every check of a pushed decision on its own at once (DEC-2, DEC-3, DEC-4, DEC-8, VOU-3, VOU-7,
    VOU-8, DATA-4); returns the canonical hetu. Temporary codes 900-999 pass only in HETU_TEST_MODE.
    The checks against the client's other decisions (DEC-4) follow in :func:`check_client_periods`."""
    errors: list[FieldError] = []
    hetu = ""
    try:
        hetu = validate_hetu(body.client.hetu, allow_temporary=settings.hetu_test_mode, field="body.client.hetu")
        errors += rules.check_birth_date(hetu_birth_date(hetu), today)
    except IdentifierError as exc:
        errors.append(FieldError(field=exc.field, rule="DEC-3", message=exc.reason))
    errors += rules.check_decided_on(body.decided_on, today)
    errors += rules.check_period(body.period.start, body.period.end, body.extension_justification)
    errors += rules.check_plan(body.plan.date, body.decided_on, body.plan.type)
    errors += rules.check_special(body.special.kind, body.special.justification, body.special.approved_hours)
    errors += rules.check_home_municipality(body.client.municipality, settings.home_municipality,
                                            enabled=settings.home_municipality_check)
    errors += rules.check_received_on(body.received_on, body.decided_on, today)
    # These travel in events (DecisionMade/Amended): a hetu typed into them would be published.
    errors += rules.check_no_hetu({"body.source_system": body.source_system, "body.source_id": body.source_id,
                                   "body.plan.reference": body.plan.reference})
    refuse(errors)
    return hetu


async def check_client_periods(session: AsyncSession, client_id: uuid.UUID, body: DecisionIn,
                               decision_id: uuid.UUID | None) -> None:
    """DEC-4 across the client's decisions: no overlap with another non-revoked decision, at most
    24 months in all, a justification past 12. The caller holds the client row locked, so two
    pushes for one client cannot both pass against the same state."""
    query = select(Decision).where(Decision.client_id == client_id, Decision.status != "revoked")
    if decision_id is not None:
        query = query.where(Decision.id != decision_id)
    others = [rules.OtherDecision(ref=f"{d.source_system}/{d.source_id}", start=d.period_start, end=d.period_end)
              for d in (await session.execute(query)).scalars()]
    refuse(rules.check_client_periods(body.period.start, body.period.end, others, body.extension_justification))


async def _lock_client(session: AsyncSession, client_id: uuid.UUID) -> None:
    """Pushes for one client run one at a time (PostgreSQL; SQLite has one writer anyway)."""
    await session.execute(select(Client.id).where(Client.id == client_id).with_for_update())


def settings_of(session: AsyncSession) -> DecisionSettings:
    settings = runtime_of(session).settings
    if not isinstance(settings, DecisionSettings):  # started with the plain Settings: use the defaults
        settings = DecisionSettings(**settings.model_dump())
    return settings


def _apply_version(decision: Decision, body: DecisionIn, content: dict[str, Any]) -> None:
    """Copy the facts of a version onto the decision (a frozen copy per version lives in DecisionVersion)."""
    decision.version = body.version
    decision.decided_on = body.decided_on
    decision.received_on = body.received_on or body.decided_on  # VOU-3: the decision day when none was sent
    decision.decided_by = body.decided_by
    decision.period_start = body.period.start
    decision.period_end = body.period.end
    decision.form = body.form
    decision.benefit_basis = body.benefit_basis
    decision.voucher_kind = "regular" if body.special.kind == "none" else body.special.kind
    decision.client_data = content["client"]
    decision.case_worker = content["case_worker"]
    decision.plan = content["plan"]
    decision.special = content["special"]
    decision.extension_justification = body.extension_justification


def _facts(decision: Decision) -> dict[str, Any]:
    """DecisionFacts of the decision's current version (what travels in events)."""
    return {
        "decision_id": decision.id, "client_id": decision.client_id, "source_system": decision.source_system,
        "source_id": decision.source_id, "version": decision.version, "decided_on": decision.decided_on,
        "received_on": decision.received_on or decision.decided_on, "period_start": decision.period_start,
        "period_end": decision.period_end, "form": decision.form,
        "benefit_basis": decision.benefit_basis, "voucher_kind": decision.voucher_kind,
        "approved_hours": (decision.special or {}).get("approved_hours"),
        "case_worker_office": (decision.case_worker or {}).get("office"),
        "language": (decision.client_data or {}).get("language"),
    }


async def push_decision(session: AsyncSession, body: DecisionIn, principal: Principal, *,
                        probe: Probe | None = None) -> PushResult:
    """Create a decision, recognise a replay of the same version, or amend it with a higher one (DEC-7).

    Issue 15: a replay is answered from the (source_system, source_id) and (decision_id, version)
    indexes by one unlocked read and the content hash, before any validation or encryption; a new
    decision is written with core statements (the client upserted and locked in one, the decision
    inserted unless a concurrent push made it; for a new client on PostgreSQL in that same statement,
    ktt_decision.decisions.writing), about half the round trips of the ORM path.

    ``probe``: what :mod:`ktt_decision.decisions.reading` learnt before the body was parsed (a retry of the
    very same request never gets here): the body's hash, stored with a new version, and whether no
    decision had this source a moment ago (then the look-up below is not repeated)."""
    vault = vault_of(session)
    body_hash = probe.body_hash if probe is not None else None
    found = None if probe is not None and probe.absent_for(body.source_system, body.source_id) else (await session.execute(
        select(Decision, DecisionVersion.content_hash)
        .outerjoin(DecisionVersion, (DecisionVersion.decision_id == Decision.id) & (DecisionVersion.version == body.version))
        .where(Decision.source_system == body.source_system, Decision.source_id == body.source_id)
    )).first()
    # The same version again: equal content (its hetu as sent) is a replay; anything else takes the
    # full path below, which validates and answers as before (a Conflict, or a replay of a hetu
    # sent in another spelling).
    if found is not None and found[1] is not None and _content_hash(body, vault.lookup_hash(body.client.hetu))[1] == found[1]:
        return PushResult(found[0], created=False)
    settings = settings_of(session)
    hetu = validate(body, settings, runtime_of(session).clock.today())
    lookup = vault.lookup_hash(hetu)
    content, content_hash = _content_hash(body, lookup)
    now = dt.datetime.now(dt.UTC)

    if found is not None:
        existing = await _decision_by_source(session, body.source_system, body.source_id, lock=True)
        assert existing is not None  # decisions are never deleted
        result = await _replay_or_amend(session, existing, body, content, content_hash, lookup, principal, now,
                                        body_hash)
        if result.amended:
            client = await session.get(Client, result.decision.client_id)
            assert client is not None
            await _seal_old_ciphertext(session, client, hetu, now)
        return result

    # The id and data key the client gets if this push creates them: a new client's first decision is then
    # sealed under that key and written with the client, in one statement (PostgreSQL; issue 15).
    new = new_client(vault)
    decision = Decision(
        id=uuid.uuid4(), client_id=new.id, source_system=body.source_system, source_id=body.source_id,
        status="active", created_at=now, updated_at=now, revoked_on=None, revoked_reason=None, revoked_by=None,
    )
    _apply_version(decision, body, content)
    along = None
    # DEC-4 against no other decision is all a new client needs; a period that fails even that takes the
    # path below, which answers as the client's other decisions make it (an overlap is named first).
    if dialect_name(session) == "postgresql" and not rules.check_client_periods(
            body.period.start, body.period.end, [], body.extension_justification):
        along = (writing.with_new_client(), writing.bound(*_rows(vault, new.wrapped, decision, content, content_hash,
                                                                 body_hash, now)))
    client_id, wrapped, created, made = await _upsert_client(session, hetu, lookup, body, now, new, along)  # also locks the client's row
    if along is not None and created:  # the decision was written with the client, or a concurrent push made it
        if made is None:
            return await _concurrent_winner(session, body, content, content_hash, lookup, principal, now, body_hash)
        return await _created(session, decision, body, principal)
    # DEC-4 against the client's other decisions (a client this push created has none); one of them may
    # be this very decision, made by a concurrent push while this one waited for the client's lock.
    others = [] if created else (await session.execute(
        select(Decision.source_system, Decision.source_id, Decision.period_start, Decision.period_end)
        .where(Decision.client_id == client_id, Decision.status != "revoked")
    )).all()
    if any((o.source_system, o.source_id) == (body.source_system, body.source_id) for o in others):
        return await _concurrent_winner(session, body, content, content_hash, lookup, principal, now, body_hash)
    refuse(rules.check_client_periods(
        body.period.start, body.period.end,
        [rules.OtherDecision(ref=f"{o.source_system}/{o.source_id}", start=o.period_start, end=o.period_end) for o in others],
        body.extension_justification,
    ))
    decision.client_id = client_id
    if not await writing.insert_decision(session, *_rows(vault, wrapped, decision, content, content_hash, body_hash, now)):
        # a concurrent push of the same decision (for another client) won
        return await _concurrent_winner(session, body, content, content_hash, lookup, principal, now, body_hash)
    return await _created(session, decision, body, principal)


def _rows(vault: PiiVault, wrapped: str | None, decision: Decision, content: dict[str, Any], content_hash: str,
          body_hash: str | None, now: dt.datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """The new decision's row and its first version's, sealed under the client's key ``wrapped`` at the write:
    the clear text never reaches the tables (ktt_decision.sealing)."""
    row = {c.name: getattr(decision, c.key) for c in Decision.__table__.columns}
    stored_content = content
    if wrapped is not None:
        row = seal_values(vault, wrapped, Decision, row)
        stored_content = seal_values(vault, wrapped, DecisionVersion, {"content": content})["content"]
    return row, {"id": uuid.uuid4(), "decision_id": decision.id, "version": decision.version,
                 "content": stored_content, "content_hash": content_hash, "body_hash": body_hash, "received_at": now}


async def _created(session: AsyncSession, decision: Decision, body: DecisionIn, principal: Principal) -> PushResult:
    # Written at commit with the audit row (one statement on PostgreSQL): nothing here can roll back alone.
    emit_at_commit(session, DecisionMade, DecisionMadePayload(**_facts(decision)), subject=str(decision.id))
    await audit(session, principal, "decision.create", "decision", decision.id, client_ids=[decision.client_id],
                details={"source_system": body.source_system, "source_id": body.source_id, "version": body.version})
    return PushResult(decision, created=True)


async def _concurrent_winner(session: AsyncSession, body: DecisionIn, content: dict[str, Any], content_hash: str,
                             lookup: str, principal: Principal, now: dt.datetime, body_hash: str | None) -> PushResult:
    winner = await _decision_by_source(session, body.source_system, body.source_id, lock=True)
    assert winner is not None
    return await _replay_or_amend(session, winner, body, content, content_hash, lookup, principal, now, body_hash)


async def _decision_by_source(session: AsyncSession, source_system: str, source_id: str, *, lock: bool) -> Decision | None:
    query = select(Decision).where(Decision.source_system == source_system, Decision.source_id == source_id)
    if lock:
        query = query.with_for_update()  # amendments of one decision run one at a time (PostgreSQL)
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def _replay_or_amend(session: AsyncSession, decision: Decision, body: DecisionIn, content: dict[str, Any],
                           content_hash: str, lookup: str, principal: Principal, now: dt.datetime,
                           body_hash: str | None = None) -> PushResult:
    version = body.version
    ref = f"{decision.source_system}/{decision.source_id}"
    stored = (await session.execute(
        select(DecisionVersion).where(DecisionVersion.decision_id == decision.id, DecisionVersion.version == version)
    )).scalar_one_or_none()
    if stored is not None:
        if stored.content_hash != content_hash:
            raise Conflict(f"version {version} of {ref} was already received with different content; "
                           "send the change as a higher version")
        return PushResult(decision, created=False)
    if version < decision.version:
        raise Conflict(f"version {version} is older than the current version {decision.version} of {ref}; "
                       "nothing was changed")
    # A higher version: an amendment (DEC-7). Version gaps are fine (v3 after v1).
    if decision.status == "revoked":
        raise Conflict(f"{ref} was revoked on {decision.revoked_on}; a revoked decision cannot be amended, "
                       "make a new decision instead", rule="DEC-7")
    client = await session.get(Client, decision.client_id)
    assert client is not None
    if client.hetu_lookup != lookup:
        raise Conflict(f"version {version} of {ref} names another person (the personal identity code differs); "
                       "a decision belongs to one client: make a new decision (new source_id) for the other person",
                       rule="DEC-7")
    await _lock_client(session, client.id)
    await check_client_periods(session, client.id, body, decision_id=decision.id)
    current = (await session.execute(
        select(DecisionVersion).where(DecisionVersion.decision_id == decision.id, DecisionVersion.version == decision.version)
    )).scalar_one()
    changes, personal = amendment_changes(current.content, content)
    previous_version = decision.version
    try:
        async with session.begin_nested():
            session.add(DecisionVersion(decision_id=decision.id, version=version, content=content,
                                        content_hash=content_hash, body_hash=body_hash, received_at=now))
    except IntegrityError:  # the same amendment pushed concurrently (SQLite/PG without the row lock): replay it
        return await _replay_or_amend(session, decision, body, content, content_hash, lookup, principal, now)
    _apply_version(decision, body, content)
    decision.updated_at = now
    _update_client(client, body, now)
    await emit(session, DecisionAmended, DecisionAmendedPayload(
        **_facts(decision), previous_version=previous_version, changes=changes, personal_fields_changed=personal,
    ), subject=str(decision.id))
    await audit(session, principal, "decision.amend", "decision", decision.id, client_ids=[decision.client_id],
                details={"version": version, "previous_version": previous_version,
                         "changed": sorted(changes) + personal})
    return PushResult(decision, created=False, amended=True)


async def revoke_decision(session: AsyncSession, decision_id: uuid.UUID, reason: str, revoked_on: dt.date | None,
                          principal: Principal) -> Decision:
    """DEC-7: revoke a decision; its voucher and any agreement follow (DEC-1) via DecisionRevoked.
    Revoking a revoked decision again changes nothing and publishes nothing."""
    decision = (await session.execute(
        select(Decision).where(Decision.id == decision_id).with_for_update().execution_options(populate_existing=True)
    )).scalar_one_or_none()
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    if decision.status == "revoked":
        return decision
    refuse(rules.check_no_hetu({"body.reason": reason}))  # the reason travels in DecisionRevoked
    today = runtime_of(session).clock.today()
    refuse(rules.check_revoked_on(revoked_on or today, decision.decided_on, decision.period_end))
    decision.status = "revoked"
    decision.revoked_on = revoked_on or today
    decision.revoked_reason = reason
    decision.revoked_by = principal.subject
    decision.updated_at = dt.datetime.now(dt.UTC)
    await emit(session, DecisionRevoked, DecisionRevokedPayload(
        decision_id=decision.id, client_id=decision.client_id, revoked_on=decision.revoked_on, reason=reason,
    ), subject=str(decision.id))
    await audit(session, principal, "decision.revoke", "decision", decision.id, client_ids=[decision.client_id],
                details={"revoked_on": decision.revoked_on.isoformat()})
    return decision


async def get_decision(session: AsyncSession, decision_id: uuid.UUID, principal: Principal) -> Decision:
    decision = await decision_for_read(session, decision_id)
    await audit(session, principal, "decision.read", "decision", decision.id, client_ids=[decision.client_id])
    return decision


async def list_decisions(session: AsyncSession, client_id: uuid.UUID, principal: Principal) -> list[Decision]:
    rows = (await session.execute(
        select(Decision).where(Decision.client_id == client_id).order_by(Decision.created_at)
    )).scalars().all()
    await audit(session, principal, "decision.list", "client", client_id, client_ids=[client_id])
    return list(rows)


async def decision_for_read(session: AsyncSession, decision_id: uuid.UUID) -> Decision:
    decision = await session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    return decision


