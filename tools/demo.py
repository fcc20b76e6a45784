"""``make demo``: a small city seeded through the public APIs only, then the console's address and one
client's readable timeline.

It starts the whole system (``ktt_common.devrun``: nats-server, the five services and the console) on a
fresh ``DATA_DIR`` (default ``var/demo``) with the schedulers off, so that the daily jobs run exactly
when the story runs them, and moves the shared development clock (``POST /v1/admin/clock``) through
the story:

- three providers apply and are approved (P1, P2, P3), a dozen clients get decisions (December 2026 to
  November 2027) and vouchers;
- eleven sign agreements running from 7 December 2026 to the decisions' end; the twelfth never contacts
  a provider (a delayed voucher); client 4 changes from P1 to P2 on 11 January (AGR-18);
- month by month, December to October, the clock moves to the 2nd of the next month, each provider posts
  its month's daily log in one batch (absences, a closure, a long sick leave in January, a sick day a
  month, P2's summer closure; a correction of December made in February), confirms the month and sends
  the monthly follow-ups; the daily jobs of the 4th run (follow-ups due and late, months late, delayed
  vouchers, periods ending, a Kela TT3 round for every two-week period that ended);
- billing computes each month on the 4th; an official approves it; it is settled on the 8th into a
  payment batch with its pain.001 file, paid (September's file is left unpaid). P3's January waits for an
  official's approval in the console, and October, computed on 4 November, waits for review;
- P3 never logs February: its month grid shows the days still missing, the month and its follow-ups are
  late. The story ends on 4 November 2027, with the agreements' final evaluations coming due.

The same :func:`seed` runs as a test (``services/console/tests/test_demo.py``) against services the
test starts. Everything goes through the services' REST APIs with tokens of the right roles.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import holidays
import httpx

from ktt_common.auth import Principal, Role, issue_token
from ktt_common.settings import DEV_JWT_SECRET, SERVICE_PORTS

from tests.helpers import decision_body
from tests.journeys import approved_provider, monthly_follow_up, signed_agreement

SERVICES = tuple(SERVICE_PORTS)
PROVIDERS = (
    ("P1", "Turun Työpaja ry", "0204819-8", "FI2112345600000785", "S-1", "Työpaja Keskusta"),
    ("P2", "Aurajoen Kierrätys ry", "2617416-4", "FI5542345670000081", "S-2", "Kierrätyskeskus Itä"),
    ("P3", "Saariston Puutarha ry", "1572860-0", "FI4950009420028730", "S-3", "Puutarha Länsi"),
)
NAMES = (("Aino", "Aalto"), ("Eero", "Heikkinen"), ("Helmi", "Koskinen"), ("Ilkka", "Laine"), ("Johanna", "Mäkelä"),
         ("Kalle", "Nieminen"), ("Laura", "Ojala"), ("Mikko", "Peltonen"), ("Noora", "Rantanen"), ("Oskari", "Salonen"),
         ("Pirjo", "Tuominen"), ("Ville", "Virtanen"))
PROVIDER_OF = ("P1", "P1", "P1", "P1", "P2", "P2", "P2", "P2", "P3", "P3", "P3")  # client 12 never starts
MOVER = 3  # client 4 changes from P1 to P2 (AGR-18)
MOVED_ON = dt.date(2027, 1, 11)  # ... from this day
SCHEDULE = ("mon", "tue", "wed")
AGREEMENT_END = "2027-11-30"  # the decisions' end (AGR-4)
MONTHS = tuple(f"{y}-{m:02d}" for y, m in [(2026, 12), *((2027, m) for m in range(1, 11))])  # December to October
LAST_MONTH = MONTHS[-1]  # computed, left for an official to review
LATE = {"2027-02": ("P3",)}  # P3 never logs February: its grid shows the days missing, the month and reports are late
REVIEW = {"2027-01": ("P3",)}  # P3's January waits for an official's approval in the console
UNPAID = ("2027-09",)  # September's payment file is made but not yet paid
FI_HOLIDAYS = holidays.country_holidays("FI", years=(2026, 2027))
HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def hetu(i: int) -> str:
    """A syntactically valid example identity code (born 1975-1986), for the demo only."""
    day, month, year, individual = 10 + i, 1 + i % 12, 75 + i, 300 + 2 * i
    digits = f"{day:02d}{month:02d}{year:02d}{individual:03d}"
    return f"{digits[:6]}-{digits[6:]}{HETU_CHECK[int(digits) % 31]}"


class Remote:
    """A service over HTTP with the shape the journeys expect (``client`` and ``auth``)."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=60)
        self.secret = secret

    def auth(self, role: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.secret, role=role, **claims)}"}

    async def ok(self, method: str, path: str, role: str, expect: tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        claims = {k: kw.pop(k) for k in ("provider_id",) if k in kw}
        r = await self.client.request(method, path, headers=self.auth(role, **claims), **kw)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path} -> {r.status_code}: {r.text[:600]}")
        return r.json() if r.content else None


