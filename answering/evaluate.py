"""Evaluation of answers against gold questions (the format of seed_questions.jsonl), beside a
plain BM25-over-paragraphs baseline on the same index.

Scoring follows the project's scorer: a gold item is found when its `task_substring` occurs in
a result's text (NFC, case-folded, white space collapsed); agency and deadline are judged on the
first hit of single-item questions; an unanswerable question is right when it is declined.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

from knowledge.questions.answer import Answer
from knowledge.text import fold, words

METRICS = ("recall@1", "recall@5", "mrr", "list_recall", "false_decline", "declined", "agency_ok", "deadline_ok")


def norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "").casefold()
    return re.sub(r"\s+", " ", text).strip()


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def gold_items(question: dict) -> list[dict]:
    gold = question.get("gold")
    items = gold if isinstance(gold, list) else [gold]
    return [g for g in items if g and g.get("task_substring")]


# -- agency / deadline agreement (approximate, as the scorer judges it) -------------------------
_ABBR = {
    "ubnd": "uy ban nhan dan", "khtc": "ke hoach tai chinh", "tccb": "to chuc can bo", "snv": "so noi vu",
    "bhxh": "bao hiem xa hoi", "ttyt": "trung tam y te", "tt tt": "thong tin va truyen thong",
    "kh dt": "ke hoach va dau tu", "kh cn": "khoa hoc va cong nghe", "gd dt": "giao duc va dao tao",
    "vp": "van phong", "hdnd": "hoi dong nhan dan", "qlda": "quan ly du an", "tp": "thanh pho",
}
_ROLE_WORDS = {"thu", "truong", "giam", "doc", "chu", "tich", "cac", "cua", "va", "thuoc", "so", "don", "vi"}


def _expand(text: str) -> str:
    folded = " " + re.sub(r"[^a-z0-9 ]+", " ", fold(norm(text))) + " "
    for short, long in _ABBR.items():
        folded = folded.replace(f" {short} ", f" {long} ")
    return folded


def _near_in(part: str, hay: str) -> bool:
    wanted = [w for w in _expand(part).split() if len(w) > 1 and w not in _ROLE_WORDS]
    have = set(_expand(hay).split())
    hits = sum(w in have for w in wanted)
    return bool(wanted) and hits >= max(1, len(wanted) - (1 if len(wanted) >= 3 else 0))


def agency_ok(gold: str | None, hit: dict) -> bool | None:
    if not gold:
        return None
    hay = " ; ".join(sum([hit.get(k) or [] for k in ("lead", "support", "recipients")], []))
    parts = [p for p in re.split(r"[;,]|\(.*?\)", gold) if p.strip() and len(fold(p).split()) > 1]
    if not parts:
        return None
    return 2 * sum(_near_in(p, hay) for p in parts) >= len(parts)


def deadline_ok(gold: str | None, hit: dict) -> bool | None:
    if not gold:
        return None
    d = hit.get("deadline") or {}
    hay = " ".join(str(d.get(k) or "") for k in ("text", "start", "end", "recurrence"))
    numbers = re.findall(r"\d+", gold)
    if numbers:
        have = {str(int(x)) for x in re.findall(r"\d+", hay)}
        return all(str(int(n)) in have for n in numbers)
    return _near_in(gold, hay)


# -- one question -----------------------------------------------------------------------------
def score_one(question: dict, answer: Answer | dict) -> dict:
    """Scores of one answer (an `Answer` or its `to_dict()`) against the question's gold."""
    data = answer.to_dict() if isinstance(answer, Answer) else answer
    results = data.get("results") or []
    golds = gold_items(question)
    row: dict = {"kind": question.get("kind") or "?", "unanswerable": not golds, "answered": bool(data.get("answered"))}
    if not golds:
        row["declined"] = not data.get("answered")
        return row
    texts = [norm(r.get("text", "")) for r in results]
    ranks = [next((i + 1 for i, t in enumerate(texts) if norm(g["task_substring"]) in t), None) for g in golds]
    first = min((r for r in ranks if r), default=None)
    row.update(
        {
            "r1": 1.0 if first == 1 else 0.0,
            "r5": 1.0 if first and first <= 5 else 0.0,
            "mrr": 1.0 / first if first else 0.0,
            "list_recall": sum(1 for r in ranks if r) / len(ranks),
            "multi": len(golds) > 1,
            "false_decline": not data.get("answered"),
            "rank": first,
        }
    )
    gold = question.get("gold")
    if first and isinstance(gold, dict):
        hit = results[first - 1]
        row["agency_ok"] = agency_ok(gold.get("agency"), hit)
        row["deadline_ok"] = deadline_ok(gold.get("deadline_text"), hit)
    return row


