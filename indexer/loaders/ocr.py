"""Scanned PDF pages → text lines and tables, by Tesseract OCR (Vietnamese).

Each page is rendered at 300 dpi (pdfium, through pypdfium2 which pdfplumber already needs;
a page larger than the pixel limit, lower, so a poster-size page never needs gigabytes),
its ruled tables are found from the long dark lines of the image, and Tesseract's word boxes
(TSV output) are put into the table cells they fall in; the other words make text lines.
Coloured ink (seals, reception stamps) is dropped before reading.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from indexer.loaders import limits
from indexer.loaders.layout import Line, cell_text, is_page_number
from knowledge.document import Cell, Table
from knowledge.errors import PlanbotError
from knowledge.text import nfc

log = logging.getLogger(__name__)

DPI = 300
PAGE_TIMEOUT = 180  # seconds of Tesseract per page at most
# Pages read at once: every core but one, so answers keep a core while a scan is read.
WORKERS = max(1, min(4, (os.cpu_count() or 1) - 1))
INSTALL = "sudo apt-get install tesseract-ocr tesseract-ocr-vie"
PageContent = tuple[list[Line], list[tuple[float, Table]]]


def available() -> str | None:
    """Why OCR cannot run here (a Vietnamese message), or None when it can."""
    if shutil.which("tesseract") is None:
        return f"Chưa cài Tesseract OCR để đọc PDF bản quét. Hãy cài: {INSTALL}."
    try:
        langs = subprocess.run(
            ["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return f"Không chạy được Tesseract OCR. Hãy cài lại: {INSTALL}."
    if "vie" not in langs:
        return f"Tesseract chưa có dữ liệu tiếng Việt. Hãy cài: {INSTALL}."
    return None


def read_pages(
    name: str,
    data: bytes,
    numbers: list[int],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[int, PageContent], float]:
    """OCR the given pages (1-based): their content and the seconds per page. Raises
    `PlanbotError` when OCR is not installed."""
    problem = available()
    if problem:
        raise PlanbotError(f"PDF '{name}' là bản quét (không có lớp văn bản). {problem}")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:  # pdfium.PdfiumError and friends
        raise PlanbotError(f"Tệp '{name}' không phải PDF hợp lệ.") from exc
    out: dict[int, PageContent] = {}
    started = time.perf_counter()
    # pdfium renders in this thread (it is not thread-safe); Tesseract reads up to WORKERS
    # pages at once (one thread each), a page rendered ahead while the others are read.
    pending: deque[tuple[int, Future]] = deque()
    workers = max(1, min(WORKERS, len(numbers)))
    most_pixels = limits.active().page_pixels

    def collect() -> None:
        number, future = pending.popleft()
        try:
            out[number] = future.result()
        except PlanbotError:
            raise
        except Exception as exc:  # an odd image
            raise PlanbotError(f"Tệp '{name}': không đọc được trang {number} của bản quét.") from exc
        log.info("OCR %s: trang %d xong (%.1f s từ đầu)", name, number, time.perf_counter() - started)
        if progress:
            progress(len(out), len(numbers))

    try:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for number in numbers:
                try:
                    gray, dpi = _render(pdf, number, most_pixels)
                except Exception as exc:  # a page pdfium cannot render
                    raise PlanbotError(f"Tệp '{name}': không đọc được trang {number} của bản quét.") from exc
                pending.append((number, pool.submit(read_image, name, gray, dpi)))
                if len(pending) >= workers:
                    collect()
            while pending:
                collect()
    finally:
        for _, future in pending:
            future.cancel()
        pdf.close()
    per_page = (time.perf_counter() - started) / max(len(numbers), 1)
    log.info("OCR %s: %.1f s/trang", name, per_page)
    return out, per_page


def render_dpi(width: float, height: float, most_pixels: int) -> float:
    """DPI for a page of `width` × `height` points: 300, or less for a page that would take
    more than `most_pixels` pixels (larger than about A2 at the default limit)."""
    area = max(width * height, 1.0) / 72 / 72  # square inches
    return min(float(DPI), math.sqrt(most_pixels / area))


def _render(pdf, number: int, most_pixels: int) -> tuple[np.ndarray, float]:
    page = pdf[number - 1]
    dpi = render_dpi(*page.get_size(), most_pixels)
    pixels = page.render(scale=dpi / 72).to_numpy()  # BGR(x), a view of pdfium's buffer
    # Brightest channel: black print stays dark, coloured ink (red seals, blue "ĐẾN" stamps,
    # signatures) turns light and stops hiding the words under it.
    return pixels[..., :3].max(axis=2).astype(np.uint8), dpi


def read_image(name: str, gray: np.ndarray, dpi: float = DPI) -> PageContent:
    """Lines and tables of one page image (grayscale, `dpi` dots per inch)."""
    words = _tesseract_words(name, gray, dpi=dpi)
    grids = find_tables(gray < 128)
    tables: list[tuple[float, Table]] = []
    free: list[dict] = []
    cells_words: list[dict[tuple[int, int], list[dict]]] = [{} for _ in grids]
    for word in words:
        cx, cy = word["left"] + word["width"] / 2, word["top"] + word["height"] / 2
        for g, grid in enumerate(grids):
            spot = grid.locate(cx, cy)
            if spot is not None:
                cells_words[g].setdefault(spot, []).append(word)
                break
        else:
            free.append(word)
    scale = 72 / dpi
    for grid, found in zip(grids, cells_words, strict=True):

        def text_of(spot: tuple[int, int], box: tuple[int, int, int, int], found=found) -> str:
            words = found.get(spot)
            if words:
                return _text(words)
            return _cell_ocr(name, gray, box, dpi)  # a lone short text (a row number) a page read misses

        tables.append((grid.ys[0] * scale, grid.table(text_of)))
    lines = []
    for group in _group_lines(free):
        text = nfc(" ".join(w["text"] for w in group)).strip()
        if text and not is_page_number(text, min(w["top"] for w in group), gray.shape[0]):
            lines.append(
                Line(
                    text,
                    min(w["left"] for w in group) * scale,
                    max(w["left"] + w["width"] for w in group) * scale,
                    min(w["top"] for w in group) * scale,
                    max(w["top"] + w["height"] for w in group) * scale,
                )
            )
    lines.sort(key=lambda line: (round(line.top / 4), line.x0))
    return lines, tables


def _cell_ocr(name: str, gray: np.ndarray, box: tuple[int, int, int, int], dpi: float = DPI) -> str:
    x0, y0, x1, y1 = box
    crop = gray[y0 + 6 : y1 - 5, x0 + 6 : x1 - 5]
    if crop.size == 0 or int((crop < 128).sum()) < 40:
        return ""  # blank cell
    ys, xs = np.nonzero(crop < 128)  # the ink, tightly, on a white margin
    crop = crop[max(ys.min() - 10, 0) : ys.max() + 10, max(xs.min() - 10, 0) : xs.max() + 10]
    pad = np.full((crop.shape[0] + 60, crop.shape[1] + 60), 255, dtype=np.uint8)
    pad[30:-30, 30:-30] = crop
    return _text(_tesseract_words(name, pad, psm=6, dpi=dpi))


def _tesseract_words(name: str, gray: np.ndarray, psm: int = 3, dpi: float = DPI) -> list[dict]:
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="planbot-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        Image.fromarray(gray).save(png)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            result = subprocess.run(
                ["tesseract", str(png), "stdout", "-l", "vie", "--psm", str(psm), "--dpi", str(round(dpi)), "tsv"],
                capture_output=True,
                timeout=PAGE_TIMEOUT,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PlanbotError(f"OCR tệp '{name}' quá lâu (hơn {PAGE_TIMEOUT} giây một trang).") from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise PlanbotError(f"OCR tệp '{name}' thất bại: {detail[0]}")
    words = []
    for row in csv.DictReader(io.StringIO(result.stdout.decode("utf-8", "replace")), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip().strip("|")  # table rules read as "|"
        if row.get("level") != "5" or not text or float(row.get("conf") or -1) < 0:
            continue
        words.append(
            {
                "text": text,
                "left": int(row["left"]),
                "top": int(row["top"]),
                "width": int(row["width"]),
                "height": int(row["height"]),
                "line": (int(row["block_num"]), int(row["par_num"]), int(row["line_num"])),
            }
        )
    return words


def _group_lines(words: list[dict]) -> list[list[dict]]:
    """Words → lines by Tesseract's line numbers; a line is cut where a wide gap separates two
    columns (a letterhead read across: "BỘ CÔNG AN      CỘNG HÒA XÃ HỘI …")."""
    by_line: dict[tuple, list[dict]] = {}
    for word in words:
        by_line.setdefault(word["line"], []).append(word)
    out: list[list[dict]] = []
    for group in by_line.values():
        group.sort(key=lambda w: w["left"])
        height = max(w["height"] for w in group)
        current = [group[0]]
        for word in group[1:]:
            previous = current[-1]
            if word["left"] - (previous["left"] + previous["width"]) > 3 * height:
                out.append(current)
                current = []
            current.append(word)
        out.append(current)
    return out


def _text(words: list[dict]) -> str:
    lines = _group_lines(words)
    lines.sort(key=lambda group: (min(w["top"] for w in group), min(w["left"] for w in group)))
    return cell_text("\n".join(" ".join(w["text"] for w in group) for group in lines))


# -- ruled tables in an image ------------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each run of True in a 1-D mask (end exclusive)."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _longest_run(row: np.ndarray, gap: int = 4) -> tuple[int, int]:
    """Longest run of dark pixels in a row, bridging gaps of up to `gap` pixels."""
    best, start, last = (0, 0), None, None
    for a, b in _runs(row):
        if start is not None and last is not None and a - last <= gap:
            last = b
        else:
            start, last = a, b
        if last - start > best[1] - best[0]:
            best = (start, last)
    return best


class Grid:
    """A ruled table found in an image: row lines `ys`, column lines `xs` (pixels), and which
    line segments are drawn (a missing segment means a merged cell)."""

    def __init__(self, dark: np.ndarray, ys: list[int], xs: list[int]) -> None:
        self.dark, self.ys, self.xs = dark, ys, xs

    def _vertical(self, x: int, r: int) -> bool:
        band = self.dark[self.ys[r] + 4 : self.ys[r + 1] - 3, max(x - 4, 0) : x + 5]
        return band.size > 0 and float(band.any(axis=1).mean()) > 0.8

    def _horizontal(self, y: int, c: int) -> bool:
        band = self.dark[max(y - 4, 0) : y + 5, self.xs[c] + 4 : self.xs[c + 1] - 3]
        return band.size > 0 and float(band.any(axis=0).mean()) > 0.7

    def locate(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the cell holding the point, columns of merged cells folded."""
        if not (self.ys[0] <= y <= self.ys[-1] and self.xs[0] <= x <= self.xs[-1]):
            return None
        r = max(i for i, v in enumerate(self.ys[:-1]) if v <= y)
        c = max(i for i, v in enumerate(self.xs[:-1]) if v <= x)
        while c > 0 and not self._vertical(self.xs[c], r):
            c -= 1
        while r > 0 and not self._horizontal(self.ys[r], c):
            r -= 1
        return r, c

    def table(self, text_of: Callable[[tuple[int, int], tuple[int, int, int, int]], str]) -> Table:
        rows: list[list[Cell]] = []
        origin: dict[int, Cell] = {}
        for r in range(len(self.ys) - 1):
            row: list[Cell] = []
            c = 0
            while c < len(self.xs) - 1:
                span = 1
                while c + span < len(self.xs) - 1 and not self._vertical(self.xs[c + span], r):
                    span += 1
                if r > 0 and not self._horizontal(self.ys[r], c) and c in origin:
                    origin[c].row_span += 1
                    row.append(Cell("", col_span=span, merged_from_above=True))
                else:
                    box = (self.xs[c], self.ys[r], self.xs[c + span], self.ys[r + 1])
                    cell = Cell(text_of((r, c), box), col_span=span)
                    origin[c] = cell
                    row.append(cell)
                c += span
            rows.append(row)
        return Table(rows=rows)


