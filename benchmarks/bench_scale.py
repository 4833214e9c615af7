"""Scale-out benchmark: N synthetic plans on each store engine, side by side in one run.

    python benchmarks/bench_scale.py build --plans 10000 --db data/scale.db [--db postgresql://…]
        [--corpus ../shared/corpus]
    python benchmarks/bench_scale.py measure --db data/scale.db [--db postgresql://…]
        [--workers 1 3] [--seconds 30] QUESTIONS.jsonl…

`build` reads the real plans once (the bundled samples and, with `--corpus`, the text and Word
files under it; no OCR), encodes every item of them once with the real encoder, then writes N
plans recombined from them through the store's own write path (`Store.save_plan`,
`Store.save_vectors`): plan i is source i mod k with its own number, its years changed (and
"tỉnh Thanh Hóa", the samples' province, swapped for another), and each item carrying its plan's number, so every synthetic item has its own content
hash and its own vector (the source item's vector plus small noise, renormalised; encoding 10⁶
items on 2 cores would take a day). It prints the store-write throughput (plans/s, items/s) per
engine and the time to build the nearest-neighbour index; parsing is timed separately (it does
not depend on the engine).

`measure` times, per engine and interleaved: answer p50/p95 over the questions (vector not
cached), memory per worker (RSS after warm-up and the answers), and answers per second with
each `--workers` count (processes answering from one shared database, no Telegram send limit).
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing as mp
import os
import queue
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

PROVINCES = [
    "Nghệ An", "Quảng Bình", "Hà Nam", "Lào Cai", "Cà Mau", "Đắk Lắk", "Bình Định", "Phú Thọ",
    "Thái Nguyên", "Quảng Ngãi", "Lâm Đồng", "An Giang", "Gia Lai", "Tây Ninh", "Hưng Yên", "Ninh Bình",
]  # fmt: skip
READABLE = {".txt", ".md", ".docx"}


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_mb() -> float:
    """This process's peak resident memory since its exec (VmHWM; ru_maxrss would count the
    parent's memory at fork too)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return rss_mb()


def open_store(db: str):
    from store.database import Store

    return Store(db if "://" in db else Path(db))


def source_plans(corpus: Path | None):
    """(name, plan, text) of every readable real plan: the samples, then the corpus's text and Word files."""
    from indexer.indexing import load, parse

    files = sorted((ROOT / "sample_plans").glob("*.txt"))
    if corpus:
        files += sorted(p for p in corpus.rglob("*") if p.suffix.lower() in READABLE)
    plans = []
    for path in files:
        document = load(path.name, path.read_bytes())
        plan, summary = parse(document, None)
        if plan.tasks or plan.clauses:
            plans.append((path.name, plan, document.plain_text(), summary))
    return plans


def vary(plan, text: str, i: int, rng: random.Random):
    """Plan i: the source's words, its own number and years (the samples' province swapped); every
    item marked with its number."""
    from store.writes import plan_docs

    number = f"{1000 + i}/KH-UBND"
    province = rng.choice(PROVINCES)
    year = str(2020 + i % 10)

    def swap(words: str) -> str:
        return (
            re.sub(r"\b20[12]\d\b", year, words.replace("tỉnh Thanh Hóa", f"tỉnh {province}"))
            if words
            else words
        )

    variant = copy.deepcopy(plan)
    variant.meta.number = number
    variant.meta.title = swap(variant.meta.title)
    for _kind, obj, _ in plan_docs(variant):
        obj.text = f"{swap(obj.text)} (Kế hoạch số {number})"
    return variant, swap(text)


def source_vectors(embedder, texts: list[str], cache: Path) -> np.ndarray:
    """The real encoder's vectors of the source items, kept in `cache` by content hash between runs."""
    from store.writes import content_hash

    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache) as saved:
            known = dict(zip(saved["hashes"].tolist(), saved["vectors"], strict=True))
    hashes = [content_hash(f"{embedder.name}\n{t}") for t in texts]
    todo = sorted({i for i, h in enumerate(hashes) if h not in known})
    if todo:
        started = time.perf_counter()
        for i, v in zip(todo, embedder.encode_documents([texts[i] for i in todo]), strict=True):
            known[hashes[i]] = np.asarray(v, dtype="float32")
        print(f"encoded {len(todo)} source items in {time.perf_counter() - started:.0f} s")
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, hashes=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[h] for h in hashes])


