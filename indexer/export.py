"""An agency's tasks as a spreadsheet (.xlsx) or CSV, for the unit's periodic progress report.

The rows are exactly those `planbot tasks` lists for the same filters: both go through
`KnowledgeBase.tasks`. Each row says where the task comes from (plan, citation), what it is,
the agency's role, the lead and supporting agencies, the deadline as written and its last day
(as answers read it), its status on `today` (Vietnam time, passed in), and leaves a column
empty for the unit to write its progress in.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from knowledge.dates.deadlines import DONE, STATUS_WORD, dated_last_day, status_of
from knowledge.model import Deadline
from knowledge.questions.answer import ROLE_LABEL, Result
from knowledge.text import words

HEADERS = (
    "STT",
    "Kế hoạch",
    "Trích dẫn",
    "Nội dung nhiệm vụ",
    "Vai trò",
    "Cơ quan chủ trì",
    "Cơ quan phối hợp",
    "Thời hạn (nguyên văn)",
    "Hạn hoàn thành",
    "Trạng thái",
    "Kết quả thực hiện (đơn vị báo cáo)",
)
WIDTHS = (6, 34, 22, 70, 11, 30, 34, 26, 14, 15, 45)
WRAPPED = {1, 3, 5, 6, 7, 10}  # 0-based columns whose text wraps


@dataclass(frozen=True)
class ExportRow:
    number: int
    plan: str
    citation: str
    task: str
    role: str
    lead: str
    support: str
    deadline: str
    due: date | None
    status: str
    progress: str = ""

    def cells(self) -> tuple:
        return (
            self.number, self.plan, self.citation, self.task, self.role, self.lead,
            self.support, self.deadline, self.due, self.status, self.progress,
        )


def task_status(deadline: Deadline | None, today: date, done: bool = False) -> str:
    """quá hạn / sắp đến hạn / còn hạn / thường xuyên / không thời hạn / đã xong on `today`."""
    return STATUS_WORD[DONE if done else status_of(deadline, today)]


def export_rows(results: Sequence[Result], today: date, done: Collection[int] = frozenset()) -> list[ExportRow]:
    """One row per result, in the order given (the order of `planbot tasks`)."""
    rows = []
    for number, r in enumerate(results, start=1):
        rows.append(
            ExportRow(
                number=number,
                plan=r.plan.label,
                citation=r.section,
                task=" ".join(r.text.split()),
                role=ROLE_LABEL.get(r.role or "", ""),
                lead=", ".join(r.lead),
                support=", ".join(r.support),
                deadline=r.deadline.text if r.deadline else "",
                due=dated_last_day(r.deadline),
                status=task_status(r.deadline, today, r.item_id in done),
            )
        )
    return rows


def write_xlsx(rows: Sequence[ExportRow], target: str | Path | IO[bytes], title: str = "") -> None:
    """One sheet of tasks: Vietnamese headers, frozen header row, filters, column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "Nhiệm vụ"
    if title:
        book.properties.title = title[:250]
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row.cells())
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    for cells in sheet.iter_rows(min_row=2):
        for index, cell in enumerate(cells):
            cell.alignment = wrapped if index in WRAPPED else top
        cells[8].number_format = "DD/MM/YYYY"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{max(len(rows) + 1, 1)}"
    book.save(target)


def xlsx_bytes(rows: Sequence[ExportRow], title: str = "") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(rows, buffer, title)
    return buffer.getvalue()


def write_csv(rows: Sequence[ExportRow], target: IO[str]) -> None:
    """The same columns as CSV (dates as dd/mm/yyyy); open the file with a UTF-8 BOM for Excel."""
    writer = csv.writer(target)
    writer.writerow(HEADERS)
    for row in rows:
        cells = list(row.cells())
        cells[8] = row.due.strftime("%d/%m/%Y") if row.due else ""
        writer.writerow(cells)


def export_title(agency: str | None, today: date) -> str:
    return (f"Nhiệm vụ của {agency}" if agency else "Nhiệm vụ") + f" (tính đến {today:%d/%m/%Y})"


def file_name(agency: str | None, today: date, suffix: str = ".xlsx") -> str:
    """An ASCII file name: "nhiem-vu_so-noi-vu_2025-07-01.xlsx"."""
    slug = "-".join(w.replace("/", "-") for w in words(agency or "tat ca"))[:60] or "co-quan"
    return f"nhiem-vu_{slug}_{today.isoformat()}{suffix}"


def agency_export(
    kb,
    today: date,
    agency: str | None = None,
    role: str | None = None,
    plan_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    done: Collection[int] = frozenset(),
) -> tuple[str | None, list[ExportRow]]:
    """The agency's canonical name and the rows of `planbot tasks` for the same filters
    (`start`/`end` are its `--due-after`/`--due-before`), through `KnowledgeBase.tasks`."""
    results = kb.tasks(agency=agency, role=role, due_before=end, due_after=start, plan_id=plan_id)
    matches = kb.registry.match_query(agency) if agency else []
    name = matches[0].name if matches else agency
    return name, export_rows(results, today, done)
