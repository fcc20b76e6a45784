"""Issue 17 item 3: the tagged-PDF frame keeps its promises on a document longer than a page:
every block's marked content stays on one page and belongs to a structure element, the tree keeps
its shape across the page break, the fonts are embedded and text beyond Latin-1 survives."""

from __future__ import annotations

import re

from ktt_common.pdf_check import assert_accessible, inspect_pdf
from ktt_common.tagged_pdf import TaggedDocument


def test_a_two_page_document_stays_tagged_across_the_break():
    doc = TaggedDocument(title="Poissaolot – ŠÅÄÖ", lang="sv", creator="test")
    doc.paragraph("Åbo stad")
    doc.heading("Poissaolot – ŠÅÄÖ", 1)
    doc.heading("Frånvarodagar", 2)
    doc.grid(["Dag", "Orsak"], ([f"{d}.1.2027", "sjukdom – intyg"] for d in range(1, 61)), [40, 120])
    doc.ordered_list(["ett", "två"])
    content = doc.output()

    facts = inspect_pdf(content)
    assert_accessible(facts, lang="sv", title="Poissaolot – ŠÅÄÖ")
    assert facts.text.count("sjukdom – intyg") == 60 and "Š" in facts.text  # every row, in Unicode
    assert facts.roles.count("Document/Table/TR") == 61 and facts.roles.count("Document/Table/TR/TD") == 120
    assert facts.roles.count("Document/Table") == 1  # one table, although it spans two pages

    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(content))
    assert len(reader.pages) == 2
    for page in reader.pages:
        stream = page.get_contents().get_data()
        # marked content opens and closes on the same page, MCIDs numbered from 0 without gaps
        assert stream.count(b" BDC") == stream.count(b"EMC") > 0
        mcids = [int(m) for m in re.findall(rb"/MCID (\d+)", stream)]
        assert mcids == list(range(len(mcids)))
