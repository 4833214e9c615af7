"""Several bot workers over one database: the p5 and p6 probes (/work/shared/probes) with 3
worker processes (issue 19).

    PYTHONPATH=$PWD .venv/bin/python benchmarks/workers_probe.py questions --work /tmp/wp-q
    PYTHONPATH=$PWD .venv/bin/python benchmarks/workers_probe.py webhook --work /tmp/wp-w
    PYTHONPATH=$PWD .venv/bin/python benchmarks/workers_probe.py reminders --work /tmp/wp-r
    PYTHONPATH=$PWD .venv/bin/python benchmarks/workers_probe.py bot-reminders --work /tmp/wp-b

`questions` (p6): the sample plans in two versions, A and B (B: one more duty of Sở Nội vụ in
each plan). `--workers` processes each hold their own `KnowledgeBase` over the one database and
answer `--users` users between them (threads, each asking in a loop: the Sở Nội vụ duties, whose
(items, plans) must be those of some mix of whole plans, and ordinary questions), while one more
process flips the plans folder between A and B and reindexes it, again and again. Failures: any
exception, an impossible (items, plans) pair (a half-written plan seen), and a worker that does
not follow the last reindex (its final answer not that of the final version: no restart, no
reload call, only the index generation in the database).

`webhook` (p6 through the real bot): the same, but the workers are `planbot run --port` webhook
processes and the users post updates to a random one (`benchmarks.workers_webhook`).

`reminders` (p5): a plan with `--tasks` tasks due tomorrow, `--chats` chats subscribed. The
workers run the reminder service (each its own process and worker name, lease `--lease` s) in a
loop until the outbox is drained; "Telegram" is a file every send appends a line to (one write;
then a short pause: the answer's way back, where a kill costs a resend). `--kills` times a random
worker is killed with SIGKILL at a random moment while sends go on, and restarted: every other
time under a new name (its claims must lapse and be taken over by the others), else under its
own (it takes its rows back at once). Counts per (chat, task): lost (never delivered), unmarked
repeats (delivered twice without the resend note), marked resends (at most one per kill).

`bot-reminders` (p5 through the real bot): the same with `planbot run --now … --port` webhook
workers (`benchmarks.workers_bot_reminders`).

All print a JSON summary and exit 1 on a failure. `run_questions` (here) and `run_reminders`
(`benchmarks.workers_reminders`) are what tests/test_workers.py calls, with small numbers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
AGENCY = "Sở Nội vụ"
QUESTIONS = [
    "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?",
    "Nhiệm vụ nào phải xong trước 01/7/2025?",
    "Báo cáo định kỳ gửi khi nào?",
    "Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?",
    "Sở Y tế phải làm gì?",
    "so noi vu chu tri viec gi",
]
EXTRA_DUTY = "\n- Sở Nội vụ chủ trì rà soát bổ sung danh mục vị trí việc làm, hoàn thành trước ngày 15/12/2026.\n"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}


def _spawn(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        env=_env(),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# ---------------------------------------------------------------------------------------------
# questions (p6)


def _versions(work: Path) -> tuple[Path, Path, Path]:
    a, b, f = work / "A", work / "B", work / "F"
    for folder in (a, b, f):
        folder.mkdir(parents=True)
    for sample in sorted((ROOT / "sample_plans").glob("*.txt")):
        text = sample.read_text(encoding="utf-8")
        lines = text.split("\n")
        at = next((j for j, line in enumerate(lines) if line.lstrip("#* ").startswith("II.")), 5)
        lines.insert(at + 1, EXTRA_DUTY)
        (a / sample.name).write_text(text, encoding="utf-8")
        (b / sample.name).write_text("\n".join(lines), encoding="utf-8")
        shutil.copy(a / sample.name, f / sample.name)
    return a, b, f


def _per_plan(folder: Path, db: Path) -> dict[str, int]:
    from answering.knowledge_base import KnowledgeBase
    from indexer.indexing import index_paths
    from store.database import Store

    store = Store(db)
    index_paths(store, [folder], None)
    counts = Counter(r.plan.file for r in KnowledgeBase(store, None).duties(AGENCY))
    store.close()
    return dict(counts)


def _pair(results) -> tuple[int, int]:
    return len(results), len({r.plan.file for r in results})


def question_worker(db: str, users: int, until: float, out: str, seed: int) -> None:
    """One worker process: `users` threads asking through one KnowledgeBase until `until`; then
    one last answer, once the reindexer has stopped (`out`.done exists)."""
    from answering.knowledge_base import KnowledgeBase
    from store.database import Store

    kb = KnowledgeBase(Store(db), None)
    stats = Counter()
    pairs: Counter = Counter()
    errors: list[str] = []
    lock = threading.Lock()

    def user(n: int) -> None:
        rng = random.Random(seed * 100 + n)
        while time.time() < until:
            try:
                if rng.random() < 0.5:
                    pair = _pair(kb.duties(AGENCY))
                    with lock:
                        pairs[pair] += 1
                else:
                    answer = kb.ask(rng.choice(QUESTIONS), limit=30)
                    with lock:
                        stats["answered" if answer.answered else "declined"] += 1
            except Exception as exc:  # noqa: BLE001 - counted, that is the probe's point
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
            with lock:
                stats["questions"] += 1

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = Path(out + ".done")
    while not done.exists():
        time.sleep(0.1)
    final = _pair(kb.duties(AGENCY))
    Path(out).write_text(
        json.dumps(
            {
                "stats": stats,
                "pairs": [[list(p), c] for p, c in pairs.items()],
                "errors": errors[:20],
                "error_count": len(errors),
                "final": list(final),
                "generation": kb.store.data_version(),
            }
        )
    )


def reindexer(db: str, a: str, b: str, f: str, until: float, out: str) -> None:
    """Flip the plans folder between versions A and B and reindex it, until `until`; ends on a
    version written to `out`."""
    from indexer.indexing import index_paths
    from store.database import Store

    store = Store(db)
    runs, failed, version = 0, 0, "A"
    while time.time() < until:
        version = "B" if version == "A" else "A"
        source = Path(a if version == "A" else b)
        for plan in source.glob("*.txt"):
            shutil.copy(plan, Path(f) / plan.name)
        reports = index_paths(store, [Path(f)], None)
        runs += 1
        failed += sum(1 for r in reports if r.status not in ("indexed", "unchanged"))
    Path(out).write_text(json.dumps({"runs": runs, "failed": failed, "version": version}))


def plan_versions(work: Path) -> tuple[Path, Path, Path, set, dict]:
    """A fresh `work` with the plans in versions A and B and the folder F (a copy of A); the
    (items, plans) pairs of the agency's duties any mix of whole plans gives, and each version's."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    a, b, f = _versions(work)
    per_plan = {"A": _per_plan(a, work / "count_A.db"), "B": _per_plan(b, work / "count_B.db")}
    files = sorted(set(per_plan["A"]) | set(per_plan["B"]))
    valid = set()
    for choice in itertools.product("AB", repeat=len(files)):
        counts = [per_plan[v].get(file, 0) for file, v in zip(files, choice, strict=True)]
        valid.add((sum(counts), sum(1 for c in counts if c)))
    whole = {v: (sum(per_plan[v].values()), len(per_plan[v])) for v in "AB"}
    return a, b, f, valid, whole


