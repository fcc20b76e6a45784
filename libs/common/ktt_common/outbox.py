"""Transactional outbox: an event row is written in the same transaction as the state change
(:func:`emit`, :func:`emit_at_commit`, :func:`emit_many`); the relay (:mod:`ktt_common.relay`) publishes
it with the ``Nats-Msg-Id`` header and retries until NATS takes it. A commit that wrote rows wakes the
relay."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common import bulk
from ktt_common.db import statement_for
from ktt_common.events import Envelope, EventType
from ktt_common.identifiers import contains_hetu
from ktt_common.logging import get_logger
from ktt_common.request_context import correlation_id_var

if TYPE_CHECKING:
    from ktt_common.runtime import Runtime

log = get_logger(__name__)

def runtime_of(session: AsyncSession) -> Runtime:
    runtime: Runtime = session.info["runtime"]
    return runtime


def _outbox_row(rt: Runtime, event_type: EventType[Any], payload: BaseModel | dict[str, Any], subject: str | None,
                correlation_id: str | None) -> tuple[Envelope, dict[str, Any]]:
    if event_type.service != rt.settings.service:
        raise ValueError(f"{rt.settings.service} may not publish {event_type.type}")
    envelope = event_type.envelope(
        payload, subject=subject, correlation_id=correlation_id or correlation_id_var.get(), time=rt.clock.now()
    )
    return envelope, _row(event_type, envelope.id, envelope.model_dump_json())


def _row(event_type: EventType[Any], event_id: str, raw: str) -> dict[str, Any]:
    if contains_hetu(raw):
        # DATA-4: events carry the pseudonymous client id, never a personal identity code.
        raise ValueError(f"DATA-4: refusing to publish {event_type.type}: it contains a personal identity code")
    return {"event_id": uuid.UUID(event_id), "subject": event_type.subject, "event_type": event_type.type,
                "envelope": raw, "created_at": dt.datetime.now(dt.UTC), "attempts": 0}


_EMPTY_DATA_TAIL = '"data":{}}'


def _fast_row(rt: Runtime, event_type: EventType[Any], payload: BaseModel | dict[str, Any], subject: str | None,
              correlation_id: str | None, time: dt.datetime) -> dict[str, Any]:
    """The outbox row of :func:`_outbox_row` (the same envelope JSON, byte for byte), built once: the
    payload validated by its contract and serialised straight into the envelope's JSON, instead of being
    dumped to Python, copied into an Envelope and dumped again (a batch of one, :func:`_batch_rows`)."""
    return _batch_rows(rt.settings.service, [(event_type, payload, subject)], [correlation_id], time)[0]


def _wake_relay_after_commit(session: AsyncSession, rt: Runtime) -> None:
    from sqlalchemy import event as sa_event

    if not sa_event.contains(session.sync_session, "after_commit", rt.relay.wake):
        sa_event.listen(session.sync_session, "after_commit", rt.relay.wake, once=True)


async def emit(
    session: AsyncSession,
    event_type: EventType[Any],
    payload: BaseModel | dict[str, Any],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
    revision_of: str | None = None,
) -> Envelope:
    """Write an event to the outbox inside the caller's transaction. It is published after commit.

    ``revision_of`` (e.g. ``"unit:<id>"``) numbers the event in that entity's revisions, into the
    payload's ``revision`` field (see :mod:`ktt_common.revisions`)."""
    rt = runtime_of(session)
    if revision_of is not None:
        payload = await _with_revision(session, event_type, payload, revision_of)
    envelope, row = _outbox_row(rt, event_type, payload, subject, correlation_id)
    outbox = rt.infra.outbox
    # Built once, executed with the row (SQLAlchemy caches its compiled form by the row's keys).
    await session.execute(statement_for(outbox, "insert", lambda: insert(outbox)), row)
    _wake_relay_after_commit(session, rt)
    return envelope


OUTBOX_AT_COMMIT = "ktt_outbox_at_commit"


