"""Plan files → the plain-text model the parser reads (.txt, .md, .docx, .pdf)."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

from knowledge.errors import PlanbotError
from knowledge.text import nfc

SUPPORTED = (".txt", ".md", ".docx", ".pdf")
_VIETNAMESE = set(
    "aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)


def read_plan_bytes(name: str, data: bytes) -> tuple[str, list[str]]:
    """Text of a plan file and warnings. Raises `PlanbotError` with a Vietnamese reason."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED:
        raise PlanbotError(
            f"Không hỗ trợ định dạng '{suffix or name}'. Hãy gửi tệp .txt, .md, .docx hoặc .pdf."
        )
    if not data.strip():
        raise PlanbotError(f"Tệp '{name}' rỗng.")
    if suffix == ".docx":
        return _docx_text(name, data), []
    if suffix == ".pdf":
        return _pdf_text(name, data), []
    return _decode_text(name, data)


def read_plan_file(path: Path) -> tuple[str, list[str]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanbotError(f"Không đọc được tệp '{path}': {exc.strerror}.") from exc
    return read_plan_bytes(path.name, data)


def _decode_text(name: str, data: bytes) -> tuple[str, list[str]]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return nfc(data.decode("utf-16")), []
    if b"\x00" in data[:4096]:
        raise PlanbotError(f"Tệp '{name}' là tệp nhị phân, không phải văn bản.")
    try:
        return nfc(data.decode("utf-8-sig")), []
    except UnicodeDecodeError:
        pass
    # Legacy Vietnamese encoding (Windows-1258): accept only if it reads as Vietnamese.
    text = nfc(data.decode("cp1258", errors="replace"))
    letters = [c for c in text.lower() if c.isalpha()]
    odd = sum(1 for c in text if c == "\ufffd" or unicodedata.category(c) in ("Cc", "So") and c not in "\n\t\r")
    vietnamese = sum(1 for c in letters if c in _VIETNAMESE)
    if letters and odd / max(len(text), 1) < 0.001 and vietnamese / len(letters) > 0.97:
        return text, [f"'{name}' không phải UTF-8; đã đọc theo bảng mã Windows-1258."]
    raise PlanbotError(f"Tệp '{name}' không phải văn bản UTF-8. Hãy lưu lại với bảng mã UTF-8.")


def _docx_text(name: str, data: bytes) -> str:
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several types for broken packages
        raise PlanbotError(f"Tệp '{name}' không phải .docx hợp lệ.") from exc
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(child, document).text.strip()
            if text:
                lines.extend([text, ""])
        elif tag == "tbl":
            table = Table(child, document)
            for row in table.rows:
                cells: list[str] = []
                previous = None
                for cell in row.cells:
                    if previous is not None and cell._tc is previous:  # horizontally merged
                        continue
                    previous = cell._tc
                    cells.append(" ".join(cell.text.split()))
                lines.append("\t".join(cells) + ("\t" if len(cells) < 3 else ""))
            lines.append("")
    return nfc("\n".join(lines))


def _pdf_text(name: str, data: bytes) -> str:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many error types for broken files
        raise PlanbotError(f"Tệp '{name}' không phải PDF hợp lệ.") from exc
    text = "\n\n".join(pages)
    if not text.strip():
        raise PlanbotError(f"PDF '{name}' không có lớp văn bản (bản quét?). Hãy gửi bản có chữ.")
    return nfc(text)


def plan_files(paths: list[Path]) -> list[Path]:
    """Expand folders into the supported files they hold (sorted, README excluded)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix.lower() in SUPPORTED and p.stem.lower() != "readme"
            )
        else:
            found.append(path)
    return found
