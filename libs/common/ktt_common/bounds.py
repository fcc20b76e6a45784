"""Bounded and strict input types shared by every request schema.

Nothing a client sends may reach arithmetic that can overflow (a period in year 9998 counted 24
months on, a version past a 64-bit column) or be read loosely (``"version": true`` or ``"1"``,
``"interpreter_needed": "yes"``). Request schemas use these types instead of bare ``dt.date``,
``int`` and ``bool``; ``tests/test_input_bounds.py`` walks every service's OpenAPI document and
fails on a date, integer or number without a range, and on an integer or boolean read loosely.

Dates: 1900-01-01 to 2199-12-31 (the bounds also appear in the OpenAPI document as
``formatMinimum`` / ``formatMaximum``). Integers: at most 2^31-1 (``Field(strict=True, ge=..,
le=..)``, or :data:`Version`), so they fit a PostgreSQL ``integer`` column and stay far from
anything that overflows.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import ConfigDict, EmailStr, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import PydanticCustomError, core_schema

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2199, 12, 31)
INT32_MAX = 2**31 - 1

# The model configuration of every request body: unknown fields are refused, text is trimmed.
Strict = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DateRange:
    """Pydantic marker: the date (or the datetime's date) lies within MIN_DATE..MAX_DATE. With a
    ``rule``, the refusal cites it (the problem's ``rule`` and the field error's)."""

    def __init__(self, rule: str | None = None) -> None:
        self.rule = rule

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        rule = self.rule

        def check(value: dt.date) -> dt.date:
            day = value.date() if isinstance(value, dt.datetime) else value
            if not MIN_DATE <= day <= MAX_DATE:
                context = {"min": MIN_DATE.isoformat(), "max": MAX_DATE.isoformat()}
                if rule:
                    raise PydanticCustomError("date_out_of_range", "give a date between {min} and {max} ({rule})",
                                              {**context, "rule": rule})
                raise PydanticCustomError("date_out_of_range", "give a date between {min} and {max}", context)
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        out = handler.resolve_ref_schema(handler(schema))
        out["formatMinimum"] = MIN_DATE.isoformat()
        out["formatMaximum"] = MAX_DATE.isoformat()
        return out


BoundedDate = Annotated[dt.date, DateRange()]
"""A calendar date between 1900-01-01 and 2199-12-31. Where a domain rule governs the field, its
refusal cites it: ``Annotated[dt.date, DateRange("DEC-7")]``."""

BoundedDateTime = Annotated[dt.datetime, DateRange()]
"""A moment whose date lies between 1900-01-01 and 2199-12-31."""

MONTH_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-(0[1-9]|1[0-2])$"
"""A month YYYY-MM within the date bounds (1900-01..2199-12): ``0000-01`` or ``9999-12`` never
reaches date arithmetic (found by the fuzzing sweep, tests/test_fuzz.py)."""

StrictBool = Annotated[bool, Field(strict=True)]
"""Only JSON ``true`` / ``false``: no ``"yes"``, ``1`` or ``"true"``."""

Version = Annotated[int, Field(strict=True, ge=1, le=INT32_MAX)]
"""A version number: a JSON integer 1..2^31-1 (no ``true``, no ``"1"``)."""


Email = EmailStr
"""An e-mail address checked by email-validator (syntax only, no DNS): ``"yes"`` or ``"a@b"`` is refused."""
