"""The console's pages. Each reads the services' REST APIs with the viewer's own token, so what a page
shows is what the services let that person see (DATA-3); a service that is down becomes a readable
message in its section, never a 500.

A page is a list of sections; a section is a heading, a table (headers, rows of cells) and an
optional chart or form. A cell is text, a link ``{"text", "href"}``, a badge ``{"badge", "tone"}``
or a button that posts ``{"post", "label", "fields"}`` (with the CSRF token)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from ktt_console import session
from ktt_console.app import Viewer, console_of, fmt_date, fmt_money, render, short, viewer_of
from ktt_console.i18n import translator
from ktt_console.upstream import Refused, Unavailable, Upstream

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # the attendance service's own limit (DAILY_LOG_MAX_BYTES)


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


def require_viewer(request: Request, *, official: bool = False, provider: bool = False) -> Viewer | Response:
    viewer = viewer_of(request)
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    if official and not viewer.is_official or provider and not viewer.is_provider:
        return render(request, "error.html", viewer, status=403, message_key="page_not_for_role")
    return viewer


async def posted(request: Request, viewer: Viewer) -> dict[str, Any] | None:
    """The form of a post, or None when its CSRF token or origin is wrong."""
    form = await request.form()
    csrf = form.get("csrf")
    if not session.same_origin(request) or not session.csrf_ok(console_of(request).key, viewer.token,
                                                                csrf if isinstance(csrf, str) else None):
        return None
    return dict(form)


def flash_of(request: Request) -> str | None:
    return request.query_params.get("done")


def install(app: FastAPI) -> None:
    # --- officials ----------------------------------------------------------------------------

    @app.get("/deadlines", include_in_schema=False)
    async def deadlines(request: Request, office: str = "typake") -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream
        office = office if office in ("typake", "social_work") else "typake"

        async def build() -> dict[str, Any]:
            rows = await up.items("voucher", "/v1/deadlines", viewer.token, office=office)
            return section(t("deadlines.heading"), [t("col.due"), t("col.what"), t("col.rule"), t("col.client"), t("col.detail")],
                           [[overdue_badge(t, d["due"], d["overdue"], viewer.lang), t(f"deadline.{d['kind']}"), d["rule"],
                             client_link(d["client_id"]), d["detail"]] for d in rows], empty=t("deadlines.none"))

        async def delayed() -> dict[str, Any]:
            rows = await up.items("voucher", "/v1/vouchers", viewer.token, state="delayed")
            return section(t("delayed.heading"), [t("col.voucher"), t("col.client"), t("col.valid_from"), t("col.state")],
                           [[v["number"], client_link(v["client_id"]), fmt_date(v.get("valid_from"), viewer.lang),
                             t(f"state.{v['state']}")] for v in rows], empty=t("delayed.none"))

        sections = [await guarded(t, t("deadlines.heading"), build), await guarded(t, t("delayed.heading"), delayed)]
        return render(request, "page.html", viewer, title=t("nav.deadlines"), sections=sections,
                      filters={"name": "office", "label": t("col.office"), "value": office,
                               "options": [("typake", t("office.typake")), ("social_work", t("office.social_work"))]})

    @app.get("/alerts", include_in_schema=False)
    async def alerts(request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream

        async def attendance() -> dict[str, Any]:
            rows = await up.items("attendance", "/v1/alerts", viewer.token, status="open", limit=200)
            return section(t("alerts.clients"), [t("col.what"), t("col.rule"), t("col.client"), t("col.provider"),
                                                 t("col.since"), t("col.action")],
                           [[t(f"alert.{a['kind']}"), a["rule"], client_link(a["client_id"]), a["provider_id"],
                             fmt_date(a["since"], viewer.lang),
                             {"post": f"/alerts/attendance/{a['id']}/acknowledge", "label": t("acknowledge"),
                              "aria": t("acknowledge_alert", what=t(f"alert.{a['kind']}"), client=short(a["client_id"]))}]
                            for a in rows], empty=t("alerts.none"))

        async def registry() -> dict[str, Any]:
            rows = await up.items("provider-registry", "/v1/alerts", viewer.token, open="true")
            return section(t("alerts.providers"), [t("col.what"), t("col.rule"), t("col.provider"), t("col.since"), t("col.action")],
                           [[a["message"], a["rule"], a["provider_name"], fmt_date(a["since"], viewer.lang),
                             t("acknowledged") if a["acknowledged"] else
                             {"post": f"/alerts/provider-registry/{a['id']}/acknowledge", "label": t("acknowledge"),
                              "aria": t("acknowledge_alert", what=a["rule"], client=a["provider_name"])}]
                            for a in rows], empty=t("alerts.none"))

        sections = [await guarded(t, t("alerts.clients"), attendance), await guarded(t, t("alerts.providers"), registry)]
        return render(request, "page.html", viewer, title=t("nav.alerts"), sections=sections, done=flash_of(request))

    @app.post("/alerts/{source}/{alert_id}/acknowledge", include_in_schema=False)
    async def acknowledge(source: str, alert_id: uuid.UUID, request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        if await posted(request, viewer) is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        if source not in ("attendance", "provider-registry"):
            return render(request, "error.html", viewer, status=404, message_key="not_found")
        return await act(request, viewer, source, f"/v1/alerts/{alert_id}/acknowledge", None, "/alerts", "acknowledged")

    @app.get("/notices", include_in_schema=False)
    async def notices(request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream

        async def start_notices() -> dict[str, Any]:
            rows = await up.items("decision", "/v1/start-notices", viewer.token, status="pending")
            return section(t("notices.te"), [t("col.client"), t("col.name"), t("col.start"), t("col.provider"), t("col.unit"),
                                             t("col.state")],
                           [[client_link(n["client_id"]), f"{n['first_name']} {n['last_name']}", fmt_date(n["started_on"], viewer.lang),
                             n.get("provider_name") or n.get("provider_id") or "", n.get("unit_name") or "",
                             t(f"state.{n['status']}")] for n in rows], empty=t("notices.none"))

        async def tt3() -> dict[str, Any]:
            rows = await up.items("attendance", "/v1/absence-notices", viewer.token, status="pending", limit=200)
            return section(t("notices.kela"), [t("col.client"), t("col.period"), t("col.recipient"), t("col.absences"),
                                               t("col.unauthorised"), t("col.employment_authority")],
                           [[client_link(n["client_id"]), f"{fmt_date(n['period_start'], viewer.lang)}–{fmt_date(n['period_end'], viewer.lang)}",
                             t(f"recipient.{n['recipient']}"), str(n["absence_days"]), str(n["unauthorised_days"]),
                             t("yes") if n["to_employment_authority"] else t("no")] for n in rows], empty=t("notices.none"))

        sections = [await guarded(t, t("notices.te"), start_notices), await guarded(t, t("notices.kela"), tt3)]
        return render(request, "page.html", viewer, title=t("nav.notices"), sections=sections)

    @app.get("/units", include_in_schema=False)
    async def units(request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream

        async def build() -> dict[str, Any]:
            rows = []
            for provider in await up.items("provider-registry", "/v1/providers", viewer.token, status="approved"):
                products = await up.items("provider-registry", f"/v1/providers/{provider['id']}/products", viewer.token)
                for unit in await up.items("provider-registry", f"/v1/providers/{provider['id']}/units", viewer.token):
                    queued = 0
                    for product in products:
                        queue = await up.call("provider-registry", "GET", f"/v1/units/{unit['id']}/queues/{product['id']}",
                                              viewer.token, accept_statuses=(404, 422))
                        if queue.ok:
                            entries = queue.body.get("entries", queue.body) if isinstance(queue.body, dict) else queue.body
                            queued += len(entries or [])
                    rows.append([provider["name"], unit["name"], unit.get("district") or "", str(unit.get("capacity", 0)),
                                 {"badge": str(unit.get("free_places", 0)), "tone": "ok" if unit.get("free_places") else "warn"},
                                 str(queued)])
            return section(t("units.heading"), [t("col.provider"), t("col.unit"), t("col.district"), t("col.capacity"),
                                                t("col.free"), t("col.queue")], rows, empty=t("units.none"))

        return render(request, "page.html", viewer, title=t("nav.units"), sections=[await guarded(t, t("units.heading"), build)])

    @app.get("/providers", include_in_schema=False)
    async def providers(request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream

        async def build() -> dict[str, Any]:
            rows = await up.items("provider-registry", "/v1/providers", viewer.token, status="applied")
            return section(t("providers.heading"), [t("col.provider"), t("col.business_id"), t("col.applied"), t("col.action")],
                           [[p["name"], p["business_id"], fmt_date(p["applied_on"], viewer.lang),
                             {"post": f"/providers/{p['id']}/approve", "label": t("approve"),
                              "aria": t("approve_provider", name=p["name"])} if viewer.role == "city_official" else ""]
                            for p in rows], empty=t("providers.none"), intro=t("providers.intro"))

        sections = [await guarded(t, t("providers.heading"), build)]
        missing = request.query_params.getlist("missing")
        if missing:
            sections.insert(0, section(t("providers.missing"), [t("col.field"), t("col.rule"), t("col.detail")],
                                       [m.split("|", 2) + [""] * (3 - len(m.split("|", 2))) for m in missing[:60]]))
        return render(request, "page.html", viewer, title=t("nav.providers"), sections=sections, done=flash_of(request))

    @app.post("/providers/{provider_id}/approve", include_in_schema=False)
    async def approve_provider(provider_id: str, request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        if await posted(request, viewer) is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        up = console_of(request).upstream
        try:
            r = await up.call("provider-registry", "POST", f"/v1/providers/{provider_id}/status", viewer.token,
                              json={"status": "approved", "reason": "approved in the console"}, accept_statuses=(409, 422))
        except Unavailable as exc:
            return unavailable_page(request, viewer, exc)
        except Refused as exc:
            return refused_page(request, viewer, exc)
        if r.ok:
            return RedirectResponse("/providers?done=approved", status_code=303)
        errors = (r.body or {}).get("errors") or [{"field": "", "rule": (r.body or {}).get("rule", ""),
                                                   "message": (r.body or {}).get("detail", "")}]
        from urllib.parse import urlencode

        query = urlencode([("missing", f"{e.get('field', '')}|{e.get('rule', '')}|{e.get('message', '')}") for e in errors])
        return RedirectResponse(f"/providers?{query}", status_code=303)

    @app.get("/settlements", include_in_schema=False)
    async def settlements(request: Request, month: str = "", state: str = "") -> Response:
        viewer = require_viewer(request)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream
        month = month if MONTH.match(month) else ""
        state = state if state in ("draft", "under_review", "approved", "settled", "paid") else ""
        chart: dict[str, Any] | None = None

        async def build() -> dict[str, Any]:
            nonlocal chart
            params: dict[str, Any] = {"month": month, "state": state}
            if viewer.is_provider:
                params["provider_id"] = viewer.principal.provider_id
            rows = await up.items("billing", "/v1/settlements", viewer.token, **params)
            rows.sort(key=lambda s: (s["month"], s["provider_id"]), reverse=True)
            by_month: dict[str, int] = defaultdict(int)
            for s in rows:
                by_month[s["month"]] += int(s["total_cents"])
            chart = bar_chart(sorted(by_month.items())[-12:], viewer.lang, t("settlements.chart"))
            table = []
            for s in rows:
                action: Any = ""
                if viewer.role == "city_official" and s["state"] in ("draft", "under_review") and not s["held"]:
                    action = {"post": f"/settlements/{s['id']}/approve", "label": t("approve"),
                              "aria": t("approve_settlement", provider=s["provider_id"], month=s["month"])}
                table.append([{"text": s["reference"] or short(s["id"]), "href": f"/settlements/{s['id']}"}, s["provider_id"],
                              s["month"], {"badge": t(f"state.{s['state']}") + (f" — {t('held')}" if s["held"] else ""),
                                           "tone": "warn" if s["held"] else "ok"},
                              "; ".join(f"{h['rule']}: {h['reason']}" for h in s["hold_reasons"]),
                              fmt_money(s["total_cents"], viewer.lang), action])
            return section(t("settlements.heading"), [t("col.reference"), t("col.provider"), t("col.month"), t("col.state"),
                                                      t("col.holds"), t("col.total"), t("col.action")], table,
                           empty=t("settlements.none"), numeric=[5])

        main = await guarded(t, t("settlements.heading"), build)
        if chart and chart["bars"]:
            main["chart"] = chart
        sections = [main]
        if viewer.is_provider or viewer.is_official:
            async def disputes() -> dict[str, Any]:
                rows = await up.items("billing", "/v1/disputes", viewer.token)
                return section(t("disputes.heading"), [t("col.settlement"), t("col.state"), t("col.detail"), t("col.answer")],
                               [[{"text": short(d.get("settlement_id")), "href": f"/settlements/{d.get('settlement_id')}"},
                                 t(f"state.{d.get('state')}"), d.get("reason") or "", d.get("answer") or ""] for d in rows],
                               empty=t("disputes.none"))
            sections.append(await guarded(t, t("disputes.heading"), disputes))
        return render(request, "page.html", viewer, title=t("nav.settlements"), sections=sections, done=flash_of(request),
                      filters={"name": "month", "label": t("col.month"), "value": month, "input": "month"})

    @app.get("/settlements/{settlement_id}", include_in_schema=False)
    async def settlement(settlement_id: uuid.UUID, request: Request) -> Response:
        viewer = require_viewer(request)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream
        try:
            s = await up.get("billing", f"/v1/settlements/{settlement_id}", viewer.token)
        except Unavailable as exc:
            return unavailable_page(request, viewer, exc)
        except Refused as exc:
            return refused_page(request, viewer, exc)
        disputed: dict[str, str] = {}
        if viewer.is_provider:
            try:
                disputed = {str(d["line_id"]): d["state"] for d in await up.items("billing", "/v1/disputes", viewer.token)
                            if str(d["settlement_id"]) == str(settlement_id)}
            except (Unavailable, Refused):
                disputed = {}
        lines = [[client_link(x["client_id"]) if viewer.is_official else short(x["client_id"]), t(f"line.{x['kind']}"),
                  x["service_month"], f"{fmt_date(x['date_from'], viewer.lang)}–{fmt_date(x['date_to'], viewer.lang)}",
                  str(x["quantity"]), fmt_money(x["unit_value_cents"], viewer.lang), fmt_money(x["amount_cents"], viewer.lang),
                  x.get("cause") or ""] + ([{"post": f"/settlements/{s['id']}/lines/{x['id']}/dispute", "label": t("dispute"),
                                             "input": {"name": "reason", "aria": t("dispute_reason", line=i + 1)},
                                             "aria": t("dispute_line", line=i + 1)} if str(x["id"]) not in disputed
                                            else f"{t('disputed')}: {t('state.' + disputed[str(x['id'])])}"]
                                           if viewer.is_provider else [])
                 for i, x in enumerate(s["lines"])]
        totals = s["totals"]
        chart = bar_chart([(t("total.days"), totals["days_cents"]), (t("total.coaching"), totals["coaching_cents"]),
                           (t("total.refunds"), abs(totals["refunds_cents"])), (t("total.corrections"), totals["corrections_cents"]),
                           (t("total.total"), totals["total_cents"])], viewer.lang, t("settlement.chart"))
        main = section(f"{s['provider_id']} {s['month']} — {t('state.' + s['state'])}",
                       [t("col.client"), t("col.line"), t("col.month"), t("col.dates"), t("col.quantity"), t("col.unit_value"),
                        t("col.amount"), t("col.cause")] + ([t("col.action")] if viewer.is_provider else []), lines, chart=chart,
                       empty=t("settlement.no_lines"), numeric=[4, 5, 6])
        actions = []
        if viewer.role == "city_official" and s["state"] in ("draft", "under_review") and not s["held"]:
            actions.append({"post": f"/settlements/{s['id']}/approve", "label": t("approve"),
                            "aria": t("approve_settlement", provider=s["provider_id"], month=s["month"])})
        holds = section(t("col.holds"), [t("col.rule"), t("col.detail")], [[h["rule"], h["reason"]] for h in s["hold_reasons"]],
                        empty=t("settlement.no_holds"))
        return render(request, "page.html", viewer, title=f"{t('nav.settlements')}: {s['reference']}",
                      sections=[main, holds], actions=actions, done=flash_of(request))

    @app.post("/settlements/{settlement_id}/approve", include_in_schema=False)
    async def approve_settlement(settlement_id: uuid.UUID, request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        if await posted(request, viewer) is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        return await act(request, viewer, "billing", f"/v1/settlements/{settlement_id}/approve", None,
                         f"/settlements/{settlement_id}", "approved")

    @app.post("/settlements/{settlement_id}/lines/{line_id}/dispute", include_in_schema=False)
    async def dispute_line(settlement_id: uuid.UUID, line_id: uuid.UUID, request: Request) -> Response:
        viewer = require_viewer(request, provider=True)
        if not isinstance(viewer, Viewer):
            return viewer
        form = await posted(request, viewer)
        if form is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        reason = str(form.get("reason", "")).strip()[:2000]
        return await act(request, viewer, "billing", f"/v1/settlements/{settlement_id}/lines/{line_id}/disputes",
                         {"reason": reason}, f"/settlements/{settlement_id}", "disputed")

    @app.get("/clients", include_in_schema=False)
    async def clients(request: Request) -> Response:
        viewer = require_viewer(request, official=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream

        async def build() -> dict[str, Any]:
            rows = await up.items("voucher", "/v1/agreements", viewer.token)
            return section(t("clients.heading"), [t("col.client"), t("col.provider"), t("col.state"), t("col.start"), t("col.end")],
                           [[client_link(a["client_id"]), a["provider_id"], t(f"state.{a['state']}"),
                             fmt_date(a["start_date"], viewer.lang), fmt_date(a.get("ended_on") or a["end_date"], viewer.lang)]
                            for a in rows], empty=t("clients.none"))

        return render(request, "page.html", viewer, title=t("nav.clients"), sections=[await guarded(t, t("clients.heading"), build)])

    @app.get("/clients/{client_id}", include_in_schema=False)
    async def timeline(client_id: uuid.UUID, request: Request) -> Response:
        viewer = require_viewer(request)
        if not isinstance(viewer, Viewer):
            return viewer
        try:
            events, name = await client_timeline(console_of(request).upstream, viewer, str(client_id))
        except Unavailable as exc:
            return unavailable_page(request, viewer, exc)
        except Refused as exc:
            return refused_page(request, viewer, exc)
        if events is None:  # DATA-3: a provider sees only its own clients, and learns nothing of others
            return render(request, "error.html", viewer, status=404, message_key="not_found")
        t = translator(viewer.lang)
        rows = [[fmt_date(e["date"], viewer.lang), t(f"timeline.{e['kind']}"), e["text"]] for e in events]
        return render(request, "page.html", viewer, title=f"{t('timeline.heading')}: {name or short(client_id)}",
                      sections=[section(t("timeline.heading"), [t("col.date"), t("col.what"), t("col.detail")], rows,
                                        empty=t("timeline.none"))])

    # --- providers --------------------------------------------------------------------------

    @app.get("/my/clients", include_in_schema=False)
    async def my_clients(request: Request) -> Response:
        viewer = require_viewer(request, provider=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream

        async def build() -> dict[str, Any]:
            rows = await up.items("voucher", "/v1/agreements", viewer.token)
            return section(t("my.clients"), [t("col.client"), t("col.unit"), t("col.state"), t("col.start"), t("col.end"),
                                            t("col.schedule")],
                           [[client_link(a["client_id"]), short(a["unit_id"]), t(f"state.{a['state']}"),
                             fmt_date(a["start_date"], viewer.lang), fmt_date(a.get("ended_on") or a["end_date"], viewer.lang),
                             ", ".join(f"{t('weekday.' + d['weekday'])} {d['start']}–{d['end']}"
                                       for d in (a.get("content") or {}).get("schedule", []))]
                            for a in rows], empty=t("clients.none"))

        return render(request, "page.html", viewer, title=t("nav.my_clients"), sections=[await guarded(t, t("my.clients"), build)])

    @app.get("/my/grid", include_in_schema=False)
    async def my_grid(request: Request, unit_id: str = "", month: str = "") -> Response:
        viewer = require_viewer(request, provider=True)
        if not isinstance(viewer, Viewer):
            return viewer
        return await grid_page(request, viewer, unit_id, month, upload=None)

    @app.post("/my/daily-log", include_in_schema=False)
    async def upload_daily_log(request: Request) -> Response:
        viewer = require_viewer(request, provider=True)
        if not isinstance(viewer, Viewer):
            return viewer
        form = await posted(request, viewer)
        if form is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        t = translator(viewer.lang)
        upload = form.get("file")
        data = await upload.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, UploadFile) else b""
        unit_id, month = str(form.get("unit_id", "")), str(form.get("month", ""))
        if not data:
            return await grid_page(request, viewer, unit_id, month, upload={"error": t("upload.empty")}, status=422)
        if len(data) > MAX_UPLOAD_BYTES:
            return await grid_page(request, viewer, unit_id, month, upload={"error": t("upload.too_big")}, status=413)
        try:
            r = await console_of(request).upstream.call("attendance", "POST", "/v1/daily-log", viewer.token, content=data,
                                                        content_type="text/csv", accept_statuses=(400, 413, 415, 422))
        except Unavailable as exc:
            return await grid_page(request, viewer, unit_id, month,
                                   upload={"error": t("service_down", service=t(f"service.{exc.service}"))}, status=503)
        body = r.body if isinstance(r.body, dict) else {}
        if not r.ok:
            errors = [f"{e.get('field', '')}: {e.get('message', '')}" for e in body.get("errors", [])][:50]
            return await grid_page(request, viewer, unit_id, month, status=422,
                                   upload={"error": body.get("detail") or t("upload.refused"), "errors": errors})
        results = [[str(x.get("index", "") + 1 if isinstance(x.get("index"), int) else ""), t(f"result.{x['status']}"),
                    x.get("rule") or "", x.get("message") or ""] for x in body.get("results", [])
                   if x.get("status") == "rejected"]
        return await grid_page(request, viewer, unit_id, month, upload={"counts": body.get("counts", {}), "rejected": results})

    @app.get("/my/reports", include_in_schema=False)
    async def my_reports(request: Request) -> Response:
        viewer = require_viewer(request, provider=True)
        if not isinstance(viewer, Viewer):
            return viewer
        t, up = translator(viewer.lang), console_of(request).upstream
        sections = []
        for state in ("late", "due", "returned", "awaiting_signature"):
            async def build(state: str = state) -> dict[str, Any]:
                rows = await up.items("attendance", "/v1/reports", viewer.token, state=state, limit=200)
                return section(t(f"reports.{state}"), [t("col.what"), t("col.client"), t("col.month"), t("col.due")],
                               [[t(f"report.{r['kind']}"), client_link(r["client_id"]), r.get("month") or "",
                                 overdue_badge(t, r.get("due_on"), r.get("late", False), viewer.lang)] for r in rows],
                               empty=t("reports.none"))
            sections.append(await guarded(t, t(f"reports.{state}"), build))
        return render(request, "page.html", viewer, title=t("nav.reports"), sections=sections)


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


async def client_timeline(up: Upstream, viewer: Viewer, client_id: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """decision → voucher → agreement → daily log → reports → payments, oldest first; never the hetu.
    None for a provider without an agreement of the client (DATA-3)."""
    t = translator(viewer.lang)
    lang = viewer.lang
    events: list[dict[str, Any]] = []
    name = None
    agreements = await up.items("voucher", "/v1/agreements", viewer.token, client_id=client_id)
    if viewer.is_provider and not agreements:
        return None, None
    if viewer.is_official:
        for d in await up.items("decision", "/v1/decisions", viewer.token, client_id=client_id):
            client = d.get("client") or {}
            name = f"{client.get('first_name', '')} {client.get('last_name', '')}".strip() or name
            events.append({"date": d["decided_on"], "kind": "decision",
                           "text": t("tl.decision", source=f"{d['source_system']}/{d['source_id']}", version=d["version"],
                                     start=fmt_date(d["period_start"], lang), end=fmt_date(d["period_end"], lang),
                                     status=t(f"state.{d['status']}"))})
        for v in await up.items("voucher", "/v1/vouchers", viewer.token, client_id=client_id):
            events.append({"date": str(v.get("created_at") or v.get("valid_from"))[:10], "kind": "voucher",
                           "text": t("tl.voucher", number=v["number"], state=t(f"state.{v['state']}"))})
    for a in agreements:
        events.append({"date": a.get("signed_on") or a["start_date"], "kind": "agreement",
                       "text": t("tl.agreement", provider=a["provider_id"], start=fmt_date(a["start_date"], lang),
                                 end=fmt_date(a.get("ended_on") or a["end_date"], lang), state=t(f"state.{a['state']}"))})
    # The daily log, summarised per month and agreement.
    log = await up.call("attendance", "GET", "/v1/daily-log", viewer.token, params={"client_id": client_id, "limit": 1000},
                        accept_statuses=(403, 404))
    if log.ok:
        entries = log.body.get("items", log.body) if isinstance(log.body, dict) else log.body
        months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for e in entries or []:
            months[str(e["date"])[:7]][e["kind"]] += 1
        for month, kinds in sorted(months.items()):
            last = calendar.monthrange(int(month[:4]), int(month[5:]))[1]
            events.append({"date": f"{month}-{last:02d}", "kind": "log",
                           "text": t("tl.log", month=month, present=kinds.get("present", 0), absent=kinds.get("absent", 0),
                                     not_organised=kinds.get("not_organised", 0))})
    reports = await up.call("attendance", "GET", "/v1/reports", viewer.token, params={"client_id": client_id, "limit": 200},
                            accept_statuses=(403, 404))
    if reports.ok:
        for r in reports.body.get("items", []) if isinstance(reports.body, dict) else reports.body or []:
            events.append({"date": r.get("submitted_on") or r.get("due_on"), "kind": "report",
                           "text": t("tl.report", kind=t(f"report.{r['kind']}"), month=r.get("month") or "", provider=r["provider_id"],
                                     state=t(f"state.{r['state']}"))})
    if viewer.is_official or viewer.is_provider:
        params: dict[str, Any] = {"provider_id": viewer.principal.provider_id} if viewer.is_provider else {}
        settlements = await up.call("billing", "GET", "/v1/settlements", viewer.token, params=params, accept_statuses=(403,))
        for s in (settlements.body if settlements.ok else []) or []:
            detail = await up.call("billing", "GET", f"/v1/settlements/{s['id']}", viewer.token, accept_statuses=(403, 404))
            if not detail.ok:
                continue
            mine = [x for x in detail.body["lines"] if x["client_id"] == client_id]
            if not mine:
                continue
            amount = sum(int(x["amount_cents"]) for x in mine)
            events.append({"date": s.get("paid_on") or s.get("settled_on") or s.get("approved_on") or s["created_on"],
                           "kind": "payment",
                           "text": t("tl.payment", provider=s["provider_id"], month=s["month"], amount=fmt_money(amount, lang),
                                     state=t(f"state.{s['state']}"), days=sum(float(x["quantity"]) for x in mine
                                                                             if x["kind"].startswith("day")))})
    events = [e for e in events if e["date"]]
    events.sort(key=lambda e: str(e["date"]))
    return events, name


async def grid_page(request: Request, viewer: Viewer, unit_id: str, month: str, upload: dict[str, Any] | None,
                    status: int = 200) -> Response:
    console = console_of(request)
    t, up = translator(viewer.lang), console.upstream
    today = console.clock.today()
    if not MONTH.match(month or ""):
        month = today.strftime("%Y-%m")
    sections: list[dict[str, Any]] = []
    units: list[dict[str, Any]] = []
    try:
        units = await up.items("provider-registry", f"/v1/providers/{viewer.principal.provider_id}/units", viewer.token)
    except Unavailable as exc:
        sections.append(section(t("grid.heading"), error=t("service_down", service=t(f"service.{exc.service}"))))
    except Refused as exc:
        sections.append(section(t("grid.heading"), error=t("refused", status=exc.status)))
    ids = [str(u["id"]) for u in units]
    if unit_id not in ids:
        unit_id = ids[0] if ids else ""
    grid: dict[str, Any] | None = None
    if unit_id:
        async def build() -> dict[str, Any]:
            nonlocal grid
            body = await up.get("attendance", f"/v1/units/{unit_id}/months/{month}/grid", viewer.token)
            year, mon = int(month[:4]), int(month[5:])
            days = [dt.date(year, mon, d) for d in range(1, calendar.monthrange(year, mon)[1] + 1)]
            grid = {"days": [d.day for d in days], "rows": [
                {"client": client_link(r["client_id"]), "realised": r["realised_days"],
                 "cells": [(r["days"].get(d.isoformat(), ""), t(f"grid.{r['days'].get(d.isoformat(), 'none')}")) for d in days],
                 "missing": ", ".join(fmt_date(m, viewer.lang) for m in r["missing"])} for r in body["rows"]]}
            return section(t("grid.heading"), empty=t("grid.none"), grid=grid,
                           rows=[[1]] if body["rows"] else [])
        sections.append(await guarded(t, t("grid.heading"), build))
    return render(request, "grid.html", viewer, status=status, title=t("nav.grid"), sections=sections, month=month,
                  unit_id=unit_id, units=units, upload=upload)
