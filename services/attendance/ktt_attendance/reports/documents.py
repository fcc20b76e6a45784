"""The certificate of participation (REP-5) as a PDF in Finnish or Swedish, the client's language:
made from the agreement (its dates, unit and provider) and the daily log (realised days), with any
work cards earned (recorded in the certificate or final evaluation report). No hetu (DATA-4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ktt_attendance.pdf import fi_date, language, new_document

__all__ = ["TEXTS", "Certificate", "days_line", "language", "render_pdf"]

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


def days_line(lang: str, days: int) -> str:
    """The certificate's realised-days line, as printed."""
    return f"{TEXTS[lang]['days']}: {days}"


def render_pdf(cert: Certificate, lang: str) -> bytes:
    t = TEXTS[lang]
    pdf = new_document(t["title"], t["city"], lang)
    rows = ((t["client"], cert.client_id), (t["provider"], cert.provider_id),
            (t["form"], t.get(cert.form or "", cert.form or "-")),
            (t["period"], f"{fi_date(cert.first_day)} \u2013 {fi_date(cert.last_day)}"))
    pdf.labelled_rows(rows, 60)
    pdf.paragraph(days_line(lang, cert.realised_days), size=12, style="B")
    cards = ", ".join(cert.work_cards) if cert.work_cards else t["none"]
    pdf.paragraph(f"{t['cards']}: {cards}", space_after=3)
    pdf.paragraph(f"{t['issued']} {fi_date(cert.issued_on)}")
    pdf.paragraph(t["to"], size=9, style="I")
    return pdf.output()