def emit_at_commit(
    session: AsyncSession,
    event_type: EventType[Any],
    payload: BaseModel | dict[str, Any],
    *,
    subject: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """:func:`emit`, the row written when the transaction commits, in the statement that appends its
    audit rows (:func:`ktt_common.audit.append_rows`: one round trip on PostgreSQL). The row is built and
    checked now (the same envelope, DATA-4 included); returns the event id.

    Only for a change that no savepoint can roll back on its own: like audit rows, the queued row is
    dropped only with the whole transaction."""
    rt = runtime_of(session)
    row = _fast_row(rt, event_type, payload, subject, correlation_id or correlation_id_var.get(), rt.clock.now())
    session.info.setdefault(OUTBOX_AT_COMMIT, (rt.infra.outbox, []))[1].append(row)
    _wake_relay_after_commit(session, rt)
    return str(row["event_id"])


async def _with_revision(session: AsyncSession, event_type: EventType[Any], payload: BaseModel | dict[str, Any],
                         entity: str) -> BaseModel | dict[str, Any]:
    from ktt_common.revisions import next_revision

    if "revision" not in event_type.payload.model_fields:
        raise ValueError(f"{event_type.type} has no revision field")
    revision = await next_revision(session, entity)
    return payload.model_copy(update={"revision": revision}) if isinstance(payload, BaseModel) else {**payload, "revision": revision}


async def emit_many(
    session: AsyncSession,
    events: Iterable[tuple[EventType[Any], BaseModel | dict[str, Any], str | None]],
    *,
    correlation_id: str | None = None,
    correlation_ids: Sequence[str | None] | None = None,
) -> list[str]:
    """Write many events (type, payload, subject) to the outbox in one statement, in the caller's
    transaction and in the given order; the same checks and the same envelopes as :func:`emit`.
    ``correlation_ids``: one per event (a batch of consumed events each carries its own), else
    ``correlation_id`` for all. Returns the events' ids."""
    rt = runtime_of(session)
    correlation_id = correlation_id or correlation_id_var.get()
    events = list(events)
    if correlation_ids is not None and len(correlation_ids) != len(events):
        raise ValueError("one correlation id per event")
    each = [c or correlation_id for c in correlation_ids] if correlation_ids is not None else [correlation_id] * len(events)
    rows = _batch_rows(rt.settings.service, events, each, rt.clock.now())
    if rows:
        # One unnest statement on PostgreSQL; ``seq`` (the publication order) follows the list.
        await bulk.write_rows(session, rt.infra.outbox, rows, ordered=True)
        _wake_relay_after_commit(session, rt)
    return [str(row["event_id"]) for row in rows]


# Stand-ins for the values that differ between a batch's envelopes; rendered once per event type
# by the Envelope model itself, then cut out (they cannot occur in the fixed fields around them).
_ID_SLOT, _SUBJECT_SLOT, _CORRELATION_SLOT = '"@@id@@"', '"@@subject@@"', '"@@correlationid@@"'


class _Template:
    """One event type's envelope JSON for one batch (its ``time``), cut around the values that
    differ between events: ``parts[0] + id + parts[1] + subject + parts[2] + correlation id +
    parts[3] + payload + "}"``, each value as JSON. The very bytes ``Envelope.model_dump_json`` makes."""

    __slots__ = ("event_type", "parts", "subject", "type_name")

    def __init__(self, service: str, event_type: EventType[Any], time: dt.datetime) -> None:
        if event_type.service != service:
            raise ValueError(f"{service} may not publish {event_type.type}")
        head = Envelope.model_construct(
            specversion="1.0", id=_ID_SLOT[1:-1], source=f"/ktt/{event_type.service}", type=event_type.type,
            subject=_SUBJECT_SLOT[1:-1], time=time, datacontenttype="application/json",
            correlationid=_CORRELATION_SLOT[1:-1], dataschema=event_type.dataschema, data={},
        ).model_dump_json()
        first, rest = head.split(_ID_SLOT)
        second, rest = rest.split(_SUBJECT_SLOT)
        third, rest = rest.split(_CORRELATION_SLOT)
        if not rest.endswith(_EMPTY_DATA_TAIL):
            raise AssertionError(f"the envelope no longer ends with its data: {head}")
        self.parts = (first, second, third, rest[:-len(_EMPTY_DATA_TAIL)] + '"data":')
        self.event_type = event_type
        # One object for every row of the type: a column holding one value is sent once (ktt_common.bulk).
        self.subject = event_type.subject
        self.type_name = event_type.type


def _batch_rows(service: str, events: list[tuple[EventType[Any], BaseModel | dict[str, Any], str | None]],
                correlation_ids: list[str | None], time: dt.datetime) -> list[dict[str, Any]]:
    """The outbox rows of :func:`_outbox_row` for a batch of events (the same envelope JSON, byte
    for byte; fresh ids), with the per-event work cut to what differs between events: each payload
    is validated by its contract and serialised to JSON once; the envelope around it is one
    template per event type; the DATA-4 scan runs once over the whole batch's JSON."""
    if not events:
        return []
    templates: dict[EventType[Any], _Template] = {}
    as_json: dict[str | None, str] = {}  # subjects and correlation ids, most of them repeated
    raw_ids = os.urandom(16 * len(events))  # one read of the random source, as uuid.uuid4() reads it
    created_at = dt.datetime.now(dt.UTC)
    rows: list[dict[str, Any]] = []
    for i, ((event_type, payload, subject), correlation) in enumerate(zip(events, correlation_ids)):
        template = templates.get(event_type)
        if template is None:
            template = templates[event_type] = _Template(service, event_type, time)
        model = payload if isinstance(payload, event_type.payload) else event_type.payload.model_validate(payload)
        event_id = uuid.UUID(bytes=raw_ids[16 * i:16 * i + 16], version=4)
        subject_json = as_json.get(subject) or as_json.setdefault(subject, to_json(subject).decode())
        correlation_json = as_json.get(correlation) or as_json.setdefault(correlation, to_json(correlation).decode())
        first, second, third, fourth = template.parts
        raw = f'{first}"{event_id}"{second}{subject_json}{third}{correlation_json}{fourth}{model.model_dump_json()}}}'
        rows.append({"event_id": event_id, "subject": template.subject, "event_type": template.type_name,
                     "envelope": raw, "created_at": created_at, "attempts": 0})
    _refuse_hetu(rows)
    return rows


def _refuse_hetu(rows: list[dict[str, Any]]) -> None:
    """DATA-4: events carry the pseudonymous client id, never a personal identity code. One scan
    of the batch's envelopes joined: each is a JSON object (``{`` ... ``}``) and a match neither
    spans nor looks past a brace, so the joined text holds one exactly when one of them does;
    only then is each envelope scanned, to name the event."""
    if not contains_hetu("".join(row["envelope"] for row in rows)):
        return
    for row in rows:
        if contains_hetu(row["envelope"]):
            raise ValueError(f"DATA-4: refusing to publish {row['event_type']}: it contains a personal identity code")
    # Not reached (see above); were it, the batch is refused all the same.
    raise ValueError("DATA-4: refusing to publish the batch: it contains a personal identity code")
