"""Pages for officials and providers alike, each seeing what the services let them (DATA-3): settlements
(the list with the months' chart and the disputes, one settlement's lines and figures, approve, dispute a
line, answer a dispute) and a client's timeline (decision → voucher → agreement → log → reports → payments; never the hetu)."""

from __future__ import annotations

import calendar
import uuid
from collections import defaultdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from ktt_console.app import Viewer, fmt_date, fmt_money, render, short
from ktt_console.i18n import translator
from ktt_console.pages.kit import MONTH, Ctx, bar_chart, client_link, context, flash_of, guarded, post_action, section, whole_page
from ktt_console.upstream import Refused, Unavailable, Upstream

STATES = ("draft", "under_review", "approved", "settled", "paid")
OPEN = ("draft", "under_review")


def _approve_button(c: Ctx, s: dict[str, Any]) -> Any:
    """BIL: a city official approves an open settlement that is not held."""
    if c.viewer.role == "city_official" and s["state"] in OPEN and not s["held"]:
        return {"post": f"/settlements/{s['id']}/approve", "label": c.t("approve"),
                "aria": c.t("approve_settlement", provider=s["provider_id"], month=s["month"])}
    return ""


async def _settlements(c: Ctx, month: str, state: str) -> dict[str, Any]:
    params: dict[str, Any] = {"month": month, "state": state}
    if c.viewer.is_provider:
        params["provider_id"] = c.viewer.principal.provider_id
    rows = await c.up.items("billing", "/v1/settlements", c.viewer.token, **params)
    rows.sort(key=lambda s: (s["month"], s["provider_id"]), reverse=True)
    by_month: dict[str, int] = defaultdict(int)
    for s in rows:
        by_month[s["month"]] += int(s["total_cents"])
    chart = bar_chart(sorted(by_month.items())[-12:], c.lang, c.t("settlements.chart"))
    table = [[{"text": s["reference"] or short(s["id"]), "href": f"/settlements/{s['id']}"}, s["provider_id"], s["month"],
              {"badge": c.t(f"state.{s['state']}") + (f" — {c.t('held')}" if s["held"] else ""),
               "tone": "warn" if s["held"] else "ok"},
              "; ".join(f"{h['rule']}: {h['reason']}" for h in s["hold_reasons"]), fmt_money(s["total_cents"], c.lang),
              _approve_button(c, s)] for s in rows]
    extra = {"chart": chart} if chart["bars"] else {}
    return section(c.t("settlements.heading"), [c.t(k) for k in ("col.reference", "col.provider", "col.month", "col.state",
                                                                 "col.holds", "col.total", "col.action")],
                   table, empty=c.t("settlements.none"), numeric=[5], **extra)


def _resolve(c: Ctx, d: dict[str, Any]) -> Any:
    """A city official answers an open dispute: accept or reject, with the answer the provider reads."""
    if c.viewer.role != "city_official" or d.get("state") != "open":
        return d.get("answer") or ""
    provider = d.get("provider_id") or ""
    return {"post": f"/disputes/{d['id']}/resolve", "label": "", "choice_name": "outcome",
            "input": {"name": "answer", "aria": c.t("resolve_answer", provider=provider)},
            "choices": [{"value": outcome, "label": c.t(f"resolve.{verb}"),
                         "aria": c.t("resolve_dispute", outcome=c.t(f"resolve.{verb}"), provider=provider)}
                        for outcome, verb in (("accepted", "accept"), ("rejected", "reject"))]}


async def _disputes(c: Ctx) -> dict[str, Any]:
    rows = await c.up.items("billing", "/v1/disputes", c.viewer.token)
    return section(c.t("disputes.heading"), [c.t("col.settlement"), c.t("col.provider"), c.t("col.state"), c.t("col.detail"),
                                             c.t("col.answer")],
                   [[{"text": short(d.get("settlement_id")), "href": f"/settlements/{d.get('settlement_id')}"},
                     d.get("provider_id") or "", c.t(f"state.{d.get('state')}"), d.get("reason") or "", _resolve(c, d)]
                    for d in rows], empty=c.t("disputes.none"))


def _lines(c: Ctx, s: dict[str, Any], disputed: dict[str, str]) -> list[list[Any]]:
    """A settlement's lines; a provider may dispute each line once (with a reason)."""
    rows = []
    for i, x in enumerate(s["lines"]):
        row: list[Any] = [client_link(x["client_id"]) if c.viewer.is_official else short(x["client_id"]), c.t(f"line.{x['kind']}"),
                          x["service_month"], f"{fmt_date(x['date_from'], c.lang)}–{fmt_date(x['date_to'], c.lang)}",
                          str(x["quantity"]), fmt_money(x["unit_value_cents"], c.lang), fmt_money(x["amount_cents"], c.lang),
                          x.get("cause") or ""]
        if c.viewer.is_provider:
            row.append({"post": f"/settlements/{s['id']}/lines/{x['id']}/dispute", "label": c.t("dispute"),
                        "input": {"name": "reason", "aria": c.t("dispute_reason", line=i + 1)},
                        "aria": c.t("dispute_line", line=i + 1)} if str(x["id"]) not in disputed
                       else f"{c.t('disputed')}: {c.t('state.' + disputed[str(x['id'])])}")
        rows.append(row)
    return rows


