"""Accessible PDF documents (issue 17 item 3): the city's printed documents are public-sector
documents, so every PDF the services print is a tagged PDF aimed at PDF/UA-1:

- a logical structure tree (Document > H1/H2/P, Table > TR > TH/TD, L > LI > LBody), every piece
  of page content inside a marked-content sequence that belongs to exactly one structure element;
- the document's natural language in the catalog (/Lang fi or sv);
- embedded Unicode TrueType fonts (Open Sans from the pinned ``ttf-opensans`` package, embedded
  as CID fonts with FontFile2 and a ToUnicode map, so text can be extracted and read aloud);
- the title in the document information, in XMP (dc:title) and shown by viewers
  (ViewerPreferences /DisplayDocTitle), and the PDF/UA identification (pdfuaid:part 1) in XMP.

fpdf2 (already the services' PDF library) embeds TTF fonts, writes /Lang, /MarkInfo, viewer
preferences and XMP, and serialises a structure tree; its own tree builder is flat (everything
under /Document, tagged /Figure), so this module supplies a builder that nests elements and gives
each the role it has. See docs/decisions.md (2026-12-01, accessible PDFs)."""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources

from fpdf import FPDF
from fpdf.output import PDFPage
from fpdf.prefs import ViewerPreferences
from fpdf.structure_tree import StructElem, StructureTreeBuilder
from fpdf.syntax import PDFObject

FONT_FAMILY = "OpenSans"


def _line_count(pdf: FPDF, width: float, line: float, text: str) -> int:
    """How many lines ``text`` takes in a cell of ``width`` (fpdf's dry run; with output="LINES" it
    returns the lines, though its return type is the union of every output mode)."""
    lines = pdf.multi_cell(width, line, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)
    return len(lines)


def _font_file(name: str) -> str:
    return str(resources.files("ttf_opensans") / "ttf" / name)


class _Elem(StructElem):
    """A structure element that may carry attributes (/A, e.g. a table header's scope)."""

    __slots__ = ("a",)

    def __init__(self, struct_type: str, parent: PDFObject, page: PDFPage, page_number: int, kids: list[int] | None = None,
                 attributes: str | None = None) -> None:
        super().__init__(struct_type=struct_type, parent=parent, kids=kids or [], page_number=page_number)
        self.pg = page  # type: ignore[assignment]  # fpdf declares it by `self.pg = None`: a page belongs there (PDF 14.7.2)
        self.a = attributes


class _NestedTreeBuilder(StructureTreeBuilder):
    """A structure tree whose elements nest; the parent tree maps each page's MCIDs to their leaf."""

    def __init__(self) -> None:
        super().__init__()
        self._mcids: dict[int, int] = {}

    def leaf_count(self) -> int:
        return sum(self._mcids.values())

    def group(self, pdf: FPDF, struct_type: str, parent: StructElem | None, attributes: str | None = None) -> _Elem:
        parent = parent or self.doc_struct_elem
        elem = _Elem(struct_type, parent, pdf.pages[pdf.page], pdf.page, attributes=attributes)
        parent.k.append(elem)
        return elem

    def leaf(self, pdf: FPDF, struct_type: str, parent: StructElem | None, attributes: str | None = None) -> tuple[_Elem, int]:
        """A structure element owning the next marked-content sequence of the current page."""
        page = pdf.page
        mcid = self._mcids.get(page, 0)
        self._mcids[page] = mcid + 1
        spid = self.spid_per_page_number.setdefault(page, len(self.spid_per_page_number))
        pdf.pages[page].struct_parents = spid
        parent = parent or self.doc_struct_elem
        elem = _Elem(struct_type, parent, pdf.pages[page], page, kids=[mcid], attributes=attributes)
        parent.k.append(elem)
        self.struct_tree_root.parent_tree.nums[spid].append(elem)  # index in the list == MCID
        return elem, mcid

    def empty(self) -> bool:
        return not self.doc_struct_elem.k

    def __iter__(self) -> Iterator[PDFObject]:
        yield self.struct_tree_root
        yield self.doc_struct_elem
        yield self.struct_tree_root.parent_tree

        def walk(elem: StructElem) -> Iterator[StructElem]:
            for kid in elem.k:
                if isinstance(kid, StructElem):
                    yield kid
                    yield from walk(kid)

        yield from walk(self.doc_struct_elem)


def _xmp(title: str, lang: str, creator: str) -> str:
    e = html.escape
    return f"""<x:xmpmeta xmlns:x="adobe:ns:meta/">
  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
    <rdf:Description rdf:about=""
        xmlns:dc="http://purl.org/dc/elements/1.1/"
        xmlns:xmp="http://ns.adobe.com/xap/1.0/"
        xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
        xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/">
      <pdfuaid:part>1</pdfuaid:part>
      <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(title)}</rdf:li><rdf:li xml:lang="{lang}">{e(title)}</rdf:li></rdf:Alt></dc:title>
      <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>
      <xmp:CreatorTool>{e(creator)}</xmp:CreatorTool>
      <pdf:Producer>fpdf2</pdf:Producer>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>"""


