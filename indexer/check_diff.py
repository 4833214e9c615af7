"""Compare two `planbot check --json` runs: what changed, document by document.

Run the report before and after a parser change with `--json > before.json`, then
`planbot check … --diff before.json`: a change that fixes one document and breaks two shows at
once. Documents are matched by file name.
"""

from __future__ import annotations

import json
from pathlib import Path

DOC_FIELDS = (
    "status", "kind", "number", "date", "issuer", "title", "sections", "clauses", "tasks", "tasks_with_lead",
    "non_task_tables", "deadlines_parsed", "deadlines_unparsed", "reporting_rules", "meta_doubts", "error",
)
SCORE_FIELDS = ("found", "lead", "support", "deadline", "all_cells", "invented", "unmatched_tasks")
TOTAL_FIELDS = (
    "read", "turned_away", "crashed", "without_number", "without_date", "without_title", "with_meta_doubts",
    "sections", "clauses", "tasks", "tasks_with_lead", "non_task_tables", "deadlines_parsed", "deadlines_unparsed",
    "reporting_rules",
)


def load_run(path: Path) -> dict:
    """A previous `--json` report. Raises `ValueError` when the file is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path.name}: không đọc được báo cáo JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("documents"), list):
        raise ValueError(f"{path.name}: không phải báo cáo của 'planbot check --json'")
    return data


def _changes(old: dict, new: dict, names: tuple[str, ...]) -> dict[str, list]:
    """Fields both runs report and that differ (a field an older report lacks is not a change)."""
    return {n: [old[n], new[n]] for n in names if n in old and n in new and old[n] != new[n]}


def _row_changes(old: list[dict], new: list[dict]) -> dict[str, int]:
    """Task rows matched by number and text: cells that changed, rows gained and lost. Counts can
    stay the same while cells change; this shows it."""
    def key(row: dict) -> tuple:
        return (row.get("row"), (row.get("text") or "")[:60])

    before = {key(r): r for r in old}
    after = {key(r): r for r in new}
    out = {"added": len(set(after) - set(before)), "removed": len(set(before) - set(after))}
    for cell in ("lead_text", "support_text", "deadline", "deadline_kind"):
        out[cell] = sum(1 for k in set(before) & set(after) if before[k].get(cell) != after[k].get(cell))
    return {k: v for k, v in out.items() if v}


def diff_runs(old: dict, new: dict) -> dict:
    before = {d["file"]: d for d in old["documents"]}
    after = {d["file"]: d for d in new["documents"]}
    documents = []
    for name, doc in after.items():
        if name in before:
            changes = _changes(before[name], doc, DOC_FIELDS)
            rows = _row_changes(before[name].get("task_rows", []), doc.get("task_rows", []))
            if "task_rows" in before[name] and rows:
                changes["task_rows"] = [None, rows]
            if changes:
                documents.append({"file": name, "changes": changes})
    old_scores = {s["file"]: s for s in (old.get("expect") or {}).get("documents", [])}
    new_scores = {s["file"]: s for s in (new.get("expect") or {}).get("documents", [])}
    scores = []
    for name, s in new_scores.items():
        changes = _changes(old_scores[name], s, SCORE_FIELDS) if name in old_scores else {}
        if changes:
            scores.append({"file": name, "changes": changes})
    old_totals = (old.get("expect") or {}).get("totals") or {}
    new_totals = (new.get("expect") or {}).get("totals") or {}
    return {
        "documents": documents,
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "unchanged": sum(1 for n in after if n in before) - len(documents),
        "totals": _changes(old.get("totals", {}), new.get("totals", {}), TOTAL_FIELDS),
        "scores": scores,
        "score_totals": _changes(old_totals, new_totals, SCORE_FIELDS + tuple(f"{f}_pct" for f in SCORE_FIELDS)),
    }


def _show(value: object) -> str:
    if isinstance(value, list):
        return "[" + "; ".join(str(v) for v in value) + "]"
    text = "-" if value is None or value == "" else str(value)
    return text if len(text) <= 70 else text[:69] + "…"


_CELLS = {"added": "thêm", "removed": "mất", "lead_text": "chủ trì", "support_text": "phối hợp",
          "deadline": "thời hạn", "deadline_kind": "loại thời hạn"}


def _line(changes: dict[str, list]) -> str:
    parts = []
    for name, (a, b) in changes.items():
        if name == "task_rows":
            parts.append("dòng nhiệm vụ đổi: " + ", ".join(f"{_CELLS.get(k, k)} {n}" for k, n in b.items()))
        else:
            parts.append(f"{name} {_show(a)} → {_show(b)}")
    return ", ".join(parts)


def format_diff(diff: dict, source: str) -> str:
    lines = [f"So với lần chạy trước ({source}):"]
    for d in diff["documents"]:
        lines.append(f"  {d['file']}: {_line(d['changes'])}")
    if diff["added"]:
        lines.append("  tệp mới: " + ", ".join(diff["added"]))
    if diff["removed"]:
        lines.append("  tệp không còn: " + ", ".join(diff["removed"]))
    lines.append(f"  {diff['unchanged']} tệp không đổi")
    if diff["totals"]:
        lines.append(f"  tổng: {_line(diff['totals'])}")
    for s in diff["scores"]:
        lines.append(f"  dòng mẫu {s['file']}: {_line(s['changes'])}")
    if diff["score_totals"]:
        lines.append(f"  tổng dòng mẫu: {_line(diff['score_totals'])}")
    return "\n".join(lines)
