"""Task tables: rebuild task rows ("TT | nhiệm vụ | chủ trì | phối hợp | thời hạn | …") by what
each column means.

A table arrives as a `knowledge.document.Table` (cells with spans and vertical merges, from
.docx and PDF) or as rows of cell texts (tab-separated lines of text plans). It is cut into
segments, each under a header (`knowledge.tabular.table_layout`): a header may sit at the end of a line
of junk cells, span two lines, repeat after a page break or lose its number cell; a segment
without a header gets its column roles from what its cells hold. Rows are then rebuilt: a row
continues on lines whose number cell is empty (page breaks), group rows ("I", "A", "5.1"
followed by "5.1.1", "1. Nhóm …" across the row) name the group of the rows below, sub-rows
("1.1", "a", "-") inherit their parent's agencies and deadline, and vertically merged agency
or deadline cells mean "same as above". Tables that are not task tables (administrative
procedures, indicators, budgets, schedules, letterheads) give no task; their rows come back
as text with their column labels, so they stay searchable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge.dates.deadlines import parse_deadline
from knowledge.document import Table
from knowledge.model import Task
from knowledge.orgs.agencies import AgencyRegistry, is_note, split_agencies
from knowledge.tabular.table_cells import agency_cell, deadline_of, split_roles, task_text
from knowledge.tabular.table_layout import (
    DEADLINE,
    GROUP_LABEL_RE,
    LEAD,
    NOTE,
    NUMBER,
    OTHER,
    SUPPORT,
    TASK,
    TASKS,
    Grid,
    header_year,
    is_label,
    looks_agency,
    to_grid,
)
from knowledge.tabular.table_segments import Segment, segments
from knowledge.text import clean_spaces, fold


@dataclass
class TableResult:
    tasks: list[Task]
    rows_text: list[str]  # rows of non-task tables, written with their column labels
    warnings: list[str]
    kinds: list[str] = field(default_factory=list)  # kind of each segment (tasks, procedures, …)
    header: list[str] = field(default_factory=list)  # of the last task segment (for `continues`)
    roles: list[str] = field(default_factory=list)


@dataclass
class _Row:
    label: str
    cells: dict[int, str] = field(default_factory=dict)
    filled: dict[int, str] = field(default_factory=dict)  # merged-from-above texts
    spanning: bool = False  # one cell across the row ("1. Nhóm nhiệm vụ …"): a heading
    orphan: bool = (
        False  # lines before the first numbered row: the end of a row of the table before
    )

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


def parse_table(
    rows: Table | list[list[str]],
    label: str,
    registry: AgencyRegistry,
    first_ordinal: int = 1,
    plan_year: int | None = None,
    continues: TableResult | None = None,
) -> TableResult:
    """Rebuild a table. Task tables give tasks; other tables give rows written with labels.

    `plan_year` completes deadline cells that give no year ("Quý I", "Tháng 6") when the
    header gives none either ("Thời gian (Năm 2026)" does). `continues` is the result of the
    table just before, when this one may be its next page (a PDF gives one table per page): a
    table without a header of its own then reads with that header, and its lines before the
    first numbered row finish that table's last task."""
    grid = to_grid(rows)
    filled = rows.grid(fill_merged=True) if isinstance(rows, Table) else None
    result = TableResult([], [], [])
    inherited = (
        (continues.header, continues.roles) if continues is not None and continues.header else None
    )
    carry = continues.tasks[-1] if continues is not None and continues.tasks else None
    for seg in segments(grid, inherited):
        result.kinds.append(seg.kind)
        if seg.kind != TASKS:
            result.rows_text.extend(_labelled_rows(seg))
            continue
        ordinal = first_ordinal + len(result.tasks)
        tasks, warnings = _tasks(seg, grid, filled, label, registry, ordinal, plan_year, carry)
        carry = None
        result.tasks.extend(tasks)
        result.warnings.extend(warnings)
        result.rows_text.extend(seg.junk)
        result.header, result.roles = seg.header, seg.roles
    return result


# -- rows --------------------------------------------------------------------------------------
_LABEL_AND_TEXT = re.compile(r"^(\d{1,3}(?:\.\d{1,3})*|[IVX]{1,5}|[A-Z]|[a-zđ])[.)]\s+(\S.{8,})$")


