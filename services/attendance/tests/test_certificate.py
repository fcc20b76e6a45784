"""The certificate of participation (REP-5): made at the end of the service from the agreement and
the daily log, as a PDF in the client's language, with the realised days and any work cards earned."""

from __future__ import annotations

import datetime as dt

from ktt_attendance.reports.documents import TEXTS, days_line
from ktt_common.pdf_check import assert_accessible, inspect_pdf

from attendance_builders import absent, closed, present

D = dt.date


async def test_rep5_the_certificates_days_are_the_realised_days_of_the_log(att):
    a = await att.signed()
    await att.decided(a["client_id"], language="sv")
    logged = [present(a, D(2026, 12, 7)), present(a, D(2026, 12, 8)), absent(a, D(2026, 12, 9)), present(a, D(2026, 12, 10)),
              closed(a, D(2026, 12, 14)), present(a, D(2027, 1, 4)), present(a, D(2027, 1, 11)), present(a, D(2027, 1, 12))]
    await att.post(logged)
    realised = [e for e in await att.log(a) if e["realised"]]
    url = f"/v1/agreements/{a['agreement_id']}/certificate.pdf"

    early = await att.client.get(url, headers=att.provider())  # the service runs to 30.11.2027
    assert early.status_code == 422 and early.json()["rule"] == "REP-5"
    body = {"agreement_id": a["agreement_id"], "kind": "certificate_of_participation", "work_cards": ["hygieniapassi"]}
    assert (await att.report(body, expect=422))["rule"] == "REP-5"

    await att.ended(a, D(2027, 1, 14))  # ended by mutual agreement; today is 29.1.2027
    report = await att.report(body)
    assert len(realised) == 6 and (report["state"], report["realised_days"]) == ("submitted", 6)
    pdf = await att.client.get(url, headers=att.provider())
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    printed = inspect_pdf(pdf.content)
    assert days_line("sv", len(realised)) in printed.text  # the client's language: Swedish
    assert "hygieniapassi" in printed.text
    # issue 17: an accessible document (tagged, /Lang sv, embedded fonts, title)
    assert_accessible(printed, lang="sv", title=TEXTS["sv"]["title"])
    assert {"Document/Table/TR/TH", "Document/Table/TR/TD", "Document/P"} <= set(printed.roles)
    finnish = inspect_pdf((await att.client.get(url, params={"lang": "fi"}, headers=att.official())).content)
    assert days_line("fi", 6) in finnish.text and finnish.lang == "fi"
    assert days_line("fi", 7) not in finnish.text
    mine = await att.client.get(url, headers=att.svc.auth("client", client_id=a["client_id"]))
    assert mine.status_code == 200
    other = await att.client.get(url, headers=att.provider("P2"))
    assert other.status_code == 404 and other.json()["rule"] == "DATA-3"
