""".pdf with a text layer → Document (pdfplumber): lines in reading order re-joined into
paragraphs, ruled tables from the page geometry in their place, tables continued across pages
joined (repeated header rows dropped, a row cut by the page break repaired). Pages without a
text layer are read by OCR (`indexer.loaders.ocr`).
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import statistics
from collections import Counter
from collections.abc import Callable

from indexer.loaders import limits, ocr
from indexer.loaders.layout import Line, cell_text, is_page_number
from knowledge.document import OCR, PDF, Cell, Document, Paragraph, Table
from knowledge.errors import PlanbotError
from knowledge.text import nfc

log = logging.getLogger(__name__)

PageProgress = Callable[[int, int], None]  # (pages done, pages in total)

# A line starting one of these begins a new paragraph (numbered item, bullet, article).
ITEM_RE = re.compile(
    r"^(?:[IVXLC]{1,6}\s*[.:/)](?!\d)|\d{1,2}(?:\.\d{1,2})*\s*(?:[.)](?!\d)|/\s)|\d{1,2}(?:\.\d{1,2})+\s|[a-zđ]\s*[)]"
    r"|[-–•+*▪●■◦]\s|(?:Điều|Chương|Phần|Mục|Phụ lục|PHỤ LỤC|Nơi nhận)\b)"
)
_SENTENCE_END = (".", ";", ":", "!", "?", "…")
_MIN_CHARS = 20  # fewer characters than this on a page: treat it as a scanned page
_STAMP_CHARS = 400  # fewer on a page covered by an image: a scan with a signature stamp
_MAX_SIDE = 14_400  # points (200 inches): the largest page PDF allows


def load_pdf(name: str, data: bytes, progress: PageProgress | None = None) -> Document:
    if b"%PDF" not in data[:1024]:
        raise PlanbotError(f"Tệp '{name}' không phải PDF hợp lệ (không có phần đầu %PDF).")
    bound = limits.active()
    limits.check_pdf_streams(name, data, bound)
    try:
        count = _page_count(data, bound.pages)
    except Exception as exc:  # pdfminer raises many error types for broken files
        raise PlanbotError(f"Tệp '{name}' không phải PDF hợp lệ.") from exc
    if count > bound.pages:
        raise PlanbotError(f"PDF '{name}' có quá nhiều trang (hơn {bound.pages} trang): không đọc.")
    try:
        import pdfplumber

        pdf = pdfplumber.open(io.BytesIO(data))
        pages = list(pdf.pages)
    except Exception as exc:  # pdfminer raises many error types for broken files
        raise PlanbotError(f"Tệp '{name}' không phải PDF hợp lệ.") from exc
    try:
        if not pages:
            raise PlanbotError(f"Tệp '{name}' không phải PDF hợp lệ (không có trang nào).")
        return _read(name, data, pages, progress, bound)
    finally:
        pdf.close()


def _page_count(data: bytes, most: int) -> int:
    """Pages in the page tree, counted one past `most` at most (its /Count can lie; pdfplumber
    would build every page, and does so again when closed)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    return sum(1 for _ in itertools.islice(PDFPage.create_pages(document), most + 1))


def _read(name: str, data: bytes, pages: list, progress: PageProgress | None, bound: limits.Limits) -> Document:
    document = Document(source=PDF, pages=len(pages))
    scanned = [n for n, page in enumerate(pages, 1) if _scanned(page)]
    for number in scanned:
        _check_renderable(name, number, pages[number - 1], bound)
    ocr_pages, per_page = ocr.read_pages(name, data, scanned, progress) if scanned else ({}, 0.0)
    builder = _Builder(document)
    repeated = _repeated_lines(pages)
    for number, page in enumerate(pages, 1):
        if number in ocr_pages:
            builder.add_page(number, *ocr_pages[number])
        else:
            try:
                lines, tables = _page_content(page, repeated)
            except Exception as exc:  # a damaged content stream
                raise PlanbotError(f"Tệp '{name}': không đọc được trang {number} của PDF.") from exc
            builder.add_page(number, lines, tables)
    if not any(b.text.strip() if isinstance(b, Paragraph) else b.rows for b in document.blocks):
        if scanned:
            raise PlanbotError(
                f"PDF '{name}' không có lớp văn bản và OCR không đọc được chữ nào (bản quét trắng hoặc quá mờ?)."
            )
        raise PlanbotError(f"PDF '{name}' không có lớp văn bản.")
    if scanned:
        if len(scanned) == len(pages):
            document.source = OCR
        document.warnings.append(
            f"Đã nhận dạng chữ (OCR) {len(scanned)}/{len(pages)} trang bản quét ({per_page:.1f} giây/trang): "
            "chữ có thể bị đọc sai, hãy đối chiếu bản gốc."
        )
    return document


