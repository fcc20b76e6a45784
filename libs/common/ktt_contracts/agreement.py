"""Agreement events published by the voucher service (``ktt.voucher.Agreement*``, ``PeriodEnding``).

They carry what the attendance and billing services need to keep their own copies: the
schedule, the periods, the frozen voucher values, the base-value date, unit, product, provider
and the pseudonymous client id (never the hetu, DATA-4).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from ktt_common.events import EventType
from ktt_common.revisions import revision_field

SERVICE = "voucher"

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EndKind = Literal[
    "fixed_term", "mutual", "unsuitable", "provider_removed", "decision_revoked", "city_suspension", "provider_change",
    "decision_shortened", "client_terminated",
]
EndParty = Literal["provider", "client", "city"]


class ScheduleDayFacts(BaseModel):
    weekday: Weekday
    start: dt.time
    end: dt.time


class ScheduleSpan(BaseModel):
    """A schedule that applied to part of a period before a review changed it (AGR-12)."""

    start: dt.date
    end: dt.date
    schedule: list[ScheduleDayFacts]


class PeriodFacts(BaseModel):
    period_id: uuid.UUID
    seq: int = Field(description="1 for the first period, 2 for the first continuation...")
    start: dt.date
    end: dt.date
    schedule: list[ScheduleDayFacts] = Field(description="The schedule in force from schedule_from (or the start) to the end")
    schedule_from: dt.date | None = Field(None, description="A review changed the schedule from this day on (AGR-12)")
    earlier_schedules: list[ScheduleSpan] = Field(default_factory=list,
                                                  description="Schedules that applied before schedule_from, oldest first")
    goals: str
    evaluation_due: dt.date = Field(description="Interim or final evaluation due a week before the end (REP-3, REP-4)")


class FrozenValues(BaseModel):
    """The product's voucher values copied when the agreement was signed; later price changes never rewrite them."""

    price_version: int
    day_value_first_year_cents: int | None = None
    base_day_value_cents: int | None = None
    hour_value_cents: int | None = None
    currency: Literal["EUR"] = "EUR"


class AgreementFacts(BaseModel):
    agreement_id: uuid.UUID
    voucher_id: uuid.UUID
    decision_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    product_id: uuid.UUID
    product_kind: str
    form: Literal["individual", "group"]
    start: dt.date
    end: dt.date
    periods: list[PeriodFacts]
    values: FrozenValues
    base_value_from: dt.date = Field(description="First day on which the base value applies: one year after the client's "
                                                 "first day of voucher-bought KTT, across providers and decisions (VOU-6, BIL-6)")
    client_first_service_day: dt.date | None = Field(None, description="The client's first day of voucher-bought KTT "
                                                                       "(planned until a service has started) (VOU-6)")
    approved_hours: int | None = Field(None, description="Intensive coaching hours approved in the decision (VOU-7)")
    previous_agreement_id: uuid.UUID | None = Field(None, description="The agreement this one replaced on a change of provider (AGR-8)")
    revision: int | None = revision_field("agreement")


class AgreementSignedPayload(AgreementFacts):
    """Both parties signed (AGR-1, AGR-3); copies go to the client, Typake and a social worker (AGR-5)."""

    signed_on: dt.date


class AgreementChangedPayload(AgreementFacts):
    """A continuation period was agreed (AGR-10), a review changed the schedule, tasks or goals
    (AGR-12, ``schedule``), the decision was shortened, the base-value date was corrected when the
    client's first service day became known (VOU-6, ``base_value_from``), or the decision's
    approved coaching hours changed (VOU-7, ``approved_hours``)."""

    change: Literal["continuation", "schedule", "decision_shortened", "base_value_from", "approved_hours", "other"]


class PeriodEndingPayload(BaseModel):
    """A period ends soon: the interim or final evaluation is due a week before its end (REP-3, REP-4)."""

    agreement_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    period_id: uuid.UUID
    period_seq: int
    period_end: dt.date
    evaluation_due: dt.date
    evaluation_kind: Literal["interim", "final"] = Field(description="final when the period ends the service (AGR-4)")


class AgreementEndedPayload(BaseModel):
    """The agreement ended: by its fixed term or early, with the reason; Typake is told (AGR-13)."""

    agreement_id: uuid.UUID
    voucher_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID
    ended_on: dt.date
    kind: EndKind
    reason: str | None = None
    early: bool
    revision: int | None = revision_field("agreement")


class AgreementEndProposedPayload(BaseModel):
    """An early end was proposed (and, when ``agreed``, accepted by the other party); Typake is
    told before the end takes effect on ``ended_on`` (AGR-13)."""

    agreement_id: uuid.UUID
    voucher_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    kind: EndKind
    reason: str
    ended_on: dt.date = Field(description="The last day in force once the end takes effect")
    proposed_by: EndParty
    agreed: bool = Field(description="True once every party the end needs has agreed (a mutual end needs both)")
    revision: int | None = revision_field("agreement")


class ClientRefusedByProviderPayload(BaseModel):
    """A provider refused a client, with the justified reason Typake sees (AGR-15)."""

    refusal_id: uuid.UUID
    voucher_id: uuid.UUID
    client_id: uuid.UUID
    provider_id: str
    unit_id: uuid.UUID | None = None
    reason: str
    refused_on: dt.date


AgreementSigned = EventType(SERVICE, "AgreementSigned", 1, AgreementSignedPayload,
                            "A service agreement was signed by both parties (AGR-1, AGR-3, AGR-5)")
AgreementChanged = EventType(SERVICE, "AgreementChanged", 1, AgreementChangedPayload,
                             "An agreement changed, e.g. a continuation period (AGR-10, AGR-12)")
PeriodEnding = EventType(SERVICE, "PeriodEnding", 1, PeriodEndingPayload,
                         "A period ends soon; its evaluation is due a week before the end (REP-3, REP-4)")
AgreementEnded = EventType(SERVICE, "AgreementEnded", 1, AgreementEndedPayload,
                           "An agreement ended, by its term or early with a reason (AGR-13, AGR-8)")
AgreementEndProposed = EventType(SERVICE, "AgreementEndProposed", 1, AgreementEndProposedPayload,
                                 "An early end was proposed or agreed; Typake is told before it takes effect (AGR-13)")
ClientRefusedByProvider = EventType(SERVICE, "ClientRefusedByProvider", 1, ClientRefusedByProviderPayload,
                                    "A provider refused a client with a justified reason (AGR-15)")

EVENTS: list[EventType[Any]] = [AgreementSigned, AgreementChanged, PeriodEnding, AgreementEnded, AgreementEndProposed, ClientRefusedByProvider]
