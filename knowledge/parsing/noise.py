"""What a website put before the document: its field list ("Số hiệu / Loại văn bản / Nơi ban
hành / Người ký / Ngày ban hành / Tình trạng …"), its buttons ("Tải về", "Chia sẻ") and its
copyright line. `structure` drops lines that carry enough website signals; here the whole run
of such matter before the letterhead goes, so the letterhead, number and title are read from the
document itself, and the site's fields are kept apart, only to fill what the document leaves
blank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from knowledge.document import Document, Table
from knowledge.parsing.letterhead import MOTTO
from knowledge.parsing.structure import Block, noise_signals
from knowledge.text import clean_spaces, fold

_BUTTONS = re.compile(
    r"\b(tai ve|chia se|theo doi(?: van ban)?|in van ban|luu van ban|luoc do|van ban lien quan|thuoc tinh|"
    r"noi dung|tieng anh|van ban goc|so sanh|bao loi|gop y|muc luc|hieu luc|dang nhap|dang ky|tim kiem)\b"
)
_FIELD = re.compile(
    r"\b(so hieu|ky hieu|loai van ban|noi ban hanh|co quan ban hanh|nguoi ky|ngay ban hanh|ngay hieu luc|"
    r"ngay cong bao|so cong bao|tinh trang|trich yeu|linh vuc)\s*:?"
)
# The site's heading for the page: "Kế hoạch 45/KH-UBND năm 2025 triển khai …"
_PAGE_TITLE = re.compile(
    r"^(ke hoach|quyet dinh|thong bao|bao cao|cong van|cong dien|nghi quyet|nghi dinh|thong tu|chi thi)\s+(?:so\s+)?\d+/"
)
_KINDS = {
    "ke hoach": "ke_hoach",
    "quyet dinh": "quyet_dinh",
    "cong van": "cong_van",
    "cong dien": "cong_dien",
    "thong bao": "thong_bao",
    "bao cao": "bao_cao",
    "nghi quyet": "nghi_quyet",
    "nghi dinh": "nghi_dinh",
    "thong tu": "thong_tu",
    "chi thi": "chi_thi",
}


@dataclass
class SiteFields:
    """A website's record of the document: used only where the document itself says nothing."""

    number: str = ""
    kind: str = ""
    issuer: str = ""
    date: date | None = None
    title: str = ""


def _site_line(text: str) -> bool:
    """A line of the website: its fields, its buttons, a copyright or address line."""
    folded = fold(text)
    if noise_signals(text) or _FIELD.match(folded) or _PAGE_TITLE.match(folded):
        return True
    rest = _BUTTONS.sub(" ", folded)
    return len(folded) < 120 and not re.search(r"\w", re.sub(r"[|;,.:/\-–\t]", " ", rest))


def _letterhead_line(block: Block) -> bool:
    if block.kind != "para" or noise_signals(block.text) or _FIELD.search(fold(block.text)):
        return False
    letters = [c for c in block.text if c.isalpha()]
    return (
        len(block.text) <= 90
        and bool(letters)
        and sum(c.isupper() for c in letters) >= 0.8 * len(letters)
    )


def drop_site_preamble(blocks: list[Block]) -> list[Block]:
    """The blocks from the letterhead on, when everything before it is website matter (at least
    one field, button or notice, and no sentence of the document)."""
    motto = next(
        (i for i, b in enumerate(blocks[:40]) if b.kind == "para" and MOTTO.search(b.text)), None
    )
    if not motto:
        return blocks
    start = motto
    while start > 0 and _letterhead_line(blocks[start - 1]):
        start -= 1
    before = blocks[:start]
    texts = [
        b.text if b.kind == "para" else " | ".join(c for row in b.rows for c in row) for b in before
    ]
    if not texts or not any(_site_line(t) or noise_signals(t) for t in texts):
        return blocks
    if any(not _site_line(t) and len(t) >= 120 for t in texts):
        return blocks  # a sentence of the document stands before the motto: leave it all
    return blocks[start:]


def _raw_lines(document: Document, limit: int = 40) -> list[str]:
    lines: list[str] = []
    for item in document.blocks[:limit]:
        if isinstance(item, Table):
            lines.extend("\t".join(row) for row in item.grid())
        else:
            lines.extend(item.text.split("\n"))
    return lines


def site_fields(document: Document) -> SiteFields:
    """The website's field list before the document, if any: "Số hiệu: 45/TB-UBND", "Loại văn
    bản: Thông báo", "Ngày ban hành: 12/03/2025", as lines or as a table of label/value cells."""
    found: dict[str, str] = {}
    for line in _raw_lines(document):
        if MOTTO.search(line):
            break
        cells = [c.strip() for c in re.split(r"\t|\s\|\s", line)]
        for i, cell in enumerate(cells):
            for m in _FIELD.finditer(fold(cell)):
                value = cell[m.end() :].strip(" :")
                if not value and i + 1 < len(cells):
                    value = cells[i + 1]
                nxt = _FIELD.search(fold(value))
                value = clean_spaces(value[: nxt.start()] if nxt else value)
                found.setdefault(m.group(1), value)
    site = SiteFields()
    number = re.match(
        r"^\d+[a-z]?/[\wĐđ/\-]+$", found.get("so hieu", "") or found.get("ky hieu", "")
    )
    site.number = number.group(0) if number else ""
    site.kind = _KINDS.get(fold(found.get("loai van ban", "")).strip(), "")
    issuer = found.get("co quan ban hanh", "") or found.get("noi ban hanh", "")
    site.issuer = (
        issuer
        if re.search(r"\b(uy ban|ubnd|bo|so|chinh phu|thu tuong|hoi dong|ban)\b", fold(issuer))
        else ""
    )
    day = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", found.get("ngay ban hanh", ""))
    if day:
        try:
            site.date = date(int(day.group(3)), int(day.group(2)), int(day.group(1)))
        except ValueError:
            site.date = None
    site.title = found.get("trich yeu", "")
    return site
