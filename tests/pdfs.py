"""Minimal one-page PDFs built by hand, for loader tests (ASCII text, Helvetica)."""

from __future__ import annotations

_CATALOG = "<< /Type /Catalog /Pages 2 0 R >>"
_PAGES = "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"


def _pdf(objects: list[str]) -> bytes:
    """Objects numbered from 1, with their cross-reference table and trailer."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def blank_pdf() -> bytes:
    """A page with no content at all (what a scan whose OCR finds nothing looks like)."""
    return _pdf([_CATALOG, _PAGES, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"])


def text_pdf(lines: list[str], size: int = 11, x: int = 50, y: int = 800, leading: int = 14) -> bytes:
    """A page whose only content is `lines` of text starting at (x, y)."""
    content = f"BT /F1 {size} Tf {x} {y} Td {leading} TL\n" + "\n".join(f"({line}) '" for line in lines) + "\nET"
    return _pdf(
        [
            _CATALOG,
            _PAGES,
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ]
    )