def install(app: FastAPI) -> None:
    @app.get("/settlements", include_in_schema=False)
    async def settlements(request: Request, month: str = "", state: str = "") -> Response:
        c = context(request)
        if not isinstance(c, Ctx):
            return c
        month = month if MONTH.match(month) else ""
        state = state if state in STATES else ""
        sections = [await guarded(c.t, c.t("settlements.heading"), lambda: _settlements(c, month, state))]
        if c.viewer.is_provider or c.viewer.is_official:
            sections.append(await guarded(c.t, c.t("disputes.heading"), lambda: _disputes(c)))
        return render(request, "page.html", c.viewer, title=c.t("nav.settlements"), sections=sections, done=flash_of(request),
                      filters={"name": "month", "label": c.t("col.month"), "value": month, "input": "month"})

    @app.get("/settlements/{settlement_id}", include_in_schema=False)
    async def settlement(settlement_id: uuid.UUID, request: Request) -> Response:
        c = context(request)
        if not isinstance(c, Ctx):
            return c
        s = await whole_page(request, c.viewer, lambda: c.up.get("billing", f"/v1/settlements/{settlement_id}", c.viewer.token))
        if isinstance(s, Response):
            return s
        disputed: dict[str, str] = {}
        if c.viewer.is_provider:
            try:  # without them every line offers a dispute; the service refuses a second one
                disputed = {str(d["line_id"]): d["state"] for d in await c.up.items("billing", "/v1/disputes", c.viewer.token)
                            if str(d["settlement_id"]) == str(settlement_id)}
            except (Unavailable, Refused):
                disputed = {}
        totals = s["totals"]
        chart = bar_chart([(c.t("total.days"), totals["days_cents"]), (c.t("total.coaching"), totals["coaching_cents"]),
                           (c.t("total.refunds"), abs(totals["refunds_cents"])),
                           (c.t("total.corrections"), totals["corrections_cents"]), (c.t("total.total"), totals["total_cents"])],
                          c.lang, c.t("settlement.chart"))
        columns = ["col.client", "col.line", "col.month", "col.dates", "col.quantity", "col.unit_value", "col.amount", "col.cause"]
        main = section(f"{s['provider_id']} {s['month']} — {c.t('state.' + s['state'])}",
                       [c.t(k) for k in columns] + ([c.t("col.action")] if c.viewer.is_provider else []), _lines(c, s, disputed),
                       chart=chart, empty=c.t("settlement.no_lines"), numeric=[4, 5, 6])
        button = _approve_button(c, s)
        holds = section(c.t("col.holds"), [c.t("col.rule"), c.t("col.detail")], [[h["rule"], h["reason"]] for h in s["hold_reasons"]],
                        empty=c.t("settlement.no_holds"))
        return render(request, "page.html", c.viewer, title=f"{c.t('nav.settlements')}: {s['reference']}",
                      sections=[main, holds], actions=[button] if button else [], done=flash_of(request))

    @app.post("/settlements/{settlement_id}/approve", include_in_schema=False)
    async def approve_settlement(settlement_id: uuid.UUID, request: Request) -> Response:
        return await post_action(request, "official", "billing", f"/v1/settlements/{settlement_id}/approve",
                                 f"/settlements/{settlement_id}", "approved")

    @app.post("/settlements/{settlement_id}/lines/{line_id}/dispute", include_in_schema=False)
    async def dispute_line(settlement_id: uuid.UUID, line_id: uuid.UUID, request: Request) -> Response:
        return await post_action(request, "provider", "billing", f"/v1/settlements/{settlement_id}/lines/{line_id}/disputes",
                                 f"/settlements/{settlement_id}", "disputed",
                                 body=lambda form: {"reason": str(form.get("reason", "")).strip()[:2000]})

    @app.post("/disputes/{dispute_id}/resolve", include_in_schema=False)
    async def resolve_dispute(dispute_id: uuid.UUID, request: Request) -> Response:
        """The billing service checks the outcome and the answer (3-2000 characters) and says what is wrong."""
        return await post_action(request, "official", "billing", f"/v1/disputes/{dispute_id}/resolve", "/settlements", "resolved",
                                 body=lambda form: {"outcome": str(form.get("outcome", "")),
                                                    "answer": str(form.get("answer", "")).strip()[:2000]})

    @app.get("/clients/{client_id}", include_in_schema=False)
    async def timeline(client_id: uuid.UUID, request: Request) -> Response:
        c = context(request)
        if not isinstance(c, Ctx):
            return c
        found = await whole_page(request, c.viewer, lambda: client_timeline(c.up, c.viewer, str(client_id)))
        if isinstance(found, Response):
            return found
        events, name = found
        if events is None:  # DATA-3: a provider sees only its own clients, and learns nothing of others
            return render(request, "error.html", c.viewer, status=404, message_key="not_found")
        rows = [[fmt_date(e["date"], c.lang), c.t(f"timeline.{e['kind']}"), e["text"]] for e in events]
        return render(request, "page.html", c.viewer, title=f"{c.t('timeline.heading')}: {name or short(client_id)}",
                      sections=[section(c.t("timeline.heading"), [c.t("col.date"), c.t("col.what"), c.t("col.detail")], rows,
                                        empty=c.t("timeline.none"))])


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