def find_tables(dark: np.ndarray) -> list[Grid]:
    """Ruled tables: long horizontal lines, and the vertical lines crossing the bands between them."""
    height, width = dark.shape
    sums = dark.sum(axis=1)
    candidates = np.flatnonzero(sums >= width * 0.2)
    lines: list[tuple[int, int, int]] = []  # (y, x0, x1)
    for y in candidates.tolist():
        a, b = _longest_run(dark[y])
        if b - a >= width * 0.3:
            if lines and y - lines[-1][0] <= 6:
                continue  # the same (thick) line
            lines.append((y, a, b))
    grids: list[Grid] = []
    i = 0
    while i < len(lines) - 1:
        ys = [lines[i][0]]
        xs_all: list[int] = []
        j = i
        while j + 1 < len(lines):
            top, bottom = lines[j][0], lines[j + 1][0]
            if bottom - top < 12:
                j += 1
                continue
            band = dark[top + 4 : bottom - 3]
            xs = [(a + b) // 2 for a, b in _runs(band.mean(axis=0) > 0.8) if b - a < 20]
            if len(xs) < 2:
                break
            ys.append(bottom)
            xs_all.extend(xs)
            j += 1
        if len(ys) >= 2 and xs_all:
            xs = _cluster(sorted(xs_all))
            if len(xs) >= 3:  # at least two columns
                grids.append(Grid(dark, ys, xs))
        i = max(j, i + 1)
    return grids


def _cluster(values: list[int], within: int = 12) -> list[int]:
    groups: list[list[int]] = []
    for v in values:
        if groups and v - groups[-1][-1] <= within:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) // len(g) for g in groups]
