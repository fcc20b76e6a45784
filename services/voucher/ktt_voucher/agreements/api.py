"""HTTP layer of agreements: parse, authorise, call the use case, shape the reply."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from ktt_common.auth import Principal, Role
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Forbidden, InvalidInput, Problem
from ktt_common.pagination import PageDep, announce_next

from ktt_voucher.agreements import changes, limits, reading, service
from ktt_voucher.agreements.models import Agreement
from ktt_voucher.agreements.schemas import (
    AgreementDraftIn,
    AgreementOut,
    ChangeOut,
    ChangeSignIn,
    ContactIn,
    ContinuationIn,
    DeadlineOut,
    EndAnswerIn,
    EndIn,
    OverrideIn,
    PeriodOut,
    RefusalIn,
    ReviewIn,
    SignatureIn,
)
from ktt_voucher.policy import authorize
from ktt_voucher.vouchers import service as voucher_service

router = APIRouter(prefix="/v1", tags=["agreements"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}, 409: {"model": Problem}})

PUBLIC_LINK = {"security": [], "x-ktt-credential": "the voucher link token in the path (VOU-2, VOU-9)"}
# DATA-2: what a provider keeps seeing of an ended agreement (billing and reports need these).
KEPT_AFTER_END = ("unit", "responsible_person", "instructor")


async def _out_many(session, agreements: list[Agreement], principal: Principal | None = None) -> list[AgreementOut]:  # type: ignore[no-untyped-def]
    """Responses with periods and the DATA-1 plan flag: three queries however many agreements."""
    periods = await reading.periods_by_agreement(session, [a.id for a in agreements])
    today = reading._today(session)
    visible = await reading.plan_visible_pairs(session, [(a.client_id, a.provider_id) for a in agreements], today)
    hours = await reading.approved_hours(session, {a.voucher_id for a in agreements})
    out = []
    for agreement in agreements:
        item = AgreementOut.model_validate(agreement)
        item.periods = [PeriodOut.model_validate(p) for p in periods[agreement.id]]
        item.approved_hours = hours.get(agreement.voucher_id)
        item.plan_visible = (agreement.client_id, agreement.provider_id) in visible
        if principal is not None and principal.role is Role.PROVIDER and reading.after_the_end(agreement, today):
            # DATA-2: after the end the provider stops using the client's confidential material.
            item.content = {k: v for k, v in agreement.content.items() if k in KEPT_AFTER_END}
            item.plan_visible, item.redacted = False, True
        out.append(item)
    return out


async def _out(session, agreement: Agreement, principal: Principal | None = None) -> AgreementOut:  # type: ignore[no-untyped-def]
    return (await _out_many(session, [agreement], principal))[0]


@router.post("/agreements", response_model=AgreementOut, status_code=status.HTTP_201_CREATED,
             summary="A provider drafts an agreement on a voucher number (AGR-7: every item, all missing ones listed at once)")
async def draft(body: AgreementDraftIn, session: SessionDep,
                principal: Principal = authorize("agreements.draft")) -> AgreementOut:
    return await _out(session, await service.draft_agreement(session, body, principal))


@router.get("/agreements", response_model=list[AgreementOut], summary="Agreements of a client or voucher (a provider sees its own only)")
async def list_agreements(session: SessionDep, page: PageDep, request: Request, response: Response,
                          principal: Principal = authorize("agreements.list_agreements"), client_id: uuid.UUID | None = None,
                          voucher_id: uuid.UUID | None = None, state: str | None = None) -> list[AgreementOut]:
    """Oldest first, one page (``limit``, ``cursor``); the next in ``Link`` rel=next / ``X-Next-Cursor``."""
    rows, cursor = await reading.list_agreements(session, principal, page, client_id=client_id, voucher_id=voucher_id,
                                                 state=state)
    announce_next(request, response, cursor)
    return await _out_many(session, rows, principal)


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, summary="One agreement")
async def get(agreement_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("agreements.get")) -> AgreementOut:
    return await _out(session, await reading.read_agreement(session, agreement_id, principal), principal)


@router.post("/agreements/{agreement_id}/signatures", response_model=AgreementOut,
             summary="Record a signature: the responsible person and the instructor (provider login), the client (own "
                     "login, or an official attesting paper); all three signed -> signed, values frozen (AGR-1, AGR-3, AGR-7)")
async def sign(agreement_id: uuid.UUID, body: SignatureIn, session: SessionDep,
               principal: Principal = authorize("agreements.sign")) -> AgreementOut:
    return await _out(session, await service.sign(session, agreement_id, body, principal), principal)


@router.post("/agreements/{agreement_id}/start-override", response_model=AgreementOut,
             summary="An official accepts a start later than 14 days after the decision, with a reason (VOU-3)")
async def start_override(agreement_id: uuid.UUID, body: OverrideIn, session: SessionDep,
                         principal: Principal = authorize("agreements.start_override")) -> AgreementOut:
    return await _out(session, await service.override_start(session, agreement_id, body.reason, principal))


@router.post("/agreements/{agreement_id}/continuations", response_model=ChangeOut, status_code=status.HTTP_201_CREATED,
             summary="Propose the next period's days, hours and goals, signed by the responsible person; it takes effect "
                     "when the client signs, at the latest a week before the period ends (AGR-10, REP-3, AGR-11)")
async def continuation(agreement_id: uuid.UUID, body: ContinuationIn, session: SessionDep,
                       principal: Principal = authorize("agreements.continuation")) -> ChangeOut:
    return ChangeOut.model_validate(await changes.propose_continuation(session, agreement_id, body, principal))


@router.post("/agreements/{agreement_id}/reviews", response_model=ChangeOut, status_code=status.HTTP_201_CREATED,
             summary="Propose a review of the schedule, tasks or goals from a day on; it takes effect when the client "
                     "signs (AGR-12), published as AgreementChanged (schedule)")
async def review(agreement_id: uuid.UUID, body: ReviewIn, session: SessionDep,
                 principal: Principal = authorize("agreements.review")) -> ChangeOut:
    return ChangeOut.model_validate(await changes.propose_review(session, agreement_id, body, principal))


@router.get("/agreements/{agreement_id}/changes", response_model=list[ChangeOut],
            summary="Proposed and agreed continuations and reviews of an agreement (AGR-10, AGR-12)")
async def list_changes(agreement_id: uuid.UUID, session: SessionDep,
                       principal: Principal = authorize("agreements.list_changes")) -> list[ChangeOut]:
    return [ChangeOut.model_validate(c) for c in await changes.list_changes(session, agreement_id, principal)]


@router.post("/agreements/{agreement_id}/changes/{change_id}/signatures", response_model=ChangeOut,
             summary="Sign a proposed continuation or review; both signed -> it takes effect (AGR-10, AGR-12, AGR-1)")
async def sign_change(agreement_id: uuid.UUID, change_id: uuid.UUID, body: ChangeSignIn, session: SessionDep,
                      principal: Principal = authorize("agreements.sign_change")) -> ChangeOut:
    return ChangeOut.model_validate(await changes.sign_change(session, agreement_id, change_id, body, principal))


@router.post("/agreements/{agreement_id}/end", response_model=AgreementOut,
             summary="End early: withdraw a draft; propose a mutual end (the other party answers); the client's own "
                     "termination; a city suspension. Typake is told before the end takes effect on its date (AGR-13)")
async def end(agreement_id: uuid.UUID, body: EndIn, session: SessionDep,
              principal: Principal = authorize("agreements.end")) -> AgreementOut:
    return await _out(session, await changes.request_end(session, agreement_id, body, principal), principal)


@router.post("/agreements/{agreement_id}/end/answer", response_model=AgreementOut,
             summary="The other party agrees to or declines a proposed mutual end (AGR-13)")
async def answer_end(agreement_id: uuid.UUID, body: EndAnswerIn, session: SessionDep,
                     principal: Principal = authorize("agreements.answer_end")) -> AgreementOut:
    return await _out(session, await changes.answer_end(session, agreement_id, body, principal), principal)


@router.post("/voucher-contacts", status_code=status.HTTP_200_OK,
             summary="A provider records the client's contact about the voucher (VOU-3: within 7 days of receiving the decision)")
async def contact(body: ContactIn, session: SessionDep, principal: Principal = authorize("agreements.contact")) -> dict[str, Any]:
    return await voucher_service.record_provider_contact(session, body, principal)


# --- the same acts through the client's (or representative's) voucher link (VOU-2, VOU-9) ------------------

@router.get("/voucher-links/{token}/agreements", response_model=list[AgreementOut], openapi_extra=PUBLIC_LINK,
            summary="The agreements of the link's client, to read before signing (VOU-2, VOU-9)",
            dependencies=[authorize("agreements.link_agreements")])
async def link_agreements(token: str, session: SessionDep) -> list[AgreementOut]:
    voucher, rep = await voucher_service.link_context(session, token)
    return await _out_many(session, await reading.agreements_of_client(session, voucher.client_id, _link_actor(rep)))


@router.post("/voucher-links/{token}/agreements/{agreement_id}/signatures", response_model=AgreementOut,
             openapi_extra=PUBLIC_LINK, summary="The client (or their representative) signs the agreement (AGR-1, VOU-9)",
             dependencies=[authorize("agreements.link_sign")])
async def link_sign(token: str, agreement_id: uuid.UUID, body: SignatureIn, session: SessionDep) -> AgreementOut:
    voucher, rep = await voucher_service.link_context(session, token)
    voucher_service.require_scope(rep, "sign_agreement")
    if body.party != "client":
        raise Forbidden("the voucher link signs for the client only (AGR-1)", rule="AGR-1")
    return await _out(session, await service.sign(session, agreement_id, body, None, link_client=voucher.client_id,
                                                  representative=rep))


@router.post("/voucher-links/{token}/agreements/{agreement_id}/changes/{change_id}/signatures", response_model=ChangeOut,
             openapi_extra=PUBLIC_LINK, summary="The client signs a continuation or review (AGR-10, AGR-12, VOU-9)",
             dependencies=[authorize("agreements.link_sign_change")])
async def link_sign_change(token: str, agreement_id: uuid.UUID, change_id: uuid.UUID, body: ChangeSignIn,
                           session: SessionDep) -> ChangeOut:
    voucher, rep = await voucher_service.link_context(session, token)
    voucher_service.require_scope(rep, "sign_agreement")
    if body.party != "client":
        raise Forbidden("the voucher link signs for the client only (AGR-1)", rule="AGR-1")
    return ChangeOut.model_validate(await changes.sign_change(session, agreement_id, change_id, body, None,
                                                              link_client=voucher.client_id))


@router.post("/voucher-links/{token}/agreements/{agreement_id}/end", response_model=AgreementOut, openapi_extra=PUBLIC_LINK,
             summary="The client proposes a mutual end or terminates the agreement (AGR-13, VOU-9)",
             dependencies=[authorize("agreements.link_end")])
async def link_end(token: str, agreement_id: uuid.UUID, body: EndIn, session: SessionDep) -> AgreementOut:
    voucher, rep = await voucher_service.link_context(session, token)
    voucher_service.require_scope(rep, "sign_agreement")
    return await _out(session, await changes.request_end(session, agreement_id, body, None, link_client=voucher.client_id))


@router.post("/voucher-links/{token}/agreements/{agreement_id}/end/answer", response_model=AgreementOut,
             openapi_extra=PUBLIC_LINK, summary="The client answers the provider's proposed end (AGR-13, VOU-9)",
             dependencies=[authorize("agreements.link_answer_end")])
async def link_answer_end(token: str, agreement_id: uuid.UUID, body: EndAnswerIn, session: SessionDep) -> AgreementOut:
    voucher, rep = await voucher_service.link_context(session, token)
    voucher_service.require_scope(rep, "sign_agreement")
    return await _out(session, await changes.answer_end(session, agreement_id, body, None, link_client=voucher.client_id))


def _link_actor(rep) -> str:  # type: ignore[no-untyped-def]
    return f"representative:{rep.representative_id}" if rep is not None else "client-link"


@router.get("/agreements/{agreement_id}/notifications", summary="Copies and notices sent on an agreement (AGR-5, AGR-13)")
async def notifications(agreement_id: uuid.UUID, session: SessionDep,
                        principal: Principal = authorize("agreements.notifications")) -> list[dict[str, Any]]:
    rows = await reading.notifications_of(session, agreement_id, principal)
    return [{"recipient": n.recipient, "kind": n.kind, "message": n.message, "created_at": n.created_at} for n in rows]


@router.post("/provider-refusals", status_code=status.HTTP_201_CREATED,
             summary="A provider refuses a client with a justified reason that Typake sees (AGR-15)")
async def refuse(body: RefusalIn, session: SessionDep, principal: Principal = authorize("agreements.refuse")) -> dict[str, Any]:
    refusal = await limits.refuse_client(session, body, principal)
    return {"id": refusal.id, "voucher_id": refusal.voucher_id, "client_id": refusal.client_id,
            "provider_id": refusal.provider_id, "reason": refusal.reason, "refused_on": refusal.refused_on}


@router.get("/provider-refusals", summary="Refusals of clients by providers (officials see all, a provider its own)")
async def refusals(session: SessionDep, page: PageDep, request: Request, response: Response,
                   principal: Principal = authorize("agreements.refusals"), client_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Newest first, one page (``limit``, ``cursor``); a provider its own rows only, filtered in the query (DATA-3)."""
    rows, cursor = await reading.list_refusals(session, principal, page, client_id=client_id)
    announce_next(request, response, cursor)
    return [{"id": r.id, "voucher_id": r.voucher_id, "client_id": r.client_id, "provider_id": r.provider_id,
             "unit_id": r.unit_id, "reason": r.reason, "refused_on": r.refused_on} for r in rows]


@router.get("/deadlines", response_model=list[DeadlineOut],
            summary="Every open deadline of a client or of a case-worker office's clients, overdue first (VOU-3, AGR-3, REP-3, REP-4)")
async def list_deadlines(session: SessionDep,
                         principal: Principal = authorize("agreements.list_deadlines"), client_id: uuid.UUID | None = None,
                         office: Literal["typake", "social_work"] | None = Query(None)) -> list[dict[str, Any]]:
    if client_id is None and office is None:
        raise InvalidInput("give client_id or office", errors=[])
    return await reading.list_deadlines(session, principal, client_id=client_id, office=office)
