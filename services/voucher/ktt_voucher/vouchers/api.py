"""HTTP layer of the voucher service: parse, authorise, call the service, shape the reply."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem
from ktt_common.pagination import PageDep, announce_next

from ktt_voucher.policy import authorize
from ktt_voucher.vouchers import documents, rules, service
from ktt_voucher.vouchers.models import Voucher
from ktt_voucher.vouchers.schemas import (
    LinkIn,
    LinkOut,
    RefusalOut,
    RefuseIn,
    VoucherCheckOut,
    VoucherDetailOut,
    VoucherEventOut,
    VoucherOut,
)

router = APIRouter(prefix="/v1", tags=["vouchers"], responses={**PROBLEM_RESPONSES})

Lang = Literal["fi", "sv"]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}
# The personal link endpoints take no bearer token: the unguessable token in the path is the
# credential (VOU-2). They are marked so in OpenAPI.
PUBLIC_LINK = {"security": [], "x-ktt-credential": "the voucher link token in the path (VOU-2)"}
LINK_PROBLEMS: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "Unknown link"}, 410: {"model": Problem, "description": "Expired link"}}


def _settings(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.runtime.settings


def _pdf_response(voucher: Voucher, pdf: bytes) -> Response:
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="palveluseteli-{voucher.number}.pdf"',
        "Cache-Control": "no-store",
    })


@router.get("/vouchers", response_model=list[VoucherOut], summary="Vouchers of a decision or of a client, or by state")
async def list_vouchers(
    session: SessionDep, page: PageDep, request: Request, response: Response,
    principal: Principal = authorize("voucher.list_vouchers"),
    decision_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None,
    state: Literal[rules.STATES] | None = Query(None, description="e.g. delayed: vouchers whose service start is late (VOU-3)"),  # type: ignore[valid-type]
) -> list[Voucher]:
    """Oldest first, one page (``limit``, ``cursor``); the next in ``Link`` rel=next / ``X-Next-Cursor``."""
    rows, cursor = await service.list_vouchers(session, principal, page, decision_id=decision_id, client_id=client_id,
                                               state=state)
    announce_next(request, response, cursor)
    return rows


@router.get("/vouchers/check/{number}", response_model=VoucherCheckOut, summary="Check a voucher by its number (VOU-5)")
async def check_voucher(
    request: Request, session: SessionDep, principal: Principal = authorize("voucher.check_voucher"),
    number: str = Path(max_length=40, description="KTT-XXXX-XXXX-C; dashes, spaces and case do not matter"),
) -> VoucherCheckOut:
    """VOU-5: valid today or not, why not, the validity window and the type. A typo is caught by
    the check character before any lookup. Never the hetu or any personal data."""
    today = request.app.state.runtime.clock.today()
    parsed, voucher, reason = await service.check_number(session, principal, number, today)
    return VoucherCheckOut(
        number=parsed.number or number, valid=reason is None, reason=reason,
        reason_text=rules.CHECK_REASON_TEXT[reason] if reason else None, checked_on=today,
        type=voucher.type if voucher else None,
        valid_from=voucher.valid_from if voucher else None, valid_to=voucher.valid_to if voucher else None,
    )


@router.get("/vouchers/{voucher_id}", response_model=VoucherDetailOut, summary="One voucher with its history", responses=NOT_FOUND)
async def get_voucher(voucher_id: uuid.UUID, session: SessionDep,
                      principal: Principal = authorize("voucher.get_voucher")) -> VoucherDetailOut:
    voucher, history = await service.voucher_with_history(session, voucher_id, principal)
    out = VoucherDetailOut.model_validate(voucher)
    out.history = [VoucherEventOut.model_validate(h) for h in history]
    return out


@router.get("/vouchers/{voucher_id}/pdf", summary="Print the voucher for the client (VOU-2)", response_class=Response,
            responses={**NOT_FOUND, 200: {"content": {"application/pdf": {}}}})
async def print_voucher(
    voucher_id: uuid.UUID, request: Request, session: SessionDep, principal: Principal = authorize("voucher.print_voucher"),
    lang: Lang | None = Query(None, description="fi or sv; default: the client's language"),
) -> Response:
    """VOU-2: the official prints the voucher, in the client's language unless ``lang`` says otherwise."""
    voucher = await service.get_voucher(session, voucher_id)
    doc = documents.build_document(voucher, documents.document_language(voucher.language, lang), _settings(request).providers_url)
    await service.audit_read(session, principal, "voucher.print", voucher)
    return _pdf_response(voucher, documents.render_pdf(doc))


