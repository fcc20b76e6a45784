"""What the service's printable documents share (the TT3 absence notice, ATT-6; the certificate of
participation, REP-5): the language chosen, Finnish date format, the page head and labelled rows.
No hetu is ever printed (DATA-4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from fpdf import FPDF

LANGUAGES = ("fi", "sv")


def language(preferred: str | None, override: str | None) -> str:
    """The document's language: an explicit ``lang`` if it is one we print, else the client's, else Finnish."""
    if override in LANGUAGES:
        return override  # type: ignore[return-value]
    return preferred if preferred in LANGUAGES else "fi"  # type: ignore[return-value]


def fi_date(day: dt.date | str) -> str:
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d.day}.{d.month}.{d.year}"


def latin1(text: str) -> str:
    """The core PDF fonts print Latin-1 (å, ä, ö included); dashes become hyphens, anything else '?'."""
    return text.replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def new_document(title: str, city: str, *, compress: bool = True) -> FPDF:
    """An A4 page with the city's name and the document's title as its heading."""
    pdf = FPDF(format="A4")
    pdf.set_compression(compress)
    pdf.set_title(latin1(title))
    pdf.set_creator("KTT attendance service")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 8, latin1(city), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, latin1(title), new_x="LMARGIN", new_y="NEXT")
    return pdf


def labelled_rows(pdf: FPDF, rows: Iterable[tuple[str, str]], label_width: float) -> None:
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 11)
        pdf.cell(label_width, 7, latin1(label))
        pdf.set_font("Helvetica", size=11)
        pdf.cell(0, 7, latin1(value), new_x="LMARGIN", new_y="NEXT")
