"""Task rows found in the corpus tables, scored against silver rows.

    python benchmarks/table_rows.py [--expect ../shared/eval/dev_tables.jsonl] [--verbose] PATH...

Parses every document given (files or folders; .txt/.md through `knowledge.parsing.parser.parse_plan`,
other containers through `indexer.loaders.load_document` when it exists) and, per document
named in the expect file, matches each silver row {doc, tt, task, lead, support, deadline} to
the first unused task whose folded text starts with the silver task prefix. Prints per
document: rows expected, found, right lead, right support, right deadline, and tasks invented
from tables the expect file marks `not_task_table` (any task of a document whose only tables
are non-task tables, or tasks whose text matches no silver row in a document with silver rows
and a not_task_table note). Agencies and deadlines are compared loosely, as the question
scorer does (most content words of each named agency; every number of a deadline).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.document import Document, from_text  # noqa: E402
from knowledge.errors import PlanbotError  # noqa: E402
from knowledge.model import Task  # noqa: E402
from knowledge.orgs.agencies import AgencyRegistry  # noqa: E402
from knowledge.parsing.parser import parse_plan  # noqa: E402
from knowledge.tabular.tables import parse_table  # noqa: E402
from knowledge.text import nfc  # noqa: E402

ABBR = {
    "ubnd": "uy ban nhan dan",
    "hdnd": "hoi dong nhan dan",
    "tp": "thanh pho",
    "kh cn": "khoa hoc va cong nghe",
    "gd dt": "giao duc va dao tao",
    "vp": "van phong",
}
ROLE_WORDS = {
    "thu",
    "truong",
    "giam",
    "doc",
    "chu",
    "tich",
    "cac",
    "cua",
    "va",
    "thuoc",
    "so",
    "don",
    "vi",
}


def fold(s: str) -> str:
    s = unicodedata.normalize("NFC", s or "").casefold().replace("đ", "d")
    s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]+", " ", s)).strip()


def expand(s: str) -> str:
    s = " " + fold(s) + " "
    for a, b in ABBR.items():
        s = s.replace(" " + a + " ", " " + b + " ")
    return s


def near_in(part: str, hay: str) -> bool:
    words = [w for w in expand(part).split() if len(w) > 1 and w not in ROLE_WORDS]
    have = set(expand(hay).split())
    return bool(words) and sum(w in have for w in words) >= max(
        1, len(words) - (1 if len(words) >= 3 else 0)
    )


def agency_ok(gold: str, names: list[str]) -> bool:
    if not gold.strip():
        return not any(n.strip() for n in names)
    hay = " ; ".join(names)
    parts = [p for p in re.split(r"[;,]|\(.*?\)", gold) if p.strip() and len(fold(p).split()) > 1]
    if not parts:
        return near_in(gold, hay) or fold(gold) in fold(hay)
    return 2 * sum(near_in(p, hay) or fold(p) in fold(hay) for p in parts) >= len(parts)


def deadline_ok(gold: str, task: Task) -> bool:
    d = task.deadline
    if not gold.strip():
        return d is None or not d.text.strip()
    if d is None:
        return False
    hay = " ".join(str(x or "") for x in (d.text, d.start, d.end, d.recurrence))
    nums = re.findall(r"\d+", gold)
    if nums:
        have = {str(int(x)) for x in re.findall(r"\d+", hay)}
        return all(str(int(n)) in have for n in nums)
    return near_in(gold, hay)


def documents(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    q
                    for q in p.iterdir()
                    if q.is_file()
                    and q.suffix.lower() in (".txt", ".md", ".docx", ".pdf")
                    and q.name != "README.md"
                )
            )
        elif p.is_file():
            out.append(p)
    return out


def tables_only(document: Document) -> list[Task]:
    """Each table of the document alone through parse_table (when the parser turns it away)."""
    registry = AgencyRegistry()
    tasks: list[Task] = []
    for table in document.tables:
        tasks.extend(parse_table(table, "Bảng", registry, first_ordinal=len(tasks) + 1).tasks)
    return tasks


def parse_file(path: Path) -> list[Task]:
    if path.suffix.lower() in (".txt", ".md"):
        text = path.read_text(encoding="utf-8")
        try:
            return parse_plan(text).tasks
        except PlanbotError:
            return tables_only(from_text(nfc(text)))
    from indexer.loaders import read_plan_file
    from knowledge.parsing.parser import parse_document

    document = read_plan_file(path)
    try:
        return parse_document(document).tasks
    except PlanbotError:
        return tables_only(document)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument(
        "--expect", type=Path, default=ROOT.parent / "shared" / "eval" / "dev_tables.jsonl"
    )
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--ocr", action="store_true", help="also scanned PDFs (slow: OCR)")
    args = ap.parse_args()
    paths = args.paths or [
        ROOT.parent / "shared" / "corpus" / d for d in ("plans", "other", "formats")
    ] + [ROOT / "sample_plans"]
    silver: dict[str, list[dict]] = defaultdict(list)
    non_task: set[str] = set()
    for line in args.expect.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        if "tt" in item:
            silver[item["doc"]].append(item)
        elif item.get("not_task_table"):
            non_task.add(item["doc"])
    totals: dict[str, dict[str, int]] = {"text": defaultdict(int), "containers": defaultdict(int)}
    print(
        f"{'document':42s} {'tasks':>5s} {'exp':>4s} {'found':>5s} {'lead':>4s} {'supp':>4s} {'dl':>4s} {'inv':>4s}"
    )
    for path in documents(paths):
        if ".scan." in path.name and not args.ocr:
            continue
        try:
            tasks = parse_file(path)
        except Exception as e:  # noqa: BLE001 - a measurement reports failures and goes on
            print(f"{path.name:42s} ERROR {type(e).__name__}: {e}")
            continue
        key = (
            path.name
            if path.suffix in (".txt", ".md")
            else path.stem.replace(".scan", "").replace(".signed", "") + ".txt"
        )
        rows = silver.get(key, [])
        used: set[int] = set()
        found = lead = support = deadline = 0
        for row in rows:
            prefix = fold(row["task"])
            match = next(
                (
                    i
                    for i, t in enumerate(tasks)
                    if i not in used and fold(t.text).startswith(prefix)
                ),
                None,
            ) or next(
                (i for i, t in enumerate(tasks) if i not in used and prefix in fold(t.text)), None
            )
            if match is None:
                if args.verbose:
                    print(f"    MISSING tt {row['tt']}: {row['task']}")
                continue
            used.add(match)
            task = tasks[match]
            found += 1
            ok_lead = agency_ok(row["lead"], [r.name for r in task.lead] + [task.lead_text])
            ok_support = agency_ok(
                row["support"], [r.name for r in task.support] + [task.support_text]
            )
            ok_deadline = deadline_ok(row["deadline"], task)
            lead += ok_lead
            support += ok_support
            deadline += ok_deadline
            if args.verbose and not (ok_lead and ok_support and ok_deadline):
                print(
                    f"    tt {row['tt']} {row['task'][:40]!r}: lead {ok_lead} {task.lead_text!r} / {row['lead']!r};"
                    f" support {ok_support} {task.support_text!r} / {row['support']!r};"
                    f" deadline {ok_deadline} {task.deadline.text if task.deadline else ''!r} / {row['deadline']!r}"
                )
        invented = 0
        if key in non_task:
            invented = len(tasks) - len(used)
            if args.verbose and invented:
                for i, t in enumerate(tasks):
                    if i not in used:
                        print(f"    INVENTED {t.row}: {t.text[:70]!r} lead={t.lead_text!r}")
        if args.verbose and not rows and tasks:
            for t in tasks[:5]:
                print(
                    f"    task {t.row}: {t.text[:60]!r} lead={t.lead_text!r} dl={t.deadline.text if t.deadline else ''!r}"
                )
        print(
            f"{path.name:42s} {len(tasks):5d} {len(rows):4d} {found:5d} {lead:4d} {support:4d} {deadline:4d} {invented:4d}"
        )
        total = totals["text" if path.suffix.lower() in (".txt", ".md") else "containers"]
        for k, v in (
            ("exp", len(rows)),
            ("found", found),
            ("lead", lead),
            ("support", support),
            ("deadline", deadline),
            ("invented", invented),
        ):
            total[k] += v
    for name, t in totals.items():
        exp = t["exp"] or 1
        print(
            f"TOTAL {name}: expected {t['exp']} found {t['found']} ({t['found'] / exp:.0%}) right lead {t['lead']}"
            f" ({t['lead'] / exp:.0%}) right support {t['support']} ({t['support'] / exp:.0%})"
            f" right deadline {t['deadline']} ({t['deadline'] / exp:.0%}) invented {t['invented']}"
        )


if __name__ == "__main__":
    main()
