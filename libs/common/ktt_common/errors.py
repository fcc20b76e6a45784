"""One domain error hierarchy and one set of handlers turning errors into RFC 9457 problem details.

A problem carries ``type``, ``title``, ``status``, ``detail``, ``instance``, plus ``rule`` when a
domain rule refused (e.g. ``"AGR-6"``) and ``errors`` listing each bad field. Nothing a client
sends can produce a 500: validation, JSON and domain errors all become 4xx here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ktt_common.logging import get_logger

PROBLEM_BASE = "https://ktt.turku.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = get_logger(__name__)


class FieldError(BaseModel):
    field: str = Field(description="Where the bad value is, e.g. 'body.client.hetu'")
    message: str
    rule: str | None = None
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    rule: str | None = Field(None, description="ID of the domain rule that refused, e.g. DEC-4")
    errors: list[FieldError] = Field(default_factory=list)


class DomainError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        rule: str | None = None,
        errors: list[FieldError] | None = None,
        title: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.errors = errors or []
        if title:
            self.title = title
        self.extra = extra

    def problem(self, instance: str | None = None, base: str = PROBLEM_BASE) -> dict[str, Any]:
        body = Problem(
            type=base + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            rule=self.rule,
            errors=self.errors,
        ).model_dump(exclude_none=True)
        body.update(self.extra)
        return body


class RuleViolation(DomainError):
    """A domain rule refused the request: 422 with the rule ID and what to change."""

    status = 422
    slug = "rule-violation"
    title = "A rule of the guideline refuses this"


def common_rule(errors: list[FieldError]) -> str | None:
    """The rule every cited error shares, or None when they cite several (or none)."""
    rules = {e.rule for e in errors if e.rule}
    return next(iter(rules)) if len(rules) == 1 else None


def describe_errors(errors: list[FieldError]) -> str:
    """``field: message (RULE)`` for each error, one sentence."""
    return "; ".join(
        f"{e.field}: {e.message}" + (f" ({e.rule})" if e.rule and f"({e.rule})" not in e.message else "") for e in errors
    )


def refuse(errors: list[FieldError], summary: str | None = None, **extra: Any) -> None:
    """Raise one :class:`RuleViolation` listing every problem (nothing when there is none): the
    caller collects all of a request's broken rules first, so the user fixes them in one go."""
    if errors:
        detail = describe_errors(errors)
        raise RuleViolation(f"{summary}: {detail}" if summary else detail, rule=common_rule(errors), errors=errors, **extra)


class InvalidInput(DomainError):
    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class NotFound(DomainError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class ServiceUnavailable(DomainError):
    status = 503
    slug = "unavailable"
    title = "Service unavailable"


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def status_phrase(status: int) -> str:
    """The HTTP status phrase (RFC 9110), the title RFC 9457 asks for when `type` is about:blank."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def json_position(doc: str | bytes, pos: int) -> tuple[int, int]:
    """(line, column), both from 1, of character offset ``pos`` in ``doc`` (issue 17 item 5)."""
    text = doc.decode("utf-8", "replace") if isinstance(doc, bytes) else str(doc)
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


def _json_error(err: dict[str, Any], body: Any) -> FieldError:
    """A malformed JSON body: name the line and column and the parser's reason, not ``body.18``."""
    loc = err.get("loc") or ()
    pos = loc[-1] if loc and isinstance(loc[-1], int) else 0
    reason = str((err.get("ctx") or {}).get("error") or "not valid JSON")
    if isinstance(body, (str, bytes)):
        line, column = json_position(body, pos)
        where = f"line {line}, column {column}"
    else:
        where = f"character {pos + 1}"
    return FieldError(field="body", message=f"malformed JSON at {where}: {reason}", type="json_invalid")


def problem_base(request: Request) -> str:
    """The configured base of problem `type` URIs (KTT_PROBLEM_BASE_URI), set by create_service_app."""
    return getattr(request.app.state, "problem_base", PROBLEM_BASE)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return problem_response(exc.problem(str(request.url.path), problem_base(request)), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                errors.append(_json_error(err, getattr(exc, "body", None)))
                continue
            ctx_rule = (err.get("ctx") or {}).get("rule") if isinstance(err.get("ctx"), dict) else None
            msg = str(err.get("msg", "invalid"))
            msg = msg.removeprefix("Value error, ")
            errors.append(FieldError(field=_loc_to_field(err.get("loc", ())), message=msg, type=err.get("type"), rule=ctx_rule))
        rules = sorted({e.rule for e in errors if e.rule})
        body = Problem(
            type=problem_base(request) + "invalid-input",
            title="Invalid input",
            status=422,
            detail="; ".join(f"{e.field}: {e.message}" for e in errors)[:2000] or "the request is not valid",
            instance=str(request.url.path),
            rule=rules[0] if len(rules) == 1 else None,
            errors=errors,
        ).model_dump(exclude_none=True)
        return problem_response(body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = Problem(
            type="about:blank",
            title=status_phrase(exc.status_code),
            status=exc.status_code,
            detail=str(exc.detail) if exc.detail else None,
            instance=str(request.url.path),
        ).model_dump(exclude_none=True)
        return problem_response(body, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        body = Problem(
            type=problem_base(request) + "internal",
            title="Internal error",
            status=500,
            detail="An unexpected error occurred; nothing was saved. The error has been logged.",
            instance=str(request.url.path),
        ).model_dump(exclude_none=True)
        return problem_response(body)


# For endpoint declarations: responses={**PROBLEM_RESPONSES}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "No token or an invalid token"},
    403: {"model": Problem, "description": "The caller's role may not do this"},
    422: {"model": Problem, "description": "Invalid input or a domain rule refused; `rule` names it"},
}
