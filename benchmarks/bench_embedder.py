"""Benchmark the two encoders of the e5 model: torch fp32 (sentence-transformers) vs int8 ONNX.

    python benchmarks/bench_embedder.py [--model DIR] [--sentences 200] [--queries 40]
                                        [--threads 1,2]

Each encoder runs in its own process: the import time and RSS of its libraries, the model load,
query latency p50/p95 (one query at a time, as the bot asks) and documents/s at each thread
count, and its vectors of the same corpus sentences (clauses of ``sample_plans`` and
``tests/data/corpus``), whose cosine to the torch ones is reported (queries and passages).
Results are also written to benchmarks/out/bench_embedder.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QUERIES = [
    "Sở Nội vụ chịu trách nhiệm gì?",
    "so noi vu chiu trach nhiem gi",
    "ai chủ trì xây dựng đề án vị trí việc làm",
    "hạn nộp báo cáo tổng kết là khi nào",
    "UBND cấp huyện phải làm gì trước ngày 30/6/2025?",
    "kinh phí thực hiện kế hoạch lấy từ đâu",
    "Sở Y tế phối hợp với đơn vị nào về chuyển đổi số?",
    "nhiệm vụ của Ủy ban nhân dân cấp xã trong tháng 12",
]


def rss_mb() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float("nan")


def load_sentences(n: int) -> list[str]:
    lines: list[str] = []
    for folder in (REPO / "sample_plans", REPO / "tests" / "data" / "corpus"):
        for path in sorted(folder.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            lines += [ln.strip() for ln in text.splitlines() if 30 <= len(ln.strip()) <= 600]
    step = max(1, len(lines) // n)
    return lines[::step][:n]


def worker(encoder: str, folder: str, threads: list[int], n_queries: int, out: Path) -> None:
    """Measure one encoder in this (fresh) process; vectors go to ``out``.npz, numbers to stdout."""
    rss0, started = rss_mb(), time.perf_counter()
    if encoder == "torch":
        import torch  # noqa: F401
        from sentence_transformers import SentenceTransformer  # noqa: F401
    else:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    result: dict[str, object] = {
        "encoder": encoder,
        "import s": round(time.perf_counter() - started, 2),
        "import RSS MiB": round(rss_mb() - rss0, 0),
    }
    from encoders.embedder import SentenceTransformerEmbedder, model_name
    from encoders.onnx_encoder import OnnxEmbedder

    sentences = load_sentences(int(os.environ["BENCH_SENTENCES"]))
    queries = (QUERIES * (n_queries // len(QUERIES) + 1))[:n_queries]
    for n in threads:
        started = time.perf_counter()
        if encoder == "torch":
            import torch

            torch.set_num_threads(n)
            model = SentenceTransformerEmbedder(folder, num_threads=n)
        else:
            model = OnnxEmbedder(folder, model_name(folder, "torch"), num_threads=n)
        load_s = time.perf_counter() - started
        model.encode_queries(queries[:2])  # warm-up
        times = []
        for q in queries:
            t0 = time.perf_counter()
            model.encode_queries([q])
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        t0 = time.perf_counter()
        docs = model.encode_documents(sentences)
        docs_s = time.perf_counter() - t0
        result[f"{n}t"] = {
            "load s": round(load_s, 2),
            "query ms p50": round(statistics.median(times), 1),
            "query ms p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1),
            "docs/s": round(len(sentences) / docs_s, 1),
        }
        np.savez(out, docs=docs, queries=model.encode_queries(sentences))
    result["RSS MiB"] = round(rss_mb(), 0)
    print(json.dumps(result))


def main() -> None:
    default_model = os.environ.get("PLANBOT_MODEL_DIR") or str(
        REPO / "data" / "models" / "multilingual-e5-small"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model, help="converted model folder")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--worker", choices=("torch", "onnx"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",") if t.strip()]
    if args.worker:
        worker(args.worker, args.model, threads, args.queries, args.out)
        return

    env = dict(os.environ, HF_HUB_OFFLINE="1", BENCH_SENTENCES=str(args.sentences))
    results, vectors = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for encoder in ("torch", "onnx"):
            out = Path(tmp) / f"{encoder}.npz"
            cmd = [sys.executable, __file__, "--worker", encoder, "--model", args.model]
            cmd += ["--threads", args.threads, "--queries", str(args.queries), "--out", str(out)]
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            vectors[encoder] = dict(np.load(out))
    cosine = {}
    for kind in ("queries", "docs"):
        cos = (vectors["torch"][kind] * vectors["onnx"][kind]).sum(axis=1)
        cosine[kind] = {"min": round(float(cos.min()), 4), "mean": round(float(cos.mean()), 4)}
    n = len(vectors["torch"]["docs"])
    print(f"{n} sentences, {args.queries} queries, {os.cpu_count()} CPUs")
    for row in results:
        print(json.dumps(row, ensure_ascii=False))
    print(f"cosine torch vs onnx over {n} sentences: {json.dumps(cosine)}")
    for key in [f"{t}t" for t in threads]:
        ratio = results[1][key]["query ms p50"] / results[0][key]["query ms p50"]
        print(f"{key}: onnx/torch query p50 = {ratio:.2f}x")
    out_dir = REPO / "benchmarks" / "out"
    out_dir.mkdir(exist_ok=True)
    report = {"results": results, "cosine": cosine, "sentences": n}
    (out_dir / "bench_embedder.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
