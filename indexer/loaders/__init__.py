"""Plan files → the one `Document` model the parser reads, whatever the container.

.txt/.md (decoded, legacy encodings only when they read as Vietnamese), .docx (Word list
numbering, tables with spans), .doc (through LibreOffice), .pdf (text layer with pdfplumber;
scanned pages through Tesseract OCR). Every bad input gives one `PlanbotError` line, and a
hostile one (zip bomb, XML entities, giant pages, endless conversion) is refused within the
limits of `indexer.loaders.limits`.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path

from indexer.loaders import limits
from knowledge.document import Document, Paragraph
from knowledge.errors import PlanbotError

SUPPORTED = (".txt", ".md", ".docx", ".doc", ".pdf")

PageProgress = Callable[[int, int], None]


def read_plan_bytes(name: str, data: bytes, progress: PageProgress | None = None) -> Document:
    """The document in a plan file's bytes (warnings in `Document.warnings`). Raises
    `PlanbotError` with a Vietnamese reason. `progress(done, total)` follows OCR pages."""
    name = unicodedata.normalize("NFC", name)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise PlanbotError(
            f"Không hỗ trợ định dạng '{suffix or name}'. Hãy gửi tệp .txt, .md, .docx, .doc hoặc .pdf."
        )
    bound = limits.active()
    if len(data) > bound.file_bytes:
        raise PlanbotError(f"Tệp '{name}' quá lớn ({limits.mb(len(data))}; tối đa {limits.mb(bound.file_bytes)}).")
    if not data.strip():
        raise PlanbotError(f"Tệp '{name}' rỗng.")
    document = _load(name, suffix, data, progress)
    _check_length(name, document, bound.text_chars)
    return document


def _load(name: str, suffix: str, data: bytes, progress: PageProgress | None) -> Document:
    if suffix == ".docx":
        from indexer.loaders.word import load_docx

        return load_docx(name, data)
    if suffix == ".doc":
        from indexer.loaders.doc import load_doc

        return load_doc(name, data)
    if suffix == ".pdf":
        from indexer.loaders.pdf import load_pdf

        return load_pdf(name, data, progress)
    from indexer.loaders.text import load_text

    return load_text(name, data)


def _check_length(name: str, document: Document, most: int) -> None:
    """Refuse more text than any plan holds: parsing takes seconds per megabyte."""
    chars = sum(
        len(b.text) if isinstance(b, Paragraph) else sum(len(c.text) for row in b.rows for c in row)
        for b in document.blocks
    )
    if chars > most:
        raise limits.too_much_text(name, most)


def read_bytes(path: Path) -> bytes:
    """The bytes of a plan file: only a regular file of bounded size is read (a FIFO, a device
    such as /dev/zero or a folder is refused without reading)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise PlanbotError(f"Không đọc được tệp '{path}': {exc.strerror}.") from exc
    if not stat.S_ISREG(info.st_mode):
        raise PlanbotError(f"'{path}' không phải tệp thông thường (thư mục, thiết bị hay ống dẫn): không đọc.")
    most = limits.active().file_bytes
    if info.st_size > most:
        raise PlanbotError(f"Tệp '{path}' quá lớn ({limits.mb(info.st_size)}; tối đa {limits.mb(most)}).")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(most + 1)
    except OSError as exc:
        raise PlanbotError(f"Không đọc được tệp '{path}': {exc.strerror}.") from exc
    if len(data) > most:
        raise PlanbotError(f"Tệp '{path}' quá lớn (tối đa {limits.mb(most)}).")
    return data


def read_plan_file(path: Path, progress: PageProgress | None = None) -> Document:
    return read_plan_bytes(path.name, read_bytes(path), progress)


def plan_files(paths: list[Path]) -> list[Path]:
    """Expand folders into the supported files they hold (sorted; README, hidden files and
    Word's "~$" lock files excluded)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUPPORTED
                and p.stem.lower() != "readme"
                and not p.name.startswith((".", "~$"))
            )
        else:
            found.append(path)
    return found
