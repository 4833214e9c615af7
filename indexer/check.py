"""`planbot check`: parse documents without indexing them and report what the parser found.

One `DocReport` per file (metadata, counts, warnings, or the error that turned it away), totals,
and, given silver table rows in the format of `dev_tables.jsonl`, a score per document: rows
expected / found / right lead / right support / right deadline, and tasks invented from tables
that are not task tables. Nothing is written; a file that fails is reported and the run goes on.
The text rendering lives in `indexer.check_format`.
"""

from __future__ import annotations

import json
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.loaders import SUPPORTED, plan_files, read_plan_file
from knowledge import parser as plan_parser
from knowledge.agencies import AgencyRegistry, split_agencies
from knowledge.document import Document, from_text
from knowledge.errors import PlanbotError
from knowledge.model import Plan, Task
from knowledge.tables import parse_table
from knowledge.text import squash, words

Progress = Callable[[int, int, str], None]


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
    deadlines_parsed: int = 0
    deadlines_unparsed: int = 0
    unparsed: list[str] = field(default_factory=list)
    reporting_rules: int = 0
    warnings: list[str] = field(default_factory=list)
    plan: Plan | None = field(default=None, repr=False)
    registry: AgencyRegistry | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k not in ("plan", "registry")}
        out["seconds"] = round(self.seconds, 3)
        out["load_seconds"] = round(self.load_seconds, 3)
        return out


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
                and not p.name.startswith(".")
                and p.stem.lower() != "readme"
                and p.suffix.lower() not in (*SUPPORTED, ".md", ".py", ".json", ".jsonl")
            ]
            files.sort(key=lambda p: (str(p.parent), p.name))
        found += [p for p in files if p not in found]
    return found


def _load(path: Path) -> Document:
    """A loaded file as a Document, whichever shape the loader returns."""
    loaded = read_plan_file(path)
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


def _non_task_tables(plan: Plan, document: Document) -> tuple[int | None, str]:
    """Tables that yield no task. From the plan when the parser records its tables, else each
    table of the document run alone through `knowledge.tables.parse_table`."""
    recorded = getattr(plan, "tables", None)
    if isinstance(recorded, list):
        kinds = [getattr(t, "kind", None) or getattr(t, "role", None) for t in recorded]
        if recorded and all(isinstance(k, str) for k in kinds):
            return sum(1 for k in kinds if k != "task"), "plan.tables"
        flags = [getattr(t, "is_task", None) for t in recorded]
        if all(isinstance(f, bool) for f in flags):
            return sum(1 for f in flags if not f), "plan.tables"
    count = 0
    try:
        for table in document.tables:
            if not parse_table(table.grid(), "", AgencyRegistry()).tasks:
                count += 1
    except Exception as exc:  # the tables module is changing under us: say so, do not stop
        return None, f"n/a: knowledge.tables.parse_table failed ({type(exc).__name__})"
    return count, "each table alone through knowledge.tables.parse_table"


def _where(exc: Exception) -> str:
    """Innermost project frame of a traceback: "knowledge/parser.py:123"."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/knowledge/" in f.filename or "/indexer/" in f.filename]
    frame = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno}"


def check_document(path: Path, registry: AgencyRegistry) -> DocReport:
    """Load and parse one file; a `PlanbotError` gives a turned-away report, never raises."""
    report = DocReport(file=path.name, path=str(path), status="ok")
    started = time.perf_counter()
    try:
        document = _load(path)
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
    report.non_task_tables, report.non_task_tables_basis = _non_task_tables(plan, document)
    deadlines = plan.deadlines()
    report.unparsed = [d.text for d in deadlines if not d.parsed]
    report.deadlines_unparsed = len(report.unparsed)
    report.deadlines_parsed = len(deadlines) - report.deadlines_unparsed
    report.reporting_rules = len(plan.reporting_rules)
    report.warnings = list(dict.fromkeys(list(document.warnings) + list(plan.warnings)))
    report.plan, report.registry = plan, registry
    return report


def run_check(
    paths: list[Path],
    registry_factory: Callable[[], AgencyRegistry] | None = None,
    progress: Progress | None = None,
) -> list[DocReport]:
    """Check every file under `paths`; `registry_factory` gives each document a fresh registry
    (an index's registry with `--db`)."""
    registry_factory = registry_factory or AgencyRegistry
    files = check_files(paths)
    reports = []
    for i, path in enumerate(files, 1):
        if progress:
            progress(i, len(files), path.name)
        reports.append(check_document(path, registry_factory()))
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
        "seconds": round(sum(r.seconds for r in reports), 2),
    }


