"""Table layout: what each column means, read from header words or, without a header, from what
the cells hold; and the grid repaired where a conversion shifted, split or merged rows.

Column roles come from a scored vocabulary of header words, never from positions: "STT",
"Nội dung / Nhiệm vụ", "Cơ quan chủ trì / Đơn vị thực hiện / Trách nhiệm thực hiện",
"Phối hợp", "Thời gian / Thời hạn / Tiến độ", "Sản phẩm / Kết quả", "Kinh phí",
"Theo dõi, đôn đốc", "Ghi chú", in any order, over one or several header lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.dates.deadlines import parse_deadline
from knowledge.document import Table
from knowledge.orgs.agency_list import HEAD_WORDS
from knowledge.text import clean_spaces, fold

NUMBER, TASK, LEAD, SUPPORT, DEADLINE, NOTE, OTHER = (
    "number",
    "task",
    "lead",
    "support",
    "deadline",
    "note",
    "other",
)
# Kinds of whole tables. (Columns that are no role, such as Sản phẩm, Kinh phí or Theo dõi, đôn
# đốc, are OTHER: kept in Task.extra under their header label.)
TASKS, PROCEDURES, INDICATORS, SCHEDULE, PLAIN = (
    "tasks",
    "procedures",
    "indicators",
    "schedule",
    "plain",
)

_NUMBER_RE = re.compile(r"(s\.?\s*)?tt\.?|stt|so tt|so thu tu|thu tu|tt\.|so")
_LEAD_RE = re.compile(
    r"chu tri|(co quan|don vi|bo phan|to chuc)\s+(thuc hien|chiu trach nhiem|dam nhiem|dau moi|tham muu)"
    r"|trach nhiem( thuc hien| chinh)?$|^(co quan|don vi|bo phan|nguoi) thuc hien|^(co quan|don vi)$"
)
_DEADLINE_RE = re.compile(
    r"thoi (gian|han|diem)|tien do|han (hoan thanh|chot|xong)|hoan thanh|\bmoc\b|lo trinh|^nam( thuc hien)?$|^ngay"
)
_TASK_RE = re.compile(
    r"noi dung|nhiem vu|cong viec|ten (de an|du an|nhiem vu|chuong trinh|hoat dong)|hoat dong|giai phap"
    r"|chi tieu|thu tuc|ten tthc|tthc"
)
_AGENCY_HEAD = re.compile(
    r"(?:"
    + "|".join(re.escape(fold(w)) for w in sorted(HEAD_WORDS, key=len, reverse=True))
    + r")\b"
    r"|(doanh nghiep|tong cong ty|cong ty|thue|nha cung cap|bo chqs|bch|quan doi|bo doi|lanh dao|cac)\b"
)
# Header words of columns that are not roles but still say "this line is a header".
_DESCRIPTOR = re.compile(
    r"don vi tinh|\bdvt\b|kinh phi|nguon von|du toan|san pham|ket qua|ghi chu|\b20\d\d\b|ke hoach|uoc thuc hien"
    r"|can cu|van ban|ma (so )?(tthc|thu tuc)|linh vuc|dia diem|thanh phan|theo doi|don doc"
)
LABEL_RE = re.compile(
    r"^(\d{1,3}(\.\d{1,3})*\.?|\(?\d{1,3}\)|[IVX]{1,5}(\.\d{1,3})*\.?|[a-zđ]\)?|[A-Z]\.?|[-+•–])$"
)
GROUP_LABEL_RE = re.compile(r"^([IVX]{1,5}|[A-Z])\.?$")


def column_role(header: str) -> str:
    """The role of a column from its header text (any wording, any order)."""
    h = fold(clean_spaces(header))
    if not h:
        return OTHER
    if _NUMBER_RE.fullmatch(h):
        return NUMBER
    if "phoi hop" in h and "chu tri" not in h:
        return SUPPORT
    if "chu tri" in h:
        return LEAD
    if re.search(r"theo doi|don doc|giam sat|kiem tra", h) and not _TASK_RE.search(h):
        return OTHER
    if re.search(r"don vi tinh|^dvt$|kinh phi|nguon von|du toan|san pham|ket qua|^so luong", h):
        return OTHER
    if _LEAD_RE.search(h):
        return LEAD
    if _DEADLINE_RE.search(h):
        return DEADLINE
    if "ghi chu" in h:
        return NOTE
    if _TASK_RE.search(h):
        return TASK
    return OTHER


def header_year(header: str) -> int | None:
    """A year a deadline header gives for all its cells: "Thời gian (Năm 2026)"."""
    m = re.search(r"\b(20\d\d)\b", header)
    return int(m.group(1)) if m and column_role(header) == DEADLINE else None


def table_kind(header: list[str]) -> str:
    """What a table with this header holds: tasks, or something that never yields tasks."""
    folded = [fold(clean_spaces(h)) for h in header if h.strip()]
    roles = [column_role(h) for h in header if h.strip()]
    joined = " | ".join(folded)
    if any(re.match(r"(ten |ma (so )?)?(thu tuc hanh chinh|tthc)\b", h) for h in folded):
        return PROCEDURES
    if re.search(r"don vi tinh|\bdvt\b", joined):
        return INDICATORS
    if any(h.startswith("chi tieu") for h in folded) and not (
        SUPPORT in roles or DEADLINE in roles
    ):
        return INDICATORS
    if sum(bool(re.match(r"(nam )?20\d\d$", h)) for h in folded) >= 2:
        return INDICATORS
    if TASK in roles and (LEAD in roles or SUPPORT in roles):
        return TASKS
    if DEADLINE in roles:
        return SCHEDULE
    return PLAIN


# -- cells -------------------------------------------------------------------------------------
def is_label(text: str) -> bool:
    return bool(LABEL_RE.match(clean_spaces(text)))


def looks_agency(text: str) -> bool:
    f = fold(clean_spaces(text))
    if f.startswith("to chuc ") and not re.match(
        r"to chuc (chinh tri|xa hoi|doan the|hoi\b(?! nghi| thao| thi| dien)|quoc te|tin dung|phi chinh phu)",
        f,
    ):
        return False  # "Tổ chức hội nghị …": the verb, not an organisation
    if not f or len(f.split()) > 40 or not _AGENCY_HEAD.match(f):
        return False
    return not looks_deadline(text)  # "Quý II/2026" folds like "Quỹ …"


def looks_deadline(text: str) -> bool:
    t = clean_spaces(text)
    if not t or len(t.split()) > 14:
        return False
    d = parse_deadline(t)
    return d is not None and d.parsed


def looks_header(cells: list[str]) -> bool:
    """A header line: short cells, at least two of them naming a column role, no row label."""
    filled = [clean_spaces(c) for c in cells if c.strip()]
    if len(filled) < 2 or any(len(c.split()) > 12 or c.endswith(":") for c in filled):
        return False  # ("Ngày ban hành: | 18/11/2025" is a form, not a header)
    roles = [column_role(c) for c in filled]
    known = [r for r in roles if r != OTHER]
    for c, r in zip(filled, roles, strict=True):
        f = fold(c)
        generic = re.match(
            r"(don vi|co quan|to chuc|bo phan|cac|nguoi)\b", f
        )  # a column name, not a name
        period = re.fullmatch(r"(nam\s+)?(hien hanh\s+)?20\d\d|ke hoach|uoc thuc hien", f)
        if r == OTHER and (looks_agency(c) and not generic or is_label(c)):
            return False
        if looks_deadline(c) and r != DEADLINE and not period:
            return False
    described = [
        c for c, r in zip(filled, roles, strict=True) if r != OTHER or _DESCRIPTOR.search(fold(c))
    ]
    return len(known) >= 2 and 2 * len(described) >= len(roles)


def is_fragment(cells: list[str]) -> bool:
    """The second line of a header ("| | Chủ trì | Phối hợp |") or a column-number line."""
    filled = [clean_spaces(c).strip("*_() ") for c in cells if c.strip()]
    if not filled:
        return False
    if all(re.fullmatch(r"\d{1,2}|[a-z]", c) for c in filled) and len(filled) >= 3:
        return True
    return all(
        len(c.split()) <= 4 and column_role(c) in (LEAD, SUPPORT, NUMBER, DEADLINE, NOTE)
        for c in filled
    )


# -- the grid ----------------------------------------------------------------------------------
@dataclass
class Grid:
    rows: list[list[str]]
    merged: list[list[bool]]  # the cell continues a vertically merged cell above it


def to_grid(table: Table | list[list[str]]) -> Grid:
    """Rows of cell texts aligned on columns, with the vertical-merge mask when known."""
    if isinstance(table, Table):
        rows = [[_clean(c) for c in row] for row in table.grid()]
        merged: list[list[bool]] = []
        for row in table.rows:
            mask: list[bool] = []
            for cell in row:
                mask.extend([cell.merged_from_above] * max(cell.col_span, 1))
            merged.append(mask)
    else:
        rows = [[_clean(c) for c in row] for row in table]
        merged = [[False] * len(r) for r in rows]
    return Grid(rows, merged)


def _clean(text: str) -> str:
    text = re.sub(r"(?<!\w)[*_]{1,2}|[*_]{1,2}(?!\w)", "", text or "")
    return clean_spaces(text)


def find_header(cells: list[str]) -> tuple[int, list[str]] | None:
    """A header in this line: the run of short role cells at its end (junk before it, such as a
    crawler's metadata cells, is cut off). Returns (first column, header cells)."""
    end = len(cells)
    while end and not cells[end - 1].strip():
        end -= 1
    for start in range(0, end):
        part = cells[start:end]
        if (
            part
            and part[0].strip()
            and looks_header(part)
            and all(len(c.split()) <= 12 for c in part)
        ):
            if start and is_label(cells[start - 1]):
                return None  # a numbered data row whose cells happen to read like header words
            return start, part
    return None


def merge_header_lines(upper: list[str], lower: list[str]) -> list[str]:
    """Two header lines as one: "Cơ quan" over "Chủ trì | Phối hợp", or words broken across
    lines ("Thời gian" / "hoàn thành"). When the lower line lost the cells its rowspan
    neighbours covered, its cells go under the upper line's agency group cell."""
    lower_filled = [c for c in lower if c.strip()]
    if (
        len(lower) < len(upper)
        and lower
        and lower[0].strip()
        and all(column_role(c) in (LEAD, SUPPORT) for c in lower_filled)
    ):
        group = next(
            (
                i
                for i, h in enumerate(upper)
                if re.fullmatch(r"(co quan|don vi|trach nhiem)( thuc hien)?", fold(h))
            ),
            None,
        )
        if group is not None:
            return upper[:group] + lower_filled + upper[group + 1 :]
    out = []
    for i in range(max(len(upper), len(lower))):
        a = upper[i] if i < len(upper) else ""
        b = lower[i] if i < len(lower) else ""
        out.append(clean_spaces(f"{a} {b}"))
    return out