def run_questions(
    work: Path, workers: int = 3, users: int = 20, seconds: float = 30, db: Path | str | None = None
) -> dict:
    a, b, f, valid, whole = plan_versions(work)
    db = db or work / "bot.db"  # or an empty PostgreSQL database's URL
    _per_plan(f, db)  # the served index starts at version A
    start = time.time() + 3  # the workers load their state meanwhile
    until = start + seconds
    shares = [users // workers + (1 if i < users % workers else 0) for i in range(workers)]
    procs = [
        _spawn(
            "_question_worker",
            str(db),
            str(n),
            str(until),
            str(work / f"w{i}.json"),
            str(i),
            log=work / f"w{i}.log",
        )
        for i, n in enumerate(shares)
    ]
    indexer = _spawn(
        "_reindexer",
        str(db),
        str(a),
        str(b),
        str(f),
        str(until),
        str(work / "reindex.json"),
        log=work / "reindex.log",
    )
    indexer.wait()
    for i in range(workers):
        Path(str(work / f"w{i}.json") + ".done").touch()
    for proc in procs:
        proc.wait(timeout=120)
    reindex = json.loads((work / "reindex.json").read_text())
    results = [json.loads((work / f"w{i}.json").read_text()) for i in range(workers)]
    pairs = Counter()
    for result in results:
        for pair, count in result["pairs"]:
            pairs[tuple(pair)] += count
    partial = {str(p): c for p, c in pairs.items() if p not in valid}
    final = whole[reindex["version"]]
    return {
        "workers": workers,
        "users": users,
        "seconds": seconds,
        "questions": sum(r["stats"].get("questions", 0) for r in results),
        "duties_checked": sum(pairs.values()),
        "errors": sum(r["error_count"] for r in results),
        "error_examples": [e for r in results for e in r["errors"]][:5],
        "partial_answers": sum(partial.values()),
        "partial_examples": partial,
        "reindex_runs": reindex["runs"],
        "reindex_failed": reindex["failed"],
        "workers_behind_last_reindex": sum(1 for r in results if tuple(r["final"]) != final),
        "pairs_seen": sorted(str(p) for p in pairs),
        "exit_codes": [p.returncode for p in procs] + [indexer.returncode],
    }


# ---------------------------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_question_worker":
        db, users, until, out, seed = sys.argv[2:7]
        question_worker(db, int(users), float(until), out, int(seed))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_reindexer":
        reindexer(*sys.argv[2:6], float(sys.argv[6]), sys.argv[7])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "_reminder_worker":
        from benchmarks.workers_reminders import reminder_worker

        db, name, telegram, lease, seed = sys.argv[2:7]
        reminder_worker(db, name, telegram, float(lease), int(seed))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("probe", choices=["questions", "webhook", "reminders", "bot-reminders"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/workers_probe"))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--lease", type=float, default=1.5)
    parser.add_argument(
        "--db", help="an empty database to use (PostgreSQL URL); default SQLite in --work"
    )
    args = parser.parse_args()
    if args.probe == "questions":
        summary = run_questions(args.work, args.workers, args.users, args.seconds, args.db)
        bad = summary["errors"] or summary["partial_answers"] or summary["reindex_failed"]
        bad = bad or summary["workers_behind_last_reindex"] or any(summary["exit_codes"])
    elif args.probe == "webhook":
        from benchmarks.workers_webhook import run_webhook

        summary = run_webhook(args.work, args.workers, args.users, args.seconds, args.db)
        bad = summary["no_reply"] or summary["generic_errors"] or summary["partial_answers"]
        bad = (
            bad or summary["error_lines_in_logs"] or summary["workers_alive_at_end"] != args.workers
        )
        bad = bad or summary["reindex_failed"]
    elif args.probe == "bot-reminders":
        from benchmarks.workers_bot_reminders import run_bot_reminders

        summary = run_bot_reminders(
            args.work, args.workers, args.chats, args.tasks, args.kills, args.lease, db=args.db
        )
        bad = summary["lost"] or summary["unmarked_repeats"] or summary["pending_left"]
        bad = bad or summary["marked_resends"] > summary["kills"] or summary["error_lines_in_logs"]
    else:
        from benchmarks.workers_reminders import run_reminders

        summary = run_reminders(
            args.work, args.workers, args.chats, args.tasks, args.kills, args.lease, db=args.db
        )
        bad = summary["lost"] or summary["unmarked_repeats"] or summary["pending_left"]
        bad = bad or summary["marked_resends"] > summary["kills"] or any(summary["exit_codes"])
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
