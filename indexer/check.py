"""`planbot check`: parse documents without indexing them and report what the parser found.

One `DocReport` per file (metadata, counts, warnings, or the error that turned it away), totals,
and, given silver table rows in the format of `dev_tables.jsonl`, a score per document: rows
expected / found / right lead / right support / right deadline, and tasks invented from tables
that are not task tables. Nothing is written; a file that fails is reported and the run goes on.
Scoring lives in `indexer.check_score`, the text rendering in `indexer.check_format`.
"""

from __future__ import annotations

import inspect
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from indexer.check_score import compare_containers
from indexer.loaders import SUPPORTED, plan_files, read_plan_file
from knowledge.document import Document, from_text
from knowledge.errors import PlanbotError
from knowledge.model import Plan, Task
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing import parser as plan_parser
from knowledge.tabular.tables import parse_table
from knowledge.text import fold

Progress = Callable[[int, int, str], None]  # (file number, files, name)
PageProgress = Callable[[int, int], None]  # (pages done, pages)


@dataclass
class DocReport:
    file: str
    path: str
    status: str  # "ok" | "turned_away" (PlanbotError: what a user would see) | "crashed" (a bug)
    error: str = ""
    source: str = ""  # container as the loader saw it: text | docx | pdf | ocr
    pages: int | None = None
    seconds: float = 0.0  # load + parse
    load_seconds: float = 0.0
    kind: str = "?"
    number: str = ""
    date: str | None = None
    issuer: str = ""
    title: str = ""
    sections: int = 0
    clauses: int = 0
    tasks: int = 0
    tasks_with_lead: int = 0
    tables: int = 0
    non_task_tables: int | None = None  # None: not known
    non_task_tables_basis: str = ""
    table_kinds: dict[str, int] = field(default_factory=dict)  # tables/segments by kind
    deadlines_parsed: int = 0
    deadlines_unparsed: int = 0
    unparsed: list[str] = field(default_factory=list)
    reporting_rules: int = 0
    warnings: list[str] = field(default_factory=list)
    meta_doubts: list[str] = field(default_factory=list)  # see `meta_doubts`
    plan: Plan | None = field(default=None, repr=False)
    registry: AgencyRegistry | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("plan", "registry")}
        out["seconds"] = round(self.seconds, 3)
        out["load_seconds"] = round(self.load_seconds, 3)
        out["task_rows"] = [_task_row(t) for t in self.plan.tasks] if self.plan else []
        return out


def _task_row(task: Task) -> dict:
    """One task row as the report shows it (text cut to 160 characters)."""
    return {
        "row": task.row,
        "table": task.table,
        "group": task.group,
        "text": one_line(task.text, 160),
        "lead_text": task.lead_text,
        "lead": [a.name for a in task.lead],
        "support_text": task.support_text,
        "support": [a.name for a in task.support],
        "deadline": task.deadline.text if task.deadline else None,
        "deadline_kind": task.deadline.kind if task.deadline else None,
    }


def check_files(paths: list[Path]) -> list[Path]:
    """Files to check, in the order the paths are given: what `plan_files` finds, plus files of
    other kinds in the folders given (so the report shows the loader turning them away instead
    of silently skipping them)."""
    found: list[Path] = []
    for path in paths:
        files = plan_files([path])
        if path.is_dir():
            files += [
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
                and p.stem.lower() != "readme"
                and p.suffix.lower() not in (*SUPPORTED, ".md", ".py", ".json", ".jsonl")
            ]
            files.sort(key=lambda p: (str(p.parent), p.name))
        found += [p for p in files if p not in found]
    return found


def _load(path: Path, pages: PageProgress | None = None) -> Document:
    """A loaded file as a Document, whichever shape the loader returns."""
    takes_progress = "progress" in inspect.signature(read_plan_file).parameters
    loaded = read_plan_file(path, progress=pages) if pages and takes_progress else read_plan_file(path)
    if isinstance(loaded, Document):
        return loaded
    text, warnings = loaded  # older loaders: (text, warnings)
    document = from_text(text)
    document.warnings = list(warnings)
    document.text = text  # type: ignore[attr-defined]  # parse_plan reads the original text
    return document


