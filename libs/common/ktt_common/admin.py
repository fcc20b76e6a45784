"""Admin endpoints that every service has: daily jobs, the development clock, dead letters, outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update

from ktt_common.audit import access_log, audit, verify_chain
from ktt_common.auth import Principal
from ktt_common.bounds import BoundedDate, BoundedDateTime, StrictBool
from ktt_common.clock import HELSINKI
from ktt_common.db import affected
from ktt_common.deps import RuntimeDep, SessionDep
from ktt_common.errors import PROBLEM_RESPONSES, Conflict, DomainError, NotFound
from ktt_common.events import Envelope
from ktt_common.jobs import run_job
from ktt_common.logging import get_logger
from ktt_common.policy import admin_authorize

log = get_logger(__name__)


class ClockIn(BaseModel):
    """The development clock's body; an unknown field (a typo such as ``"dat"``) is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")
    now: BoundedDateTime | None = Field(None, description="Move the clock to this moment (Europe/Helsinki if no offset)")
    date: BoundedDate | None = Field(None, description="Or move it to 09:00 Helsinki time of this date")
    reset: StrictBool = Field(False, description="Back to real time")


class ClockOut(BaseModel):
    now: dt.datetime
    today: dt.date
    offset_seconds: float


class DeadLetterOut(BaseModel):
    id: uuid.UUID
    consumer: str
    event_id: str | None
    event_type: str | None
    subject: str
    error: str
    deliveries: int
    parked_at: dt.datetime
    replayed_at: dt.datetime | None
    replay_error: str | None
    payload: str


class ChainOut(BaseModel):
    ok: bool = Field(description="True when every row's hash, link and place in the chain hold")
    rows: int = Field(description="Rows checked and found intact (before the first bad one)")
    first_bad_id: int | None = Field(None, description="audit_log id of the first row that breaks the chain")
    first_bad_seq: int | None = Field(None, description="Its place in the chain (or the head's, when the tail is cut)")
    reason: str | None = None


class AccessOut(BaseModel):
    """One read or change of a client's data: who, in which role, when, what (never the data itself)."""

    id: int
    at: dt.datetime
    actor: str
    role: str
    provider_id: str | None
    action: str
    target_type: str
    target_id: str | None
    correlation_id: str | None


class ClockRefused(DomainError):
    status = 403
    slug = "clock-refused"
    title = "The clock can be moved only in development mode"


