"""The certificate of participation (REP-5) as a PDF in Finnish or Swedish, the client's language:
made from the agreement (its dates, unit and provider) and the daily log (realised days), with any
work cards earned (recorded in the certificate or final evaluation report). No hetu (DATA-4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fpdf import FPDF

from ktt_attendance.notices.documents import LANGUAGES, _d, _latin1

TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Todistus kuntouttavaan työtoimintaan osallistumisesta",
        "city": "Turun kaupunki",
        "client": "Asiakas (tunniste)", "provider": "Palveluntuottaja", "form": "Toimintamuoto",
        "individual": "yksilömuotoinen", "group": "ryhmämuotoinen",
        "period": "Palvelun kesto", "days": "Toteutuneet toimintapäivät", "cards": "Suoritetut työkortit",
        "none": "ei", "issued": "Annettu", "to": "Todistus annetaan asiakkaalle ja omavirkailijalle.",
    },
    "sv": {
        "title": "Intyg över deltagande i arbetsverksamhet i rehabiliteringssyfte",
        "city": "Åbo stad",
        "client": "Klient (identifierare)", "provider": "Serviceproducent", "form": "Verksamhetsform",
        "individual": "individuell", "group": "i grupp",
        "period": "Tjänstens längd", "days": "Förverkligade verksamhetsdagar", "cards": "Avlagda arbetskort",
        "none": "inga", "issued": "Utfärdat", "to": "Intyget ges till klienten och den egna handläggaren.",
    },
}


@dataclass(frozen=True)
class Certificate:
    client_id: str
    provider_id: str
    form: str | None
    first_day: dt.date
    last_day: dt.date
    realised_days: int
    work_cards: list[str]
    issued_on: dt.date


def language(client_language: str | None, override: str | None) -> str:
    if override in LANGUAGES:
        return override  # type: ignore[return-value]
    return client_language if client_language in LANGUAGES else "fi"  # type: ignore[return-value]


def days_line(lang: str, days: int) -> str:
    """The certificate's realised-days line, as printed."""
    return f"{TEXTS[lang]['days']}: {days}"


def render_pdf(cert: Certificate, lang: str) -> bytes:
    t = TEXTS[lang]
    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # a one-page text document: readable as is, e.g. by an archive's indexer
    pdf.set_title(_latin1(t["title"]))
    pdf.set_creator("KTT attendance service")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, _latin1(t["city"]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, _latin1(t["title"]), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    rows = ((t["client"], cert.client_id), (t["provider"], cert.provider_id),
            (t["form"], t.get(cert.form or "", cert.form or "-")),
            (t["period"], f"{_d(cert.first_day)} - {_d(cert.last_day)}"))
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(60, 7, _latin1(label))
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _latin1(days_line(lang, cert.realised_days)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    cards = ", ".join(cert.work_cards) if cert.work_cards else t["none"]
    pdf.multi_cell(0, 7, _latin1(f"{t['cards']}: {cards}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.cell(0, 7, _latin1(f"{t['issued']} {_d(cert.issued_on)}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 6, _latin1(t["to"]), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