def _parse(document: Document, registry: AgencyRegistry) -> Plan:
    parse_document = getattr(plan_parser, "parse_document", None)
    if parse_document is not None:
        return parse_document(document, registry)
    text = getattr(document, "text", None) or document.plain_text()
    return plan_parser.parse_plan(text, registry)


def _non_task_tables(plan: Plan, document: Document) -> tuple[int | None, str, dict[str, int]]:
    """Tables (or, when the tables module reports them, table segments) that are not task
    tables, how that was counted, and the count of each kind. From the plan when the parser
    records its tables, else each table of the document run alone through `parse_table`."""
    recorded = getattr(plan, "tables", None)
    if isinstance(recorded, list) and recorded:
        kinds = [getattr(t, "kind", None) or getattr(t, "role", None) for t in recorded]
        if all(isinstance(k, str) for k in kinds):
            counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
            return sum(1 for k in kinds if k not in ("task", "tasks")), "plan.tables", counts
    counts: dict[str, int] = {}
    segmented = False
    takes_table = "Table" in str(inspect.signature(parse_table).parameters["rows"].annotation)
    try:
        for table in document.tables:
            result = parse_table(table if takes_table else table.grid(), "", AgencyRegistry())
            segmented = segmented or hasattr(result, "kinds")
            kinds = getattr(result, "kinds", None) or (["tasks"] if result.tasks else ["other"])
            for kind in kinds:
                counts[kind] = counts.get(kind, 0) + 1
    except Exception as exc:  # the tables module is changing under us: say so, do not stop
        return None, f"n/a: knowledge.tabular.tables.parse_table failed ({type(exc).__name__})", {}
    basis = "table segments by kind" if segmented else "tables"
    non_task = sum(n for k, n in counts.items() if k != "tasks")
    return non_task, f"{basis}, each table alone through knowledge.tabular.tables.parse_table", counts


