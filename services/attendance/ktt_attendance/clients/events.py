"""Client copies from the decision service's events (DecisionMade, DecisionAmended): the benefit
basis (DEC-5: which allowance; ATT-6: who gets the TT3 notice) and the language (fi/sv documents).
The latest event by the producer's time wins; an older one handled late changes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_contracts.decision import DecisionAmended, DecisionAmendedPayload, DecisionMade, DecisionMadePayload

from ktt_attendance.clients.models import ClientCopy

from_decision = Subscription(producer="decision")


async def _apply(session: AsyncSession, envelope: Envelope, payload: DecisionMadePayload | DecisionAmendedPayload) -> None:
    row = await session.get(ClientCopy, payload.client_id, with_for_update=True)
    now = dt.datetime.now(dt.UTC)
    if row is None:
        row = ClientCopy(client_id=payload.client_id, updated_at=now)
        session.add(row)
    elif row.facts_at is not None and envelope.time < row.facts_at:
        return
    row.decision_id, row.decision_version = payload.decision_id, payload.version
    row.benefit_basis, row.language = payload.benefit_basis, payload.language
    row.case_worker_office = payload.case_worker_office
    row.facts_at, row.updated_at = envelope.time, now


from_decision.on(DecisionMade)(_apply)
from_decision.on(DecisionAmended)(_apply)

SUBSCRIPTIONS = [from_decision]