# -- one page --------------------------------------------------------------------------------


def _check_renderable(name: str, number: int, page, bound: limits.Limits) -> None:
    """Refuse a page to OCR that no plan has and that would cost gigabytes to render: a side
    beyond the 200 inches PDF allows, an image declaring more pixels than the limit (its
    dictionary is read, the image is not decoded)."""
    width, height = float(page.width), float(page.height)
    if max(width, height) > _MAX_SIDE:
        raise PlanbotError(
            f"PDF '{name}': trang {number} có khổ quá lớn ({width / 72 * 2.54:.0f} × {height / 72 * 2.54:.0f} cm): không đọc."
        )
    try:
        sizes = [tuple(image.get("srcsize") or (0, 0)) for image in page.images]
    except Exception:  # noqa: BLE001 - damaged image dictionaries: pdfium decides when rendering
        return
    for w, h in sizes:
        try:
            pixels = float(w) * float(h)
        except (TypeError, ValueError):
            continue
        if pixels > bound.image_pixels:
            raise PlanbotError(
                f"PDF '{name}': ảnh ở trang {number} quá lớn ({w} × {h} điểm ảnh; tối đa "
                f"{bound.image_pixels / 1e6:g} triệu điểm ảnh): không đọc."
            )


def _scanned(page) -> bool:
    """A page to read by OCR: (almost) no text layer, or a page-size image with only a little
    text on it (a scan carrying an e-signature stamp: "Ký bởi …, Thời gian ký …")."""
    chars = _chars(page)
    if chars < _MIN_CHARS:
        return True
    if chars >= _STAMP_CHARS:
        return False
    try:
        area = sum((i["x1"] - i["x0"]) * (i["bottom"] - i["top"]) for i in page.images)
    except Exception:  # noqa: BLE001 - damaged image dictionaries: judge by the text alone
        return False
    return area >= 0.6 * float(page.width) * float(page.height)


def _chars(page) -> int:
    """Characters in the page's text layer; 0 when its content cannot be read (damaged stream:
    the page is then read as an image)."""
    try:
        return len(page.chars)
    except Exception:  # noqa: BLE001 - pdfminer raises many types for damaged streams
        return 0


def _page_content(page, repeated: set[tuple[int, str]]) -> tuple[list[Line], list[tuple[float, Table]]]:
    found = [t for t in page.find_tables() if t.rows and len(t.rows[0].cells) >= 2]
    tables = [(t.bbox[1], _table(t)) for t in found]
    rest = page
    for t in found:
        rest = rest.outside_bbox(t.bbox)
    lines = []
    for raw in rest.extract_text_lines(strip=True, return_chars=True):
        for x0, x1 in _columns(raw["chars"]):
            if (x0, x1) == (None, None):
                text, x0, x1 = raw["text"], raw["x0"], raw["x1"]
            else:
                box = (x0 - 0.5, raw["top"] - 0.5, x1 + 0.5, raw["bottom"] + 0.5)
                text = rest.crop(box).extract_text()
            text = nfc(" ".join(text.split()))
            if text and not _running(text, raw["top"], page.height, repeated):
                lines.append(Line(text, x0, x1, raw["top"], raw["bottom"]))
    return lines, tables


def _columns(chars: list[dict]) -> list[tuple]:
    """Horizontal extents of a line's parts separated by a column gap (letterhead: issuer on
    the left, national motto on the right): a gap much wider than the line's word spaces.
    [(None, None)] when the line is one piece."""
    chars = sorted((c for c in chars if c["text"].strip()), key=lambda c: c["x0"])
    if len(chars) < 2:
        return [(None, None)]
    gaps = [(b["x0"] - a["x1"], i) for i, (a, b) in enumerate(zip(chars, chars[1:], strict=False), 1)]
    spaces = sorted(g for g, _ in gaps if g > 1)
    typical = statistics.median(spaces) if spaces else 1.0
    size = statistics.median(c.get("size", 10) for c in chars)
    cuts = [i for g, i in gaps if g > 1.2 * size and g > 3 * typical]
    if not cuts:
        return [(None, None)]
    bounds = [0, *cuts, len(chars)]
    return [(chars[a]["x0"], max(c["x1"] for c in chars[a:b])) for a, b in zip(bounds, bounds[1:], strict=False)]