# ---------------------------------------------------------------------------------------------
# Scoring against silver table rows


@dataclass
class Expectation:
    doc: str
    rows: list[dict] = field(default_factory=list)
    not_task_tables: list[str] = field(default_factory=list)  # the notes' "why"
    notes: list[str] = field(default_factory=list)


def doc_key(name: str) -> str:
    """Silver rows and files are matched by the stem before the first dot."""
    return Path(name).name.split(".", 1)[0]


def load_expectations(path: Path) -> dict[str, Expectation]:
    """Silver lines by document key. Raises `ValueError` on a line that is not a silver line."""
    out: dict[str, Expectation] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name}:{n}: không phải JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not item.get("doc"):
            raise ValueError(f"{path.name}:{n}: thiếu trường 'doc'")
        exp = out.setdefault(doc_key(item["doc"]), Expectation(item["doc"]))
        if item.get("not_task_table"):
            exp.not_task_tables.append(item.get("why", ""))
        elif "task" in item:
            exp.rows.append(item)
        else:
            exp.notes.append(item.get("why", ""))
    return out


def _key(text: str) -> str:
    return squash(text or "")


def _agency_key(text: str) -> str:
    """Folded words of an agency cell, separators and "và" dropped."""
    return " ".join(w for w in words(text or "") if w != "va")


def same_agencies(silver: str, task_text: str, task_names: list[str], registry: AgencyRegistry) -> bool:
    """The silver cell and the task's agencies name the same agencies: as written (separators,
    "và", diacritics and order ignored) or as the registry's canonical names."""
    silver, task_text = (silver or "").strip(), (task_text or "").strip()
    if not silver or not task_text:
        return not silver and not task_text and not task_names
    if _agency_key(silver) == _agency_key(task_text):
        return True
    silver_parts = split_agencies(silver)
    if {_agency_key(p) for p in silver_parts} == {_agency_key(p) for p in split_agencies(task_text)}:
        return True
    canonical = {_key(registry.canonical(p).name) for p in silver_parts}
    if task_names and canonical == {_key(n) for n in task_names}:
        return True
    return canonical == {_key(registry.canonical(p).name) for p in split_agencies(task_text)}


def same_deadline(silver: str, task: Task) -> bool:
    return _key(silver) == _key(task.deadline.text if task.deadline else "")


def _match(rows: list[dict], tasks: list[Task]) -> list[int | None]:
    """For each silver row, the index of the task it is found in (None: not found). A task
    matches when its folded text starts with, or else contains, the silver prefix; among several,
    the one with the same row number, then the first after the previous match."""
    keys = [_key(t.text) for t in tasks]
    used: set[int] = set()
    out: list[int | None] = []
    last = -1
    for row in rows:
        prefix = _key(row.get("task", ""))
        best: tuple | None = None
        for i, k in enumerate(keys):
            if i in used or not prefix or prefix not in k:
                continue
            rank = (
                not k.startswith(prefix),
                str(tasks[i].row).rstrip(".") != str(row.get("tt", "")).rstrip("."),
                i <= last,
                abs(i - last),
            )
            if best is None or rank < best[0]:
                best = (rank, i)
        if best is None:
            out.append(None)
            continue
        used.add(best[1])
        last = best[1]
        out.append(best[1])
    return out


