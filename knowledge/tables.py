"""Task tables: rebuild rows of "TT | nhiệm vụ | chủ trì | phối hợp | thời hạn | ghi chú" tables.

Tables arrive as tab-separated lines (from text plans) or as lists of cells (from .docx). They
break across pages: the header is repeated and a row continues on lines whose number cell is
empty, each carrying the rest of its cells ("Trước" … "01/7/2025"). Other layouts add columns
(Kết quả/Sản phẩm, Kinh phí), group heading rows ("I", "A"), sub-rows ("1.1", "a"), merged
cells left empty below their first row, and notes shifted into an agency column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.agencies import AgencyRegistry, is_note, split_agencies
from knowledge.deadlines import parse_deadline
from knowledge.model import Task
from knowledge.text import clean_spaces, fold

NUMBER, TASK, LEAD, SUPPORT, DEADLINE, NOTE, OTHER = (
    "number", "task", "lead", "support", "deadline", "note", "other",
)


def column_role(header: str) -> str:
    h = fold(clean_spaces(header))
    if re.fullmatch(r"(s\.?\s*)?tt\.?|stt|so tt|so thu tu|thu tu|tt\.", h):
        return NUMBER
    if "phoi hop" in h:
        return SUPPORT
    if "chu tri" in h or re.search(r"(co quan|don vi|bo phan)\s+(thuc hien|chiu trach nhiem|dam nhiem)", h) or h in (
        "co quan",
        "don vi",
        "trach nhiem",
    ):
        return LEAD
    if re.search(r"thoi (gian|han|diem)|tien do|han (hoan thanh|chot)|hoan thanh|moc", h):
        return DEADLINE
    if "ghi chu" in h:
        return NOTE
    if re.search(r"noi dung|nhiem vu|cong viec|ten (de an|du an|nhiem vu)|hoat dong|giai phap|chi tieu", h):
        return TASK
    return OTHER


def _header_like(cells: list[str]) -> bool:
    filled = [c for c in cells if c.strip()]
    return bool(filled) and all(len(c.split()) <= 8 for c in filled)


def is_task_header(cells: list[str]) -> bool:
    roles = [column_role(c) for c in cells if c.strip()]
    return _header_like(cells) and TASK in roles and (LEAD in roles or SUPPORT in roles)


def is_any_header(cells: list[str]) -> bool:
    roles = [column_role(c) for c in cells if c.strip()]
    return (
        _header_like(cells)
        and TASK in roles
        and (NUMBER in roles or roles.count(OTHER) <= len(roles) / 2)
    )


_ROW_LABEL = re.compile(r"^(\d{1,3}(\.\d{1,3})*\.?|[a-zđ]\)?|[A-Z]\.?|[IVX]{1,5}\.?|[-+•])$")
_GROUP_LABEL = re.compile(r"^([IVX]{1,5}|[A-Z])\.?$")


@dataclass
class _Row:
    label: str
    cells: dict[int, str] = field(default_factory=dict)

    def add(self, index: int, text: str) -> None:
        text = clean_spaces(text)
        if not text:
            return
        old = self.cells.get(index, "")
        if not old:
            self.cells[index] = text
        elif old.endswith("-") and not old.endswith(" -"):
            self.cells[index] = old + text
        else:
            self.cells[index] = old + " " + text


@dataclass
class TableResult:
    tasks: list[Task]
    rows_text: list[str]  # non-task tables: rows written with their column labels
    warnings: list[str]


def parse_table(rows: list[list[str]], label: str, registry: AgencyRegistry, first_ordinal: int = 1) -> TableResult:
    """Rebuild a table given as rows of cells. Task tables give tasks; others labelled rows."""
    header_at = next((i for i, r in enumerate(rows) if is_any_header(r) or is_task_header(r)), None)
    if header_at is None:
        return TableResult([], [" | ".join(c for c in r if c.strip()) for r in rows if any(c.strip() for c in r)], [])
    header = [clean_spaces(c) for c in rows[header_at]]
    body = rows[header_at + 1 :]
    # A second header line refining merged cells ("Cơ quan" over "Chủ trì | Phối hợp").
    if body and not clean_spaces(body[0][0] if body[0] else "") and any(
        column_role(c) in (LEAD, SUPPORT) for c in body[0] if c.strip()
    ):
        for i, c in enumerate(body[0]):
            if c.strip():
                if i < len(header):
                    header[i] = c.strip()
                else:
                    header.append(c.strip())
        body = body[1:]
    roles = [column_role(h) for h in header]
    if NUMBER not in roles:
        roles[0] = NUMBER if not header[0] else roles[0]
    if not is_task_header(header):
        return TableResult([], _labelled_rows(header, body), [])
    num_col = roles.index(NUMBER) if NUMBER in roles else 0
    built: list[_Row] = []
    warnings: list[str] = []
    for cells in body:
        cells = [c for c in cells]
        if not any(c.strip() for c in cells):
            continue
        if _same_header(cells, header) or _header_fragment(cells):
            continue
        first = clean_spaces(cells[num_col]) if num_col < len(cells) else ""
        if first and _ROW_LABEL.match(first):
            row = _Row(first.rstrip("."))
            built.append(row)
        elif first and not built:
            continue
        elif first:
            # Text in the number column that is not a label: a continuation written oddly.
            row = built[-1]
            row.add(num_col, first)
            cells = list(cells)
            cells[num_col] = ""
        elif not built:
            continue
        row = built[-1]
        for i, c in enumerate(cells):
            if i != num_col:
                row.add(i, c)
    tasks: list[Task] = []
    group: str | None = None
    parent: Task | None = None
    for row in built:
        def cell(role: str, row: _Row = row) -> str:
            return " ".join(row.cells.get(i, "") for i, r in enumerate(roles) if r == role).strip()

        text = cell(TASK)
        lead_text, support_text, deadline_text, note = cell(LEAD), cell(SUPPORT), cell(DEADLINE), cell(NOTE)
        if _GROUP_LABEL.match(row.label) and not (lead_text or support_text or deadline_text):
            group = f"{row.label}. {text}" if text else row.label
            group = group if len(group) < 80 else group[:77] + "…"
            parent = None
            continue
        # Notes shifted into agency columns ("Đã phê duyệt chủ trương đầu tư").
        if lead_text and is_note(lead_text):
            note, lead_text = _join(note, lead_text), ""
        if support_text and is_note(support_text):
            note, support_text = _join(note, support_text), ""
        is_sub = bool(re.match(r"^(\d+\.\d+|[a-zđ]\)?|[-+•])$", row.label)) and parent is not None
        if is_sub and parent is not None:
            lead_text = lead_text or parent.lead_text
            support_text = support_text or parent.support_text
            deadline_text = deadline_text or (parent.deadline.text if parent.deadline else "")
        extra = {
            header[i]: row.cells[i]
            for i, r in enumerate(roles)
            if r == OTHER and row.cells.get(i) and i < len(header)
        }
        task = Task(
            ordinal=first_ordinal + len(tasks),
            row=row.label,
            table=label,
            text=text,
            group=_short_group(group),
            lead=[registry.canonical(p) for p in split_agencies(lead_text)],
            support=[registry.canonical(p) for p in split_agencies(support_text)],
            lead_text=lead_text,
            support_text=support_text,
            deadline=parse_deadline(deadline_text),
            note=note,
            extra=extra,
        )
        if not text:
            warnings.append(f"{label}, TT {row.label}: dòng không có nội dung nhiệm vụ")
        tasks.append(task)
        if not is_sub:
            parent = task
    return TableResult(tasks, [], warnings)


def _short_group(group: str | None) -> str | None:
    if not group:
        return None
    return "Nhóm " + group.split(".")[0].strip()


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _same_header(cells: list[str], header: list[str]) -> bool:
    """A header repeated after a page break (same labels, or another task-table header)."""
    a = [fold(clean_spaces(c)) for c in cells if c.strip()]
    b = [fold(h) for h in header if h]
    return bool(a) and (a == b[: len(a)] or is_task_header(cells))


def _header_fragment(cells: list[str]) -> bool:
    """The second line of a two-line header repeated after a page break ("| | CHỦ TRÌ | PHỐI HỢP")."""
    filled = [c for c in cells if c.strip()]
    return bool(filled) and all(len(c.split()) <= 3 and column_role(c) in (LEAD, SUPPORT, NUMBER, DEADLINE, NOTE) for c in filled)


def _labelled_rows(header: list[str], body: list[list[str]]) -> list[str]:
    out = []
    for cells in body:
        if not any(c.strip() for c in cells):
            continue
        parts = []
        for i, c in enumerate(cells):
            c = clean_spaces(c)
            if not c:
                continue
            name = header[i] if i < len(header) and header[i] else ""
            parts.append(f"{name}: {c}" if name else c)
        out.append("; ".join(parts))
    return out
