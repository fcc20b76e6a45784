"""Use cases of service agreements: drafting (AGR-7, AGR-17, VOU-5), signing (AGR-1, AGR-3, AGR-5, AGR-8, VOU-6),
the VOU-3 contact, the start override and provider refusals (AGR-15).

Each function runs in the caller's transaction: the state change, its outbox events, its
notifications and the audit entry commit together.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import OFFICIALS, Principal, Role
from ktt_common.clock import utc_now
from ktt_common.errors import Conflict, DomainError, FieldError, Forbidden, RuleViolation, refuse
from ktt_common.outbox import emit
from ktt_contracts.agreement import (
    AgreementChanged,
    AgreementChangedPayload,
    AgreementEnded,
    AgreementSigned,
    AgreementSignedPayload,
)

from ktt_voucher.agreements import rules as ar
from ktt_voucher.agreements.ending import _ended_payload, end_agreement
from ktt_voucher.agreements.limits import check_in_force, insurance_problem, place_verdict
from ktt_voucher.agreements.models import (
    Agreement,
    AgreementNotification,
    AgreementPeriod,
    PriceCopy,
    ProductCopy,
    ProviderCopy,
    RepresentativeCopy,
    UnitCopy,
)
from ktt_voucher.agreements.reading import (
    _schedule_days,
    _schedule_json,
    _today,
    agreement_facts,
    agreement_for,
    first_service_day,
    get_agreement,
    periods_of,
    planned_first_day,
)
from ktt_voucher.agreements.schemas import AgreementDraftIn, SignatureIn
from ktt_voucher.vouchers import rules as voucher_rules
from ktt_voucher.vouchers import service as voucher_service
from ktt_voucher.vouchers.models import Voucher

# Voucher types and the products that may be bought with them (VOU-1).
PRODUCTS_FOR_VOUCHER = {
    "regular": {"individual", "group"},
    "assessment_period": {"assessment_period"},
    "intensive_coaching": {"intensive_coaching"},
}


# --- drafting --------------------------------------------------------------------------------


async def _price_in_force(session: AsyncSession, product_id: uuid.UUID, on: dt.date) -> PriceCopy | None:
    return (await session.execute(
        select(PriceCopy).where(PriceCopy.product_id == product_id, PriceCopy.effective_from <= on)
        .order_by(PriceCopy.effective_from.desc(), PriceCopy.version.desc()).limit(1)
    )).scalar_one_or_none()


async def replace_agreements(session: AsyncSession, replaced: list[Agreement], new: Agreement, actor: Principal | str) -> None:
    """AGR-8 / AGR-18: the previous agreements end the day before the new one starts."""
    last_day = ar.replacement_end(new.start_date)
    for old in replaced:
        if old.state == "ended":
            # Already ending on a later day (a change of provider before): end earlier, told again.
            await session.execute(update(Agreement).where(Agreement.id == old.id, Agreement.state == "ended")
                                  .values(ended_on=last_day, updated_at=utc_now()).execution_options(synchronize_session=False))
            await session.refresh(old)
            await emit(session, AgreementEnded, _ended_payload(old), subject=str(old.id), revision_of=f"agreement:{old.id}")
        else:
            await end_agreement(session, old, kind="provider_change", reason=f"replaced by agreement {new.id} (AGR-8)",
                                ended_on=last_day, actor=actor)


async def draft_agreement(session: AsyncSession, body: AgreementDraftIn, principal: Principal) -> Agreement:
    """A provider drafts an agreement on a valid voucher number for its own approved unit and priced product."""
    provider_id = principal.provider_id
    assert provider_id
    today = _today(session)
    product = await session.get(ProductCopy, body.product_id) if body.product_id else None
    refuse(ar.missing_items(body, product.kind if product else None), "the agreement is incomplete (AGR-7, AGR-17)")
    assert body.voucher_number and body.unit_id and body.start_date and body.end_date and body.schedule

    voucher = await voucher_service.voucher_by_number(session, body.voucher_number)
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
    refuse(errors, "the agreement cannot be drafted")

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
    now = utc_now()
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
    await voucher_service.record_contact(session, voucher, provider_id, today)  # VOU-3: a draft means the client has been in contact
    await session.flush()
    await audit(session, principal, "agreement.draft", "agreement", agreement.id, client_ids=[agreement.client_id])
    return agreement


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
    agreement = await agreement_for(session, agreement_id, principal, link_client=link_client, for_update=True)
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
    agreement.updated_at = utc_now()
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
    refuse(errors, "the agreement cannot be signed")
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
    agreement.signed_at = utc_now()
    agreement.state = "signed"
    await _flush_in_force(session)
    await emit(session, AgreementSigned, AgreementSignedPayload(
        **(await agreement_facts(session, agreement)), signed_on=signed_on), subject=str(agreement.id),
            revision_of=f"agreement:{agreement.id}")
    # AGR-5: copies to the client, Typake and, for a social-work client, the social worker: the
    # decision's office decides (what the provider typed does not).
    office = voucher.case_worker_office or (agreement.content.get("case_worker") or {}).get("office")
    recipients = ["client", "typake"] + (["social_worker"] if office == "social_work" else [])
    for recipient in recipients:
        session.add(AgreementNotification(
            agreement_id=agreement.id, voucher_id=agreement.voucher_id, client_id=agreement.client_id, recipient=recipient,
            kind="agreement_copy", message=f"Copy of the service agreement signed on {signed_on} (AGR-5)", created_at=utc_now(),
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
            agreement.updated_at = utc_now()
            await session.flush()
            await emit(session, AgreementChanged, AgreementChangedPayload(
                **(await agreement_facts(session, agreement)), change="base_value_from"), subject=str(agreement.id),
                    revision_of=f"agreement:{agreement.id}")
            changed += 1
    return changed


async def override_start(session: AsyncSession, agreement_id: uuid.UUID, reason: str, principal: Principal) -> Agreement:
    """VOU-3: an official accepts a start later than 14 days after the decision, with a reason."""
    agreement = await get_agreement(session, agreement_id, principal, for_update=True)
    agreement.start_override_reason = reason
    agreement.start_override_by = principal.subject
    agreement.warnings = [w for w in agreement.warnings if w.get("rule") != "VOU-3"]
    agreement.updated_at = utc_now()
    await audit(session, principal, "agreement.start_override", "agreement", agreement.id, client_ids=[agreement.client_id],
                details={"reason": reason})
    return agreement


# --- provider refusals (AGR-15) --------------------------------------------------------------------


