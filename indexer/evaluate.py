"""Evaluation of answers against gold questions (the format of seed_questions.jsonl)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from knowledge.answer import Answer


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text or "").lower()


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def gold_items(question: dict) -> list[dict]:
    gold = question.get("gold")
    if isinstance(gold, list):
        return gold
    return [gold] if gold else []


def score_one(question: dict, answer: Answer) -> dict:
    golds = [g for g in gold_items(question) if g.get("task_substring")]
    texts = [_norm(r.text) for r in answer.results]
    if not golds:  # unanswerable
        return {"kind": question.get("kind"), "unanswerable": True, "declined": not answer.answered}
    ranks = []
    for gold in golds:
        needle = _norm(gold["task_substring"])
        rank = next((i + 1 for i, t in enumerate(texts) if needle in t), None)
        ranks.append(rank)
    first = min((r for r in ranks if r), default=None)
    return {
        "kind": question.get("kind"),
        "unanswerable": False,
        "r1": 1.0 if first == 1 else 0.0,
        "r5": 1.0 if first and first <= 5 else 0.0,
        "mrr": 1.0 / first if first else 0.0,
        "list_recall": sum(1 for r in ranks if r) / len(ranks),
        "multi": len(golds) > 1,
        "answered": answer.answered,
    }


def aggregate(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups["overall"].append(row)
        groups[row["kind"] or "?"].append(row)
    table = {}
    for name, items in groups.items():
        answerable = [r for r in items if not r["unanswerable"]]
        unanswerable = [r for r in items if r["unanswerable"]]
        multi = [r for r in answerable if r["multi"]]
        table[name] = {
            "n": len(items),
            "recall@1": _mean([r["r1"] for r in answerable]),
            "recall@5": _mean([r["r5"] for r in answerable]),
            "mrr": _mean([r["mrr"] for r in answerable]),
            "list_recall": _mean([r["list_recall"] for r in multi]) if multi else None,
            "declined": _mean([1.0 if r["declined"] else 0.0 for r in unanswerable]) if unanswerable else None,
        }
    return table


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def format_table(table: dict[str, dict]) -> str:
    head = f"{'kind':<16}{'n':>4}{'R@1':>8}{'R@5':>8}{'MRR':>8}{'list':>8}{'declined':>10}"
    lines = [head, "-" * len(head)]

    def f(v):
        return "-" if v is None else f"{v:.3f}"

    order = ["overall"] + sorted(k for k in table if k != "overall")
    for name in order:
        row = table[name]
        lines.append(
            f"{name:<16}{row['n']:>4}{f(row['recall@1']):>8}{f(row['recall@5']):>8}{f(row['mrr']):>8}"
            f"{f(row['list_recall']):>8}{f(row['declined']):>10}"
        )
    return "\n".join(lines)
