""".docx → Document: paragraphs with Word's list numbering, real tables with their spans.

Headers and footers are not read (they live in other parts of the package). Tables drawn
without borders, with few rows and at most three columns (letterhead: issuer | motto,
signature block) are layout, not data: their cells are read as paragraphs. A table nested in a cell is flattened into the
cell's text, one nested row per line.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph as DocxParagraph

from indexer.loaders import limits
from indexer.loaders.layout import cell_text
from indexer.loaders.numbering import Numbering
from knowledge.document import DOCX, Cell, Document, Paragraph, Table
from knowledge.errors import PlanbotError
from knowledge.text import nfc

_LAYOUT_MAX_ROWS = 4


def load_docx(name: str, data: bytes) -> Document:
    if not data.startswith(b"PK"):
        raise PlanbotError(f"Tệp '{name}' không phải .docx hợp lệ (không phải gói zip của Word).")
    limits.check_package(name, data, limits.active())  # zip bombs, XML entities: refused unopened
    try:
        import docx  # python-docx

        source = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise PlanbotError(f"Tệp '{name}' không phải .docx hợp lệ.") from exc
    except Exception as exc:  # lxml and python-docx raise more types for damaged packages
        raise PlanbotError(f"Tệp '{name}' không phải .docx hợp lệ.") from exc
    reader = _Reader(source, name, limits.active().text_chars)
    try:
        reader.read_container(source.element.body)
    except PlanbotError:
        raise
    except Exception as exc:  # an unexpected structure inside a package that opened
        raise PlanbotError(f"Tệp '{name}' là .docx hỏng: không đọc được nội dung.") from exc
    document = Document(blocks=reader.blocks, source=DOCX)
    if reader.nested:
        document.warnings.append(
            f"Có {reader.nested} bảng lồng trong ô bảng: nội dung đã được ghép vào ô chứa nó."
        )
    return document


class _Reader:
    def __init__(self, source, name: str, most_chars: int) -> None:
        self.source, self.name = source, name
        self.chars, self.most_chars = 0, most_chars  # stop reading a document of absurd length
        self.numbering = Numbering(source)
        self.blocks: list[Paragraph | Table] = []
        self.nested = 0
        self.styles: dict[str | None, _Style] = {}  # style id → what the paragraphs inherit

    def style(self, para: DocxParagraph) -> _Style:
        """The paragraph style's inherited properties, worked out once per style (python-docx
        looks a style up by scanning every style: per paragraph, a large document took hours)."""
        key = para._p.style
        found = self.styles.get(key)
        if found is None:
            found = self.styles[key] = _Style.of(para.style)
        return found

    # -- body ------------------------------------------------------------------------------
    def read_container(self, element) -> None:
        for child in element.iterchildren():
            tag = child.tag
            if tag == qn("w:p"):
                for box in _text_boxes(child):
                    self.read_container(box)
                paragraph = self.paragraph(child)
                if paragraph is not None:
                    self.blocks.append(paragraph)
            elif tag == qn("w:tbl"):
                self.table(child)
            elif tag in (qn("w:sdt"), qn("w:customXml")):
                content = child.find(qn("w:sdtContent"))
                self.read_container(content if content is not None else child)

    def paragraph(self, p) -> Paragraph | None:
        para = DocxParagraph(p, self.source)
        text = nfc(paragraph_text(p)).strip()
        style = self.style(para)
        num_id, ilvl = _numbering_of(para, style)
        label = self.numbering.label(num_id, ilvl) if num_id else ""
        if not text:
            return None  # an empty numbered paragraph still advanced its counter above
        self.chars += len(text)
        if self.chars > self.most_chars:
            raise limits.too_much_text(self.name, self.most_chars)
        return Paragraph(
            text=text,
            label=label,
            style=style.name,
            level=ilvl if num_id else None,
            bold=_bold(para, style),
            centered=_centered(para, style),
        )

    # -- tables ----------------------------------------------------------------------------
    def table(self, tbl) -> None:
        rows = tbl.findall(qn("w:tr"))
        columns = max((len(tr.findall(qn("w:tc"))) for tr in rows), default=0)
        if len(rows) <= _LAYOUT_MAX_ROWS and columns <= 3 and not _has_borders(tbl, self.source):
            for tr in rows:
                for tc in tr.findall(qn("w:tc")):
                    self.read_container(tc)
            return
        self.blocks.append(Table(rows=self.rows(tbl)))

    def rows(self, tbl) -> list[list[Cell]]:
        out: list[list[Cell]] = []
        origin: dict[int, Cell] = {}  # grid column → the cell a vertical merge continues
        for tr in tbl.findall(qn("w:tr")):
            row: list[Cell] = []
            column = 0
            before = _int(_row_prop(tr, "w:gridBefore"))
            if before:
                row.append(Cell("", col_span=before))
                column += before
            for tc in tr.findall(qn("w:tc")):
                tc_pr = tc.find(qn("w:tcPr"))
                span = _int(_prop(tc_pr, "w:gridSpan")) or 1
                merge = tc_pr.find(qn("w:vMerge")) if tc_pr is not None else None
                if merge is not None and merge.get(qn("w:val")) in (None, "continue") and column in origin:
                    origin[column].row_span += 1
                    row.append(Cell("", col_span=span, merged_from_above=True))
                else:
                    cell = Cell(self.cell_text(tc), col_span=span)
                    row.append(cell)
                    origin[column] = cell
                column += span
            after = _int(_row_prop(tr, "w:gridAfter"))
            if after:
                row.append(Cell("", col_span=after))
            out.append(row)
        return out

    def cell_text(self, tc) -> str:
        lines: list[str] = []
        for child in tc.iterchildren():
            if child.tag == qn("w:p"):
                paragraph = self.paragraph(child)
                if paragraph is not None:
                    lines.append(paragraph.full_text)
            elif child.tag == qn("w:tbl"):
                self.nested += 1
                for row in self.rows(child):
                    texts = [c.text.replace("\n", " ") for c in row if c.text]
                    if texts:
                        lines.append(" | ".join(texts))
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    lines.extend(
                        t for t in (paragraph_text(p).strip() for p in content.iter(qn("w:p"))) if t
                    )
        return cell_text("\n".join(lines))


_SKIP = {qn("w:del"), qn("w:moveFrom"), qn("w:pPr"), qn("w:rPr"), qn("w:txbxContent"), qn("w:instrText")}
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def paragraph_text(p) -> str:
    """A paragraph's text as Word shows it: runs inside tracked insertions, smart tags, fields
    and hyperlinks included; deleted text, field codes and text boxes (read on their own) not."""
    out: list[str] = []

    def walk(element) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP or tag == _FALLBACK:
                continue
            if tag == qn("w:t"):
                out.append(child.text or "")
            elif tag in (qn("w:tab"), qn("w:ptab")):
                out.append(" ")
            elif tag in (qn("w:br"), qn("w:cr")):
                out.append(" " if child.get(qn("w:type")) == "page" else "\n")
            elif tag == qn("w:noBreakHyphen"):
                out.append("-")
            else:
                walk(child)

    walk(p)
    return "".join(out)


def _text_boxes(p) -> list:
    """Text boxes anchored in a paragraph (the Fallback copy of each is skipped)."""
    boxes = []
    for box in p.iter(qn("w:txbxContent")):
        parent = box.getparent()
        while parent is not None and parent is not p and parent.tag != _FALLBACK:
            parent = parent.getparent()
        if parent is p:
            boxes.append(box)
    return boxes


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _prop(parent, tag: str) -> str | None:
    child = parent.find(qn(tag)) if parent is not None else None
    return child.get(qn("w:val")) if child is not None else None


def _row_prop(tr, tag: str) -> str | None:
    return _prop(tr.find(qn("w:trPr")), tag)


@dataclass(frozen=True)
class _Style:
    """What a paragraph takes from its style chain."""

    name: str = ""
    bold: bool = False
    alignment: object = None  # the first alignment set along the chain
    num_id: object = None  # the first numbering along the chain (numId, and its ilvl or None)
    ilvl: object = None

    @classmethod
    def of(cls, style) -> _Style:
        if style is None:
            return cls()
        alignment, num_id, ilvl = None, None, None
        chain, depth = style, 0
        while num_id is None and chain is not None and depth < 10:
            s_pr = chain.element.pPr
            s_num = s_pr.numPr if s_pr is not None else None
            if s_num is not None and s_num.numId is not None:
                num_id = s_num.numId.val
                ilvl = s_num.ilvl.val if s_num.ilvl is not None else None
            chain = chain.base_style
            depth += 1
        chain, depth = style, 0
        while alignment is None and chain is not None and depth < 10:  # basedOn may loop
            alignment = chain.paragraph_format.alignment
            chain = chain.base_style
            depth += 1
        return cls(style.name or "", bool(style.font.bold), alignment, num_id, ilvl)


def _numbering_of(para: DocxParagraph, style: _Style) -> tuple[str | None, int]:
    """(numId, level) from the paragraph's own properties, else from its style chain."""
    p_pr = para._p.pPr
    num_pr = p_pr.numPr if p_pr is not None else None
    num_id = ilvl = None
    if num_pr is not None:
        num_id = num_pr.numId.val if num_pr.numId is not None else None
        ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else None
    if num_id is None and style.num_id is not None:
        num_id = style.num_id
        if ilvl is None:
            ilvl = style.ilvl
    return (str(num_id) if num_id is not None else None), int(ilvl or 0)