def admin_router() -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["admin"], responses={**PROBLEM_RESPONSES})

    @router.get("/jobs", summary="List this service's daily jobs")
    async def list_jobs(rt: RuntimeDep, _: Principal = admin_authorize("admin.jobs.list")) -> list[dict[str, str]]:
        return [{"job": name, "description": desc} for name, (_fn, desc) in sorted(rt.jobs.jobs.items())]

    @router.post("/jobs/{job}/run", summary="Run a daily job for a date (default: today)",
                 responses={404: {"description": "This service has no job of that name"},
                            422: {"description": "OPS-1: the date is after today or before 2000-01-01"}})
    async def run(
        job: str, rt: RuntimeDep, _: Principal = admin_authorize("admin.jobs.run"),
        date: dt.date | None = Query(None, description="Business date YYYY-MM-DD, not after today (OPS-1); past "
                                                      "dates re-run a missed night"),
    ) -> dict[str, Any]:
        if job not in rt.jobs.jobs:
            raise NotFound(f"no job '{job}' in {rt.settings.service}; known: {', '.join(sorted(rt.jobs.jobs)) or 'none'}")
        return await run_job(rt, job, date or rt.clock.today())  # OPS-1: refuses a future date (422)

    @router.get("/clock", response_model=ClockOut, summary="The service's current time")
    async def get_clock(rt: RuntimeDep, _: Principal = admin_authorize("admin.clock.read")) -> ClockOut:
        return ClockOut(now=rt.clock.now(), today=rt.clock.today(), offset_seconds=rt.clock.offset().total_seconds())

    @router.post("/clock", response_model=ClockOut, summary="Move the clock (development mode only)",
                 responses={403: {"description": "Refused outside development mode"}})
    async def set_clock(body: ClockIn, rt: RuntimeDep, _: Principal = admin_authorize("admin.clock.set")) -> ClockOut:
        if not rt.settings.development:
            raise ClockRefused("moving the clock is refused outside development mode; run a job for a date instead")
        if body.reset:
            rt.clock.reset()
        elif body.now is not None:
            rt.clock.set(body.now if body.now.tzinfo else body.now.replace(tzinfo=HELSINKI))
        elif body.date is not None:
            rt.clock.set(dt.datetime.combine(body.date, dt.time(9, 0), tzinfo=HELSINKI))
        log.warning("clock_moved", now=rt.clock.now().isoformat())
        return ClockOut(now=rt.clock.now(), today=rt.clock.today(), offset_seconds=rt.clock.offset().total_seconds())

    @router.get("/dead-letters", response_model=list[DeadLetterOut], summary="Messages parked after repeated failure")
    async def dead_letters(
        rt: RuntimeDep, session: SessionDep, _: Principal = admin_authorize("admin.dead_letters.list"),
        include_replayed: bool = False, limit: int = Query(100, ge=1, le=1000),
    ) -> list[DeadLetterOut]:
        dl = rt.infra.dead_letter
        q = select(dl).order_by(dl.c.parked_at.desc()).limit(limit)
        if not include_replayed:
            q = q.where(dl.c.replayed_at.is_(None))
        return [DeadLetterOut.model_validate(dict(r._mapping)) for r in (await session.execute(q)).all()]

    @router.post("/dead-letters/{letter_id}/replay", summary="Run the handler again for a parked message",
                 responses={404: {"description": "No such dead letter"}, 409: {"description": "Already replayed, or failed again"}})
    async def replay(letter_id: uuid.UUID, rt: RuntimeDep,
                     _: Principal = admin_authorize("admin.dead_letters.replay")) -> dict[str, Any]:
        dl = rt.infra.dead_letter
        async with rt.sessionmaker() as session:
            row = (await session.execute(select(dl).where(dl.c.id == letter_id))).first()
        if row is None:
            raise NotFound(f"no dead letter {letter_id}")
        if row.replayed_at is not None:
            raise Conflict(f"dead letter {letter_id} was already replayed at {row.replayed_at.isoformat()}")
        consumer = next((c for c in rt.consumers if c.name == row.consumer), None)
        if consumer is None:
            raise Conflict(f"consumer {row.consumer} does not exist in this service any more")
        try:
            outcome = await consumer.process(Envelope.model_validate_json(row.payload))
        except Exception as exc:
            error = (str(exc) or type(exc).__name__)[:4000]
            async with rt.sessionmaker() as session, session.begin():
                await session.execute(update(dl).where(dl.c.id == letter_id).values(replay_error=error))
            raise Conflict(f"the replay failed again: {error}; fix the cause and replay once more") from None
        async with rt.sessionmaker() as session, session.begin():
            await session.execute(
                update(dl).where(dl.c.id == letter_id).values(replayed_at=dt.datetime.now(dt.UTC), replay_error=None)
            )
        log.info("dead_letter_replayed", letter_id=str(letter_id), outcome=outcome)
        return {"id": str(letter_id), "outcome": outcome}

    @router.get("/outbox", summary="Outbox state: unpublished events, the last error, and parked rows")
    async def outbox(rt: RuntimeDep, session: SessionDep, _: Principal = admin_authorize("admin.outbox.read")) -> dict[str, Any]:
        ob = rt.infra.outbox
        waiting = (ob.c.published_at.is_(None), ob.c.parked_at.is_(None))
        pending = select(func.count(), func.min(ob.c.created_at)).where(*waiting)
        count, oldest = (await session.execute(pending)).one()
        last_error = (await session.execute(
            select(ob.c.last_error).where(*waiting, ob.c.last_error.is_not(None)).order_by(ob.c.seq).limit(1)
        )).scalar()
        parked_rows = (await session.execute(
            select(ob.c.seq, ob.c.event_id, ob.c.event_type, ob.c.attempts, ob.c.last_error, ob.c.parked_at,
                   func.length(ob.c.envelope).label("size"))
            .where(ob.c.published_at.is_(None), ob.c.parked_at.is_not(None)).order_by(ob.c.seq).limit(100)
        )).all()
        return {"pending": count, "oldest_pending_at": oldest, "last_error": last_error, "nats_connected": rt.bus.connected,
                "parked": [dict(r._mapping) for r in parked_rows]}

    @router.post("/outbox/{seq}/retry", summary="Put a parked outbox row back in line (after fixing the cause)",
                 responses={404: {"description": "No parked outbox row with this number"}})
    async def retry_outbox(seq: int = Path(ge=1, le=2**62), *, rt: RuntimeDep,
                           _: Principal = admin_authorize("admin.outbox.retry")) -> dict[str, Any]:
        ob = rt.infra.outbox
        async with rt.sessionmaker() as session, session.begin():
            result = await session.execute(
                update(ob).where(ob.c.seq == seq, ob.c.published_at.is_(None), ob.c.parked_at.is_not(None))
                .values(parked_at=None, attempts=0)
            )
        if affected(result) != 1:
            raise NotFound(f"no parked outbox row {seq}")
        rt.relay.wake()
        log.info("outbox_row_requeued", seq=seq)
        return {"seq": seq, "requeued": True}

    @router.get("/audit/verify", response_model=ChainOut, summary="Check this service's audit hash chain",
                description="Walks the audit log in chain order; `ok` is false and the first bad row is named "
                            "when a row was changed or removed (same check as `python -m ktt_common.audit verify`).")
    async def verify_audit(rt: RuntimeDep, session: SessionDep, _: Principal = admin_authorize("admin.audit.verify")) -> ChainOut:
        report = await verify_chain(session, rt.infra)
        if not report.ok:
            log.error("audit_chain_broken", first_bad_id=report.first_bad_id, reason=report.reason)
        return ChainOut(**report.as_dict())

    return router


def access_log_router() -> APIRouter:
    """``GET /v1/clients/{client_id}/access-log`` in every service: who has read or changed this
    client's data in this service (DATA-3), for the city's officials. The question is itself audited."""
    router = APIRouter(prefix="/v1", tags=["audit"], responses={**PROBLEM_RESPONSES})

    @router.get("/clients/{client_id}/access-log", response_model=list[AccessOut],
                summary="Who has seen or changed this client's data in this service (DATA-3), newest first")
    async def client_access_log(
        client_id: uuid.UUID, rt: RuntimeDep, session: SessionDep, principal: Principal = admin_authorize("client.access_log.read"),
        limit: int = Query(200, ge=1, le=1000),
    ) -> list[AccessOut]:
        rows = await access_log(session, rt.infra, client_id, limit)
        await audit(session, principal, "client.access_log.read", "client", client_id, client_ids=[client_id])
        return [AccessOut.model_validate(r) for r in rows]

    return router
