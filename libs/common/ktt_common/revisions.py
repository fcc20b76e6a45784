"""Per-entity revisions carried in event payloads, so that consumers apply copies in order.

The producer numbers the events about one entity 1, 2, 3... in the transaction that emits them
(:func:`next_revision`, an upsert-increment on ``entity_revision``: concurrent writers of one
entity queue on its row, so the later commit carries the higher number). A consumer keeps the
revision it applied and applies an event only when it is newer (:func:`supersedes`); a late or
redelivered older event changes nothing. Events from before revisions existed carry none: then,
and only then, the producer's time decides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.db import dialect_name


async def next_revision(session: AsyncSession, entity: str) -> int:
    """The next revision of ``entity`` (e.g. ``"unit:<id>"``), in the caller's transaction."""
    from ktt_common.outbox import runtime_of

    table = runtime_of(session).infra.entity_revision
    ins = postgresql.insert(table) if dialect_name(session) == "postgresql" else sqlite.insert(table)
    stmt = ins.values(entity=entity, revision=1).on_conflict_do_update(
        index_elements=["entity"], set_={"revision": table.c.revision + 1}
    ).returning(table.c.revision)
    return int((await session.execute(stmt)).scalar_one())


def supersedes(revision: int | None, event_time: dt.datetime, applied_revision: int | None,
               applied_time: dt.datetime | None) -> bool:
    """Does an event (revision, time) replace a copy last set by (applied_revision, applied_time)?

    Both numbered: the higher revision wins (an equal one is a re-publication: applied again,
    harmlessly). Otherwise (events from before revisions) the later or equal producer time wins.
    """
    if applied_time is None and applied_revision is None:
        return True
    if revision is not None and applied_revision is not None:
        return revision >= applied_revision
    if revision is not None and applied_revision is None:
        return True  # numbered events are newer than every unnumbered one
    if revision is None and applied_revision is not None:
        return False
    assert applied_time is not None
    return event_time >= applied_time


def supersedes_sql(revision: Any, time: Any, applied_revision: Any, applied_time: Any) -> ColumnElement[bool]:
    """:func:`supersedes` as SQL, for the WHERE of an upsert's ``DO UPDATE`` (``revision``/``time``: the
    incoming row's columns, e.g. ``insert.excluded.revision``; ``applied_*``: the stored row's)."""
    return or_(
        and_(revision.is_not(None), applied_revision.is_not(None), revision >= applied_revision),
        and_(revision.is_not(None), applied_revision.is_(None)),
        and_(revision.is_(None), applied_revision.is_(None), time >= applied_time),
    )


def revision_field(entity: str) -> Any:
    """The optional ``revision`` field of a payload (optional: events from before it stay valid)."""
    return Field(None, ge=1, le=2**62, description=(
        f"Revision of the {entity}: 1, 2, 3... per {entity} in the producer; a consumer applies a copy only "
        "when its revision is not older than the one it holds (issue 12)"))
