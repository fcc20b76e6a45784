"""Reading a posted batch: JSON ``{"entries": [...]}`` or ``text/csv`` with the same columns and
a header row. A malformed batch (not JSON/CSV, too many entries, wrong types, fields of another
kind, two entries for one client-day) is refused whole, with every bad row named."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ktt_common.errors import DomainError, FieldError, InvalidInput

from ktt_attendance.log.schemas import COLUMNS, BatchIn, EntryIn

MAX_LISTED_ERRORS = 1000
_ENTRIES = TypeAdapter(list[EntryIn])



class BatchTooLarge(DomainError):
    status = 413
    slug = "batch-too-large"
    title = "Batch too large"


class UnsupportedMediaType(DomainError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


def _malformed(errors: list[FieldError], what: str) -> InvalidInput:
    rows = sorted({e.field.split(".")[1] for e in errors if e.field.startswith("entries.") and e.field.count(".") >= 1})
    listed = errors[:MAX_LISTED_ERRORS]
    detail = f"the batch is malformed ({what}); nothing was written"
    if rows:
        detail += f": fix entries {', '.join(rows[:50])}{' ...' if len(rows) > 50 else ''} and post the whole batch again"
    return InvalidInput(detail, errors=listed, bad_rows=[int(r) for r in rows if r.isdigit()])


def _field_errors(exc: ValidationError, describe: Callable[[int], str] | None = None) -> list[FieldError]:
    out = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        if loc and isinstance(loc[0], int):
            index = loc[0]
            name = ".".join(str(p) for p in loc[1:])
            field = f"entries.{index}" + (f".{name}" if name else "")
            if describe:
                msg = f"{describe(index)}: {msg}"
        else:
            field = ".".join(str(p) for p in loc) or "body"
        out.append(FieldError(field=field, message=msg, type=err.get("type")))
    return out


def _check_count(n: int, limit: int) -> None:
    if n > limit:
        raise BatchTooLarge(f"a batch holds at most {limit} entries; this one has {n}: split it", max_entries=limit)


def _validate(items: list[Any], limit: int, describe: Callable[[int], str] | None = None) -> list[EntryIn]:
    _check_count(len(items), limit)
    duplicates = _duplicate_days(items, describe)
    try:
        entries = _ENTRIES.validate_python(items)
    except ValidationError as exc:
        errors = _field_errors(exc, describe) + duplicates
        raise _malformed(sorted(errors, key=_row_order), "wrong or missing fields") from None
    if duplicates:
        raise _malformed(duplicates, "one client-day twice")
    return entries


def _row_order(error: FieldError) -> tuple[int, str]:
    parts = error.field.split(".")
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1, error.field)


def _duplicate_days(items: list[Any], describe: Callable[[int], str] | None) -> list[FieldError]:
    """Two entries for one (agreement, date) say two things about one day: which one is meant?"""
    first: dict[tuple[str, str], int] = {}
    errors = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        key = (str(item.get("agreement_id", "")).strip().lower(), str(item.get("date", "")).strip())
        if key in first:
            where = f"{describe(i)}: " if describe else ""
            errors.append(FieldError(field=f"entries.{i}.date", message=f"{where}entry {first[key]} is for the same agreement "
                                                                       f"and day ({key[1]}); send one entry per day"))
        else:
            first[key] = i
    return errors


def _fast_json(body: bytes, limit: int) -> list[EntryIn] | None:
    """A well-formed batch read in one pass (the JSON parsed and validated together, no Python
    dicts in between), or None: then :func:`parse_json` reads it again the careful way, which
    names every problem. A batch passes here only if the careful way would pass it too: the
    same model validates it, and no two entries are for one (agreement, day)."""
    try:
        entries = BatchIn.model_validate_json(body).entries
    except ValidationError:
        return None
    if len(entries) > limit or len({(e.agreement_id, e.date) for e in entries}) != len(entries):
        return None
    return entries


def parse_json(body: bytes, limit: int) -> list[EntryIn]:
    fast = _fast_json(body, limit)
    if fast is not None:
        return fast
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the body is not valid JSON ({exc}); nothing was written",
                           errors=[FieldError(field="body", message="not valid JSON")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise InvalidInput('send {"entries": [...]}; nothing was written',
                           errors=[FieldError(field="body.entries", message="a list of entries is required")])
    extra = sorted(set(data) - {"entries"})
    if extra:
        raise InvalidInput(f"unknown top-level fields: {', '.join(extra)}; nothing was written",
                           errors=[FieldError(field=f"body.{k}", message="unknown field") for k in extra])
    return _validate(data["entries"], limit)


DECIMAL_COMMA_COLUMNS = ("hours", "coaching_hours")


def parse_csv(body: bytes, limit: int) -> list[EntryIn]:
    """CSV with a header row naming the columns of a JSON entry. UTF-8 (a byte-order mark is
    allowed); comma or semicolon separated (a spreadsheet in Finnish locale writes semicolons and
    decimal commas, which are read as points in the hour columns). Empty cells are absent fields."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8; nothing was written",
                           errors=[FieldError(field="body", message="save the file as UTF-8")]) from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        rows = list(reader)
    except csv.Error as exc:
        raise InvalidInput(f"the CSV cannot be read ({exc}); nothing was written",
                           errors=[FieldError(field="body", message=str(exc))]) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InvalidInput("the CSV needs a header row naming its columns; nothing was written",
                           errors=[FieldError(field="body", message=f"header row with columns from: {', '.join(COLUMNS)}")])
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h not in COLUMNS]
    doubled = sorted({h for h in header if header.count(h) > 1})
    if unknown or doubled:
        errors = [FieldError(field=f"header.{h}", message=f"unknown column; columns are: {', '.join(COLUMNS)}") for h in unknown]
        errors += [FieldError(field=f"header.{h}", message="column given twice") for h in doubled]
        raise InvalidInput("the CSV header names columns the log does not have; nothing was written", errors=errors)
    lines: list[int] = []
    items: list[dict[str, Any]] = []
    width_errors: list[FieldError] = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines (a spreadsheet's trailing ones)
        index = len(items)
        lines.append(line_no)
        if len(row) != len(header):
            width_errors.append(FieldError(field=f"entries.{index}",
                                           message=f"line {line_no}: {len(row)} cells, the header has {len(header)}"))
        item = {}
        for name, cell in zip(header, row):
            cell = cell.strip()
            if cell == "":
                continue
            if delimiter == ";" and name in DECIMAL_COMMA_COLUMNS:
                cell = cell.replace(",", ".")
            item[name] = cell
        items.append(item)
    _check_count(len(items), limit)
    if width_errors:
        raise _malformed(width_errors, "rows of the wrong width")
    return _validate(items, limit, describe=lambda i: f"line {lines[i]}")


def parse_batch(content_type: str, body: bytes, limit: int) -> tuple[str, list[EntryIn]]:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("application/json", ""):
        return "json", parse_json(body, limit)
    if media in ("text/csv", "application/csv"):
        return "csv", parse_csv(body, limit)
    raise UnsupportedMediaType(f"send the batch as application/json or text/csv, not {media[:100]}")
