"""``make demo``: a small city seeded through the public APIs only, then the console's address and one
client's readable timeline.

It starts the whole system (``ktt_common.devrun``: nats-server, the five services and the console) on a
fresh ``DATA_DIR`` (default ``var/demo``) with the schedulers off, so that the daily jobs run exactly
when the story runs them, and moves the shared development clock (``POST /v1/admin/clock``) through
the story:

- three providers apply and are approved (P1, P2, P3), a dozen clients get decisions and vouchers;
- eleven sign agreements from 7 December 2026; the twelfth never contacts a provider (a delayed voucher);
- December and January are logged (absences, a closure, a correction of December made in February),
  confirmed and followed up; client 4 changes from P1 to P2 on 11 January (AGR-18);
- both months are settled, approved and put in payment batches (pain.001); the first batch is paid;
  P3's January waits for an official's approval in the console;
- February is left unlogged for P3, so its month grid shows the days still missing, and the
  monthly follow-ups of February are owed.

The same :func:`seed` runs as a test (``services/console/tests/test_demo.py``) against services the
test starts. Everything goes through the services' REST APIs with tokens of the right roles.
"""

from __future__ import annotations

import argparse
import asyncio
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
SCHEDULE = ("mon", "tue", "wed")
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


async def seed(urls: dict[str, str], say: Any = print, secret: str = DEV_JWT_SECRET) -> City:
    s = {name: Remote(url, secret) for name, url in urls.items() if name in SERVICES}
    decision, voucher, registry, attendance, billing = (s[n] for n in SERVICES)
    city = City()

    async def clock(day: str) -> None:
        await decision.ok("POST", "/v1/admin/clock", "admin", json={"date": day})
        say(f"  clock -> {day}")

    async def job(service: Remote, name: str, day: str) -> Any:
        return (await service.ok("POST", f"/v1/admin/jobs/{name}/run", "admin", params={"date": day}))["result"]

    try:
        await clock("2026-11-30")
        say("Three providers apply and are approved")
        products: dict[str, dict[str, Any]] = {}
        for pid, name, business_id, iban, supplier, unit_name in PROVIDERS:
            unit, product = await approved_provider(registry, pid, name=name, business_id=business_id, iban=iban,  # type: ignore[arg-type]
                                                    supplier_number=supplier, unit_name=unit_name,
                                                    producer_code=f"SPC-{pid}")
            city.units[pid], products[pid] = unit["id"], product
            city.units[pid + ":unit"] = unit  # type: ignore[assignment]

        say("Twelve decisions; the voucher service issues a voucher for each")
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

        say("Eleven agreements signed from 7 December (the twelfth client never contacts a provider)")
        for i, pid in enumerate(PROVIDER_OF):
            unit = city.units[pid + ":unit"]
            agreement = await signed_agreement(voucher, vouchers[i], unit, products[pid], provider_id=pid)  # type: ignore[arg-type]
            city.agreements.setdefault(city.clients[i], []).append(agreement)
        await clock("2026-12-07")
        started = await job(voucher, "services-starting", "2026-12-07")
        say(f"  services started: {started.get('started')}")

        # December's log, posted on 2 January.
        await clock("2027-01-02")
        say("December's daily log (a sick day, an unauthorised absence, a closure), confirmed and followed up")
        december = dt.date(2026, 12, 7), dt.date(2026, 12, 31)
        await log_month(attendance, city, *december, exceptions={
            (1, "2026-12-15"): {"kind": "absent", "reason": "sick_with_certificate", "certificate": True, "same_day_contact": True},
            (2, "2026-12-16"): {"kind": "absent", "reason": "sick_without_certificate", "same_day_contact": False},
            (4, "2026-12-23"): {"kind": "not_organised", "not_organised_reason": "provider_closure"},
            (5, "2026-12-23"): {"kind": "not_organised", "not_organised_reason": "provider_closure"},
        })
        await confirm_and_follow_up(attendance, city, "2026-12")

        say("Client 4 changes provider: P2 from 11 January; P1's agreement ends the day before (AGR-18)")
        moved = await signed_agreement(voucher, vouchers[MOVER], city.units["P2:unit"], products["P2"], provider_id="P2",  # type: ignore[arg-type]
                                       start_date="2027-01-11", end_date="2027-05-31")
        city.agreements[city.mover].append(moved)
        await settle_month(billing, city, "2026-12", "2027-01-04", "2027-01-08", clock, job, say, pay=True)

        # January's log, posted on 2 February, with a correction of December.
        await clock("2027-02-02")
        say("January's daily log (a long sick leave), a correction of December, confirmed and followed up")
        long_sick = {(6, d.isoformat()): {"kind": "absent", "reason": "sick_with_certificate", "certificate": True,
                                          "same_day_contact": True}
                     for d in scheduled_days(dt.date(2027, 1, 11), dt.date(2027, 1, 31))}
        await log_month(attendance, city, dt.date(2027, 1, 1), dt.date(2027, 1, 31), exceptions=long_sick)
        first_agreement = city.agreements[city.clients[1]][0]
        r = await attendance.ok("POST", "/v1/daily-log", "provider", provider_id="P1", json={"entries": [
            {"agreement_id": first_agreement["id"], "date": "2026-12-15", "kind": "present", "start": "10:00", "end": "14:00",
             "tasks": "puutyöt", "correction": True, "note": "the certificate was for another day"}]})
        say(f"  correction of 15 December: {r['results'][0]['status']}")
        await confirm_and_follow_up(attendance, city, "2027-01")
        # P3's January is left under review for an official to approve in the console.
        await settle_month(billing, city, "2027-01", "2027-02-04", "2027-02-08", clock, job, say, pay=False, review=("P3",))

        # February: P1 and P2 log theirs, P3 does not (its month grid shows the days missing).
        await clock("2027-03-02")
        say("February logged by P1 and P2; P3's days are still missing; the daily jobs of 2 March run")
        await log_month(attendance, city, dt.date(2027, 2, 1), dt.date(2027, 2, 28), exceptions={}, skip=("P3",))
        for service, name in ((voucher, "vouchers-delayed"), (voucher, "periods-ending"), (attendance, "reports-due"),
                              (attendance, "absence-notices"), (attendance, "months-late")):
            await job(service, name, "2027-03-02")
        return city
    finally:
        for remote in s.values():
            await remote.client.aclose()


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
                a_end = min(a_end, dt.date(2027, 1, 10))  # ended the day before the new one (AGR-18)
            for day in scheduled_days(a_start, a_end):
                entry = exceptions.get((i, day.isoformat())) or {"kind": "present", "start": "10:00", "end": "14:00",
                                                                 "tasks": "puutyöt"}
                by_provider.setdefault(agreement["provider_id"], []).append(
                    {"agreement_id": agreement["id"], "date": day.isoformat(), **entry})
    for pid, entries in by_provider.items():
        r = await attendance.ok("POST", "/v1/daily-log", "provider", provider_id=pid, json={"entries": entries})
        if r["counts"]["rejected"]:
            raise RuntimeError(f"{pid}: rejected entries: {[x for x in r['results'] if x['status'] == 'rejected'][:3]}")


