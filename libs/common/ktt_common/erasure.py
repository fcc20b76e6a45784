"""Erasing a client's copies when the decision service erased the client (ClientErased, DATA-2).

The decision service destroys the client's data key after the retention period and publishes
``ktt.decision.ClientErased.v1`` (the pseudonymous id only). Each consuming service then neutralises
the personal data it keeps on that client: names, contact data and free-text notes are replaced by
the marker ``erased`` (a text that was never given stays NULL, so "none" and "erased" differ), while
ids, dates, states and money figures stay for the accounts.

The helpers are idempotent: running one twice (a redelivery the inbox did not catch, an event
published twice) writes the same values again. Each service keeps its own handler
(``<service>/.../erasure.py``), because only it knows where its copies live.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.ext.asyncio import AsyncSession

from ktt_common.audit import audit
from ktt_common.db import affected
from ktt_common.events import Envelope
from ktt_common.pii import ERASED

RULE = "DATA-2"


def erased_text(value: str | None) -> str | None:
    """A personal free text replaced by the marker; a text never given stays None."""
    return None if value is None else ERASED


def scrub(data: Any, keys: Iterable[str] | None = None) -> Any:
    """``data`` (a JSON value) with personal values neutralised: under ``keys`` of a mapping (every
    key when None), a string becomes the marker, a list becomes empty and a mapping None; numbers,
    booleans and the other keys stay. Lists of mappings are scrubbed element by element."""
    if isinstance(data, list):
        return [scrub(item, keys) for item in data]
    if not isinstance(data, Mapping):
        return data
    wanted = None if keys is None else set(keys)
    out: dict[str, Any] = {}
    for key, value in data.items():
        if wanted is not None and key not in wanted:
            out[key] = scrub(value, keys) if isinstance(value, list) and value and isinstance(value[0], Mapping) else value
        elif isinstance(value, str):
            out[key] = ERASED
        elif isinstance(value, list):
            out[key] = [] if not value or not isinstance(value[0], Mapping) else scrub(value, None)
        elif isinstance(value, Mapping):
            out[key] = None
        else:
            out[key] = value
    return out


async def erase_columns(session: AsyncSession, model: Any, where: ColumnElement[bool], *columns: str) -> int:
    """Replace each of ``columns`` (text) by the marker in the rows matching ``where``, where it was
    given; returns how many values were erased (values already erased count again: idempotent)."""
    touched = 0
    for name in columns:
        column = getattr(model, name)
        result = await session.execute(
            update(model).where(where, column.is_not(None)).values({name: ERASED}).execution_options(synchronize_session=False))
        touched += affected(result)
    return touched


async def record_erasure(session: AsyncSession, service: str, envelope: Envelope, client_id: uuid.UUID,
                         counts: Mapping[str, int]) -> None:
    """Audit the erasure of the copies (who: the event; which client; how much per table)."""
    await audit(session, f"event:{envelope.type}", "client.erase_copies", "client", client_id, client_ids=[client_id],
                details={"rule": RULE, "service": service, "event_id": envelope.id, "erased": dict(counts)})


__all__ = ["ERASED", "RULE", "erase_columns", "erased_text", "record_erasure", "scrub"]