def score_document(report: DocReport, exp: Expectation) -> dict:
    tasks = report.plan.tasks if report.plan else []
    registry = report.registry or AgencyRegistry()
    matches = _match(exp.rows, tasks)
    score = {
        "file": report.file,
        "silver_doc": exp.doc,
        "status": report.status,
        "expected": len(exp.rows),
        "found": 0,
        "lead": 0,
        "support": 0,
        "deadline": 0,
        "all_cells": 0,
        "tasks": len(tasks),
        "unmatched_tasks": len(tasks) - sum(1 for m in matches if m is not None),
        "not_task_tables": len(exp.not_task_tables),
        "invented": None,
        "invented_basis": "",
        "misses": [],
    }
    for row, m in zip(exp.rows, matches, strict=True):
        where = {"tt": row.get("tt"), "task": row.get("task")}
        if m is None:
            score["misses"].append({**where, "what": "not_found"})
            continue
        task = tasks[m]
        score["found"] += 1
        checks = (
            ("lead", row.get("lead", ""), task.lead_text, [a.name for a in task.lead]),
            ("support", row.get("support", ""), task.support_text, [a.name for a in task.support]),
        )
        right = 0
        for name, silver, got, names in checks:
            if same_agencies(silver, got, names, registry):
                score[name] += 1
                right += 1
            else:
                score["misses"].append({**where, "what": name, "expected": silver, "got": got, "canonical": names})
        if same_deadline(row.get("deadline", ""), task):
            score["deadline"] += 1
            right += 1
        else:
            got = task.deadline.text if task.deadline else ""
            score["misses"].append({**where, "what": "deadline", "expected": row.get("deadline", ""), "got": got})
        score["all_cells"] += right == 3
    if exp.not_task_tables:
        if exp.rows:
            score["invented"] = score["unmatched_tasks"]
            score["invented_basis"] = "tasks not matched to a silver row (the task's table is not known)"
        else:
            score["invented"] = len(tasks)
            score["invented_basis"] = "all tasks (no task table in the silver file)"
    return score


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _sum_scores(scores: list[dict]) -> dict:
    expected = sum(s["expected"] for s in scores)
    out = {"documents": len(scores), "expected": expected}
    for name in ("found", "lead", "support", "deadline", "all_cells"):
        out[name] = sum(s[name] for s in scores)
        out[f"{name}_pct"] = _percent(out[name], expected)
    out["invented"] = sum(s["invented"] or 0 for s in scores)
    out["unmatched_tasks"] = sum(s["unmatched_tasks"] for s in scores)
    return out


def container(name: str) -> str:
    """What follows the first dot: "txt", "docx", "pdf", "scan.pdf"."""
    parts = Path(name).name.split(".", 1)
    return parts[1].lower() if len(parts) > 1 else ""


def score_reports(reports: list[DocReport], expectations: dict[str, Expectation]) -> dict:
    scores = [score_document(r, expectations[doc_key(r.file)]) for r in reports if doc_key(r.file) in expectations]
    checked = {doc_key(r.file) for r in reports}
    by_container: dict[str, list[dict]] = {}
    for s in scores:
        by_container.setdefault(container(s["file"]), []).append(s)
    return {
        "documents": scores,
        "totals": _sum_scores(scores),
        "by_container": {k: _sum_scores(v) for k, v in sorted(by_container.items())},
        "not_checked": sorted(e.doc for k, e in expectations.items() if k not in checked),
    }


def compare_containers(reports: list[DocReport]) -> list[dict]:
    """The same document in several containers (same stem): each file's task rows scored
    against those of the reference file (the .txt when there is one, else the first read)."""
    groups: dict[str, list[DocReport]] = {}
    for r in reports:
        groups.setdefault(doc_key(r.file), []).append(r)
    out = []
    for key, group in groups.items():
        read = [r for r in group if r.status == "ok"]
        if len(group) < 2 or not read:
            continue
        ref = next((r for r in read if container(r.file) == "txt"), read[0])
        rows = [
            {
                "tt": t.row,
                "task": " ".join(t.text.split()[:12]),
                "lead": t.lead_text,
                "support": t.support_text,
                "deadline": t.deadline.text if t.deadline else "",
            }
            for t in (ref.plan.tasks if ref.plan else [])
        ]
        exp = Expectation(ref.file, rows=rows)
        files = [{k: v for k, v in score_document(r, exp).items() if k != "misses"} for r in group if r is not ref]
        out.append({"doc": key, "reference": ref.file, "rows": len(rows), "files": files})
    return out


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
