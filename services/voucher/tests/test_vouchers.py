"""The voucher service end to end: real NATS, real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

from ktt_common.pdf_check import assert_accessible, inspect_pdf
from ktt_common.testing import eventually, see_the_day
from ktt_voucher.vouchers.documents import TEXTS
from ktt_contracts.decision import DecisionMade, DecisionRevoked

OFFICIAL = "city_official"


# --- issuing (DEC-1, VOU-1) ----------------------------------------------------------------

async def test_one_voucher_per_decision_even_when_delivered_twice_dec_1(voucher_service, decisions):
    facts = decisions.facts(language="sv", voucher_kind="assessment_period")
    first = decisions.envelope(DecisionMade, facts)
    again = decisions.envelope(DecisionMade, facts)  # the same decision under a new event id
    assert await decisions.deliver(first) == "handled"
    assert await decisions.deliver(first) == "duplicate"
    assert await decisions.deliver(again) == "handled"
    # and concurrently, three more times
    await asyncio.gather(*(decisions.deliver(decisions.envelope(DecisionMade, facts)) for _ in range(3)))
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["type"] == "assessment_period" and v["state"] == "issued" and v["language"] == "sv"
    assert (v["valid_from"], v["valid_to"]) == ("2026-12-01", "2027-11-30")
    assert v["decided_on"] == "2026-11-25" and v["decision_version"] == 1
    assert re.fullmatch(r"KTT-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", v["number"])
    issued = await decisions.published("VoucherIssued")
    assert len(issued) == 1 and issued[0]["voucher_id"] == v["id"]
    detail = (await voucher_service.client.get(f"/v1/vouchers/{v['id']}", headers=voucher_service.auth("integrator"))).json()
    assert [(h["kind"], h["to_state"]) for h in detail["history"]] == [("issued", "issued")]


# --- amendments and revocation (DEC-7, DEC-1) ----------------------------------------------

async def test_amendment_moves_validity_and_an_older_one_is_ignored_dec_7(voucher_service, decisions):
    facts = await decisions.made()
    assert await decisions.amended(facts, version=3, period_end="2028-05-31") == "handled"
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["valid_to"] == "2028-05-31" and v["decision_version"] == 3
    # version 2 arrives late: ignored
    assert await decisions.amended(facts, version=2, period_end="2027-06-30") == "handled"
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["valid_to"] == "2028-05-31" and v["decision_version"] == 3
    # a higher version that changes nothing for the voucher publishes nothing
    assert await decisions.amended({**facts, "period_end": "2028-05-31"}, version=4, case_worker_office="social_work") == "handled"
    changed = await decisions.published("VoucherValidityChanged")
    assert len(changed) == 1
    assert changed[0]["previous_valid_to"] == "2027-11-30" and changed[0]["valid_to"] == "2028-05-31"
    assert changed[0]["decision_version"] == 3 and changed[0]["previous_type"] is None


async def test_amendment_changes_the_type_before_use(voucher_service, decisions):
    facts = await decisions.made()
    await decisions.amended(facts, version=2, voucher_kind="intensive_coaching", approved_hours=40)
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["type"] == "intensive_coaching"
    [changed] = await decisions.published("VoucherValidityChanged")
    assert changed["previous_type"] == "regular" and changed["type"] == "intensive_coaching"


async def test_amendment_before_decision_made_issues_the_voucher_once(voucher_service, decisions):
    facts = decisions.facts()
    assert await decisions.amended(facts, version=2, period_end="2027-12-31") == "handled"
    assert await decisions.deliver(decisions.envelope(DecisionMade, facts)) == "handled"  # late v1: nothing new
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["valid_to"] == "2027-12-31" and v["decision_version"] == 2
    assert len(await decisions.published("VoucherIssued")) == 1


async def test_revoked_decision_revokes_the_voucher_through_the_bus_dec_1(voucher_service, decisions):
    """DEC-1/DEC-7: DecisionRevoked published on NATS revokes the voucher in one consumer round trip."""
    facts = await decisions.made()
    env = decisions.envelope(DecisionRevoked, {"decision_id": facts["decision_id"], "client_id": facts["client_id"],
                                     "revoked_on": "2026-11-27", "reason": "the client moved to another city"})
    await voucher_service.rt.bus.publish(DecisionRevoked.subject, env.model_dump_json().encode(), env.id)

    async def revoked():
        return (await decisions.voucher_of(facts["decision_id"]))["state"] == "revoked"

    await eventually(revoked, what="voucher revoked")
    assert await decisions.revoked(facts) == "handled"  # the same revocation again: nothing new
    [event] = await decisions.published("VoucherRevoked")
    assert event["reason"] == "the client moved to another city" and event["previous_state"] == "issued"
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["state_reason"] == "the client moved to another city"
    # a later amendment does not move a revoked voucher
    await decisions.amended(facts, version=2, period_end="2028-05-31")
    assert (await decisions.voucher_of(facts["decision_id"]))["valid_to"] == "2027-11-30"
    assert await decisions.published("VoucherValidityChanged") == []


# --- the provider's check (VOU-5) ----------------------------------------------------------

async def _check(svc, number, role="provider", **claims):
    if role == "provider":
        claims.setdefault("provider_id", "prov-1")
    r = await svc.client.get(f"/v1/vouchers/check/{number}", headers=svc.auth(role, **claims))
    assert r.status_code == 200, r.text
    return r.json()


async def test_check_answers_valid_and_why_not_vou_5(voucher_service, decisions, clock):
    svc = voucher_service
    facts = await decisions.made(period_start="2026-11-20")
    number = (await decisions.voucher_of(facts["decision_id"]))["number"]

    ok = await _check(svc, number.lower().replace("-", ""))
    assert ok["valid"] is True and ok["reason"] is None and ok["number"] == number
    assert ok["type"] == "regular" and ok["valid_from"] == "2026-11-20" and ok["valid_to"] == "2027-11-30"
    assert set(ok) == {"number", "valid", "reason", "reason_text", "checked_on", "type", "valid_from", "valid_to"}
    assert facts["client_id"] not in str(ok)  # no personal data, not even the pseudonymous id

    # a one-character typo: detected by the check character, no lookup needed
    i = 5
    typo = number[:i] + ("1" if number[i] != "1" else "2") + number[i + 1:]
    assert (await _check(svc, typo))["reason"] == "bad_check_character"
    assert (await _check(svc, "KTT-12"))["reason"] == "malformed"
    from ktt_voucher.vouchers.rules import new_voucher_number

    unknown = await _check(svc, new_voucher_number())
    assert unknown == {**unknown, "valid": False, "reason": "unknown_number", "type": None, "valid_from": None}

    future = await decisions.made(period_start="2027-01-01")
    f_number = (await decisions.voucher_of(future["decision_id"]))["number"]
    assert (await _check(svc, f_number))["reason"] == "not_yet_valid"
    clock.set(dt.date(2027, 12, 1))
    assert (await _check(svc, number))["reason"] == "expired"
    clock.set(dt.date(2026, 11, 26))

    await decisions.revoked(facts)
    assert (await _check(svc, number, role="social_worker"))["reason"] == "revoked"
    r = await svc.client.post(f"/v1/vouchers/{(await decisions.voucher_of(future['decision_id']))['id']}/refuse",
                              json={"reason": "I will go to a city unit"}, headers=svc.auth(OFFICIAL))
    assert r.status_code == 200
    assert (await _check(svc, f_number))["reason"] == "refused"

    # every provider check is audited, with who checked
    audit = svc.rt.infra.audit_log
    from sqlalchemy import select

    async with svc.rt.sessionmaker() as session:
        rows = (await session.execute(select(audit.c.provider_id, audit.c.details).where(audit.c.action == "voucher.check"))).all()
    assert len(rows) == 8 and sum(1 for r in rows if r.provider_id == "prov-1") == 7


# --- the personal link and the PDF (VOU-2) -------------------------------------------------

async def _link(svc, voucher_id, **body):
    r = await svc.client.post(f"/v1/vouchers/{voucher_id}/links", json=body or None, headers=svc.auth("social_worker"))
    assert r.status_code == 201, r.text
    return r.json()


def _html_outline(page: str) -> dict:
    """What assistive technology reads from the voucher page: its language, headings in order, and
    each table row's header (th scope=row) with its cell (issue 17 item 3)."""
    from html.parser import HTMLParser

    class Outline(HTMLParser):
        def __init__(self):
            super().__init__()
            self.lang, self.headings, self.rows, self.stack, self.text = None, [], [], [], ""

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "html":
                self.lang = a.get("lang")
            if tag == "tr":
                self.rows.append([])
            if tag in ("th", "td") and self.rows:
                self.rows[-1].append([tag, a.get("scope"), ""])
            self.stack.append(tag)

        def handle_endtag(self, tag):
            while self.stack and self.stack.pop() != tag:
                pass

        def handle_data(self, data):
            if self.stack and self.stack[-1] in ("h1", "h2", "h3"):
                self.headings.append((self.stack[-1], data.strip()))
            elif self.stack and self.stack[-1] in ("th", "td") and self.rows:
                self.rows[-1][-1][2] += data

    o = Outline()
    o.feed(page)
    return {"lang": o.lang, "headings": o.headings, "rows": o.rows}


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF's text as a reader extracts it (its fonts are embedded: ToUnicode maps the glyphs)."""
    from ktt_common.pdf_check import inspect_pdf

    return inspect_pdf(pdf).text.encode()


