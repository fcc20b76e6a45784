"""The daily log over HTTP: providers' systems post batches (JSON or CSV); officials and the
provider read entries back with their revisions (ATT-1, ATT-2, ATT-12, DATA-3)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ktt_common.auth import Principal
from ktt_common.bounds import BoundedDate
from ktt_common.deps import SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Problem

from ktt_attendance.log import parsing, reading, service
from ktt_attendance.log.schemas import COLUMNS, BatchIn, BatchOut, EntryPage, RevisionOut
from ktt_attendance.notices.schemas import SpotCheckIn, SpotCheckOut
from ktt_attendance.policy import authorize

router = APIRouter(prefix="/v1", tags=["daily log"], responses={**PROBLEM_RESPONSES})

BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": BatchIn.model_json_schema(ref_template="#/components/schemas/{model}")},
            "text/csv": {"schema": {"type": "string", "description": "A header row naming columns from: "
                                                                    + ", ".join(COLUMNS) + "; one entry per row"}},
        },
    }
}


@router.post("/daily-log", response_model=BatchOut, summary="Post a batch of daily-log entries (JSON or CSV, up to 5,000)",
             openapi_extra=BATCH_BODY,
             responses={413: {"model": Problem, "description": "More entries (or bytes) than a batch may hold"},
                        415: {"model": Problem, "description": "Neither JSON nor CSV"}})
async def post_daily_log(request: Request, session: SessionDep,
                         principal: Principal = authorize("log.post_daily_log")) -> Response:
    """One client-day per entry: ``present`` (hours or start/end, tasks, coaching hours),
    ``absent`` (reason, certificate, same-day contact) or ``not_organised`` (a public holiday or a
    provider closure). Idempotent per (agreement, date): the same entry again is ``unchanged``, a
    different one a revision kept with history. Each entry gets its own answer; a rejected one
    names the rule. A malformed batch is one 4xx naming every bad row, and nothing is written."""
    settings = request.app.state.runtime.settings
    limit = settings.daily_log_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise parsing.BatchTooLarge(f"a batch body holds at most {limit} bytes")
    body = await request.body()
    if len(body) > limit:
        raise parsing.BatchTooLarge(f"a batch body holds at most {limit} bytes")
    # The answer is built as plain data (5,000 results) and serialised in one call: the response
    # model documents it, nothing re-validates it.
    answer = await service.post_batch_body(session, principal, request.headers.get("content-type", ""), body,
                                           settings.daily_log_batch_max)
    return Response(answer, media_type="application/json")


@router.get("/daily-log", response_model=EntryPage,
            summary="Read a client's or an agreement's log with revision counts (a provider: its own agreements)")
async def read_daily_log(
    session: SessionDep, principal: Principal = authorize("log.read_daily_log"),
    agreement_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None,
    first: BoundedDate | None = Query(None, alias="from"), last: BoundedDate | None = Query(None, alias="to"),
    limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=10_000_000),
) -> EntryPage:
    """ATT-12: the city sees the logs at any time; DATA-3: a provider only its own agreements.
    Oldest day first; ``revision`` counts the versions of each entry. Every read is audited."""
    rows, total = await reading.read_log(session, principal, agreement_id=agreement_id, client_id=client_id,
                                         first=first, last=last, limit=limit, offset=offset)
    return EntryPage(items=[reading.entry_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/daily-log/entries/{entry_id}/revisions", response_model=list[RevisionOut],
            summary="Every version of one entry: what it said, who recorded it and when, what changed",
            responses={404: {"model": Problem}})
async def entry_revisions(entry_id: uuid.UUID, session: SessionDep,
                          principal: Principal = authorize("log.entry_revisions")) -> list[RevisionOut]:
    _, out = await reading.revisions(session, principal, entry_id)
    return out


@router.post("/spot-checks", response_model=SpotCheckOut, summary="Draw a random sample of a provider's entries for a month (ATT-12)")
async def spot_check(body: SpotCheckIn, request: Request, session: SessionDep,
                     principal: Principal = authorize("log.spot_check")) -> SpotCheckOut:
    """The sample and its size are recorded in the audit log; each call draws anew."""
    size = body.sample_size or request.app.state.runtime.settings.spot_check_sample_size
    population, rows = await reading.spot_check(session, principal, body.provider_id, body.month, size)
    return SpotCheckOut(provider_id=body.provider_id, month=body.month, population=population,
                        sample=[reading.entry_out(r) for r in rows])