async def confirm_and_follow_up(attendance: Remote, city: City, month: str) -> None:
    first = dt.date.fromisoformat(month + "-01")
    for pid, *_ in PROVIDERS:
        await attendance.ok("POST", f"/v1/months/{month}/confirm", "provider", provider_id=pid, expect=(200, 201),
                            json={"unit_id": city.units[pid]})
    for client in city.clients:
        for agreement in city.agreements.get(client, []):
            if dt.date.fromisoformat(agreement["start_date"]) <= first.replace(day=28):
                await monthly_follow_up(attendance, agreement["id"], month, provider_id=agreement["provider_id"])  # type: ignore[arg-type]


async def settle_month(billing: Remote, city: City, month: str, compute_on: str, settle_on: str, clock: Any, job: Any,
                       say: Any, pay: bool, review: tuple[str, ...] = ()) -> None:
    await clock(compute_on)
    say(f"Billing computes {month}; an official approves each provider's settlement")

    async def ready() -> Any:
        await job(billing, "settle-month", compute_on)
        rows = await billing.ok("GET", "/v1/settlements", "city_official", params={"month": month})
        return rows if len(rows) == len(PROVIDERS) and not any(r["held"] for r in rows) else None

    rows = await until(f"{month} computed for every provider and not held", ready)
    approved = [r for r in rows if r["provider_id"] not in review]
    for row in approved:
        await billing.ok("POST", f"/v1/settlements/{row['id']}/approve", "city_official")
    await clock(settle_on)
    await job(billing, "settle-month", settle_on)
    batch = await billing.ok("POST", "/v1/payment-batches", "city_official",
                             json={"settlement_ids": [r["id"] for r in approved], "execution_date": settle_on})
    pain = await billing.client.get(f"/v1/payment-batches/{batch['id']}/pain001", headers=billing.auth("city_official"))
    if pain.status_code != 200 or "<CstmrCdtTrfInitn>" not in pain.text:
        raise RuntimeError(f"no pain.001 for batch {batch['id']}: {pain.status_code}")
    if pay:
        await billing.ok("POST", f"/v1/payment-batches/{batch['id']}/mark-paid", "city_official")
    city.settlements[month] = rows
    city.batches.append(batch)
    say(f"  {month}: {len(rows)} settlements, {sum(r['total_cents'] for r in rows) / 100:.2f} EUR, "
        f"payment batch {batch.get('number', batch['id'])}{' paid' if pay else ''}")


async def timeline_text(urls: dict[str, str], client_id: str, name: str, secret: str = DEV_JWT_SECRET) -> list[str]:
    """The client's timeline as the console shows it to an official (the console's own code, in English)."""
    from ktt_console.app import Viewer
    from ktt_console.pages import client_timeline
    from ktt_console.settings import ConsoleSettings
    from ktt_console.upstream import Upstream

    settings = ConsoleSettings(KTT_ENV="development", **{f"CONSOLE_{k.upper().replace('-', '_')}_URL": v
                                                         for k, v in urls.items() if k in SERVICES})
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
    console = f"http://{host}:{os.environ.get('CONSOLE_PORT', 8000)}"
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
