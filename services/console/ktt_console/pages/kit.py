"""What every page of the console shares: who may open it, reading one service into one section (a service
that is down or refuses becomes a message in that section, never a 500), posting one action to a service
(CSRF checked, the service's refusal shown with its own explanation), and the cells and charts.

A page is a list of sections; a section is a heading, a table (headers, rows of cells) and an optional
chart or form. A cell is text, a link ``{"text", "href"}``, a badge ``{"badge", "tone"}`` or a form that
posts (with the CSRF token) ``{"post", "label", "aria"}``, optionally with a text ``"input"`` ``{"name",
"aria"}`` and, instead of the one button, ``"choices"`` ``[{"value", "label", "aria"}]`` sent as ``"choice_name"``.

Most pages are a few tables, each read from one list of one service: they are declared as :class:`Table`
specs and served by :func:`table_page`; the others build their sections with :func:`guarded`."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from ktt_console import session
from ktt_console.app import Viewer, console_of, fmt_date, fmt_money, render, short, viewer_of
from ktt_console.i18n import translator
from ktt_console.upstream import Refused, Unavailable, Upstream

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
Audience = Literal["any", "official", "provider"]


@dataclass(frozen=True)
class Ctx:
    """One request's view: the viewer, their language's translator, the services, the request."""

    viewer: Viewer
    t: Callable[..., str]
    up: Upstream
    request: Request

    @property
    def lang(self) -> str:
        return self.viewer.lang


def section(heading: str, headers: list[str] | None = None, rows: list[list[Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"heading": heading, "headers": headers or [], "rows": rows or [], **extra}


async def guarded(t: Callable[..., str], heading: str, build: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Run one section's reads; a service that is down (or refuses) becomes a message in the section."""
    try:
        return await build()
    except Unavailable as exc:
        return section(heading, error=t("service_down", service=t(f"service.{exc.service}")))
    except Refused as exc:
        return section(heading, error=t("refused", status=exc.status))


# --- who may open a page -----------------------------------------------------------------------

def require_viewer(request: Request, audience: Audience = "any") -> Viewer | Response:
    """The signed-in viewer, or the answer instead of the page: log in, or 403 for the wrong audience."""
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    if audience == "official" and not viewer.is_official or audience == "provider" and not viewer.is_provider:
        return render(request, "error.html", viewer, status=403, message_key="page_not_for_role")
    return viewer


def context(request: Request, audience: Audience = "any") -> Ctx | Response:
    viewer = require_viewer(request, audience)
    if not isinstance(viewer, Viewer):
        return viewer
    return Ctx(viewer, translator(viewer.lang), console_of(request).upstream, request)


def flash_of(request: Request) -> str | None:
    return request.query_params.get("done")


# --- pages of tables ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Table:
    """One section read from one list of one service: ``heading`` and ``columns`` are message keys,
    ``params`` the query (or a function of the request's :class:`Ctx`), ``row`` one item's cells."""

    heading: str
    service: str
    path: str
    columns: Sequence[str]
    row: Callable[[Ctx, dict[str, Any]], list[Any]]
    empty: str
    params: dict[str, Any] | Callable[[Ctx], dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)  # more section fields: their message keys

    async def section(self, c: Ctx) -> dict[str, Any]:
        heading = c.t(self.heading)

        async def build() -> dict[str, Any]:
            params = self.params(c) if callable(self.params) else self.params
            items = await c.up.items(self.service, self.path, c.viewer.token, **params)
            return section(heading, [c.t(k) for k in self.columns], [self.row(c, item) for item in items],
                           empty=c.t(self.empty), **{k: c.t(v) for k, v in self.extra.items()})

        return await guarded(c.t, heading, build)


def table_page(app: FastAPI, route: str, *, audience: Audience, title: str, tables: Sequence[Table],
               filters: Callable[[Ctx], dict[str, Any]] | None = None,
               before: Callable[[Ctx], list[dict[str, Any]]] | None = None) -> None:
    """Serve GET ``route``: the tables' sections in order (``before``'s first), each guarded on its own."""

    async def page(request: Request) -> Response:
        c = context(request, audience)
        if not isinstance(c, Ctx):
            return c
        sections = (before(c) if before else []) + [await table.section(c) for table in tables]
        extra: dict[str, Any] = {"filters": filters(c)} if filters else {}
        return render(request, "page.html", c.viewer, title=c.t(title), sections=sections, done=flash_of(request), **extra)

    page.__name__ = "page_" + re.sub(r"\W+", "_", route).strip("_")
    app.add_api_route(route, page, methods=["GET"], include_in_schema=False)


