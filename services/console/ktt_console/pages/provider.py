"""The providers' pages: their clients and agreements, the unit's month grid of the daily log with the days
still missing and a CSV upload (ATT-1, ATT-10), and the reports owed (ATT-11, REP-3, REP-4). The services
answer for the provider's own clients only (DATA-3)."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile as StarletteUploadFile

from ktt_console.app import Viewer, console_of, fmt_date, render, short
from ktt_console.i18n import translator
from ktt_console.pages.kit import MONTH, Table, client_link, guarded, overdue_badge, posted, require_viewer, section, table_page
from ktt_console.upstream import Refused, Unavailable

MAX_UPLOAD_BYTES = 8 * 1024 * 1024  # the attendance service's own limit (DAILY_LOG_MAX_BYTES)
REPORT_STATES = ("late", "due", "returned", "awaiting_signature")

MY_CLIENTS = Table(
    "my.clients", "voucher", "/v1/agreements", ("col.client", "col.unit", "col.state", "col.start", "col.end", "col.schedule"),
    lambda c, a: [client_link(a["client_id"]), short(a["unit_id"]), c.t(f"state.{a['state']}"), fmt_date(a["start_date"], c.lang),
                  fmt_date(a.get("ended_on") or a["end_date"], c.lang),
                  ", ".join(f"{c.t('weekday.' + d['weekday'])} {d['start']}–{d['end']}"
                            for d in (a.get("content") or {}).get("schedule", []))],
    "clients.none")


def _reports(state: str) -> Table:
    return Table(f"reports.{state}", "attendance", "/v1/reports", ("col.what", "col.client", "col.month", "col.due"),
                 lambda c, r: [c.t(f"report.{r['kind']}"), client_link(r["client_id"]), r.get("month") or "",
                               overdue_badge(c.t, r.get("due_on"), r.get("late", False), c.lang)],
                 "reports.none", params={"state": state, "limit": 200})


def install(app: FastAPI) -> None:
    table_page(app, "/my/clients", audience="provider", title="nav.my_clients", tables=(MY_CLIENTS,))
    table_page(app, "/my/reports", audience="provider", title="nav.reports", tables=[_reports(s) for s in REPORT_STATES])

    @app.get("/my/grid", include_in_schema=False)
    async def my_grid(request: Request, unit_id: str = "", month: str = "") -> Response:
        viewer = require_viewer(request, "provider")
        if not isinstance(viewer, Viewer):
            return viewer
        return await grid_page(request, viewer, unit_id, month, upload=None)

    @app.post("/my/daily-log", include_in_schema=False)
    async def upload_daily_log(request: Request) -> Response:
        viewer = require_viewer(request, "provider")
        if not isinstance(viewer, Viewer):
            return viewer
        form = await posted(request, viewer)
        if form is None:
            return render(request, "error.html", viewer, status=403, message_key="csrf_refused")
        t = translator(viewer.lang)
        upload = form.get("file")
        data = await upload.read(MAX_UPLOAD_BYTES + 1) if isinstance(upload, StarletteUploadFile) else b""
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
