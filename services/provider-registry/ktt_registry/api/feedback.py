"""Feedback and complaints (PRV-12), including complaints to the social ombudsman and kantelut (QUA-2)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ktt_common.auth import Principal
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_registry.models import Feedback
from ktt_registry.policy import authorize
from ktt_registry.schemas_quality import FeedbackIn, FeedbackKind, FeedbackOut, FeedbackStatusIn
from ktt_registry.service import feedback as svc

router = APIRouter(prefix="/v1", tags=["feedback"], responses={**PROBLEM_RESPONSES, 404: {"model": Problem}})



@router.post("/providers/{provider_id}/feedback", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED,
             summary="Give feedback, a rating or a complaint (client), forward one received directly (provider; PRV-12), or record "
                     "a complaint to the social ombudsman or a kantelu (officials; QUA-2)")
async def submit(provider_id: str, body: FeedbackIn, session: SessionDep,
                 principal: Principal = authorize("feedback.submit")) -> Feedback:
    return await svc.submit(session, provider_id, body, principal)


@router.get("/providers/{provider_id}/feedback", response_model=list[FeedbackOut], summary="A provider's feedback and complaints")
async def list_feedback(provider_id: str, session: SessionDep, principal: Principal = authorize("feedback.list_feedback"),
                        kind: FeedbackKind | None = None) -> list[Feedback]:
    return await svc.list_feedback(session, provider_id, principal, kind)


@router.put("/feedback/{feedback_id}/status", response_model=FeedbackOut,
            summary="Move a complaint: received -> being_handled -> resolved (city official; PRV-12)",
            responses={409: {"model": Problem}})
async def set_status(feedback_id: uuid.UUID, body: FeedbackStatusIn, session: SessionDep,
                     principal: Principal = authorize("feedback.set_status")) -> Feedback:
    return await svc.set_status(session, feedback_id, body, principal)