# --- actions -----------------------------------------------------------------------------------

def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def posted(request: Request, viewer: Viewer) -> dict[str, Any] | None:
    """The form of a post, or None when its CSRF token or origin is wrong."""
    form = await request.form()
    if not session.same_origin(request) or not session.csrf_ok(console_of(request).key, viewer.token, _text(form.get("csrf"))):
        return None
    return dict(form)


async def post_action(request: Request, audience: Audience, service: str | None, path: str, back: str, done: str,
                      body: Callable[[dict[str, Any]], Any] | None = None) -> Response:
    """A button's post: the viewer, the CSRF token, then the service's action (``service`` None: not found)."""
    viewer = require_viewer(request, audience)
    if not isinstance(viewer, Viewer):
        return viewer
    form = await posted(request, viewer)
    if form is None:
        return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
    if service is None:
        return render(request, "error.html", viewer, status=404, message_key="not_found")
    return await act(request, viewer, service, path, body(form) if body else None, back, done)


async def act(request: Request, viewer: Viewer, service: str, path: str, body: Any, back: str, done: str) -> Response:
    """Post an action to a service; a refusal is shown with the service's own explanation."""
    try:
        r = await console_of(request).upstream.call(service, "POST", path, viewer.token, json=body,
                                                    accept_statuses=(409, 422))
    except Unavailable as exc:
        return unavailable_page(request, viewer, exc)
    except Refused as exc:
        return refused_page(request, viewer, exc)
    if r.ok:
        return RedirectResponse(f"{back}?done={done}", status_code=303)
    problem = r.body if isinstance(r.body, dict) else {}
    return render(request, "error.html", viewer, status=r.status, message_key="action_refused",
                  detail=problem.get("detail"), rule=problem.get("rule"), back=back)


def unavailable_page(request: Request, viewer: Viewer, exc: Unavailable) -> Response:
    t = translator(viewer.lang)
    return render(request, "error.html", viewer, status=503, message_key="service_down_page",
                  detail=t("service_down", service=t(f"service.{exc.service}")))


def refused_page(request: Request, viewer: Viewer, exc: Refused) -> Response:
    if exc.status in (403, 404):  # nothing of what was asked for is shown (DATA-3)
        return render(request, "error.html", viewer, status=404, message_key="not_found")
    if exc.status == 401:
        return RedirectResponse("/login", status_code=303)
    return render(request, "error.html", viewer, status=exc.status if 400 <= exc.status < 500 else 400,
                  message_key="action_refused", detail=exc.problem.get("detail"), rule=exc.problem.get("rule"))


async def whole_page(request: Request, viewer: Viewer, read: Callable[[], Awaitable[Any]]) -> Any:
    """A page that is one service's answer (not a section of a page): down or refused is the whole page's answer."""
    try:
        return await read()
    except Unavailable as exc:
        return unavailable_page(request, viewer, exc)
    except Refused as exc:
        return refused_page(request, viewer, exc)


# --- cells and charts --------------------------------------------------------------------------

def client_link(client_id: Any) -> dict[str, str]:
    return {"text": short(client_id), "href": f"/clients/{client_id}"}


def overdue_badge(t: Callable[..., str], due: Any, overdue: bool, lang: str) -> dict[str, str]:
    return {"badge": fmt_date(due, lang) + (f" — {t('overdue')}" if overdue else ""), "tone": "warn" if overdue else "ok"}


def bar_chart(items: list[tuple[str, int]], lang: str, title: str) -> dict[str, Any]:
    """Geometry of a small inline SVG bar chart (values in cents), drawn by the template."""
    width, bar_h, gap, label_w = 560, 22, 8, 150
    top = max([v for _, v in items] + [1])
    bars = []
    for i, (label, value) in enumerate(items):
        w = round((width - label_w - 110) * max(value, 0) / top)
        bars.append({"label": label, "y": i * (bar_h + gap), "x": label_w, "w": max(w, 1), "h": bar_h,
                     "text": fmt_money(value, lang), "tx": label_w + max(w, 1) + 6, "ty": i * (bar_h + gap) + 16})
    return {"title": title, "width": width, "height": max(len(items), 1) * (bar_h + gap), "bars": bars, "label_w": label_w}