def _build_rows(seg: Segment, grid: Grid, filled: list[list[str]] | None) -> list[_Row]:
    task_col = seg.roles.index(TASK) if TASK in seg.roles else None
    if NUMBER not in seg.roles and task_col is not None:
        return _build_unnumbered(seg, task_col)
    num = seg.roles.index(NUMBER) if NUMBER in seg.roles else 0
    built: list[_Row] = []
    for index, cells in seg.body:
        first = cells[num] if num < len(cells) else ""
        others = [(i, c) for i, c in enumerate(cells) if i != num and c]
        m = _LABEL_AND_TEXT.match(first)
        if first and is_label(first):
            row = _Row(first.lstrip("(").rstrip(".)"))
            built.append(row)
            previous = next((r for r in reversed(built[:-1]) if r.label), None)
            for i in seg.dropped.get(index, ()):
                if previous is not None:
                    row.filled[i] = previous.cells.get(i, "") or previous.filled.get(i, "")
            if filled is not None and index < len(filled):
                for i, role in enumerate(seg.roles):
                    merged = _merged(grid, index, i) and i < len(filled[index])
                    if role in (LEAD, SUPPORT, DEADLINE) and merged:
                        row.filled[i] = filled[index][i]
        elif first and m and task_col is not None and not cells[task_col]:
            # Number and text in one cell ("1. Rà soát …"): a row whose number the text carries.
            row = _Row(m.group(1), spanning=not others)
            built.append(row)
            row.add(task_col, m.group(2))
        elif first and not others:
            # A line of one cell spanning the row: a group title, or the title of the row above
            # whose number stood alone on its line ("5.1" then "Thương mại").
            if built and not built[-1].cells:
                built[-1].add(task_col if task_col is not None else num, first)
            else:
                built.append(_Row("", {task_col if task_col is not None else num: first}))
            continue
        elif first and built:
            row = built[-1]
            row.add(task_col if task_col is not None else num, first)
        elif not built:
            built.append(_Row("", orphan=True))
        row = built[-1]
        for i, c in others:
            row.add(i, c)
    return built


def _build_unnumbered(seg: Segment, task_col: int) -> list[_Row]:
    """A table without a number column: each line with task text is a row, numbered by the
    label its text starts with ("1.1. Số hóa …"); a line without task text continues the row."""
    built: list[_Row] = []
    for _, cells in seg.body:
        text = cells[task_col] if task_col < len(cells) else ""
        if text:
            m = _LABEL_AND_TEXT.match(text)
            row = _Row(m.group(1) if m else "")
            built.append(row)
            row.add(task_col, m.group(2) if m else text)
        elif not built:
            continue
        for i, c in enumerate(cells):
            if i != task_col and c:
                built[-1].add(i, c)
    return built


def _merged(grid: Grid, r: int, c: int) -> bool:
    return r < len(grid.merged) and c < len(grid.merged[r]) and grid.merged[r][c]


def _is_group(row: _Row, nxt: _Row | None, text: str, has_duty: bool) -> bool:
    if has_duty:
        return False
    if (
        not row.label
        or row.spanning
        or GROUP_LABEL_RE.match(row.label)
        or re.match(r"^[IVX]{1,5}\.\d", row.label)
    ):
        return True
    if nxt is not None and nxt.label.startswith(row.label + "."):
        return True
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and sum(ch.isupper() for ch in letters) / len(letters) > 0.8


