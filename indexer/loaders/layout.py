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
