"""The console in a real headless Chromium (Debian's ``chromium``, driven by Playwright through
``executable_path``; ``make test`` installs the package when it is missing) against the whole spawned
system seeded by ``make demo``'s code. One system and one browser are shared by every test here.

Screenshots of the main pages are written to ``test-output/console/`` (``KTT_TEST_OUTPUT``) for review."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ktt_console.i18n import catalogue

from ktt_common.auth import issue_token
from ktt_common.identifiers import contains_hetu
from ktt_common.settings import DEV_JWT_SECRET

CHROMIUM = "/usr/bin/chromium"
FI = catalogue("fi")
OUT = Path(os.environ.get("KTT_TEST_OUTPUT", "test-output")) / "console"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "make test installs Debian's chromium package (apt-get install -y chromium)"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def login(browser: Any, console: str, role: str, provider_id: str = "", width: int = 1280) -> Any:
    context = browser.new_context(locale="fi-FI", viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(console + "/login")
    page.get_by_role("radio", name=FI[f"role.{role}"], exact=True).check()
    if provider_id:
        page.get_by_label(FI["login.provider_id"]).fill(provider_id)
    page.get_by_role("button", name=FI["login.submit"]).click()
    page.wait_for_load_state()
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def api(city: Any, service: str, method: str, path: str, role: str, **kw: Any) -> httpx.Response:
    claims = {k: kw.pop(k) for k in ("provider_id",) if k in kw}
    token = issue_token(DEV_JWT_SECRET, role=role, **claims)
    return httpx.request(method, city.urls[service] + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw)


def test_a_login_per_role_lands_on_its_own_first_page(city, browser):  # type: ignore[no-untyped-def]
    for role, provider, first in (("city_official", "", "nav.deadlines"), ("social_worker", "", "nav.deadlines"),
                                  ("provider", "P1", "nav.my_clients")):
        page = login(browser, city.console, role, provider)
        assert page.get_by_role("heading", level=1).inner_text() == FI[first]
        assert FI[f"role.{role}"] in page.locator("header").inner_text()
        [cookie] = [c for c in page.context.cookies() if c["name"] == "ktt_console_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.context.close()
    # A provider id the services would refuse is a readable error on the form, not a session.
    page = login(browser, city.console, "provider", "not valid!")
    assert page.locator("#login-error").inner_text() == FI["login_provider_id"]
    page.context.close()


def test_every_official_page_shows_its_main_list(city, browser):  # type: ignore[no-untyped-def]
    page = login(browser, city.console, "city_official")
    # Deadlines, overdue first: the twelfth client never contacted a provider (VOU-3); delayed vouchers.
    page.goto(city.console + "/deadlines")
    rows = page.locator("section").first.locator("tbody tr")
    assert rows.count() >= 1 and FI["overdue"] in rows.first.inner_text()
    assert FI["deadline.service_start"] in page.locator("main").inner_text()
    # Late months (ATT-10): P3 never confirmed February.
    late = page.locator("section", has=page.get_by_role("heading", name=FI["late_months.heading"])).locator("tbody tr")
    assert [r for r in late.all_inner_texts() if "P3" in r and "2027-02" in r], late.all_inner_texts()
    shot(page, "official-deadlines")
    # Alerts: January's long sick leave (ATT-5).
    page.goto(city.console + "/alerts")
    assert FI["alert.LongSickLeave"] in page.locator("main").inner_text()
    shot(page, "official-alerts")
    # Notices: TE-office start notices of the eleven started services (DEC-6).
    page.goto(city.console + "/notices")
    assert page.locator("section").first.locator("tbody tr").count() >= 11
    shot(page, "official-notices")
    # Units with free places and queues, one per provider.
    page.goto(city.console + "/units")
    text = page.locator("main").inner_text()
    assert all(name in text for name in ("Turun Työpaja ry", "Aurajoen Kierrätys ry", "Saariston Puutarha ry"))
    shot(page, "official-units")
    # Settlements with the chart, and a client's timeline without a hetu.
    page.goto(city.console + "/settlements")
    assert page.locator("svg[role=img] rect").count() >= 2
    assert page.locator("section").first.locator("tbody tr").count() == 32  # a year: 11 months, P3 has no February
    shot(page, "official-settlements")
    page.goto(city.console + "/clients")
    assert page.locator("tbody tr").count() == 12  # eleven agreements and the mover's second one
    page.goto(city.console + f"/clients/{city.city.mover}")
    main = page.locator("main").inner_text()
    assert city.city.names[city.city.mover] in main
    for kind in ("decision", "voucher", "agreement", "log", "report", "payment"):
        assert FI[f"timeline.{kind}"] in main, kind
    assert not contains_hetu(page.content())
    shot(page, "official-timeline")


def test_providers_awaiting_approval_show_their_missing_preconditions(city, browser):  # type: ignore[no-untyped-def]
    r = api(city, "provider-registry", "POST", "/v1/providers", "provider", provider_id="P9", json={
        "name": "Uusi Hakija ry", "business_id": "0201256-6", "legal_form": "registered_association",
        "registration": {"register": "avi", "number": "AVI-9", "date": "2025-01-15"},
        "data_protection_officer": {"name": "Tiina Tietosuoja", "email": "dpo@hakija.example"},
        "contact": {"phone": "+35821000009", "email": "info@hakija.example", "address": "Linnankatu 9, 20100 Turku"},
        "website": "https://hakija.example", "supplier_number": "S-9", "payment_terms_days": 14,
        "iban": "FI1410093000123458", "presentation": "Uusi.", "phone_hours": "Mon-Fri 9-11"})
    assert r.status_code == 201, r.text
    page = login(browser, city.console, "city_official")
    page.goto(city.console + "/providers")
    row = page.locator("tbody tr", has_text="Uusi Hakija ry")
    row.get_by_role("button", name=FI["approve"]).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name=FI["providers.missing"]).count() == 1
    assert re.search(r"PRV-\d+", page.locator("main").inner_text())
    shot(page, "official-providers-missing")
    assert api(city, "provider-registry", "GET", "/v1/providers/P9", "city_official").json()["status"] == "applied"


def test_an_official_approves_a_settlement_and_acknowledges_an_alert(city, browser):  # type: ignore[no-untyped-def]
    page = login(browser, city.console, "city_official")
    page.goto(city.console + "/settlements?month=2027-01")
    row = page.locator("tbody tr", has_text="P3")
    row.get_by_role("button", name=re.compile(FI["approve"])).click()
    page.wait_for_load_state()
    assert FI["done.approved"] in page.locator("main").inner_text()
    [p3] = api(city, "billing", "GET", "/v1/settlements", "city_official", params={"month": "2027-01", "provider_id": "P3"}).json()
    assert p3["state"] == "approved" and p3["approved_by"]
    page.goto(city.console + "/alerts")
    before = page.locator("section").first.locator("tbody tr").count()
    page.locator("section").first.get_by_role("button", name=re.compile(FI["acknowledge"])).first.click()
    page.wait_for_load_state()
    assert FI["done.acknowledged"] in page.locator("main").inner_text()
    assert page.locator("section").first.locator("tbody tr").count() == before - 1


def test_provider_pages_grid_upload_and_reports(city, browser):  # type: ignore[no-untyped-def]
    page = login(browser, city.console, "provider", "P3")
    assert page.locator("tbody tr").count() == 3  # P3's three clients
    shot(page, "provider-clients")
    page.goto(city.console + "/my/grid?month=2027-02")
    missing_before = page.locator("td.c-q").count()
    assert missing_before == 3 * 12  # February not logged: Mon-Wed, 12 days, three clients
    shot(page, "provider-grid")
    # The CSV upload: P3 logs the first week of February for its clients.
    agreements = [a for a in api(city, "voucher", "GET", "/v1/agreements", "provider", provider_id="P3").json()]
    lines = ["agreement_id;date;kind;start;end;tasks"] + [
        f"{a['id']};{d};present;10:00;14:00;puutarhatyöt" for a in agreements for d in ("2027-02-01", "2027-02-02", "2027-02-03")]
    csv = OUT / "february-week-1.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.get_by_label(FI["upload.file"], exact=True).set_input_files(str(csv))
    page.get_by_role("button", name=FI["upload.send"]).click()
    page.wait_for_load_state()
    assert page.locator("#upload-counts").inner_text() == FI["upload.counts"].format(
        accepted=9, unchanged=0, revised=0, rejected=0)
    assert page.locator("td.c-q").count() == missing_before - 9
    assert page.locator("td.c-P").count() == 9
    shot(page, "provider-grid-uploaded")
    # Reports owed: February's monthly follow-ups.
    page.goto(city.console + "/my/reports")
    assert FI["report.monthly_follow_up"] in page.locator("main").inner_text()
    shot(page, "provider-reports")
    # Settlements: only its own.
    page.goto(city.console + "/settlements")
    table = page.locator("section").first.locator("tbody")
    assert "P3" in table.inner_text() and "P1" not in table.inner_text() and "P2" not in table.inner_text()
    shot(page, "provider-settlements")


def test_a_provider_cannot_open_another_providers_client(city, browser):  # type: ignore[no-untyped-def]
    other = city.city.clients[8]  # a client of P3 (DATA-3)
    page = login(browser, city.console, "provider", "P1")
    response = page.goto(city.console + f"/clients/{other}")
    assert response.status == 404
    main = page.locator("main").inner_text()
    assert FI["not_found"] in main
    assert city.city.names[other] not in main and "P3" not in main and FI["timeline.decision"] not in main
    # Its own client's page opens.
    own = page.goto(city.console + f"/clients/{city.city.clients[0]}")
    assert own.status == 200 and FI["timeline.agreement"] in page.locator("main").inner_text()
    # An official-only page is refused to a provider.
    assert page.goto(city.console + "/deadlines").status == 403


def test_keyboard_phone_width_and_languages(city, browser):  # type: ignore[no-untyped-def]
    page = login(browser, city.console, "city_official", width=375)
    page.goto(city.console + "/settlements")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == FI["skip"]
    # Nothing wider than a phone's screen: wide tables scroll inside their own region.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, "official-settlements-phone")
    page.get_by_role("link", name="SV").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == catalogue("sv")["nav.settlements"]
    assert page.locator("html").get_attribute("lang") == "sv"


def test_a_provider_disputes_a_line_of_its_settlement(city, browser):  # type: ignore[no-untyped-def]
    [january] = api(city, "billing", "GET", "/v1/settlements", "provider", provider_id="P2",
                    params={"month": "2027-01", "provider_id": "P2"}).json()
    page = login(browser, city.console, "provider", "P2")
    page.goto(city.console + f"/settlements/{january['id']}")
    assert page.locator("svg[role=img] rect").count() == 5  # the month's figures as a chart
    page.get_by_label(FI["dispute_reason"].format(line=1), exact=True).fill("Yksi päivä puuttuu")
    page.get_by_role("button", name=FI["dispute_line"].format(line=1), exact=True).click()
    page.wait_for_load_state()
    assert FI["done.disputed"] in page.locator("main").inner_text()
    assert FI["disputed"] in page.locator("tbody tr").first.inner_text()
    shot(page, "provider-settlement-disputed")
    disputes = api(city, "billing", "GET", "/v1/disputes", "city_official", params={"state": "open"}).json()
    assert [(d["provider_id"], d["reason"]) for d in disputes] == [("P2", "Yksi päivä puuttuu")]
    # The official sees it on the settlements page.
    official = login(browser, city.console, "city_official")
    official.goto(city.console + "/settlements")
    assert "Yksi päivä puuttuu" in official.locator("main").inner_text()
    # ... and answers it: rejected, with the answer the provider reads.
    row = official.locator("tbody tr", has_text="Yksi päivä puuttuu")
    row.get_by_label(FI["resolve_answer"].format(provider="P2"), exact=True).fill("Päivä on laskettu tammikuun riville.")
    row.get_by_role("button", name=FI["resolve_dispute"].format(outcome=FI["resolve.reject"], provider="P2"), exact=True).click()
    official.wait_for_load_state()
    assert FI["done.resolved"] in official.locator("main").inner_text()
    shot(official, "official-dispute-answered")
    [answered] = api(city, "billing", "GET", "/v1/disputes", "city_official", params={"provider_id": "P2"}).json()
    assert (answered["state"], answered["answer"]) == ("rejected", "Päivä on laskettu tammikuun riville.")
    page.goto(city.console + "/settlements")
    assert "Päivä on laskettu tammikuun riville." in page.locator("main").inner_text()  # the provider reads it
    assert not page.get_by_role("button", name=FI["resolve_dispute"].format(outcome=FI["resolve.reject"], provider="P2")).count()