async def test_link_page_in_finnish_and_swedish_and_pdf_vou_2(voucher_service, decisions, clock):
    svc = voucher_service
    fi = await decisions.voucher_of((await decisions.made(language="fi"))["decision_id"])
    sv = await decisions.voucher_of((await decisions.made(language="sv"))["decision_id"])
    other = await decisions.voucher_of((await decisions.made(language="ar"))["decision_id"])
    link_fi, link_sv, link_other = await _link(svc, fi["id"]), await _link(svc, sv["id"]), await _link(svc, other["id"])
    token = link_fi["url"].rsplit("/", 1)[1]
    assert len(token) >= 43 and link_fi["pdf_url"] == link_fi["url"] + "/pdf"
    assert dt.datetime.fromisoformat(link_fi["expires_at"]).date() == dt.date(2026, 12, 26)  # default 30 days

    page = await svc.client.get(link_fi["url"])  # no bearer token: the link is the credential
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="fi">' in page.text and fi["number"] in page.text
    outline = _html_outline(page.text)  # issue 17: language, one h1 then h2, every value labelled by its row header
    assert outline["lang"] == "fi"
    assert outline["headings"] == [("h1", TEXTS["fi"]["title"]), ("h2", TEXTS["fi"]["next"])]
    assert outline["rows"] and all([c[:2] for c in row] == [["th", "row"], ["td", None]] for row in outline["rows"])
    assert [TEXTS["fi"]["number"], fi["number"]] in [[c[2] for c in row] for row in outline["rows"]]
    assert "Palveluseteli" in page.text and "7 päivän" in page.text and "14 päivän" in page.text
    assert "2.12.2026" in page.text and "9.12.2026" in page.text  # VOU-3 deadlines from 25.11.2026
    assert "1.12.2026 – 30.11.2027" in page.text and "palveluseteli.fi" in page.text
    from ktt_common.identifiers import contains_hetu

    assert not contains_hetu(page.text)  # DATA-4: this service never knows the hetu
    page_sv = await svc.client.get(link_sv["url"])
    assert '<html lang="sv">' in page_sv.text and "Servicesedel" in page_sv.text and "7 dagar" in page_sv.text
    assert '<html lang="fi">' in (await svc.client.get(link_other["url"])).text  # other languages get Finnish
    assert '<html lang="sv">' in (await svc.client.get(link_fi["url"], params={"lang": "sv"})).text
    assert (await svc.client.get(link_fi["url"], params={"lang": "en"})).status_code == 422

    pdf = await svc.client.get(link_sv["pdf_url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert sv["number"].encode() in _pdf_text(pdf.content) and "Servicesedel".encode() in _pdf_text(pdf.content)
    # issue 17: an accessible document, tagged, in the client's language, fonts embedded, titled
    facts = inspect_pdf(pdf.content)
    assert_accessible(facts, lang="sv", title=TEXTS["sv"]["title"])
    assert "Document/Table/TR/TH" in facts.roles and "Document/Table/TR/TD" in facts.roles
    assert "Document/H2" in facts.roles and "Document/L/LI/LBody" in facts.roles
    assert "1.12.2026 – 30.11.2027" in facts.text  # Unicode text (the en dash) survives
    printed = await svc.client.get(f"/v1/vouchers/{fi['id']}/pdf", params={"lang": "sv"}, headers=svc.auth(OFFICIAL))
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    assert fi["number"].encode() in _pdf_text(printed.content) and b"14 dagar" in _pdf_text(printed.content)
    assert inspect_pdf(printed.content).lang == "sv"  # the language asked for, not the client's
    assert (await svc.client.get(f"/v1/vouchers/{fi['id']}/pdf", headers=svc.auth("provider", provider_id="p"))).status_code == 403

    # unknown and expired links say nothing about the voucher
    unknown = await svc.client.get("/v1/voucher-links/" + "x" * 43)
    assert unknown.status_code == 404 and fi["number"] not in unknown.text
    clock.set(dt.datetime(2026, 12, 27, 10, tzinfo=dt.UTC))
    for url in (link_fi["url"], link_fi["pdf_url"]):
        gone = await svc.client.get(url)
        assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
        assert fi["number"] not in gone.text and fi["id"] not in gone.text


async def test_link_with_custom_validity_and_token_stored_only_as_hash(voucher_service, decisions, clock):
    svc = voucher_service
    v = await decisions.voucher_of((await decisions.made())["decision_id"])
    link = await _link(svc, v["id"], valid_days=2)
    token = link["url"].rsplit("/", 1)[1]
    from sqlalchemy import select

    from ktt_voucher.vouchers.models import VoucherLink

    async with svc.rt.sessionmaker() as session:
        stored = (await session.execute(select(VoucherLink))).scalars().all()
    assert len(stored) == 1 and stored[0].token_hash != token and token not in stored[0].token_hash
    clock.set(dt.datetime(2026, 11, 28, 8, tzinfo=dt.UTC))
    assert (await svc.client.get(link["url"])).status_code == 410


# --- refusal (VOU-4) -----------------------------------------------------------------------

async def test_client_refuses_through_the_link_vou_4(voucher_service, decisions):
    svc = voucher_service
    facts = await decisions.made()
    v = await decisions.voucher_of(facts["decision_id"])
    link = await _link(svc, v["id"])
    r = await svc.client.post(link["url"] + "/refuse", json={"reason": "I prefer the city's own workshop"})
    assert r.status_code == 200 and r.json()["changed"] is True and r.json()["state"] == "refused"
    again = await svc.client.post(link["url"] + "/refuse", json={"reason": "again"})
    assert again.status_code == 200 and again.json()["changed"] is False  # harmless
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["state"] == "refused" and v["state_reason"] == "I prefer the city's own workshop"
    [event] = await decisions.published("VoucherRefused")
    assert event["reason"] == "I prefer the city's own workshop" and event["decision_id"] == facts["decision_id"]
    assert event["previous_state"] == "issued" and event["changed_on"] == "2026-11-26"
    page = await svc.client.get(link["url"])
    assert "ei ole voimassa" in page.text  # the page shows it is no longer valid
    bad = await svc.client.post(link["url"] + "/refuse", json={"reason": "", "extra": 1})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"body.reason", "body.extra"}


async def test_refusing_a_revoked_or_expired_voucher_is_a_conflict_vou_4(voucher_service, decisions):
    svc = voucher_service
    revoked = await decisions.made()
    await decisions.revoked(revoked)
    expired = await decisions.made(period_start="2026-06-01", period_end="2026-11-25")
    r = await svc.client.post("/v1/admin/jobs/vouchers-expired/run", params={"date": "2026-11-26"}, headers=svc.auth("admin"))
    assert r.status_code == 200 and r.json()["result"] == {"expired": 1}
    for facts, state in ((revoked, "revoked"), (expired, "expired")):
        v = await decisions.voucher_of(facts["decision_id"])
        assert v["state"] == state
        r = await svc.client.post(f"/v1/vouchers/{v['id']}/refuse", json={"reason": "no"}, headers=svc.auth("social_worker"))
        assert r.status_code == 409 and r.json()["rule"] == "VOU-4" and "VOU-4" in r.json()["detail"]
    assert await decisions.published("VoucherRefused") == []
    provider = await svc.client.post(f"/v1/vouchers/{v['id']}/refuse", json={"reason": "no"},
                                     headers=svc.auth("provider", provider_id="p"))
    assert provider.status_code == 403


# --- daily jobs (VOU-3) --------------------------------------------------------------------

async def _run(svc, job, date):
    see_the_day(svc.rt.clock, date)  # OPS-1: the job's date has come
    r = await svc.client.post(f"/v1/admin/jobs/{job}/run", params={"date": date}, headers=svc.auth("admin"))
    assert r.status_code == 200, r.text
    return r.json()["result"]


async def test_delayed_job_at_its_boundary_and_publishes_once_vou_3(voucher_service, decisions, clock):
    """VOU-3: decided 25.11.2026; the 14th day (9.12.) is still in time, on 10.12. the voucher is delayed."""
    svc = voucher_service
    facts = await decisions.made(decided_on="2026-11-25")
    refused = await decisions.made(decided_on="2026-11-25")
    await svc.client.post(f"/v1/vouchers/{(await decisions.voucher_of(refused['decision_id']))['id']}/refuse",
                          json={"reason": "no"}, headers=svc.auth(OFFICIAL))
    r = await svc.client.post("/v1/voucher-contacts", json={"voucher_number": (await decisions.voucher_of(facts["decision_id"]))["number"],
                                                           "contacted_on": "2026-11-26"},
                              headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 200 and r.json()["in_time"] is True  # VOU-3: contact within 7 days
    assert await _run(svc, "vouchers-delayed", "2026-12-09") == {"delayed": 0}
    assert (await decisions.voucher_of(facts["decision_id"]))["state"] == "issued"
    results = await asyncio.gather(*(_run(svc, "vouchers-delayed", "2026-12-10") for _ in range(2)))
    assert sorted(r["delayed"] for r in results) == [0, 1]
    assert await _run(svc, "vouchers-delayed", "2026-12-10") == {"delayed": 0}
    assert await _run(svc, "vouchers-delayed", "2026-12-11") == {"delayed": 0}
    v = await decisions.voucher_of(facts["decision_id"])
    assert v["state"] == "delayed" and "VOU-3" in v["state_reason"]
    [event] = await decisions.published("VoucherStateChanged")
    assert event["state"] == "delayed" and event["previous_state"] == "issued" and event["changed_on"] == "2026-12-10"
    # officials list delayed vouchers
    r = await svc.client.get("/v1/vouchers", params={"state": "delayed"}, headers=svc.auth("social_worker"))
    assert [x["id"] for x in r.json()] == [v["id"]]
    # a delayed voucher can still be checked and is valid
    clock.set(dt.date(2026, 12, 10))
    assert (await _check(svc, v["number"]))["valid"] is True


async def test_vou3_no_provider_contact_in_7_days_of_receipt_makes_the_voucher_delayed(voucher_service, decisions, clock):
    """VOU-3: counted from the day the client received the decision (received_on, 27.11.):
    the 7th day (4.12.) is in time, on 5.12. a voucher with no provider contact is delayed."""
    svc = voucher_service
    facts = await decisions.made(decided_on="2026-11-25", received_on="2026-11-27")
    contacted = await decisions.made(decided_on="2026-11-25", received_on="2026-11-27")
    number = (await decisions.voucher_of(contacted["decision_id"]))["number"]
    r = await svc.client.post("/v1/voucher-contacts", json={"voucher_number": number, "contacted_on": "2026-11-26"},
                              headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 422 and r.json()["rule"] == "VOU-3"  # before the client had the decision
    r = await svc.client.post("/v1/voucher-contacts", json={"voucher_number": number, "contacted_on": "2026-11-26",
                                                           "extra": 1}, headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 422
    clock.set(dt.date(2026, 11, 28))
    r = await svc.client.post("/v1/voucher-contacts", json={"voucher_number": number}, headers=svc.auth("provider", provider_id="P1"))
    assert r.status_code == 200 and r.json()["in_time"] is True
    assert await _run(svc, "vouchers-delayed", "2026-12-04") == {"delayed": 0}
    assert await _run(svc, "vouchers-delayed", "2026-12-05") == {"delayed": 1}
    late = await decisions.voucher_of(facts["decision_id"])
    assert late["state"] == "delayed" and "no contact with a provider by 2026-12-04" in late["state_reason"]
    assert (await decisions.voucher_of(contacted["decision_id"]))["state"] == "issued"
    # The 14 days count from the receipt too: 11.12. is the last day in time for the contacted client.
    assert await _run(svc, "vouchers-delayed", "2026-12-11") == {"delayed": 0}
    assert await _run(svc, "vouchers-delayed", "2026-12-12") == {"delayed": 1}


async def test_expired_job_marks_after_the_last_valid_day_once(voucher_service, decisions):
    svc = voucher_service
    facts = await decisions.made(period_start="2026-06-01", period_end="2026-12-31")
    assert await _run(svc, "vouchers-expired", "2026-12-31") == {"expired": 0}
    assert await _run(svc, "vouchers-expired", "2027-01-01") == {"expired": 1}
    assert await _run(svc, "vouchers-expired", "2027-01-01") == {"expired": 0}
    assert (await decisions.voucher_of(facts["decision_id"]))["state"] == "expired"
    assert [e["state"] for e in await decisions.published("VoucherStateChanged")] == ["expired"]


# --- roles ---------------------------------------------------------------------------------

async def test_roles(voucher_service, decisions):
    svc = voucher_service
    v = await decisions.voucher_of((await decisions.made())["decision_id"])
    provider = svc.auth("provider", provider_id="prov-1")
    client = svc.auth("client", client_id=v["client_id"])
    assert (await svc.client.get("/v1/vouchers", headers=provider)).status_code == 403
    assert (await svc.client.get(f"/v1/vouchers/{v['id']}", headers=provider)).status_code == 403
    assert (await svc.client.get(f"/v1/vouchers/{v['id']}", headers=client)).status_code == 403  # only via the link
    assert (await svc.client.get(f"/v1/vouchers/{v['id']}")).status_code == 401
    assert (await svc.client.get(f"/v1/vouchers/check/{v['number']}", headers=client)).status_code == 403
    assert (await svc.client.post(f"/v1/vouchers/{v['id']}/links", headers=provider)).status_code == 403
    assert (await svc.client.post(f"/v1/vouchers/{v['id']}/links", headers=svc.auth("integrator"))).status_code == 403
    # Admin operates the platform and reads no client data (issue 13 defect 6; the README's role table).
    assert (await svc.client.get(f"/v1/vouchers/{v['id']}", headers=svc.auth("admin"))).status_code == 403
    assert (await svc.client.get("/v1/vouchers", params={"client_id": v["client_id"]},
                                 headers=svc.auth("admin"))).status_code == 403
    for role in ("city_official", "social_worker", "integrator"):
        r = await svc.client.get(f"/v1/vouchers/{v['id']}", headers=svc.auth(role))
        assert r.status_code == 200
        assert {"id", "number", "decision_id", "client_id", "type", "state", "valid_from", "valid_to"} <= set(r.json())
