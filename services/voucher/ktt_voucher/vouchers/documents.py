"""The client's view of a voucher (VOU-2): an HTML page and a printable PDF, in Finnish or
Swedish. Only voucher facts are shown: this service never knows the client's hetu (DATA-4)."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from ktt_common.tagged_pdf import TaggedDocument

from ktt_voucher.vouchers import rules
from ktt_voucher.vouchers.models import Voucher

LANGUAGES = ("fi", "sv")


def document_language(client_language: str | None, override: str | None = None) -> str:
    """VOU-2: Finnish or Swedish by the client's language; any other language gets Finnish."""
    if override in LANGUAGES:
        return override
    return client_language if client_language in LANGUAGES else "fi"


TEXTS: dict[str, dict[str, str]] = {
    "fi": {
        "title": "Palveluseteli: kuntouttava työtoiminta",
        "city": "Turun kaupunki",
        "number": "Setelin numero",
        "type": "Setelin tyyppi",
        "validity": "Voimassa",
        "state": "Tila",
        "next": "Mitä seuraavaksi",
        "contact": "Ota yhteyttä valitsemaasi palveluntuottajaan 7 päivän kuluessa päätöksen saamisesta (viimeistään {contact}).",
        "start": "Palvelu alkaa viimeistään 14 päivän kuluessa päätöksestä ({start}).",
        "show": "Kerro palveluntuottajalle setelin numero. Palveluntuottaja tarkistaa, että seteli on voimassa.",
        "refuse": "Voit kieltäytyä palvelusetelistä. Kaupunki järjestää silloin kuntouttavan työtoiminnan muulla tavoin.",
        "providers": "Hyväksytyt palveluntuottajat löydät osoitteesta {url} tai kysymällä omalta työntekijältäsi.",
        "inactive": "Tämä palveluseteli ei ole voimassa.",
        "regular": "tavallinen palveluseteli",
        "assessment_period": "arviointijakso",
        "intensive_coaching": "tehostettu valmennus",
        "issued": "myönnetty", "in_use": "käytössä", "delayed": "palvelun alku myöhässä", "expired": "vanhentunut",
        "cancelled": "peruttu", "refused": "asiakas kieltäytyi", "revoked": "päätös kumottu",
    },
    "sv": {
        "title": "Servicesedel: arbetsverksamhet i rehabiliteringssyfte",
        "city": "Åbo stad",
        "number": "Sedelns nummer",
        "type": "Typ av sedel",
        "validity": "Giltig",
        "state": "Status",
        "next": "Vad händer nu",
        "contact": "Kontakta den serviceproducent du har valt inom 7 dagar efter att du fått beslutet (senast {contact}).",
        "start": "Servicen börjar senast 14 dagar efter beslutet ({start}).",
        "show": "Uppge sedelns nummer för serviceproducenten. Producenten kontrollerar att sedeln är giltig.",
        "refuse": "Du kan avstå från servicesedeln. Staden ordnar då arbetsverksamheten på annat sätt.",
        "providers": "Godkända serviceproducenter hittar du på {url} eller genom att fråga din handledare.",
        "inactive": "Denna servicesedel är inte giltig.",
        "regular": "vanlig servicesedel",
        "assessment_period": "bedömningsperiod",
        "intensive_coaching": "intensifierad coachning",
        "issued": "beviljad", "in_use": "i bruk", "delayed": "servicens start är försenad", "expired": "har gått ut",
        "cancelled": "annullerad", "refused": "klienten avstod", "revoked": "beslutet återkallat",
    },
}


def _date(d: dt.date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


@dataclass(frozen=True)
class VoucherDocument:
    language: str
    title: str
    city: str
    rows: list[tuple[str, str]]
    heading_next: str
    steps: list[str]
    inactive: str | None


def build_document(voucher: Voucher, language: str, providers_url: str) -> VoucherDocument:
    t = TEXTS[language]
    decided = voucher.decided_on or voucher.valid_from
    active = voucher.state in rules.ACTIVE_STATES
    steps = []
    if voucher.state in ("issued", "delayed"):
        steps += [
            t["contact"].format(contact=_date(rules.contact_deadline(decided))),  # VOU-3
            t["start"].format(start=_date(rules.start_deadline(decided))),  # VOU-3
            t["show"],  # VOU-5
            t["refuse"],  # VOU-4
        ]
    elif active:
        steps.append(t["show"])
    steps.append(t["providers"].format(url=providers_url))
    return VoucherDocument(
        language=language, title=t["title"], city=t["city"],
        rows=[
            (t["number"], voucher.number),
            (t["type"], t.get(voucher.type, voucher.type)),
            (t["validity"], f"{_date(voucher.valid_from)} – {_date(voucher.valid_to)}"),
            (t["state"], t.get(voucher.state, voucher.state)),
        ],
        heading_next=t["next"], steps=steps, inactive=None if active else t["inactive"],
    )


def render_html(doc: VoucherDocument) -> str:
    e = html.escape
    rows = "\n".join(f"      <tr><th scope=\"row\">{e(k)}</th><td>{e(v)}</td></tr>" for k, v in doc.rows)
    steps = "\n".join(f"      <li>{e(s)}</li>" for s in doc.steps)
    inactive = f'  <p class="inactive"><strong>{e(doc.inactive)}</strong></p>\n' if doc.inactive else ""
    return f"""<!doctype html>
<html lang="{doc.language}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex, nofollow">
  <meta name="referrer" content="no-referrer">
  <title>{e(doc.title)}</title>
  <style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}}th{{text-align:left;padding-right:1em}}
  .inactive{{color:#a00}}@media print{{a{{color:inherit}}}}</style>
</head>
<body>
  <p>{e(doc.city)}</p>
  <h1>{e(doc.title)}</h1>
{inactive}  <table>
{rows}
  </table>
  <h2>{e(doc.heading_next)}</h2>
  <ol>
{steps}
  </ol>
</body>
</html>
"""


def render_pdf(doc: VoucherDocument) -> bytes:
    """The same content as the HTML page, as an accessible tagged PDF (issue 17: structure tree,
    /Lang by the document's language, embedded Unicode fonts, title metadata; ktt_common.tagged_pdf)."""
    pdf = TaggedDocument(title=doc.title, lang=doc.language, creator="KTT voucher service")
    pdf.paragraph(doc.city, space_after=0)
    pdf.heading(doc.title, 1)
    if doc.inactive:
        pdf.paragraph(doc.inactive, size=12, style="B")
    pdf.labelled_rows(doc.rows, 50, size=12)
    pdf.heading(doc.heading_next, 2)
    pdf.ordered_list(doc.steps)
    return pdf.output()
