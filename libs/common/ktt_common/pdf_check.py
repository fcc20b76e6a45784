"""What a test reads from a printed PDF (issue 17 item 3), with pypdf (a test dependency, so it is
imported here lazily): the text, and the facts an accessibility checker looks at: the structure
tree's roles, /Lang, embedded fonts, title metadata, PDF/UA identification, and that every piece
of marked content on a page belongs to a structure element (the parent tree)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PdfFacts:
    text: str
    lang: str | None
    title: str | None
    xmp_title: str | None
    display_doc_title: bool
    marked: bool
    pdfua_part: str | None
    roles: list[str] = field(default_factory=list)  # the structure tree, depth first, e.g. "Table/TR/TH"
    fonts: dict[str, bool] = field(default_factory=dict)  # base font -> embedded as FontFile2
    unowned_mcids: list[tuple[int, int]] = field(default_factory=list)  # (page, MCID) without an element


def inspect_pdf(content: bytes) -> PdfFacts:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    # pypdf types the object graph as PdfObject; it is a tree of dictionaries and arrays read by key.
    root: Any = reader.trailer["/Root"]
    roles: list[str] = []

    def walk(elem: Any, path: str) -> None:
        elem = elem.get_object()
        role = str(elem.get("/S", "")).lstrip("/")
        here = f"{path}/{role}" if path else role
        roles.append(here)
        kids = elem.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object()
            if hasattr(kid, "get") and kid.get("/S") is not None:
                walk(kid, here)

    tree: Any = root.get("/StructTreeRoot")
    parent_tree: dict[int, list[Any]] = {}
    if tree is not None:
        tree = tree.get_object()
        kids = tree.get("/K", [])
        for kid in kids if isinstance(kids, list) else [kids]:
            walk(kid, "")
        nums = tree["/ParentTree"].get_object().get("/Nums", [])
        for i in range(0, len(nums), 2):
            parent_tree[int(nums[i])] = list(nums[i + 1].get_object())

    fonts: dict[str, bool] = {}
    unowned: list[tuple[int, int]] = []
    page: Any
    for number, page in enumerate(reader.pages, 1):
        for font in (page.get("/Resources", {}).get("/Font", {}) or {}).values():
            font = font.get_object()
            descriptor_font = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descriptor_font.get("/FontDescriptor")
            fonts[str(font.get("/BaseFont"))] = descriptor is not None and "/FontFile2" in descriptor.get_object()
        data = page.get_contents().get_data() if page.get_contents() is not None else b""
        owners = parent_tree.get(int(page["/StructParents"]), []) if "/StructParents" in page else []
        for mcid in map(int, re.findall(rb"/MCID (\d+)", data)):
            if mcid >= len(owners):
                unowned.append((number, mcid))

    display = root.get("/ViewerPreferences", {})
    xmp = reader.xmp_metadata
    xmp_title = (xmp.dc_title or {}).get("x-default") if xmp is not None else None
    pdfua = None
    if xmp is not None:
        match = re.search(rb"<pdfuaid:part>(\d)</pdfuaid:part>", xmp.stream.get_data())
        pdfua = match.group(1).decode() if match else None
    return PdfFacts(
        text="\n".join(page.extract_text() for page in reader.pages),
        lang=root.get("/Lang"), title=reader.metadata.title if reader.metadata else None, xmp_title=xmp_title,
        display_doc_title=bool(display.get("/DisplayDocTitle", False)),
        marked=bool(root.get("/MarkInfo", {}).get("/Marked", False)),
        pdfua_part=pdfua, roles=roles, fonts=fonts, unowned_mcids=unowned,
    )


def assert_accessible(facts: PdfFacts, *, lang: str, title: str) -> None:
    """The bar every printed document meets (issue 17 item 3)."""
    assert facts.lang == lang, facts.lang
    assert facts.title == title and facts.xmp_title == title and facts.display_doc_title
    assert facts.marked and facts.pdfua_part == "1"
    assert facts.roles and facts.roles[0] == "Document", facts.roles
    assert "Document/H1" in facts.roles, facts.roles
    assert facts.fonts and all(facts.fonts.values()), facts.fonts  # every font embedded (FontFile2)
    assert not facts.unowned_mcids, facts.unowned_mcids
