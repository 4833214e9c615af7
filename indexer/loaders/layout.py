"""Positioned text lines shared by the PDF and OCR readers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.text import nfc


@dataclass
class Line:
    """One text line with its position on the page (PDF points, top-left origin)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float


def cell_text(text: str | None) -> str:
    """Wrapped lines of a table cell joined by spaces; a line starting a bullet keeps its break."""
    if not text:
        return ""
    out: list[str] = []
    for line in nfc(text).split("\n"):
        line = line.strip()
        if not line:
            continue
        if out and not re.match(r"^[-–•+*]\s", line):
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


_PAGE_NUMBER_RE = re.compile(r"^(?:[-–\s]*\d{1,3}[-–\s]*|(?:Trang|trang)\s*\d{1,3}(?:\s*/\s*\d{1,3})?)$")


def is_page_number(text: str, top: float, height: float) -> bool:
    """A running page number: a bare number ("3", "- 3 -", "Trang 3") in the top or bottom margin."""
    return (top < height * 0.1 or top > height * 0.88) and bool(_PAGE_NUMBER_RE.match(text.strip()))
