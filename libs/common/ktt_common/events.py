"""The event envelope (CloudEvents 1.0, structured JSON mode) and the explicit event registry.

An :class:`EventType` ties a versioned type name to its NATS subject and its Pydantic payload
model. Services list the types they publish and consume explicitly; nothing is discovered by
reflection at run time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

P = TypeVar("P", bound=BaseModel)

SUBJECT_ROOT = "ktt"


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, plus the ``correlationid`` extension."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str = Field(description="Unique event id; also sent as the Nats-Msg-Id header")
    source: str = Field(description="Producing service, e.g. /ktt/decision")
    type: str = Field(description="Versioned event type, e.g. ktt.decision.DecisionMade.v1")
    subject: str | None = Field(None, description="Id of the entity the event is about")
    time: dt.datetime
    datacontenttype: str = "application/json"
    correlationid: str | None = None
    dataschema: str | None = Field(None, description="URI of the payload's schema: urn:ktt:event-schema:<type> "
                                                     "(the message of that type in docs/asyncapi.json)")
    data: dict[str, Any]


@dataclass(frozen=True)
class EventType(Generic[P]):
    service: str
    name: str
    version: int
    payload: type[P]
    description: str = ""

    @property
    def type(self) -> str:
        return f"{SUBJECT_ROOT}.{self.service}.{self.name}.v{self.version}"

    @property
    def dataschema(self) -> str:
        """The CloudEvents ``dataschema`` of this type: a URN naming its payload schema, stable
        across deployments (the AsyncAPI message of this type pins it)."""
        return f"urn:ktt:event-schema:{self.type}"

    @property
    def subject(self) -> str:
        """NATS subject: ``ktt.<service>.<EventName>`` (the version travels in ``type``)."""
        return f"{SUBJECT_ROOT}.{stream_token(self.service)}.{self.name}"

    def envelope(
        self, payload: P | dict[str, Any], *, subject: str | None, correlation_id: str | None, time: dt.datetime
    ) -> Envelope:
        model = payload if isinstance(payload, self.payload) else self.payload.model_validate(payload)
        return Envelope(
            id=str(uuid.uuid4()),
            source=f"/ktt/{self.service}",
            type=self.type,
            subject=subject,
            time=time,
            correlationid=correlation_id,
            dataschema=self.dataschema,
            data=model.model_dump(mode="json"),
        )

    def parse(self, envelope: Envelope) -> P:
        return self.payload.model_validate(envelope.data)


def stream_token(service: str) -> str:
    """Subject token of a service: ``provider-registry`` -> ``provider_registry``."""
    return service.replace("-", "_")


def stream_name(service: str) -> str:
    """JetStream stream of a producing service: ``provider-registry`` -> ``KTT_PROVIDER_REGISTRY``."""
    return "KTT_" + service.upper().replace("-", "_")


def stream_subjects(service: str) -> str:
    return f"{SUBJECT_ROOT}.{stream_token(service)}.>"


@dataclass
class EventCatalogue:
    """All event types of the programme, by type name."""

    types: dict[str, EventType[Any]] = field(default_factory=dict)

    def register(self, *event_types: EventType[Any]) -> None:
        for et in event_types:
            if et.type in self.types:
                raise ValueError(f"event type {et.type} registered twice")
            self.types[et.type] = et

    def get(self, type_name: str) -> EventType[Any] | None:
        return self.types.get(type_name)

    def __iter__(self) -> Iterator[EventType[Any]]:
        return iter(self.types.values())
