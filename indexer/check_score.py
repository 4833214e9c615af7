"""Scoring `planbot check` reports: task rows against silver rows (`dev_tables.jsonl` format)
and the same document's rows across containers (.txt / .docx / .pdf / scan).

A silver row is found when a task's text starts with (or else contains) the silver task prefix,
compared as folded words; lead and support are right when they name the same agencies as the
silver cell, as written (separators, "và", diacritics and order ignored) or by the registry's
canonical names; the deadline when its wording is the same folded words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from knowledge.model import Task
from knowledge.orgs.agencies import AgencyRegistry, split_agencies
from knowledge.text import squash, words

if TYPE_CHECKING:
    from indexer.check import DocReport


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