async def until(what: str, probe: Any, timeout: float = 60.0) -> Any:
    """Poll ``probe`` until it gives a value (the services talk through events: eventually consistent)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def scheduled_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days, day = [], start
    while day <= end:
        if day.strftime("%a").lower() in SCHEDULE and day not in FI_HOLIDAYS:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@dataclass
class City:
    """What the seeding made, for the printout and the tests."""

    clients: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    agreements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    settlements: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    batches: list[dict[str, Any]] = field(default_factory=list)
    mover: str = ""
    today: str = ""
    known: set[tuple[str, str]] = field(default_factory=set)  # agreements the attendance service has heard of


async def seed(urls: dict[str, str], say: Any = print, secret: str = DEV_JWT_SECRET) -> City:
    s = {name: Remote(url, secret) for name, url in urls.items() if name in SERVICES}
    decision, voucher, registry, attendance, billing = (s[n] for n in SERVICES)
    city = City()
    notices_run: list[dt.date] = []

    async def clock(day: str) -> None:
        await decision.ok("POST", "/v1/admin/clock", "admin", json={"date": day})
        city.today = day
        say(f"  clock -> {day}")

    async def job(service: Remote, name: str, day: str) -> Any:
        return (await service.ok("POST", f"/v1/admin/jobs/{name}/run", "admin", params={"date": day}))["result"]

    async def daily_jobs(day: str) -> None:
        """The daily jobs the schedulers would have run (they are off): the month's follow-ups become due and
        late (ATT-11), unconfirmed months late (ATT-10), delayed vouchers (VOU-3), periods ending (REP-3/REP-4),
        and a Kela TT3 round for every two-week review period that has ended since the last round (ATT-6)."""
        for service, name in ((voucher, "vouchers-delayed"), (voucher, "periods-ending"), (voucher, "agreements-ending"),
                              (attendance, "reports-due"), (attendance, "months-late")):
            await job(service, name, day)
        run_on = notices_run[-1] + dt.timedelta(days=14) if notices_run else dt.date(2026, 12, 21)
        while run_on <= dt.date.fromisoformat(day):
            await job(attendance, "absence-notices", run_on.isoformat())
            notices_run.append(run_on)
            run_on += dt.timedelta(days=14)

    try:
        await clock("2026-11-30")
        say("Three providers apply and are approved")
        products: dict[str, dict[str, Any]] = {}
        unit_rows: dict[str, dict[str, Any]] = {}
        for pid, name, business_id, iban, supplier, unit_name in PROVIDERS:
            unit, product = await approved_provider(registry, pid, name=name, business_id=business_id, iban=iban,
                                                    supplier_number=supplier, unit_name=unit_name,
                                                    producer_code=f"SPC-{pid}")
            city.units[pid], unit_rows[pid], products[pid] = unit["id"], unit, product

        say("Twelve decisions (December 2026 to November 2027); the voucher service issues a voucher for each")
        vouchers = []
        for i, (first, last) in enumerate(NAMES):
            body = decision_body(source_id=f"EFF-2026-{1000 + i}", received_on="2026-11-26", client={
                "hetu": hetu(i), "first_name": first, "last_name": last, "language": "sv" if i == 8 else "fi",
                "municipality": "Turku", "phone": f"+3584012340{i:02d}", "email": f"{first.lower()}@example.fi",
                "address": f"Aurakatu {i + 1}, 20100 Turku", "interpreter_needed": False})
            made = await decision.ok("POST", "/v1/decisions", "integrator", json=body)
            city.clients.append(made["client_id"])
            city.names[made["client_id"]] = f"{first} {last}"

            async def issued(decision_id: str = made["id"]) -> Any:
                found = await voucher.ok("GET", "/v1/vouchers", "city_official", params={"decision_id": decision_id})
                return found[0] if found else None

            vouchers.append(await until("voucher issued", issued))
        city.mover = city.clients[MOVER]

        say(f"Eleven agreements signed from 7 December to {AGREEMENT_END} (the twelfth client never contacts a provider)")
        for i, pid in enumerate(PROVIDER_OF):
            agreement = await signed_agreement(voucher, vouchers[i], unit_rows[pid], products[pid], provider_id=pid,
                                               end_date=AGREEMENT_END)
            city.agreements.setdefault(city.clients[i], []).append(agreement)
        await clock("2026-12-07")
        started = await job(voucher, "services-starting", "2026-12-07")
        say(f"  services started: {started.get('started')}")

        # Month by month: each month's log is posted in one batch per provider on the 2nd of the next, confirmed
        # and followed up; the daily jobs of the 4th run; billing computes the month, an official approves it and
        # the approved settlements are settled and paid on the 8th.
        for month in MONTHS:
            first_day = dt.date.fromisoformat(month + "-01")
            last_day = first_day.replace(day=calendar.monthrange(first_day.year, first_day.month)[1])
            following = last_day + dt.timedelta(days=1)
            await clock(following.replace(day=2).isoformat())
            late = LATE.get(month, ())
            say(f"{month}: daily log{' (' + ', '.join(late) + ' late)' if late else ''}")
            await log_month(attendance, city, max(first_day, dt.date(2026, 12, 7)), last_day, exceptions=absences(month),
                            skip=late)
            if month == "2027-01":
                first_agreement = city.agreements[city.clients[1]][0]
                r = await attendance.ok("POST", "/v1/daily-log", "provider", provider_id="P1", json={"entries": [
                    {"agreement_id": first_agreement["id"], "date": "2026-12-15", "kind": "present", "start": "10:00",
                     "end": "14:00", "tasks": "puutyöt", "correction": True, "note": "the certificate was for another day"}]})
                say(f"  correction of 15 December: {r['results'][0]['status']}")
            await confirm_and_follow_up(attendance, city, month, skip=late)
            if month == "2026-12":
                say("  client 4 changes provider: P2 from 11 January; P1's agreement ends the day before (AGR-18)")
                moved = await signed_agreement(voucher, vouchers[MOVER], unit_rows["P2"], products["P2"],
                                               provider_id="P2", start_date="2027-01-11", end_date=AGREEMENT_END)
                city.agreements[city.mover].append(moved)
            compute_on = following.replace(day=4).isoformat()
            await clock(compute_on)
            await daily_jobs(compute_on)
            await settle_month(billing, city, month, compute_on, following.replace(day=8).isoformat(), clock, job, say,
                               expected=[p for p, *_ in PROVIDERS if p not in late])
        return city
    finally:
        for remote in s.values():
            await remote.client.aclose()


def absences(month: str) -> dict[tuple[int, str], dict[str, Any]]:
    """The month's exceptions to a present day, by (client index, date): December's sick days, unauthorised
    absence and closure; January's long sick leave (ATT-5, ATT-14); from then on a sick day (with a
    certificate, ATT-3) for a different client each month, and a summer closure of P2 in July."""
    sick = {"kind": "absent", "reason": "sick_with_certificate", "certificate": True, "same_day_contact": True}
    closed = {"kind": "not_organised", "not_organised_reason": "provider_closure"}
    if month == "2026-12":
        return {(1, "2026-12-15"): sick,
                (2, "2026-12-16"): {"kind": "absent", "reason": "sick_without_certificate", "same_day_contact": False},
                (4, "2026-12-23"): closed, (5, "2026-12-23"): closed}
    if month == "2027-01":
        return {(6, d.isoformat()): sick for d in scheduled_days(dt.date(2027, 1, 11), dt.date(2027, 1, 31))}
    first = dt.date.fromisoformat(month + "-01")
    k = MONTHS.index(month)
    found: dict[tuple[int, str], dict[str, Any]] = {(k % len(PROVIDER_OF), scheduled_days(first, first + dt.timedelta(days=9))[1].isoformat()): sick}
    if month == "2027-07":
        found.update({(i, "2027-07-14"): closed for i, p in enumerate(PROVIDER_OF) if p == "P2"})
    return found


async def log_month(attendance: Remote, city: City, start: dt.date, end: dt.date,
                    exceptions: dict[tuple[int, str], dict[str, Any]], skip: tuple[str, ...] = ()) -> None:
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for i, client in enumerate(city.clients):
        for agreement in city.agreements.get(client, []):
            if agreement["provider_id"] in skip:
                continue
            a_start = max(start, dt.date.fromisoformat(agreement["start_date"]))
            a_end = min(end, dt.date.fromisoformat(agreement["end_date"]))
            if client == city.mover and agreement["provider_id"] == "P1":
                a_end = min(a_end, MOVED_ON - dt.timedelta(days=1))  # ended the day before the new one (AGR-18)
            for day in scheduled_days(a_start, a_end):
                entry = exceptions.get((i, day.isoformat())) or {"kind": "present", "start": "10:00", "end": "14:00",
                                                                 "tasks": "puutyöt"}
                by_provider.setdefault(agreement["provider_id"], []).append(
                    {"agreement_id": agreement["id"], "date": day.isoformat(), **entry})
    # The attendance service learns of agreements from the voucher service's events (eventually): the batch
    # is posted once it knows each of them.
    for agreement_id, pid in sorted({(e["agreement_id"], p) for p, es in by_provider.items() for e in es} - city.known):
        async def known(agreement_id: str = agreement_id, pid: str = pid) -> bool:
            r = await attendance.client.get(f"/v1/agreements/{agreement_id}", headers=attendance.auth("provider", provider_id=pid))
            return r.status_code == 200

        await until(f"attendance knows agreement {agreement_id}", known)
        city.known.add((agreement_id, pid))
    for pid, entries in by_provider.items():
        r = await attendance.ok("POST", "/v1/daily-log", "provider", provider_id=pid, json={"entries": entries})
        if r["counts"]["rejected"]:
            raise RuntimeError(f"{pid}: rejected entries: {[x for x in r['results'] if x['status'] == 'rejected'][:3]}")


async def confirm_and_follow_up(attendance: Remote, city: City, month: str, skip: tuple[str, ...] = ()) -> None:
    """Each provider confirms its unit's month (ATT-10) and sends each client's monthly follow-up (ATT-11);
    a provider in ``skip`` does neither (its month is late)."""
    first = dt.date.fromisoformat(month + "-01")
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    for pid, *_ in PROVIDERS:
        if pid in skip:
            continue
        await attendance.ok("POST", f"/v1/months/{month}/confirm", "provider", provider_id=pid, expect=(200, 201),
                            json={"unit_id": city.units[pid]})
    for client in city.clients:
        for agreement in city.agreements.get(client, []):
            if agreement["provider_id"] in skip or client == city.mover and agreement["provider_id"] == "P1" and first > MOVED_ON:
                continue
            if dt.date.fromisoformat(agreement["start_date"]) <= last:
                await monthly_follow_up(attendance, agreement["id"], month, provider_id=agreement["provider_id"])


async def settle_month(billing: Remote, city: City, month: str, compute_on: str, settle_on: str, clock: Any, job: Any,
                       say: Any, expected: list[str]) -> None:
    """Billing computes the month (BIL-1..BIL-3); an official approves each provider's settlement except those
    left for review in the console (REVIEW), they are settled on ``settle_on`` into a payment batch with its
    pain.001 file, paid unless the month is in UNPAID. The last month is only computed (it awaits review)."""

    async def ready() -> Any:
        await job(billing, "settle-month", compute_on)
        rows = await billing.ok("GET", "/v1/settlements", "city_official", params={"month": month})
        return rows if sorted(r["provider_id"] for r in rows) == expected and not any(r["held"] for r in rows) else None

    rows = await until(f"{month} computed for {', '.join(expected)} and not held", ready)
    city.settlements[month] = rows
    if month == LAST_MONTH:
        say(f"  {month}: {len(rows)} settlements computed, awaiting an official's review in the console")
        return
    approved = [r for r in rows if r["provider_id"] not in REVIEW.get(month, ())]
    for row in approved:
        await billing.ok("POST", f"/v1/settlements/{row['id']}/approve", "city_official")
    await clock(settle_on)
    await job(billing, "settle-month", settle_on)
    batch = await billing.ok("POST", "/v1/payment-batches", "city_official",
                             json={"settlement_ids": [r["id"] for r in approved], "execution_date": settle_on})
    pain = await billing.client.get(f"/v1/payment-batches/{batch['id']}/pain001", headers=billing.auth("city_official"))
    if pain.status_code != 200 or "<CstmrCdtTrfInitn>" not in pain.text:
        raise RuntimeError(f"no pain.001 for batch {batch['id']}: {pain.status_code}")
    pay = month not in UNPAID
    if pay:
        await billing.ok("POST", f"/v1/payment-batches/{batch['id']}/mark-paid", "city_official")
    city.batches.append(batch)
    say(f"  {month}: {len(rows)} settlements, {sum(r['total_cents'] for r in rows) / 100:.2f} EUR, "
        f"payment batch {batch.get('number', batch['id'])}{' paid' if pay else ''}")


async def timeline_text(urls: dict[str, str], client_id: str, name: str, secret: str = DEV_JWT_SECRET) -> list[str]:
    """The client's timeline as the console shows it to an official (the console's own code, in English)."""
    from ktt_console.app import Viewer
    from ktt_console.pages import client_timeline
    from ktt_console.settings import ConsoleSettings
    from ktt_console.upstream import Upstream

    upstreams: dict[str, Any] = {f"CONSOLE_{k.upper().replace('-', '_')}_URL": v for k, v in urls.items() if k in SERVICES}
    settings = ConsoleSettings(KTT_ENV="development", **upstreams)
    upstream = Upstream(settings)
    token = issue_token(secret, role="city_official")
    viewer = Viewer(token, Principal(subject="demo", role=Role.CITY_OFFICIAL), "en")
    try:
        events, _ = await client_timeline(upstream, viewer, client_id)
    finally:
        await upstream.close()
    from ktt_console.i18n import translator

    t = translator("en")
    lines = [f"Timeline of {name} (client {client_id}):"]
    for e in events or []:
        lines.append(f"  {str(e['date'])[:10]}  {t('timeline.' + e['kind']):<10} {e['text']}")
    return lines


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f}s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seed a small city through the public APIs and show the console")
    parser.add_argument("--data-dir", default=os.environ.get("DEMO_DATA_DIR", "var/demo"))
    parser.add_argument("--keep-data", action="store_true", help="do not wipe the data directory first")
    parser.add_argument("--exit", action="store_true", help="stop the system after printing (default: keep serving)")
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir).resolve()
    if data_dir.exists() and not args.keep_data:
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DATA_DIR=str(data_dir), KTT_ENV="development", SCHEDULER_ENABLED="false")
    system = subprocess.Popen([sys.executable, "-m", "ktt_common.devrun"], env=env)
    host = "127.0.0.1"
    urls = {name: f"http://{host}:{os.environ.get(name.upper().replace('-', '_') + '_PORT', port)}"
            for name, port in SERVICE_PORTS.items()}
    console = f"http://{host}:{os.environ.get('CONSOLE_PORT', '8000')}"
    try:
        for url in [*urls.values(), console]:
            _wait_http(url + "/healthz", 90)
        city = asyncio.run(seed(urls))
        lines = asyncio.run(timeline_text(urls, city.mover, city.names[city.mover]))
        print("\nThe demo city is ready.")
        print(f"  Console: {console}/login  (officials: role Typake official; providers: role provider with P1, P2 or P3)")
        print("\n".join(lines))
        if args.exit:
            return 0
        print("\nStop with Ctrl-C.")
        signal.signal(signal.SIGINT, lambda *_: None)
        system.wait()
        return 0
    finally:
        if system.poll() is None:
            system.send_signal(signal.SIGTERM)
            system.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