def aggregate(rows: list[dict]) -> dict[str, dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups["overall"].append(row)
        groups[row["kind"] or "?"].append(row)
    table = {}
    for name, items in groups.items():
        answerable = [r for r in items if not r["unanswerable"]]
        unanswerable = [r for r in items if r["unanswerable"]]

        def mean(key: str, rows: list[dict] = answerable) -> float | None:
            values = [float(r[key]) for r in rows if r.get(key) is not None]
            return round(sum(values) / len(values), 3) if values else None

        table[name] = {
            "n": len(items),
            "recall@1": mean("r1"),
            "recall@5": mean("r5"),
            "mrr": mean("mrr"),
            "list_recall": mean("list_recall"),
            "false_decline": mean("false_decline"),
            "declined": mean("declined", unanswerable),
            "agency_ok": mean("agency_ok"),
            "deadline_ok": mean("deadline_ok"),
        }
    return table


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_table(table: dict[str, dict]) -> str:
    head = f"{'kind':<16}{'n':>4}" + "".join(f"{_label(m):>10}" for m in METRICS)
    lines = [head, "-" * len(head)]
    for name in ["overall"] + sorted(k for k in table if k != "overall"):
        row = table[name]
        lines.append(f"{name:<16}{row['n']:>4}" + "".join(f"{_f(row.get(m)):>10}" for m in METRICS))
    return "\n".join(lines)


def format_comparison(product: dict[str, dict], baseline: dict[str, dict]) -> str:
    """Product beside baseline, per kind: 'product / baseline' for each metric."""
    shown = ("recall@1", "recall@5", "mrr", "list_recall", "false_decline", "declined")
    head = f"{'kind':<16}{'n':>4}" + "".join(f"{_label(m):>15}" for m in shown)
    lines = ["product / BM25 over paragraphs", head, "-" * len(head)]
    for name in ["overall"] + sorted(k for k in product if k != "overall"):
        p, b = product[name], baseline.get(name, {})
        cells = "".join(f"{_f(p.get(m)) + ' / ' + _f(b.get(m)):>15}" for m in shown)
        lines.append(f"{name:<16}{p['n']:>4}{cells}")
    extra = product["overall"]
    lines.append(f"first hit: agency right {_f(extra.get('agency_ok'))}, deadline right {_f(extra.get('deadline_ok'))}")
    return "\n".join(lines)


def falls_below(product: dict[str, dict], baseline: dict[str, dict]) -> bool:
    """The product finds fewer answers in its first five results than plain search."""
    ours, theirs = product["overall"]["recall@5"], baseline["overall"]["recall@5"]
    return ours is not None and theirs is not None and ours < theirs


def _label(metric: str) -> str:
    return {"recall@1": "R@1", "recall@5": "R@5", "mrr": "MRR", "list_recall": "list", "false_decline": "false-decl",
            "declined": "declined", "agency_ok": "agency", "deadline_ok": "deadline"}[metric]


# -- the plain baseline -----------------------------------------------------------------------
class ParagraphBM25:
    """BM25 (k1=1.2, b=0.75) over every non-empty line of the indexed plans' text, on folded
    words: what plain search over the same files finds. It never declines."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.paragraphs = [p.strip() for text in texts for p in (text or "").splitlines() if p.strip()]
        self.docs = [Counter(words(p)) for p in self.paragraphs]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.avg = sum(self.lengths) / len(self.lengths) if self.lengths else 1.0
        df: Counter[str] = Counter()
        for d in self.docs:
            df.update(d.keys())
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, d in enumerate(self.docs):
            for t in d:
                self.postings[t].append(i)
        self.k1, self.b = k1, b

    @classmethod
    def from_store(cls, store) -> ParagraphBM25:
        return cls([r[0] for r in store.db.execute("SELECT text FROM plans ORDER BY id").fetchall()])

    def search(self, question: str, limit: int = 10) -> list[str]:
        scores: dict[int, float] = defaultdict(float)
        for t in set(words(question)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i in self.postings[t]:
                tf = self.docs[i][t]
                scores[i] += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg))
        best = sorted(scores, key=lambda i: (-scores[i], i))[:limit]
        return [self.paragraphs[i] for i in best]

    def answer(self, question: str, limit: int = 10) -> dict:
        return {"answered": True, "results": [{"text": t} for t in self.search(question, limit)]}
