"""What the service's printable documents share (the TT3 absence notice, ATT-6; the certificate of
participation, REP-5): the language chosen, Finnish date format, the page head (a tagged, accessible PDF: ktt_common.tagged_pdf).
No hetu is ever printed (DATA-4)."""

from __future__ import annotations

import datetime as dt

from ktt_common.tagged_pdf import TaggedDocument

LANGUAGES = ("fi", "sv")


def language(preferred: str | None, override: str | None) -> str:
    """The document's language: an explicit ``lang`` if it is one we print, else the client's, else Finnish."""
    if override in LANGUAGES:
        return override
    return preferred if preferred in LANGUAGES else "fi"


def fi_date(day: dt.date | str) -> str:
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{d.day}.{d.month}.{d.year}"


def new_document(title: str, city: str, lang: str, *, compress: bool = True) -> TaggedDocument:
    """An A4 tagged PDF in the document's language (issue 17: structure tree, /Lang, embedded
    Unicode fonts, title metadata; ktt_common.tagged_pdf) with the city's name and the title as H1."""
    doc = TaggedDocument(title=title, lang=lang, creator="KTT attendance service", compress=compress)
    doc.paragraph(city, space_after=0)
    doc.heading(title, 1)
    return doc
