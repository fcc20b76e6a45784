"""ClientErased (DATA-2): the provider registry erases what it keeps on a client whose retention period
has passed. Queue entries and agreement places are pseudonymous facts (ids, dates, positions, PRV-6)
and stay; the client's feedback, complaints and incident reports (PRV-12, QUA-1) keep their kind,
rating, dates and status for the quality follow-up, while the written comment and the resolution
text are neutralised. Idempotent: handled twice, the same values."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.erasure import erase_columns, record_erasure
from ktt_common.events import Envelope
from ktt_common.inbox import Subscription
from ktt_contracts.decision import ClientErased, ClientErasedPayload

from ktt_registry.models import Feedback

from_decision = Subscription(producer="decision")


@from_decision.on(ClientErased)
async def on_client_erased(session: AsyncSession, envelope: Envelope, payload: ClientErasedPayload) -> None:
    counts = {"feedback": await erase_columns(session, Feedback, Feedback.client_id == payload.client_id,
                                              "comment", "resolution")}
    await record_erasure(session, "provider-registry", envelope, payload.client_id, counts)
