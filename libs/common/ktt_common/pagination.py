"""Cursor pagination for list endpoints (issue 12 item 9).

A list endpoint takes ``limit`` (at most :data:`MAX_LIMIT`) and ``cursor`` (opaque: base64url of
the last row's sort key) and orders by a unique key. The response body keeps its documented shape
(a JSON array stays an array, so existing callers are unaffected); the next page is announced in
the headers ``Link: <…?cursor=…>; rel="next"`` (RFC 8288) and ``X-Next-Cursor``. No header: the
last page.

    rows, cursor = await paginate(session, query, (Model.started_on, Model.id), page)   # the service
    announce_next(request, response, cursor)                                            # the router
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from sqlalchemy import TypeDecorator, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from ktt_common.errors import FieldError, InvalidInput

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000  # the attendance lists' and /v1/vouchers' existing maximum
MAX_CURSOR_LENGTH = 1000


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: list[Any] | None


def _bad_cursor() -> InvalidInput:
    return InvalidInput("the cursor is not one this service handed out; start again without it",
                        errors=[FieldError(field="query.cursor", message="not a cursor of this list")])


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, dt.date | dt.datetime) else str(v) if isinstance(v, uuid.UUID)
                      else v for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _bad_cursor() from None
    if not isinstance(values, list) or not values:
        raise _bad_cursor()
    return values


def page_request(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Rows per page (at most {MAX_LIMIT})"),
    cursor: str | None = Query(None, min_length=1, max_length=MAX_CURSOR_LENGTH, pattern=r"^[A-Za-z0-9_-]+$",
                               description="The next page: the `X-Next-Cursor` (or `Link` rel=next) of the last answer"),
) -> PageRequest:
    return PageRequest(limit=limit, after=decode_cursor(cursor) if cursor else None)


PageDep = Annotated[PageRequest, Depends(page_request)]


def _typed(column: Any, value: Any) -> Any:
    sql_type: TypeEngine[Any] = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    kind: type[Any]
    try:
        kind = sql_type.python_type
    except NotImplementedError:
        kind = str
    try:
        if value is None:
            return None
        if kind is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if kind is dt.date:
            return dt.date.fromisoformat(value)
        if kind is uuid.UUID:
            return uuid.UUID(value)
        if kind is int and not isinstance(value, bool):
            return int(value)
        return kind(value) if isinstance(value, str) else value
    except (TypeError, ValueError):
        raise _bad_cursor() from None


def after_key(columns: tuple[Any, ...], values: list[Any], descending: bool = False) -> Any:
    """``(c1, c2, …) > (v1, v2, …)`` spelled out (``<`` when descending; no column NULL)."""
    clauses = []
    for i, column in enumerate(columns):
        beyond = column < values[i] if descending else column > values[i]
        clauses.append(and_(*[columns[j] == values[j] for j in range(i)], beyond))
    return or_(*clauses)


async def paginate(session: AsyncSession, query: Any, columns: tuple[Any, ...], page: PageRequest, *,
                   descending: bool = False) -> tuple[list[Any], str | None]:
    """Run ``query`` ordered by ``columns`` (a unique key; ascending, or newest first with
    ``descending``) one page at a time; returns the page's ORM objects and the cursor of the next
    page (``None`` on the last)."""
    if page.after is not None:
        if len(page.after) != len(columns):
            raise _bad_cursor()
        typed = [_typed(c, v) for c, v in zip(columns, page.after, strict=True)]
        query = query.where(after_key(columns, typed, descending))
    order = [c.desc() for c in columns] if descending else list(columns)
    rows = list((await session.execute(query.order_by(*order).limit(page.limit + 1))).scalars().all())
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[:page.limit]
    return rows, encode_cursor([getattr(rows[-1], c.key) for c in columns])


def announce_next(request: Request, response: Response, cursor: str | None) -> None:
    """The next page in the headers (``Link`` rel=next and ``X-Next-Cursor``); none on the last."""
    if cursor is None:
        return
    url = request.url.include_query_params(cursor=cursor)
    response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
    response.headers["X-Next-Cursor"] = cursor
