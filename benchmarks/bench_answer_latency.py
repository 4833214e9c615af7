"""Answer latency of the checked-out code on an existing index, for side-by-side comparisons.

    PYTHONPATH=CHECKOUT python benchmarks/bench_answer_latency.py --db COPY.db QUESTIONS.jsonl...

Loads the code found first on PYTHONPATH (so the same script times two checkouts, e.g. a git
worktree of the previous release and this one, each on its own copy of one index), warms every
question once, then times `KnowledgeBase.ask` on each question `--rounds` times with the
question's vector not cached (each answer encodes its question, as a new question does).
Prints one line: p50 / p95 / mean in ms. Interleave runs of the two checkouts and compare
medians: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="")
    parser.add_argument("--slowest", type=int, default=0, help="also list the N slowest questions (median ms)")
    parser.add_argument("questions", nargs="+")
    args = parser.parse_args()

    from answering.knowledge_base import KnowledgeBase
    from encoders.embedder import load_embedder
    from indexer.settings import load_settings
    from store.database import Store

    texts = [json.loads(line)["q"] for path in args.questions for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    kb = KnowledgeBase(Store(Path(args.db)), load_embedder(load_settings().model))
    if kb._snapshots.current.ann is not None:
        kb._snapshots.current.ann.wait()
    for q in texts:
        kb.ask(q)
    times = []
    per_question: dict[str, list[float]] = {q: [] for q in texts}
    for _ in range(args.rounds):
        for q in texts:
            kb._query_cache.clear()
            start = time.perf_counter()
            kb.ask(q)
            times.append((time.perf_counter() - start) * 1000)
            per_question[q].append(times[-1])
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    slowest = sorted(per_question.items(), key=lambda kv: -statistics.median(kv[1]))[: args.slowest]
    for q, spent in slowest:
        print(f"  {statistics.median(spent):7.1f} ms  {q[:90]}")
    print(f"{args.label} {len(texts)} questions x {args.rounds}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, mean {statistics.mean(times):.1f} ms")


if __name__ == "__main__":
    main()