def _where(exc: Exception) -> str:
    """Innermost project frame of a traceback: "knowledge/parsing/parser.py:123"."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/knowledge/" in f.filename or "/indexer/" in f.filename]
    frame = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno}"


def check_document(path: Path, registry: AgencyRegistry, pages: PageProgress | None = None) -> DocReport:
    """Load and parse one file; a `PlanbotError` gives a turned-away report, never raises.
    `pages(done, total)` follows OCR page by page when the loader reports it."""
    report = DocReport(file=path.name, path=str(path), status="ok")
    started = time.perf_counter()
    try:
        document = _load(path, pages)
        report.load_seconds = time.perf_counter() - started
        report.source, report.pages = document.source, document.pages
        plan = _parse(document, registry)
    except PlanbotError as exc:
        report.status, report.error = "turned_away", str(exc)
    except Exception as exc:  # a parser bug: report it and go on with the next file
        report.status, report.error = "crashed", f"{type(exc).__name__}: {exc} ({_where(exc)})"
    if report.status != "ok":
        report.seconds = time.perf_counter() - started
        if not report.load_seconds:
            report.load_seconds = report.seconds
        return report
    report.seconds = time.perf_counter() - started
    meta = plan.meta
    report.kind = getattr(meta, "kind", "") or "?"
    report.number, report.issuer, report.title = meta.number, meta.issuer, meta.title
    report.date = meta.date.isoformat() if meta.date else (str(meta.year) + "?" if meta.year else None)
    report.sections, report.clauses = len(plan.sections), len(plan.clauses)
    report.tasks = len(plan.tasks)
    report.tasks_with_lead = sum(1 for t in plan.tasks if t.lead)
    report.tables = len(document.tables)
    report.non_task_tables, report.non_task_tables_basis, report.table_kinds = _non_task_tables(plan, document)
    deadlines = plan.deadlines()
    report.unparsed = [d.text for d in deadlines if not d.parsed]
    report.deadlines_unparsed = len(report.unparsed)
    report.deadlines_parsed = len(deadlines) - report.deadlines_unparsed
    report.reporting_rules = len(plan.reporting_rules)
    report.warnings = list(dict.fromkeys(list(document.warnings) + list(plan.warnings)))
    report.plan, report.registry = plan, registry
    report.meta_doubts = meta_doubts(report)
    return report


# The type code a document's number carries ("2597/QĐ-TTg", "35/2025/TT-BXD") by document kind.
_KIND_CODES = {
    "ke_hoach": "KH", "quyet_dinh": "QĐ", "cong_dien": "CĐ", "thong_bao": "TB", "nghi_quyet": "NQ",
    "nghi_dinh": "NĐ", "thong_tu": "TT", "chi_thi": "CT",
}
# Words of a letterhead, a national motto or a crawler's watermark: never part of a title.
_NOT_TITLE = ("cong hoa xa hoi chu nghia", "doc lap - tu do", "thu vien phap luat", "ban dich nay", "so:")


def meta_doubts(report: DocReport) -> list[str]:
    """Signs that metadata is wrong, whatever the document: a number whose type code belongs to
    another kind of document (a referenced one), a title made of letterhead or watermark words,
    a missing title, date or issuer."""
    doubts = []
    codes = set(_KIND_CODES.values())
    number_codes = [t for t in re.split(r"[/\-\s]+", report.number.upper())[1:] if t in codes]
    expected = _KIND_CODES.get(report.kind)
    if expected and number_codes and number_codes[0] != expected:
        doubts.append(f"số hiệu {report.number} không phải của văn bản loại {report.kind}")
    folded = fold(report.title)
    if not report.title.strip():
        doubts.append("không có tiêu đề")
    elif any(w in folded for w in _NOT_TITLE):
        doubts.append("tiêu đề chứa quốc hiệu, tiêu ngữ hoặc dòng của trang web")
    if not report.date:
        doubts.append("không có ngày")
    if not report.issuer.strip():
        doubts.append("không rõ cơ quan ban hành")
    return doubts


def run_check(
    paths: list[Path],
    registry_factory: Callable[[], AgencyRegistry] | None = None,
    progress: Progress | None = None,
    pages: Callable[[str], PageProgress] | None = None,
) -> list[DocReport]:
    """Check every file under `paths`; `registry_factory` gives each document a fresh registry
    (an index's registry with `--db`)."""
    registry_factory = registry_factory or AgencyRegistry
    files = check_files(paths)
    reports = []
    for i, path in enumerate(files, 1):
        if progress:
            progress(i, len(files), path.name)
        reports.append(check_document(path, registry_factory(), pages(path.name) if pages else None))
    return reports


def totals(reports: list[DocReport]) -> dict:
    ok = [r for r in reports if r.status == "ok"]

    def total(name: str) -> int:
        return sum(getattr(r, name) or 0 for r in ok)

    parsed, unparsed = total("deadlines_parsed"), total("deadlines_unparsed")
    kinds: dict[str, int] = {}
    for r in ok:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    return {
        "documents": len(reports),
        "read": len(ok),
        "turned_away": sum(1 for r in reports if r.status == "turned_away"),
        "crashed": sum(1 for r in reports if r.status == "crashed"),
        "kinds": kinds,
        "without_number": sum(1 for r in ok if not r.number),
        "without_date": sum(1 for r in ok if not r.date),
        "without_title": sum(1 for r in ok if not r.title),
        "sections": total("sections"),
        "clauses": total("clauses"),
        "tasks": total("tasks"),
        "tasks_with_lead": total("tasks_with_lead"),
        "tables": total("tables"),
        "non_task_tables": None if any(r.non_task_tables is None for r in ok) else total("non_task_tables"),
        "deadlines_parsed": parsed,
        "deadlines_unparsed": unparsed,
        "deadline_parse_rate": round(100 * parsed / (parsed + unparsed), 1) if parsed + unparsed else None,
        "reporting_rules": total("reporting_rules"),
        "with_warnings": sum(1 for r in ok if r.warnings),
        "with_meta_doubts": sum(1 for r in ok if r.meta_doubts),
        "seconds": round(sum(r.seconds for r in reports), 2),
    }


def to_json(reports: list[DocReport], scores: dict | None) -> dict:
    return {
        "documents": [r.to_dict() for r in reports],
        "totals": totals(reports),
        "containers": compare_containers(reports),
        "expect": scores,
    }


_SPACE = re.compile(r"\s+")


def one_line(text: str, width: int) -> str:
    text = _SPACE.sub(" ", text or "").strip()
    return text if len(text) <= width else text[: width - 1] + "…"
