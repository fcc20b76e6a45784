"""Use cases of the decision service. Each runs in the caller's transaction: state change,
audit entry and outbox event commit together."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal
from ktt_common.errors import Conflict, FieldError, InvalidInput, NotFound, RuleViolation
from ktt_common.identifiers import IdentifierError, validate_hetu
from ktt_common.outbox import emit, runtime_of
from ktt_common.pii import PiiVault
from ktt_contracts.decision import DecisionMade, DecisionMadePayload

from ktt_decision import rules
from ktt_decision.models import Client, Decision, DecisionVersion
from ktt_decision.schemas import DecisionIn


@dataclass(frozen=True)
class PushResult:
    decision: Decision
    created: bool


def vault_of(session: AsyncSession) -> PiiVault:
    rt = runtime_of(session)
    vault = getattr(rt, "pii_vault", None)
    if vault is None:
        vault = rt.pii_vault = PiiVault(rt.settings.pii_key.get_secret_value())  # type: ignore[attr-defined]
    return vault


def _content_hash(body: DecisionIn, hetu_lookup: str) -> tuple[dict, str]:
    """The version's content without the hetu (replaced by its keyed hash) and a hash of it."""
    content = body.model_dump(mode="json")
    content["client"].pop("hetu")
    canonical = json.dumps({"content": content, "hetu": hetu_lookup}, sort_keys=True, separators=(",", ":"))
    return content, hashlib.sha256(canonical.encode()).hexdigest()


async def _client_for(session: AsyncSession, hetu: str, body: DecisionIn, now: dt.datetime) -> Client:
    vault = vault_of(session)
    lookup = vault.lookup_hash(hetu)
    client = (await session.execute(select(Client).where(Client.hetu_lookup == lookup))).scalar_one_or_none()
    if client is not None:
        return client
    client = Client(
        id=uuid.uuid4(), hetu_lookup=lookup, hetu_encrypted=vault.encrypt(hetu), first_name=body.client.first_name,
        last_name=body.client.last_name, language=body.client.language, created_at=now, updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(client)
    except IntegrityError:  # the same person pushed concurrently: use the row that won
        client = (await session.execute(select(Client).where(Client.hetu_lookup == lookup))).scalar_one()
    return client


def validate(body: DecisionIn, *, allow_temporary_hetu: bool) -> str:
    """Every check of a pushed decision at once; returns the canonical hetu."""
    errors: list[FieldError] = []
    hetu = ""
    try:
        hetu = validate_hetu(body.client.hetu, allow_temporary=allow_temporary_hetu, field="body.client.hetu")
    except IdentifierError as exc:
        errors.append(FieldError(field=exc.field, rule="DEC-3", message=exc.reason))
    errors += rules.check_period(body.period.start, body.period.end, body.extension_justification)
    errors += rules.check_plan(body.plan.date, body.decided_on)
    errors += rules.check_special(body.special.kind, body.special.justification, body.special.approved_hours)
    if errors:
        rule_ids = sorted({e.rule for e in errors if e.rule})
        raise RuleViolation(
            "; ".join(f"{e.field}: {e.message} ({e.rule})" for e in errors),
            rule=rule_ids[0] if len(rule_ids) == 1 else None, errors=errors,
        )
    return hetu


async def push_decision(session: AsyncSession, body: DecisionIn, principal: Principal) -> PushResult:
    """Create a decision, or recognise a replay of the same version (idempotent push)."""
    rt = runtime_of(session)
    hetu = validate(body, allow_temporary_hetu=rt.settings.hetu_test_mode)
    vault = vault_of(session)
    content, content_hash = _content_hash(body, vault.lookup_hash(hetu))
    now = dt.datetime.now(dt.UTC)

    existing = (await session.execute(
        select(Decision).where(Decision.source_system == body.source_system, Decision.source_id == body.source_id)
    )).scalar_one_or_none()
    if existing is not None:
        return await _replay(session, existing, body.version, content_hash)

    client = await _client_for(session, hetu, body, now)
    decision = Decision(
        id=uuid.uuid4(), client_id=client.id, source_system=body.source_system, source_id=body.source_id,
        version=body.version, status="active", decided_on=body.decided_on, period_start=body.period.start,
        period_end=body.period.end, form=body.form, benefit_basis=body.benefit_basis,
        voucher_kind="regular" if body.special.kind == "none" else body.special.kind, created_at=now, updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(decision)
            session.add(DecisionVersion(decision_id=decision.id, version=body.version, content=content,
                                        content_hash=content_hash, received_at=now))
    except IntegrityError:  # a concurrent push of the same decision won the race
        winner = (await session.execute(
            select(Decision).where(Decision.source_system == body.source_system, Decision.source_id == body.source_id)
        )).scalar_one()
        return await _replay(session, winner, body.version, content_hash)

    await emit(session, DecisionMade, DecisionMadePayload(
        decision_id=decision.id, client_id=client.id, source_system=decision.source_system,
        source_id=decision.source_id, version=decision.version, decided_on=decision.decided_on,
        period_start=decision.period_start, period_end=decision.period_end, form=decision.form,  # type: ignore[arg-type]
        benefit_basis=decision.benefit_basis, voucher_kind=decision.voucher_kind,  # type: ignore[arg-type]
        approved_hours=body.special.approved_hours, case_worker_office=body.case_worker.office,
        language=body.client.language,
    ), subject=str(decision.id))
    await audit(session, principal, "decision.create", "decision", decision.id, client_ids=[client.id],
                details={"source_system": body.source_system, "source_id": body.source_id, "version": body.version})
    return PushResult(decision, created=True)


async def _replay(session: AsyncSession, decision: Decision, version: int, content_hash: str) -> PushResult:
    stored = (await session.execute(
        select(DecisionVersion).where(DecisionVersion.decision_id == decision.id, DecisionVersion.version == version)
    )).scalar_one_or_none()
    if stored is not None:
        if stored.content_hash != content_hash:
            raise Conflict(
                f"version {version} of {decision.source_system}/{decision.source_id} was already received with "
                "different content; send the change as a higher version"
            )
        return PushResult(decision, created=False)
    if version < decision.version:
        raise Conflict(
            f"version {version} is older than the current version {decision.version} of "
            f"{decision.source_system}/{decision.source_id}; nothing was changed"
        )
    raise Conflict(
        f"version {version} would amend {decision.source_system}/{decision.source_id}; "
        "amendments are not accepted by this release yet (DEC-7)", rule="DEC-7",
    )


async def get_decision(session: AsyncSession, decision_id: uuid.UUID, principal: Principal) -> Decision:
    decision = await session.get(Decision, decision_id)
    if decision is None:
        raise NotFound(f"no decision {decision_id}")
    await audit(session, principal, "decision.read", "decision", decision.id, client_ids=[decision.client_id])
    return decision


async def lookup_client(session: AsyncSession, hetu: str, principal: Principal) -> Client:
    rt = runtime_of(session)
    try:
        canonical = validate_hetu(hetu, allow_temporary=rt.settings.hetu_test_mode, field="body.hetu")
    except IdentifierError as exc:
        raise InvalidInput(exc.reason, rule="DEC-3", errors=[FieldError(field=exc.field, message=exc.reason, rule="DEC-3")]) from None
    client = (await session.execute(
        select(Client).where(Client.hetu_lookup == vault_of(session).lookup_hash(canonical))
    )).scalar_one_or_none()
    if client is None:
        raise NotFound("no client with that personal identity code")
    await audit(session, principal, "client.lookup", "client", client.id, client_ids=[client.id])
    return client