def _running(text: str, top: float, height: float, repeated: set[tuple[int, str]]) -> bool:
    """Page numbers and lines repeated at the same place on most pages (headers, footers)."""
    margin = top < height * 0.1 or top > height * 0.88
    return is_page_number(text, top, height) or margin and (round(top / 6), text) in repeated


def _repeated_lines(pages) -> set[tuple[int, str]]:
    if len(pages) < 3:
        return set()
    counts: Counter[tuple[int, str]] = Counter()
    for page in pages:
        try:
            lines = page.extract_text_lines(strip=True, return_chars=False)
        except Exception:  # noqa: BLE001 - reported when the page is read for real
            continue
        for raw in lines:
            if raw["top"] < page.height * 0.1 or raw["top"] > page.height * 0.88:
                counts[(round(raw["top"] / 6), nfc(raw["text"]).strip())] += 1
    return {key for key, n in counts.items() if n >= max(3, len(pages) // 2)}


def _table(found) -> Table:
    """pdfplumber table → Table with spans: a cell pdfplumber leaves out (None) is covered by
    the cell to its left (column span) or above (vertical merge)."""
    texts = found.extract()
    rows: list[list[Cell]] = []
    placed: list[list[tuple[Cell, tuple] | None]] = []
    for r, row in enumerate(found.rows):
        out: list[Cell] = []
        line: list[tuple[Cell, tuple] | None] = []
        for c, bbox in enumerate(row.cells):
            if bbox is not None:
                cell = Cell(cell_text(texts[r][c] if c < len(texts[r]) else ""))
                out.append(cell)
                line.append((cell, bbox))
                continue
            left = next((x for x in reversed(line) if x is not None), None)
            x_here = _column_x(found, c)
            if left is not None and x_here is not None and left[1][2] > x_here + 1:
                left[0].col_span += 1
                line.append(None)
                continue
            above = _cell_above(placed, c)
            if above is not None:
                above[0].row_span += 1
                merged = Cell("", merged_from_above=True)
                out.append(merged)
                line.append((merged, above[1]))
            else:
                empty = Cell("")
                out.append(empty)
                line.append((empty, (0, 0, 0, 0)))
        rows.append(out)
        placed.append(line)
    return Table(rows=rows)


def _column_x(found, c: int) -> float | None:
    for row in found.rows:
        if c < len(row.cells) and row.cells[c] is not None:
            return row.cells[c][0]
    return None


def _cell_above(placed, c: int):
    for line in reversed(placed):
        if c < len(line) and line[c] is not None:
            cell, bbox = line[c]
            return (cell, bbox) if not cell.merged_from_above else _origin(placed, c)
    return None


def _origin(placed, c: int):
    for line in reversed(placed):
        if c < len(line) and line[c] is not None and not line[c][0].merged_from_above:
            return line[c]
    return None


# -- pages → blocks ------------------------------------------------------------------------


class _Builder:
    """Appends each page's lines (as paragraphs) and tables in reading order."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.open_table: Table | None = None  # last block is this table: a continuation may follow

    def add_page(self, number: int, lines: list[Line], tables: list[tuple[float, Table]]) -> None:
        items: list[tuple[float, object]] = [(line.top, line) for line in lines] + list(tables)
        items.sort(key=lambda item: item[0])
        for i in range(len(items) - 1):  # side-by-side lines: left one first
            a, b = items[i][1], items[i + 1][1]
            if isinstance(a, Line) and isinstance(b, Line) and b.x1 < a.x0 and b.top < a.bottom:
                items[i], items[i + 1] = items[i + 1], items[i]
        chunk: list[Line] = []
        for _, item in items:
            if isinstance(item, Line):
                chunk.append(item)
                continue
            self._paragraphs(chunk, number)
            chunk = []
            assert isinstance(item, Table)
            self._table(item, number)
        self._paragraphs(chunk, number)

    def _table(self, table: Table, page: int) -> None:
        previous = self.open_table
        table.page = page
        if previous is not None and previous.page != page and _width(previous) == _width(table):
            rows = table.rows
            if rows and _texts(rows[0]) == _texts(previous.rows[0]):
                rows = rows[1:]  # header row repeated on the new page
            if rows and not rows[0][0].text and not rows[0][0].merged_from_above and previous.rows:
                _continue_row(previous.rows[-1], rows[0])  # a row cut by the page break
                rows = rows[1:]
            previous.rows.extend(rows)
            return
        if len(table.rows) == 1:  # a boxed line, not a table: its cells are paragraphs
            self.open_table = None
            for cell in table.rows[0]:
                if cell.text:
                    self.document.blocks.append(Paragraph(" ".join(cell.text.split()), page=page))
            return
        self.document.blocks.append(table)
        self.open_table = table

    def _paragraphs(self, lines: list[Line], page: int) -> None:
        if not lines:
            return
        self.open_table = None
        left = min(line.x0 for line in lines)
        right = max(line.x1 for line in lines)
        pitches = [b.top - a.top for a, b in zip(lines, lines[1:], strict=False) if b.top > a.top]
        pitch = statistics.median(pitches) if pitches else 0.0
        current: list[Line] = []
        blocks = self.document.blocks
        side = _side_by_side(lines)
        for i, line in enumerate(lines):
            if current and i not in side and i - 1 not in side and _continues(current, line, left, right, pitch):
                current.append(line)
                continue
            if current:
                blocks.append(Paragraph(_join(current), page=page))
            elif blocks and isinstance(blocks[-1], Paragraph) and _continues_page(blocks[-1], line):
                blocks[-1].text += " " + line.text  # a paragraph cut by the page break
                continue
            current = [line]
        if current:
            blocks.append(Paragraph(_join(current), page=page))


def _side_by_side(lines: list[Line]) -> set[int]:
    """Lines sharing their height with another line (two-column letterhead, signature block):
    each is a paragraph of its own."""
    found: set[int] = set()
    for i, a in enumerate(lines):
        for j in range(i + 1, min(i + 4, len(lines))):
            b = lines[j]
            overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
            if overlap > 0.5 * min(a.bottom - a.top, b.bottom - b.top) and (b.x0 > a.x1 or a.x0 > b.x1):
                found.update((i, j))
    return found


def _width(table: Table) -> int:
    return max((sum(c.col_span for c in row) for row in table.rows), default=0)


def _texts(row: list[Cell]) -> list[str]:
    return [" ".join(c.text.split()) for c in row]


def _continue_row(last: list[Cell], continuation: list[Cell]) -> None:
    for cell, more in zip(last, continuation, strict=False):
        if more.text:
            cell.text = f"{cell.text} {more.text}".strip() if cell.text else more.text


def _continues(current: list[Line], line: Line, left: float, right: float, pitch: float) -> bool:
    """Whether `line` continues the paragraph whose lines are `current`."""
    prev = current[-1]
    text = line.text
    if ITEM_RE.match(text):
        return False
    if pitch and line.top - prev.top > pitch * 1.4:
        return False  # paragraph spacing
    if line.x0 > prev.x0 + 15 and line.x0 > left + 15:
        return False  # first-line indent of a new paragraph
    full = prev.x1 >= right - max(30.0, (right - left) * 0.08)
    ends = prev.text.endswith(_SENTENCE_END)
    lower = text[:1].islower() or text[:1].isdigit() and not ends
    if lower and not prev.text.endswith((".", "!", "?")):
        return True
    if ends and not full:
        return False
    if not full:
        # A short line (centred title, last line of a paragraph) ends it unless the text
        # clearly goes on (it ends with a comma, a conjunction, no punctuation in a title).
        return prev.text.endswith((",", "và", "của", "về", "các", "trong")) or (
            prev.text.isupper() and text.isupper() and abs((prev.x0 + prev.x1) - (line.x0 + line.x1)) < 40
        )
    return not (ends and prev.text.endswith((".", ":", "!", "?")) and text[:1].isupper())


def _continues_page(paragraph: Paragraph, line: Line) -> bool:
    return (
        not paragraph.text.endswith(_SENTENCE_END)
        and line.text[:1].islower()
        and not ITEM_RE.match(line.text)
    )


def _join(lines: list[Line]) -> str:
    return " ".join(line.text for line in lines)