def _tasks(
    seg: Segment,
    grid: Grid,
    filled: list[list[str]] | None,
    label: str,
    registry: AgencyRegistry,
    first_ordinal: int,
    plan_year: int | None,
    carry: Task | None = None,
) -> tuple[list[Task], list[str]]:
    roles, header = seg.roles, seg.header
    year = next(
        (
            header_year(h)
            for h, r in zip(header, roles, strict=False)
            if r == DEADLINE and header_year(h)
        ),
        None,
    )
    built = _build_rows(seg, grid, filled)
    tasks: list[Task] = []
    warnings: list[str] = []
    group: str | None = None
    top: str | None = None  # the lettered part ("A", "B") above roman groups whose numbers restart
    parent: Task | None = None
    for n, row in enumerate(built):

        def cell(role: str, row: _Row = row) -> str:
            parts = [
                row.cells.get(i, "") or row.filled.get(i, "")
                for i, r in enumerate(roles)
                if r == role
            ]
            # Two time columns ("Bắt đầu" | "Hoàn thành") make a span.
            return (" - " if role == DEADLINE else " ").join(p for p in parts if p).strip()

        text = task_text(cell(TASK), row.label)
        lead_text, support_text, deadline_text, note = (
            cell(LEAD),
            cell(SUPPORT),
            cell(DEADLINE),
            cell(NOTE),
        )
        if row.orphan:
            if carry is not None:
                _finish(carry, registry, text, lead_text, support_text, deadline_text)
            continue
        nxt = built[n + 1] if n + 1 < len(built) else None
        if _is_group(row, nxt, text, bool(lead_text or support_text or deadline_text)):
            if re.fullmatch(r"[A-HJ-UWYZ]", row.label):  # a lettered part, not a roman number
                top = row.label
            elif not row.label and group is None:
                top = None
            group = _group_name(top, row.label, text)
            parent = None
            continue
        if not row.label:  # a table without numbers: rows are cited by their place
            row.label = str(sum(1 for t in tasks if t.group == _short_group(group)) + 1)
        # Notes shifted into agency columns ("Đã phê duyệt chủ trương đầu tư").
        if (
            lead_text
            and is_note(lead_text)
            and not looks_agency(lead_text)
            and not split_roles(lead_text)
        ):
            note, lead_text = _join(note, lead_text), ""
        if support_text and is_note(support_text) and not looks_agency(support_text):
            note, support_text = _join(note, support_text), ""
        split = split_roles(lead_text)
        if split:
            lead_text, support_text = (
                split[0],
                _join(split[1], support_text) if split[1] != support_text else split[1],
            )
        lead_text, support_text = agency_cell(lead_text), agency_cell(support_text)
        is_sub = parent is not None and (
            bool(re.match(r"^([a-zđ]\)?|[-+•–])$", row.label))
            or row.label.startswith(parent.row + ".")
        )
        if is_sub and parent is not None:
            lead_text = lead_text or parent.lead_text
            support_text = support_text or parent.support_text
            deadline_text = deadline_text or (parent.deadline.text if parent.deadline else "")
        extra = {
            (header[i] if i < len(header) and header[i] else f"Cột {i + 1}"): row.cells[i]
            for i, r in enumerate(roles)
            if r == OTHER and row.cells.get(i)
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
            deadline=deadline_of(deadline_text, year or plan_year),
            note=note,
            extra=extra,
        )
        if not text:
            warnings.append(f"{label}, TT {row.label}: dòng không có nội dung nhiệm vụ")
        tasks.append(task)
        if not is_sub:
            parent = task
    return tasks, warnings


def _finish(
    task: Task, registry: AgencyRegistry, text: str, lead: str, support: str, deadline: str
) -> None:
    """The rest of a row a page break cut, found at the top of the next page's table."""
    task.text = clean_spaces(f"{task.text} {text}")
    if lead:
        task.lead_text = clean_spaces(f"{task.lead_text} {lead}")
        task.lead = [registry.canonical(p) for p in split_agencies(task.lead_text)]
    if support:
        task.support_text = clean_spaces(f"{task.support_text} {support}")
        task.support = [registry.canonical(p) for p in split_agencies(task.support_text)]
    if deadline:
        task.deadline = parse_deadline(
            clean_spaces(f"{task.deadline.text if task.deadline else ''} {deadline}")
        )


def _group_name(top: str | None, label: str, text: str) -> str:
    """ "B.IV" under lettered parts, else the row's own number, else its title (cut short)."""
    if label:
        return (
            f"{top}.{label}"
            if top and top != label and re.fullmatch(r"[IVX]{1,5}", label)
            else label
        )
    return text if len(text) < 60 else text[:57] + "…"


def _short_group(group: str | None) -> str | None:
    if not group:
        return None
    return group if fold(group).startswith("nhom ") else f"Nhóm {group}"


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a and b else a or b


def _labelled_rows(seg: Segment) -> list[str]:
    out = []
    for _, cells in seg.body:
        parts = []
        for i, c in enumerate(cells):
            if not c:
                continue
            name = seg.header[i] if i < len(seg.header) and seg.header[i] else ""
            parts.append(f"{name}: {c}" if name and fold(name) != fold(c) else c)
        if parts:
            out.append("; ".join(parts))
    return out + seg.junk
