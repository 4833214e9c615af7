"""The one document model every loader produces and the parser reads.

A document is a sequence of blocks: paragraphs (with the numbering label the container gave,
e.g. Word's list numbering, which is not part of the paragraph text) and real tables (rows of
cells with their spans). Loaders fill what their container knows; the parser never re-guesses
structure a container already gave. Plain-text plans (.txt/.md) come through `from_text`:
paragraphs separated by blank lines, soft line breaks kept as "\n", tables as tab-separated
rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Where the text came from: decides how much the parser may trust line breaks and numbering.
TEXT, DOCX, PDF, OCR = "text", "docx", "pdf", "ocr"


@dataclass
class Paragraph:
    """One paragraph. `label` is numbering given by the container ("1.", "a)", "Điều 3.") and
    absent from `text`; "" when the numbering, if any, is typed in the text itself."""

    text: str
    label: str = ""
    style: str = ""  # container style name ("Heading 1", "List Paragraph"), "" if unknown
    level: int | None = None  # list/outline level from the container (0-based), if known
    page: int | None = None  # 1-based page (PDF, scans)
    bold: bool = False  # whole paragraph set in bold (a heading hint from Word)
    centered: bool = False

    @property
    def full_text(self) -> str:
        """Text as a reader sees it, numbering included."""
        return f"{self.label} {self.text}".strip() if self.label else self.text


@dataclass
class Cell:
    """One table cell. A vertically merged cell is the first cell (`row_span` > 1) followed, in
    the rows below, by cells with `merged_from_above` set and empty text."""

    text: str
    col_span: int = 1
    row_span: int = 1
    merged_from_above: bool = False


@dataclass
class Table:
    rows: list[list[Cell]] = field(default_factory=list)
    page: int | None = None  # page where it starts

    def grid(self, fill_merged: bool = False) -> list[list[str]]:
        """Rows of strings aligned on columns: a cell spanning n columns gives its text once and
        n-1 empty strings after it (so columns line up with the header). With `fill_merged`,
        cells merged from above repeat the text of the cell they continue."""
        out: list[list[str]] = []
        above: dict[int, str] = {}
        for row in self.rows:
            line: list[str] = []
            for cell in row:
                col = len(line)
                text = cell.text
                if cell.merged_from_above:
                    text = above.get(col, "") if fill_merged else ""
                else:
                    above[col] = cell.text
                line.append(text)
                line.extend([""] * (max(cell.col_span, 1) - 1))
            out.append(line)
        return out

    @classmethod
    def from_grid(cls, rows: list[list[str]], page: int | None = None) -> Table:
        return cls([[Cell(text) for text in row] for row in rows], page=page)


Block = Paragraph | Table


@dataclass
class Document:
    blocks: list[Block] = field(default_factory=list)
    source: str = TEXT  # TEXT | DOCX | PDF | OCR
    warnings: list[str] = field(default_factory=list)
    pages: int | None = None

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [b for b in self.blocks if isinstance(b, Paragraph)]

    @property
    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def plain_text(self) -> str:
        """The document in the plain-text model (paragraphs separated by blank lines, tables as
        tab-separated rows): for search snippets, hashing and debugging."""
        parts: list[str] = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                parts.append(block.full_text)
            else:
                parts.append("\n".join("\t".join(row) for row in block.grid()))
        return "\n\n".join(parts)


def from_text(text: str) -> Document:
    """Plain-text model → Document: blank lines separate paragraphs, a line with tabs is a
    table row (a table may be interrupted by blank lines: page breaks), other single line
    breaks stay inside the paragraph as "\n"."""
    blocks: list[Block] = []
    current: list[str] = []
    table: list[list[str]] | None = None

    def flush_para() -> None:
        if current:
            blocks.append(Paragraph("\n".join(current)))
            current.clear()

    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if "\t" in raw and (len(raw.split("\t")) >= 3 or table is not None):
            flush_para()
            if table is None:
                table = []
                blocks.append(Table())
            table.append(raw.split("\t"))
            last = blocks[-1]
            assert isinstance(last, Table)
            last.rows.append([Cell(c.strip()) for c in raw.split("\t")])
            continue
        if not raw.strip():
            flush_para()
            continue
        table = None
        current.append(raw)
    flush_para()
    return Document(blocks=blocks, source=TEXT)
