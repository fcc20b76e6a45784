"""Feedback, ratings and complaints (PRV-12); complaints to the social ombudsman and formal
complaints (QUA-2). The quality figures built from them are in service.quality."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.auth import Principal, Role
from ktt_common.errors import Conflict, FieldError, InvalidInput, NotFound, refuse

from ktt_registry.models import Feedback, Unit
from ktt_registry.schemas_quality import FeedbackIn, FeedbackStatusIn
from ktt_registry.service.common import now, own_provider, today

COMPLAINT_STATUSES = ("received", "being_handled", "resolved")
NEXT_STATUS = {"received": {"being_handled", "resolved"}, "being_handled": {"resolved"}, "resolved": set()}
# Who may file which kind: clients give feedback, ratings, survey answers and complaints; a provider
# forwards what it received directly (PRV-12); officials also record incident reports and reminders,
# and the complaints made to the social ombudsman or as a kantelu that the city learns of (QUA-2).
KINDS_BY_ROLE = {
    Role.CLIENT: {"feedback", "complaint", "survey"},
    Role.PROVIDER: {"feedback", "complaint", "survey", "incident_report"},
    Role.CITY_OFFICIAL: {"feedback", "complaint", "survey", "incident_report", "reminder", "ombudsman_complaint", "formal_complaint"},
    Role.SOCIAL_WORKER: {"feedback", "complaint", "survey", "incident_report", "ombudsman_complaint", "formal_complaint"},
}
OFFICIAL_ONLY = {"reminder", "ombudsman_complaint", "formal_complaint"}


async def submit(session: AsyncSession, provider_id: str, body: FeedbackIn, principal: Principal) -> Feedback:
    """PRV-12: feedback through the voucher system (client), or forwarded by the provider."""
    if principal.role is Role.CLIENT:
        provider = await _provider_exists(session, provider_id)
        try:
            client_id: uuid.UUID | None = uuid.UUID(str(principal.client_id))
        except ValueError:
            raise InvalidInput("the client token does not carry a pseudonymous client id", rule="DATA-4") from None
        if body.client_id is not None and body.client_id != client_id:
            refuse([FieldError(field="body.client_id", rule="DATA-3", message="a client gives feedback only as itself")])
    else:
        provider = (await own_provider(session, principal, provider_id)).id
        client_id = body.client_id
    errors: list[FieldError] = []
    if body.kind not in KINDS_BY_ROLE.get(principal.role, set()):
        errors.append(FieldError(field="body.kind", rule="QUA-2" if body.kind in OFFICIAL_ONLY - {"reminder"} else "PRV-12",
                                 message=f"a {principal.role.value} cannot file a {body.kind}"))
    if body.kind in ("feedback", "survey") and body.rating is None and not body.comment:
        errors.append(FieldError(field="body.rating", rule="PRV-12", message="give a rating, a comment or both"))
    if body.kind != "feedback" and body.kind != "survey" and not body.comment:
        errors.append(FieldError(field="body.comment", rule="PRV-12", message=f"a {body.kind} needs a description"))
    day = today(session)
    if body.received_on is not None and (principal.role is not Role.PROVIDER or body.received_on > day):
        errors.append(FieldError(field="body.received_on", message="only a provider forwarding gives the receiving date, not in the future"))
    if body.unit_id is not None:
        unit = await session.get(Unit, body.unit_id)
        if unit is None or unit.provider_id != provider:
            errors.append(FieldError(field="body.unit_id", message="not a unit of this provider"))
    refuse(errors)
    t = now()
    item = Feedback(
        id=uuid.uuid4(), provider_id=provider, unit_id=body.unit_id, client_id=client_id, kind=body.kind,
        channel="provider_forwarded" if principal.role is Role.PROVIDER else "voucher_system" if principal.role is Role.CLIENT else "city",
        rating=body.rating, comment=body.comment, status="received" if body.kind == "complaint" else None,
        received_on=body.received_on or day, created_by=principal.subject, created_at=t, updated_at=t,
    )
    session.add(item)
    await session.flush()
    await audit(session, principal, f"feedback.{body.kind}", "feedback", item.id, client_ids=[client_id] if client_id else [])
    return item


async def _provider_exists(session: AsyncSession, provider_id: str) -> str:
    from ktt_registry.models import Provider

    if await session.get(Provider, provider_id) is None:
        raise NotFound(f"no provider {provider_id}")
    return provider_id


async def set_status(session: AsyncSession, feedback_id: uuid.UUID, body: FeedbackStatusIn, principal: Principal) -> Feedback:
    """PRV-12: a complaint moves received -> being handled -> resolved (officials)."""
    item = await session.get(Feedback, feedback_id, with_for_update=True)
    if item is None:
        raise NotFound(f"no feedback {feedback_id}")
    if item.kind != "complaint":
        raise Conflict("only complaints have a handling status", rule="PRV-12")
    if item.status == body.status:
        return item
    if body.status not in NEXT_STATUS[item.status or "received"]:
        raise Conflict(f"a complaint that is {item.status} cannot become {body.status}", rule="PRV-12")
    if body.status == "resolved" and not body.resolution:
        refuse([FieldError(field="body.resolution", rule="PRV-12", message="say how the complaint was resolved")])
    item.status = body.status
    if body.status == "resolved":
        item.resolution, item.resolved_on = body.resolution, today(session)
    item.updated_at = now()
    await audit(session, principal, "complaint.status", "feedback", item.id, client_ids=[item.client_id] if item.client_id else [],
                details={"status": body.status})
    return item


async def list_feedback(session: AsyncSession, provider_id: str, principal: Principal, kind: str | None) -> list[Feedback]:
    await own_provider(session, principal, provider_id)
    query = select(Feedback).where(Feedback.provider_id == provider_id).order_by(Feedback.received_on, Feedback.created_at)
    if kind:
        query = query.where(Feedback.kind == kind)
    rows = list((await session.execute(query)).scalars().all())
    await audit(session, principal, "feedback.list", "provider", provider_id, client_ids={r.client_id for r in rows if r.client_id})
    return rows