@router.post("/vouchers/{voucher_id}/links", response_model=LinkOut, status_code=201,
             summary="Make the client's personal link to the voucher (VOU-2)", responses=NOT_FOUND)
async def create_link(
    voucher_id: uuid.UUID, request: Request, session: SessionDep, body: LinkIn | None = None,
    principal: Principal = authorize("voucher.create_link"),
) -> LinkOut:
    voucher = await service.get_voucher(session, voucher_id)
    days = (body.valid_days if body and body.valid_days else None) or _settings(request).voucher_link_ttl_days
    token, expires_at = await service.create_link(session, voucher, principal, days,
                                                  body.representative_id if body else None)
    return LinkOut(voucher_id=voucher.id, url=f"/v1/voucher-links/{token}", pdf_url=f"/v1/voucher-links/{token}/pdf",
                   expires_at=expires_at)


@router.post("/vouchers/{voucher_id}/refuse", response_model=RefusalOut,
             summary="Record the client's refusal of the voucher (VOU-4)", responses={**NOT_FOUND, 409: {"model": Problem}})
async def refuse_by_official(voucher_id: uuid.UUID, body: RefuseIn, session: SessionDep,
                             principal: Principal = authorize("voucher.refuse_by_official")) -> RefusalOut:
    voucher = await service.get_voucher(session, voucher_id)
    changed = await service.refuse(session, voucher, body.reason, principal)
    return RefusalOut(voucher_id=voucher.id, number=voucher.number, state="refused", reason=voucher.state_reason, changed=changed)


# --- the client's personal link (no bearer token: the link is the credential) --------------

@router.get("/voucher-links/{token}", response_class=HTMLResponse, summary="The client's voucher page (VOU-2)",
            openapi_extra=PUBLIC_LINK, responses=LINK_PROBLEMS, dependencies=[authorize("voucher.link_page")])
async def link_page(token: str, request: Request, session: SessionDep,
                    lang: Lang | None = Query(None, description="fi or sv; default: the client's language")) -> HTMLResponse:
    voucher, _rep = await service.link_context(session, token)  # a withdrawn representative's link opens nothing (VOU-9)
    doc = documents.build_document(voucher, documents.document_language(voucher.language, lang), _settings(request).providers_url)
    await service.audit_read(session, "client-link", "voucher.link.open", voucher)
    return HTMLResponse(documents.render_html(doc), headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.get("/voucher-links/{token}/pdf", response_class=Response, summary="The client's printable voucher (VOU-2)",
            openapi_extra=PUBLIC_LINK, responses={**LINK_PROBLEMS, 200: {"content": {"application/pdf": {}}}},
            dependencies=[authorize("voucher.link_pdf")])
async def link_pdf(token: str, request: Request, session: SessionDep,
                   lang: Lang | None = Query(None, description="fi or sv; default: the client's language")) -> Response:
    voucher, _rep = await service.link_context(session, token)  # a withdrawn representative's link opens nothing (VOU-9)
    doc = documents.build_document(voucher, documents.document_language(voucher.language, lang), _settings(request).providers_url)
    await service.audit_read(session, "client-link", "voucher.link.pdf", voucher)
    return _pdf_response(voucher, documents.render_pdf(doc))


@router.post("/voucher-links/{token}/refuse", response_model=RefusalOut, summary="The client refuses the voucher (VOU-4)",
             openapi_extra=PUBLIC_LINK, responses={**LINK_PROBLEMS, 409: {"model": Problem}},
             dependencies=[authorize("voucher.refuse_by_link")])
async def refuse_by_link(token: str, body: RefuseIn, session: SessionDep) -> RefusalOut:
    voucher, rep = await service.link_context(session, token)
    service.require_scope(rep, "handle_voucher")
    changed = await service.refuse(session, voucher, body.reason,
                                   f"representative:{rep.representative_id}" if rep else "client-link")  # VOU-9
    return RefusalOut(voucher_id=voucher.id, number=voucher.number, state="refused", reason=voucher.state_reason, changed=changed)