class TaggedDocument:
    """An A4 document written as a sequence of tagged blocks: headings, paragraphs, a two-column
    table of labelled values, a table with column headers, an ordered list."""

    def __init__(self, *, title: str, lang: str, creator: str, compress: bool = True) -> None:
        pdf = FPDF(format="A4")
        pdf.set_compression(compress)
        pdf.set_title(title)
        pdf.set_lang(lang)
        pdf.set_creator(creator)
        pdf.set_xmp_metadata(_xmp(title, lang, creator))
        pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
        pdf.add_font(FONT_FAMILY, "", _font_file("OpenSans-Regular.ttf"))
        pdf.add_font(FONT_FAMILY, "B", _font_file("OpenSans-Bold.ttf"))
        pdf.add_font(FONT_FAMILY, "I", _font_file("OpenSans-Italic.ttf"))
        pdf.struct_builder = _NestedTreeBuilder()
        pdf.add_page()
        pdf.set_font(FONT_FAMILY, size=11)
        self.pdf = pdf
        self.lang = lang
        self._tree: _NestedTreeBuilder = pdf.struct_builder

    # -- the marked-content plumbing --------------------------------------------------------

    def _room_for(self, height: float) -> None:
        """Marked content must not cross a page: start a new page before a block that would."""
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    @contextmanager
    def _marked(self, struct_type: str, parent: StructElem | None = None, attributes: str | None = None) -> Iterator[None]:
        _, mcid = self._tree.leaf(self.pdf, struct_type, parent, attributes)
        tag = struct_type.lstrip("/")
        self.pdf._out(f"/{tag} <</MCID {mcid}>> BDC")
        yield
        self.pdf._out("EMC")

    def _text_block(self, struct_type: str, text: str, *, size: float, style: str = "", line: float = 6,
                    parent: StructElem | None = None, space_after: float = 0) -> None:
        pdf = self.pdf
        pdf.set_font(FONT_FAMILY, style, size)
        height = _line_count(pdf, 0, line, text) * line
        self._room_for(height)
        with self._marked(struct_type, parent):
            pdf.multi_cell(0, line, text, new_x="LMARGIN", new_y="NEXT")
        if space_after:
            pdf.ln(space_after)

    # -- the blocks ---------------------------------------------------------------------------

    def heading(self, text: str, level: int = 1) -> None:
        sizes = {1: 16, 2: 13, 3: 12}
        self._text_block(f"/H{level}", text, size=sizes[level], style="B", line=8, space_after=1)

    def paragraph(self, text: str, *, size: float = 11, style: str = "", space_after: float = 2) -> None:
        self._text_block("/P", text, size=size, style=style, space_after=space_after)

    def labelled_rows(self, rows: Iterable[tuple[str, str]], label_width: float, *, size: float = 11) -> None:
        """A table whose rows are headed by their label (TH scope Row) with the value beside it (TD)."""
        pdf = self.pdf
        table = self._tree.group(pdf, "/Table", None)
        for label, value in rows:
            self._room_for(7)
            tr = self._tree.group(pdf, "/TR", table)
            pdf.set_font(FONT_FAMILY, "B", size)
            with self._marked("/TH", tr, "<< /O /Table /Scope /Row >>"):
                pdf.cell(label_width, 7, label)
            pdf.set_font(FONT_FAMILY, "", size)
            with self._marked("/TD", tr):
                pdf.cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def grid(self, headers: list[str], rows: Iterable[list[str]], widths: list[float], *, size: float = 10) -> None:
        """A bordered table with column headers (TH scope Column) and data cells (TD)."""
        pdf = self.pdf
        table = self._tree.group(pdf, "/Table", None)
        for cells, is_head in [(headers, True)] + [(list(r), False) for r in rows]:
            self._room_for(7)
            tr = self._tree.group(pdf, "/TR", table)
            pdf.set_font(FONT_FAMILY, "B" if is_head else "", size)
            for i, (text, width) in enumerate(zip(cells, widths, strict=True)):
                last = i == len(widths) - 1
                role, attrs = ("/TH", "<< /O /Table /Scope /Column >>") if is_head else ("/TD", None)
                with self._marked(role, tr, attrs):
                    pdf.cell(width, 7, text, border=1, new_x="LMARGIN" if last else "RIGHT", new_y="NEXT" if last else "TOP")
        pdf.ln(3)

    def ordered_list(self, items: Iterable[str], *, size: float = 11) -> None:
        """A numbered list: L > LI > Lbl (the number) + LBody (the text)."""
        pdf = self.pdf
        lst = self._tree.group(pdf, "/L", None, "<< /O /List /ListNumbering /Decimal >>")
        for i, item in enumerate(items, 1):
            pdf.set_font(FONT_FAMILY, "", size)
            height = _line_count(pdf, pdf.epw - 8, 6, item) * 6
            self._room_for(height)
            li = self._tree.group(pdf, "/LI", lst)
            with self._marked("/Lbl", li):
                pdf.cell(8, 6, f"{i}.")
            with self._marked("/LBody", li):
                pdf.multi_cell(pdf.epw - 8, 6, item, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)

    def output(self) -> bytes:
        return bytes(self.pdf.output())
