"""The officials' pages (Typake officials and social workers): deadlines, delayed vouchers and late months, alerts with
acknowledge, TE-office and Kela notices, units with free places and queues, providers awaiting approval,
and the clients. Each reads the services with the viewer's own token (DATA-3)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from ktt_console.app import Viewer, console_of, fmt_date, render, short
from ktt_console.pages.kit import (
    Ctx,
    Table,
    client_link,
    context,
    guarded,
    overdue_badge,
    post_action,
    posted,
    refused_page,
    require_viewer,
    section,
    table_page,
    unavailable_page,
)
from ktt_console.upstream import Refused, Unavailable

OFFICES = ("typake", "social_work")
ALERT_SOURCES = ("attendance", "provider-registry")


def _office(c: Ctx) -> str:
    office = c.request.query_params.get("office", "typake")
    return office if office in OFFICES else "typake"


DEADLINES = Table(
    "deadlines.heading", "voucher", "/v1/deadlines", ("col.due", "col.what", "col.rule", "col.client", "col.detail"),
    lambda c, d: [overdue_badge(c.t, d["due"], d["overdue"], c.lang), c.t(f"deadline.{d['kind']}"), d["rule"],
                  client_link(d["client_id"]), d["detail"]],
    "deadlines.none", params=lambda c: {"office": _office(c)})

DELAYED = Table(  # VOU-3
    "delayed.heading", "voucher", "/v1/vouchers", ("col.voucher", "col.client", "col.valid_from", "col.state"),
    lambda c, v: [v["number"], client_link(v["client_id"]), fmt_date(v.get("valid_from"), c.lang), c.t(f"state.{v['state']}")],
    "delayed.none", params={"state": "delayed"})

LATE_MONTHS = Table(  # ATT-10 / BIL-2: a unit's month not confirmed by the 3rd of the next (MonthReportLate)
    "late_months.heading", "attendance", "/v1/month-reports", ("col.provider", "col.unit", "col.month", "col.due", "col.late_since"),
    lambda c, m: [m["provider_id"], short(m["unit_id"]), m["month"], overdue_badge(c.t, m.get("due_on"), True, c.lang),
                  fmt_date(m.get("late_marked_on"), c.lang)],
    "late_months.none", params={"status": "late", "limit": 200})

CLIENT_ALERTS = Table(  # ATT-4, ATT-5, ATT-13
    "alerts.clients", "attendance", "/v1/alerts", ("col.what", "col.rule", "col.client", "col.provider", "col.since", "col.action"),
    lambda c, a: [c.t(f"alert.{a['kind']}"), a["rule"], client_link(a["client_id"]), a["provider_id"], fmt_date(a["since"], c.lang),
                  {"post": f"/alerts/attendance/{a['id']}/acknowledge", "label": c.t("acknowledge"),
                   "aria": c.t("acknowledge_alert", what=c.t(f"alert.{a['kind']}"), client=short(a["client_id"]))}],
    "alerts.none", params={"status": "open", "limit": 200})

PROVIDER_ALERTS = Table(  # PRV-10 and the registry's other alerts
    "alerts.providers", "provider-registry", "/v1/alerts", ("col.what", "col.rule", "col.provider", "col.since", "col.action"),
    lambda c, a: [a["message"], a["rule"], a["provider_name"], fmt_date(a["since"], c.lang),
                  c.t("acknowledged") if a["acknowledged"] else
                  {"post": f"/alerts/provider-registry/{a['id']}/acknowledge", "label": c.t("acknowledge"),
                   "aria": c.t("acknowledge_alert", what=a["rule"], client=a["provider_name"])}],
    "alerts.none", params={"open": "true"})

START_NOTICES = Table(  # DEC-6: the TE office is told of each start; the name, never the hetu (DATA-4)
    "notices.te", "decision", "/v1/start-notices",
    ("col.client", "col.name", "col.start", "col.provider", "col.unit", "col.state"),
    lambda c, n: [client_link(n["client_id"]), f"{n['first_name']} {n['last_name']}", fmt_date(n["started_on"], c.lang),
                  n.get("provider_name") or n.get("provider_id") or "", n.get("unit_name") or "", c.t(f"state.{n['status']}")],
    "notices.none", params={"status": "pending"})

KELA_NOTICES = Table(  # ATT-6: TT3 absence notices
    "notices.kela", "attendance", "/v1/absence-notices",
    ("col.client", "col.period", "col.recipient", "col.absences", "col.unauthorised", "col.employment_authority"),
    lambda c, n: [client_link(n["client_id"]), f"{fmt_date(n['period_start'], c.lang)}–{fmt_date(n['period_end'], c.lang)}",
                  c.t(f"recipient.{n['recipient']}"), str(n["absence_days"]), str(n["unauthorised_days"]),
                  c.t("yes") if n["to_employment_authority"] else c.t("no")],
    "notices.none", params={"status": "pending", "limit": 200})

PROVIDERS_APPLIED = Table(  # PRV-1: approval, or the missing preconditions
    "providers.heading", "provider-registry", "/v1/providers", ("col.provider", "col.business_id", "col.applied", "col.action"),
    lambda c, p: [p["name"], p["business_id"], fmt_date(p["applied_on"], c.lang),
                  {"post": f"/providers/{p['id']}/approve", "label": c.t("approve"), "aria": c.t("approve_provider", name=p["name"])}
                  if c.viewer.role == "city_official" else ""],
    "providers.none", params={"status": "applied"}, extra={"intro": "providers.intro"})

CLIENTS = Table(
    "clients.heading", "voucher", "/v1/agreements", ("col.client", "col.provider", "col.state", "col.start", "col.end"),
    lambda c, a: [client_link(a["client_id"]), a["provider_id"], c.t(f"state.{a['state']}"), fmt_date(a["start_date"], c.lang),
                  fmt_date(a.get("ended_on") or a["end_date"], c.lang)],
    "clients.none")


def _missing(c: Ctx) -> list[dict[str, Any]]:
    """The preconditions the registry named when an approval was refused (carried in the redirect's query)."""
    missing = c.request.query_params.getlist("missing")
    if not missing:
        return []
    return [section(c.t("providers.missing"), [c.t("col.field"), c.t("col.rule"), c.t("col.detail")],
                    [m.split("|", 2) + [""] * (3 - len(m.split("|", 2))) for m in missing[:60]])]


async def _units(c: Ctx) -> dict[str, Any]:
    """PRV-5, PRV-7: each approved provider's units with capacity, free places and queue length."""
    rows = []
    token = c.viewer.token
    for provider in await c.up.items("provider-registry", "/v1/providers", token, status="approved"):
        products = await c.up.items("provider-registry", f"/v1/providers/{provider['id']}/products", token)
        for unit in await c.up.items("provider-registry", f"/v1/providers/{provider['id']}/units", token):
            queued = 0
            for product in products:
                queue = await c.up.call("provider-registry", "GET", f"/v1/units/{unit['id']}/queues/{product['id']}",
                                        token, accept_statuses=(404, 422))
                if queue.ok:
                    entries = queue.body.get("entries", queue.body) if isinstance(queue.body, dict) else queue.body
                    queued += len(entries or [])
            rows.append([provider["name"], unit["name"], unit.get("district") or "", str(unit.get("capacity", 0)),
                         {"badge": str(unit.get("free_places", 0)), "tone": "ok" if unit.get("free_places") else "warn"},
                         str(queued)])
    return section(c.t("units.heading"), [c.t("col.provider"), c.t("col.unit"), c.t("col.district"), c.t("col.capacity"),
                                          c.t("col.free"), c.t("col.queue")], rows, empty=c.t("units.none"))


def install(app: FastAPI) -> None:
    table_page(app, "/deadlines", audience="official", title="nav.deadlines", tables=(DEADLINES, DELAYED, LATE_MONTHS),
               filters=lambda c: {"name": "office", "label": c.t("col.office"), "value": _office(c),
                                  "options": [(o, c.t(f"office.{o}")) for o in OFFICES]})
    table_page(app, "/alerts", audience="official", title="nav.alerts", tables=(CLIENT_ALERTS, PROVIDER_ALERTS))
    table_page(app, "/notices", audience="official", title="nav.notices", tables=(START_NOTICES, KELA_NOTICES))
    table_page(app, "/providers", audience="official", title="nav.providers", tables=(PROVIDERS_APPLIED,), before=_missing)
    table_page(app, "/clients", audience="official", title="nav.clients", tables=(CLIENTS,))

    @app.post("/alerts/{source}/{alert_id}/acknowledge", include_in_schema=False)
    async def acknowledge(source: str, alert_id: uuid.UUID, request: Request) -> Response:
        return await post_action(request, "official", source if source in ALERT_SOURCES else None,
                                 f"/v1/alerts/{alert_id}/acknowledge", "/alerts", "acknowledged")

    @app.get("/units", include_in_schema=False)
    async def units(request: Request) -> Response:
        c = context(request, "official")
        if not isinstance(c, Ctx):
            return c
        return render(request, "page.html", c.viewer, title=c.t("nav.units"),
                      sections=[await guarded(c.t, c.t("units.heading"), lambda: _units(c))])

    @app.post("/providers/{provider_id}/approve", include_in_schema=False)
    async def approve_provider(provider_id: str, request: Request) -> Response:
        """PRV-1: approve; a refusal lists every missing precondition the registry names on /providers."""
        viewer = require_viewer(request, "official")
        if not isinstance(viewer, Viewer):
            return viewer
        if await posted(request, viewer) is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        try:
            r = await console_of(request).upstream.call(
                "provider-registry", "POST", f"/v1/providers/{provider_id}/status", viewer.token,
                json={"status": "approved", "reason": "approved in the console"}, accept_statuses=(409, 422))
        except Unavailable as exc:
            return unavailable_page(request, viewer, exc)
        except Refused as exc:
            return refused_page(request, viewer, exc)
        if r.ok:
            return RedirectResponse("/providers?done=approved", status_code=303)
        errors = (r.body or {}).get("errors") or [{"field": "", "rule": (r.body or {}).get("rule", ""),
                                                   "message": (r.body or {}).get("detail", "")}]
        query = urlencode([("missing", f"{e.get('field', '')}|{e.get('rule', '')}|{e.get('message', '')}") for e in errors])
        return RedirectResponse(f"/providers?{query}", status_code=303)