def _bold(para: DocxParagraph, style: _Style) -> bool:
    runs = [r for r in para.runs if r.text.strip()]
    return bool(runs) and all(r.bold if r.bold is not None else style.bold for r in runs)


def _centered(para: DocxParagraph, style: _Style) -> bool:
    alignment = para.alignment
    if alignment is None:
        alignment = style.alignment
    return alignment == WD_ALIGN_PARAGRAPH.CENTER


def _has_borders(tbl, source) -> bool:
    """Whether the table draws lines: its own borders, its cells' borders, or its style's."""

    def visible(borders) -> bool:
        return borders is not None and any(
            (b.get(qn("w:val")) or "nil") not in ("nil", "none") for b in borders.iterchildren()
        )

    tbl_pr = tbl.find(qn("w:tblPr"))
    if tbl_pr is not None and visible(tbl_pr.find(qn("w:tblBorders"))):
        return True
    if any(visible(b) for b in tbl.iter(qn("w:tcBorders"))):
        return True
    style_id = _prop(tbl_pr, "w:tblStyle")
    return bool(style_id) and _style_has_borders(source.styles.element, style_id)


def _style_has_borders(styles, style_id: str, depth: int = 0) -> bool:
    if depth > 5:
        return False
    for style in styles.findall(qn("w:style")):
        if style.get(qn("w:styleId")) == style_id:
            s_pr = style.find(qn("w:tblPr"))
            borders = s_pr.find(qn("w:tblBorders")) if s_pr is not None else None
            if borders is not None and any(
                (b.get(qn("w:val")) or "nil") not in ("nil", "none") for b in borders.iterchildren()
            ):
                return True
            based = _prop(style, "w:basedOn")
            return bool(based) and _style_has_borders(styles, based, depth + 1)
    return False
