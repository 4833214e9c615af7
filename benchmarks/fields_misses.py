"""The gold items fields.py counts as wrong, with what the indexed items holding them carry.

usage: python benchmarks/fields_misses.py TASKS.json QUESTIONS.jsonl... (TASKS.json from
`planbot tasks --json`; the same judgement as ../shared/eval/fields.py, item by item)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from answering.evaluate import agency_ok, deadline_ok, gold_items, load_questions, norm


def main(tasks_path: str, question_paths: list[str]) -> None:
    items = json.loads(Path(tasks_path).read_text(encoding="utf-8"))
    items = items if isinstance(items, list) else next(v for v in items.values() if isinstance(v, list))
    texts = [(norm(r.get("text")), r) for r in items]
    for path in question_paths:
        for question in load_questions(Path(path)):
            for gold in gold_items(question):
                hits = [r for t, r in texts if norm(gold["task_substring"]) in t]
                for key, judge, value in (("agency", agency_ok, gold.get("agency")),
                                          ("deadline", deadline_ok, gold.get("deadline_text"))):
                    if not value:
                        continue
                    oks = [judge(value, r) for r in hits]
                    if hits and all(o is None for o in oks) or any(oks):
                        continue
                    print(f"MISS {key} [{question.get('doc', '')[:28]}] gold={value!r} task={gold['task_substring'][:70]!r}")
                    for r in hits[:3]:
                        d = r.get("deadline") or {}
                        print(f"    item {(r.get('plan') or {}).get('file', '')[:25]} {r.get('section', '')}: lead={r.get('lead')} "
                              f"support={(r.get('support') or [])[:3]} deadline={d.get('text')!r}")
                    if not hits:
                        print("    (no indexed item holds this text)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
