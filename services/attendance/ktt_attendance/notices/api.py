"""Kela TT3 absence notices over HTTP (ATT-6): officials list, read (JSON or PDF) and mark them sent."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_attendance.notices import documents, service
from ktt_attendance.notices.schemas import MarkSentIn, NoticeOut, NoticePage
from ktt_attendance.policy import authorize

router = APIRouter(prefix="/v1", tags=["absence notices"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})


@router.get("/absence-notices", response_model=NoticePage, summary="TT3 notices per client and review period (ATT-6)")
async def list_notices(
    session: SessionDep, principal: Principal = authorize("notices.list_notices"),
    status_filter: Literal["pending", "sent"] | None = Query(None, alias="status"), client_id: uuid.UUID | None = None,
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000),
) -> NoticePage:
    rows, total = await service.list_notices(session, principal, status=status_filter, client_id=client_id, limit=limit,
                                             offset=offset)
    return NoticePage(items=[NoticeOut.model_validate(n) for n in rows], total=total, limit=limit, offset=offset)


@router.get("/absence-notices/{notice_id}", response_model=NoticeOut, summary="One TT3 notice with its absence days")
async def get_notice(notice_id: uuid.UUID, session: SessionDep,
                     principal: Principal = authorize("notices.get_notice")) -> NoticeOut:
    return NoticeOut.model_validate(await service.get_notice(session, principal, notice_id, "absence_notice.read"))


@router.get("/absence-notices/{notice_id}/pdf", summary="The TT3 notice as a PDF in Finnish or Swedish",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
async def notice_pdf(notice_id: uuid.UUID, session: SessionDep, principal: Principal = authorize("notices.notice_pdf"),
                     lang: Literal["fi", "sv"] | None = Query(None, description="default: the client's language")) -> Response:
    notice = await service.get_notice(session, principal, notice_id, "absence_notice.print")
    pdf = documents.render_pdf(notice, documents.language(notice.language, lang))
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="tt3-{notice.period_start}-{notice.id}.pdf"', "Cache-Control": "no-store"})


@router.post("/absence-notices/{notice_id}/mark-sent", response_model=NoticeOut, summary="The notice was sent (ATT-6)")
async def mark_sent(notice_id: uuid.UUID, body: MarkSentIn, session: SessionDep,
                    principal: Principal = authorize("notices.mark_sent")) -> NoticeOut:
    return NoticeOut.model_validate(await service.mark_sent(session, principal, notice_id, body.sent_on))