def build(args) -> None:
    from encoders.embedder import load_embedder
    from indexer.settings import load_settings
    from store.writes import content_hash, plan_docs

    started = time.perf_counter()
    sources = source_plans(Path(args.corpus) if args.corpus else None)
    parse_s = time.perf_counter() - started
    items = sum(len(plan_docs(p)) for _, p, _, _ in sources)
    print(
        f"sources: {len(sources)} plans, {items} items, parsed in {parse_s:.1f} s ({len(sources) / parse_s:.1f} plans/s)"
    )
    embedder = load_embedder(load_settings().model)
    texts = [t for _, p, _, _ in sources for _, _, t in plan_docs(p)]
    vectors = source_vectors(embedder, texts, Path(args.cache))
    by_source = []
    offset = 0
    for _, p, _, _ in sources:
        n = len(plan_docs(p))
        by_source.append(vectors[offset : offset + n])
        offset += n
    for db in args.db:
        store = open_store(db)
        rng = random.Random(7)
        noise = np.random.default_rng(7)
        done_items = 0
        started = time.perf_counter()
        with store.bulk_load() as bulk:  # as `planbot index` of a folder
            for i in range(args.plans):
                k = i % len(sources)
                name, plan, text, summary = sources[k]
                variant, variant_text = vary(plan, text, i, rng)
                docs = plan_docs(variant)
                jitter = by_source[k] + noise.normal(0, 0.01, by_source[k].shape).astype("float32")
                jitter /= np.linalg.norm(jitter, axis=1, keepdims=True)
                store.save_vectors(
                    embedder.name,
                    [(content_hash(t), v) for (_, _, t), v in zip(docs, jitter, strict=True)],
                )
                store.save_plan(
                    f"syn/{i:05d}_{name}", variant, variant_text, f"syn-{i}", None, dict(summary)
                )
                done_items += len(docs)
                if (i + 1) % 500 == 0:
                    spent = time.perf_counter() - started
                    print(
                        f"  {db[:40]}: {i + 1} plans, {done_items} items, {spent:.0f} s ({(i + 1) / spent:.1f} plans/s)",
                        flush=True,
                    )
        spent = time.perf_counter() - started
        print(
            f"{db[:60]}: wrote {args.plans} plans / {done_items} items in {spent:.0f} s: "
            f"{args.plans / spent:.1f} plans/s, {done_items / spent:.0f} items/s"
            + (
                f" (HNSW graph built after, in {bulk.build_seconds:.0f} s)"
                if getattr(bulk, "dropped", False)
                else ""
            )
        )
        from answering import ann

        started = time.perf_counter()
        ann.refresh(store, embedder.name)
        print(f"{db[:60]}: nearest-neighbour index ready in {time.perf_counter() - started:.0f} s")
        store.close()


def _worker(db: str, questions: list[str], seconds: float, start_at: float, out) -> None:
    from answering.knowledge_base import KnowledgeBase
    from encoders.embedder import load_embedder
    from indexer.settings import load_settings

    kb = KnowledgeBase(open_store(db), load_embedder(load_settings().model))
    for q in questions[:5]:
        kb.ask(q)
    while time.time() < start_at:
        time.sleep(0.01)
    answered = errors = 0
    i = 0
    while time.time() < start_at + seconds:
        kb._query_cache.clear()
        try:
            kb.ask(questions[i % len(questions)])
            answered += 1
        except Exception:  # noqa: BLE001 (counted, reported)
            errors += 1
        i += 1
    out.put((answered, errors, peak_mb()))


def throughput(
    db: str, questions: list[str], workers: int, seconds: float
) -> tuple[float, int, list[float]]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 60  # every worker warm before the clock starts
    procs = [
        ctx.Process(
            target=_worker, args=(db, questions[w::workers] or questions, seconds, start_at, out)
        )
        for w in range(workers)
    ]
    for p in procs:
        p.start()
    results = []
    for _ in procs:
        try:
            results.append(out.get(timeout=seconds + 900))
        except queue.Empty:  # a worker died (e.g. killed for memory): counted as an error
            results.append((0, 1, 0.0))
    for p in procs:
        p.join()
    return sum(r[0] for r in results) / seconds, sum(r[1] for r in results), [r[2] for r in results]


def latencies(args, questions: list[str]) -> None:
    """Answer p50/p95 per engine, interleaved, in this process (skipped with --rounds 0, e.g. to leave
    the memory to the workers)."""
    from answering.knowledge_base import KnowledgeBase
    from encoders.embedder import load_embedder
    from indexer.settings import load_settings

    embedder = load_embedder(load_settings().model)
    kbs = {db: KnowledgeBase(open_store(db), embedder) for db in args.db}
    for db, kb in kbs.items():
        started = time.perf_counter()
        for q in questions:
            kb.ask(q)
        print(
            f"{db[:60]}: {len(kb.plans())} plans; warm-up pass {time.perf_counter() - started:.0f} s; RSS {rss_mb():.0f} MB (all engines' state in this process)"
        )
    times: dict[str, list[float]] = {db: [] for db in kbs}
    for _ in range(args.rounds):
        for q in questions:
            for db, kb in kbs.items():  # interleaved: the machine is shared
                kb._query_cache.clear()
                started = time.perf_counter()
                kb.ask(q)
                times[db].append((time.perf_counter() - started) * 1000)
    for db, spent in times.items():
        spent.sort()
        print(
            f"{db[:60]}: {len(spent)} answers p50 {statistics.median(spent):.1f} ms, p95 {spent[int(0.95 * (len(spent) - 1))]:.1f} ms"
        )


def measure(args) -> None:

    questions = [
        json.loads(line)["q"]
        for path in args.questions
        for line in Path(path).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if args.rounds:
        latencies(args, questions)
    for workers in args.workers:
        for db in args.db:
            rate, errors, rss = throughput(db, questions, workers, args.seconds)
            print(
                f"{db[:60]}: {workers} worker(s): {rate:.1f} answers/s, {errors} errors, peak RSS per worker {', '.join(f'{r:.0f}' for r in rss)} MB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--plans", type=int, default=10_000)
    b.add_argument(
        "--db",
        action="append",
        required=True,
        help="a SQLite path or postgresql:// URL (repeat for both)",
    )
    b.add_argument("--corpus", help="a folder of real plans to recombine besides the samples")
    b.add_argument(
        "--cache",
        default=str(ROOT / "data" / "scale_vectors.npz"),
        help="source vectors kept between runs",
    )
    m = sub.add_parser("measure")
    m.add_argument("--db", action="append", required=True)
    m.add_argument("--rounds", type=int, default=2)
    m.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    m.add_argument("--seconds", type=float, default=30)
    m.add_argument("questions", nargs="+")
    args = parser.parse_args()
    build(args) if args.command == "build" else measure(args)


if __name__ == "__main__":
    main()
