"""Reports and evaluations over HTTP (REP-1..REP-6, ATT-11, VOU-7, VOU-8): the provider submits, the
client signs (REP-2), the case worker returns or accepts; everyone reads what they may (DATA-3);
the certificate of participation as a PDF (REP-5). Paths and names are a contract with integrators."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Response, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem
from ktt_contracts.reports import ReportKind

from ktt_attendance.policy import authorize
from ktt_attendance.reports import documents, reading, service
from ktt_attendance.reports.schemas import ReportIn, ReportOut, ReportPage, ReturnIn, SignatureIn

router = APIRouter(prefix="/v1", tags=["reports"],
                   responses={**PROBLEM_RESPONSES, 404: {"model": Problem}, 409: {"model": Problem}})
State = Literal["due", "late", "awaiting_signature", "submitted", "returned", "accepted"]


@router.post("/reports", response_model=ReportOut, status_code=status.HTTP_201_CREATED,
             summary="Submit a report of your client's agreement (REP-1; ATT-11, REP-3..REP-6, VOU-7, VOU-8)")
async def submit_report(body: ReportIn, session: SessionDep, response: Response,
                        principal: Principal = authorize("reports.submit_report")) -> ReportOut:
    """One 422 lists every field the kind lacks, each with its rule. A report needing the client's
    signature (REP-2) without one stays ``awaiting_signature``. The same submission again answers 200."""
    report, created = await service.submit(session, principal, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return ReportOut.model_validate(report)


@router.post("/reports/{report_id}/signature", response_model=ReportOut,
             summary="The client's signature: on paper (provider, with the day) or with the client's own login (REP-2)")
async def sign_report(report_id: uuid.UUID, body: SignatureIn, session: SessionDep,
                      principal: Principal = authorize("reports.sign_report")) -> ReportOut:
    return ReportOut.model_validate(await service.sign(session, principal, report_id, body))


@router.post("/reports/{report_id}/return", response_model=ReportOut,
             summary="Return a submitted report to the provider with a comment (case worker, REP-1)")
async def return_report(report_id: uuid.UUID, body: ReturnIn, session: SessionDep,
                        principal: Principal = authorize("reports.return_report")) -> ReportOut:
    return ReportOut.model_validate(await service.return_report(session, principal, report_id, body.comment))


@router.post("/reports/{report_id}/accept", response_model=ReportOut,
             summary="Accept a submitted report (case worker, REP-1, BIL-3)")
async def accept_report(report_id: uuid.UUID, session: SessionDep,
                        principal: Principal = authorize("reports.accept_report")) -> ReportOut:
    return ReportOut.model_validate(await service.accept(session, principal, report_id))


@router.get("/reports", response_model=ReportPage,
            summary="Reports due, late, submitted...: the case worker's inbox, a provider's own (DATA-3), oldest first")
async def list_reports(
    session: SessionDep, principal: Principal = authorize("reports.list_reports"), client_id: uuid.UUID | None = None,
    provider_id: str | None = Query(None, max_length=100), state: State | None = None, kind: ReportKind | None = None,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000),
) -> ReportPage:
    rows, total = await reading.list_reports(session, principal, client_id=client_id, provider_id=provider_id, state=state,
                                             kind=kind, limit=limit, offset=offset)
    return ReportPage(items=[ReportOut.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/reports/{report_id}", response_model=ReportOut, summary="One report with its history")
async def get_report(report_id: uuid.UUID, session: SessionDep,
                     principal: Principal = authorize("reports.get_report")) -> ReportOut:
    return ReportOut.model_validate(await reading.get_report(session, principal, report_id))


@router.get("/agreements/{agreement_id}/certificate.pdf", response_class=Response,
            summary="The certificate of participation as a PDF in the client's language, at the end of the service (REP-5)",
            responses={200: {"content": {"application/pdf": {}}}})
async def certificate_pdf(agreement_id: uuid.UUID, session: SessionDep,
                          principal: Principal = authorize("reports.certificate_pdf"),
                          lang: Literal["fi", "sv"] | None = Query(None, description="default: the client's language")) -> Response:
    cert, client_language = await service.certificate(session, principal, agreement_id)
    pdf = documents.render_pdf(cert, documents.language(client_language, lang))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{agreement_id}.pdf"', "Cache-Control": "no-store"})
