"""HNSW (and faiss alternatives) against exact brute force on REAL e5 vectors of 100k distinct passages.

    python benchmarks/bench_ann_recall.py --cache /tmp/h5 [--n 100000] \
        [--corpus DIR ...] [--questions FILE ...] [--encode-only] [--quick]

Passages: the plans under `--corpus` (default: the repository's sample_plans and tests/data
plans) are read by the product's loaders and parser, and each task row and clause becomes the
text the product embeds (`search_text_for_task` / `search_text_for_clause`). These ~4k real
items are then recombined into `--n` DISTINCT passages, seeded:
- two consecutive sentences taken from clauses of different plans, under a third's heading;
- a clause whose agency is another plan's agency and whose deadline is another's deadline;
- a task row whose work, lead, support and deadline come from four different rows.
They are encoded by the product's default encoder (int8 ONNX, `OnnxEmbedder`, 1 thread, with the
"passage: " prefix) and cached in chunks under `--cache` (`vectors_NNNNN.npy`): a crash loses
one chunk, and a rerun with the same passages resumes. Encoding 100k takes ~30-60 min on one core.

Queries: the real questions of `--questions` ("query: " prefix) plus `--held-out` generated
passages that are NOT indexed ("passage: " prefix). Truth: exact inner product over all vectors
(they are L2-normalised, as the product's: inner product = cosine, `ann.brute_force`).

For each configuration: build seconds, index bytes, recall@10 and recall@100, p50/p95 single-query
latency (ms, 1 faiss thread; builds use all threads, as the product's), the brute-force latency measured interleaved in the same loop.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
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

from answering import ann  # noqa: E402

DEFAULT_CORPUS = [ROOT / "sample_plans", ROOT / "tests" / "data" / "corpus", ROOT / "tests" / "data" / "own_plans"]
DEFAULT_QUESTIONS = [ROOT / "tests" / "data" / "seed_questions.jsonl"]
CHUNK = 2000
GENERATOR_VERSION = 1
_SENTENCE = re.compile(r"(?<=[.;:])\s+(?=[A-ZÀ-Ỹ0-9(\-+–•])")
_AGENCY = re.compile(
    r"\b(?:Sở|Ban|UBND|Ủy ban nhân dân|Công an|Bộ|Cục|Chi cục|Trung tâm|Văn phòng|Thanh tra|Bảo hiểm xã hội|"
    r"Hội|Đài|Báo|Trường|Bệnh viện|Kho bạc|Ngân hàng|Liên đoàn|Tỉnh đoàn|Mặt trận)"
    r"(?: [A-ZĐÀ-Ỹa-zà-ỹđ&\-]+){1,7}"
)


# ------------------------------------------------------------------------------------------
# passages


def real_items(corpus: list[Path]) -> list[dict]:
    """The product's embedded texts of every task row and clause, with their parts."""
    from indexer.loaders import plan_files, read_plan_file
    from knowledge.parsing.parser import parse_document
    from store.writes import search_text_for_clause, search_text_for_task

    items: list[dict] = []
    for plan_no, path in enumerate(plan_files(corpus)):
        if path.suffix.lower() not in (".txt", ".md", ".docx"):  # PDFs and scans: slow, same texts
            continue
        plan = parse_document(read_plan_file(path))
        for task in plan.tasks:
            items.append({
                "plan": plan_no, "kind": "task", "text": search_text_for_task(plan, task), "body": task.text,
                "citation": task.citation, "lead": task.lead_text, "support": task.support_text,
                "deadline": task.deadline.text if task.deadline else "", "extra": dict(task.extra),
            })
        for clause in plan.clauses:
            items.append({
                "plan": plan_no, "kind": "clause", "text": search_text_for_clause(clause), "heading": clause.heading,
                "body": clause.text, "deadline": clause.deadline.text if clause.deadline else "",
            })
    return items


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 25]


def generate(items: list[dict], n: int, seed: int) -> list[str]:
    """`n` distinct passages: the real items first, then recombinations (see the module doc)."""
    rng = random.Random(seed)
    clauses = [i for i in items if i["kind"] == "clause"]
    tasks = [i for i in items if i["kind"] == "task"]
    runs = [(c, s) for c in clauses if len(s := sentences(c["body"])) >= 1]
    agencies = sorted({m.group(0) for i in items for m in _AGENCY.finditer(i["body"])}
                      | {i["lead"] for i in tasks if i["lead"]})
    deadlines = sorted({i["deadline"] for i in items if i["deadline"]})
    headings = sorted({c["heading"] for c in clauses if c["heading"]})
    out: dict[str, None] = {}
    for item in items:
        out.setdefault(item["text"], None)

    def two_sentences() -> str:
        (a, sa), (b, sb) = rng.sample(runs, 2)
        while b["plan"] == a["plan"]:
            b, sb = rng.choice(runs)
        i = rng.randrange(len(sa))
        j = rng.randrange(len(sb))
        body = " ".join([sa[i], *sa[i + 1 : i + 2], sb[j]])
        heading = rng.choice(headings)
        return f"{heading}: {body}" if rng.random() < 0.8 else body

    def agency_deadline() -> str:
        c = rng.choice(clauses)
        body = c["body"]
        found = list(_AGENCY.finditer(body))
        if found:
            m = rng.choice(found)
            body = body[: m.start()] + rng.choice(agencies) + body[m.end() :]
        else:
            body = f"{rng.choice(agencies)} chủ trì, {body[:1].lower()}{body[1:]}"
        if c["deadline"] and c["deadline"] in body:
            body = body.replace(c["deadline"], rng.choice(deadlines), 1)
        else:
            body = f"{body.rstrip(' ;.')}; thời hạn: {rng.choice(deadlines)}."
        return f"{c['heading']}: {body}" if c["heading"] else body

    def task_row() -> str:
        a, b, c, d = (rng.choice(tasks) for _ in range(4))
        parts = [
            f"{a['citation']}. Nội dung nhiệm vụ: {a['body']}",
            f"Cơ quan chủ trì: {b['lead']}" if b["lead"] else "",
            f"Cơ quan phối hợp: {c['support']}" if c["support"] else "",
            f"Thời gian hoàn thành: {d['deadline']}" if d["deadline"] else "",
        ]
        parts += [f"{k}: {v}" for k, v in a["extra"].items()]
        return ". ".join(p for p in parts if p)

    makers = [(two_sentences, 0.5), (agency_deadline, 0.3), (task_row, 0.2)]
    while len(out) < n:
        r, acc = rng.random(), 0.0
        for make, share in makers:
            acc += share
            if r < acc:
                out.setdefault(make(), None)
                break
    return list(out)[:n]


# ------------------------------------------------------------------------------------------
# vectors (cached in chunks)


def load_encoder(model: str | None):
    from encoders.embedder import load_embedder
    from indexer.settings import load_settings

    embedder = load_embedder(model or load_settings().model, encoder="onnx")
    if embedder is None:
        raise SystemExit("no ONNX encoder: run scripts/setup.sh (planbot convert-model)")
    return embedder


def cached_vectors(cache: Path, name: str, texts: list[str], encode, log, limit: int | None = None) -> np.ndarray:
    """The vectors of `texts` (of its first `limit` only, when given), encoded chunk by chunk
    into `cache/<name>_NNNNN.npy`; a cache made for other texts (digest in `<name>.json`) is
    discarded."""
    cache.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1("\x00".join(texts).encode("utf-8")).hexdigest()
    meta = cache / f"{name}.json"
    if not meta.exists() or json.loads(meta.read_text()).get("digest") != digest:
        for old in cache.glob(f"{name}_*.npy"):
            old.unlink()
        meta.write_text(json.dumps({"digest": digest, "count": len(texts), "chunk": CHUNK}))
    parts = []
    started = time.perf_counter()
    for no, lo in enumerate(range(0, len(texts) if limit is None else min(limit, len(texts)), CHUNK)):
        path = cache / f"{name}_{no:05d}.npy"
        if not path.exists():
            t = time.perf_counter()
            vec = encode(texts[lo : lo + CHUNK])
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vec)
            os.replace(tmp, path)
            log(f"{name}: {min(lo + CHUNK, len(texts))}/{len(texts)} encoded "
                f"({(time.perf_counter() - t) / len(vec) * 1000:.1f} ms/text, {time.perf_counter() - started:.0f} s)")
        parts.append(np.load(path))
    return np.ascontiguousarray(np.concatenate(parts)[:limit], dtype=np.float32)


def dataset(args, log) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(passage vectors, query vectors, query kinds)."""
    t = time.perf_counter()
    items = real_items(args.corpus)
    texts = generate(items, args.n + args.held_out, args.seed)
    random.Random(args.seed + 1).shuffle(texts)
    held, passages = texts[: args.held_out], texts[args.held_out :]
    questions = []
    for path in args.questions:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(json.loads(line)["q"])
    log(f"{len(items)} real items → {len(passages)} distinct passages + {len(held)} held out, "
        f"{len(questions)} questions ({time.perf_counter() - t:.1f} s)")
    (args.cache).mkdir(parents=True, exist_ok=True)
    (args.cache / "passages_sample.txt").write_text("\n".join(passages[:200]), encoding="utf-8")
    encoder = None

    def encoder_() :
        nonlocal encoder
        if encoder is None:
            encoder = load_encoder(args.model)
            log(f"encoder {encoder.name}")
        return encoder

    q_vec = cached_vectors(args.cache, "questions", questions, lambda x: encoder_().encode_queries(x), log)
    held_vec = cached_vectors(args.cache, "heldout", held, lambda x: encoder_().encode_documents(x), log)
    docs = cached_vectors(args.cache, "vectors", passages, lambda x: encoder_().encode_documents(x), log, args.limit)
    queries = np.concatenate([q_vec, held_vec])
    kinds = ["question"] * len(q_vec) + ["passage"] * len(held_vec)
    return docs, queries, kinds


# ------------------------------------------------------------------------------------------
# the comparison


def exact_top(docs: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per query: the exact top-k row numbers and the k-th best score (ties count as found)."""
    sims = queries @ docs.T
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(sims, top, axis=1).min(axis=1)
    return top, kth


def recall(found: np.ndarray, sims_row: np.ndarray, kth: float, k: int) -> float:
    """Tie-aware recall@k: found rows scoring at least the exact k-th score, over k."""
    found = found[found >= 0][:k]
    return float(np.count_nonzero(sims_row[found] >= kth - 1e-6)) / k


class Brute:
    name = "brute force (numpy)"

    def __init__(self, docs: np.ndarray) -> None:
        self.docs, self.ids = docs, np.arange(len(docs), dtype=np.int64)
        self.build_s, self.bytes = 0.0, docs.nbytes

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(ann.brute_force(self.docs, self.ids, q, k))


class Faiss:
    """One built faiss index and one search setting."""

    def __init__(self, name: str, index, build_s: float, params_for) -> None:
        import faiss

        self.name, self.index, self.build_s = name, index, build_s
        self.bytes = len(faiss.serialize_index(index))
        self.params_for = params_for

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        _, found = self.index.search(q.reshape(1, -1), k, params=self.params_for(k))
        return found[0]


class Product:
    """`answering.ann` as the product builds and searches it (its M / efConstruction / efSearch)."""

    def __init__(self, docs: np.ndarray) -> None:
        import faiss

        t = time.perf_counter()
        self.ann = ann.build("bench", np.arange(len(docs), dtype=np.int64), docs)
        self.build_s = time.perf_counter() - t
        self.bytes = len(faiss.serialize_index(self.ann.index))
        self.name = f"product answering.ann (M={ann.M}, efC={ann.EF_CONSTRUCTION}, ef={ann.ef_search(100)}@k=100)"

    def search(self, q: np.ndarray, k: int) -> np.ndarray:
        return np.asarray(self.ann.search(q, k))


def hnsw_variants(docs: np.ndarray, m: int, ef_c: int, efs: list[int], log) -> list[Faiss]:
    import faiss

    t = time.perf_counter()
    index = faiss.IndexHNSWFlat(docs.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_c
    index.add(docs)
    build = time.perf_counter() - t
    log(f"HNSW M={m} efC={ef_c}: built in {build:.1f} s")
    out = []
    for ef in efs:
        out.append(Faiss(f"HNSW M={m} efC={ef_c} ef={ef}", index, build,
                         lambda k, ef=ef: faiss.SearchParametersHNSW(efSearch=max(ef, k))))
    return out


def ivf_variants(docs: np.ndarray, nlist: int, probes: list[int], log) -> list[Faiss]:
    import faiss

    t = time.perf_counter()
    quantizer = faiss.IndexFlatIP(docs.shape[1])
    index = faiss.IndexIVFFlat(quantizer, docs.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(docs)
    index.add(docs)
    build = time.perf_counter() - t
    log(f"IVF-Flat nlist={nlist}: built in {build:.1f} s")
    return [Faiss(f"IVF-Flat nlist={nlist} nprobe={p}", index, build,
                  lambda k, p=p: faiss.SearchParametersIVF(nprobe=p)) for p in probes]


def measure(candidates: list, docs: np.ndarray, queries: np.ndarray, kinds: list[str], rounds: int) -> list[dict]:
    """Recall@10/@100 per query kind, then latency at k=100, the candidates interleaved per query."""
    sims = queries @ docs.T
    truth = {k: exact_top(docs, queries, k)[1] for k in (10, 100)}
    rows = []
    for cand in candidates:
        row = {"name": cand.name, "build_s": cand.build_s, "mb": cand.bytes / 2**20, "times": []}
        for k in (10, 100):
            scores = [recall(cand.search(q, k), sims[i], truth[k][i], k) for i, q in enumerate(queries)]
            row[f"r@{k}"] = statistics.mean(scores)
            for kind in sorted(set(kinds)):
                row[f"r@{k} {kind}"] = statistics.mean(s for s, kd in zip(scores, kinds, strict=True) if kd == kind)
            row[f"min r@{k}"] = min(scores)
        rows.append(row)
    for _ in range(rounds):
        for q in queries:
            for cand, row in zip(candidates, rows, strict=True):
                t = time.perf_counter()
                cand.search(q, 100)
                row["times"].append((time.perf_counter() - t) * 1000)
    for row in rows:
        times = sorted(row.pop("times"))
        row["p50"] = statistics.median(times)
        row["p95"] = times[max(int(len(times) * 0.95) - 1, 0)]
    return rows


def report(rows: list[dict], kinds: list[str]) -> str:
    names = sorted(set(kinds))
    head = ["config", "build s", "MB", "R@10", "R@100", *[f"R@100 {n}" for n in names], "min R@100", "p50 ms", "p95 ms"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["name"], f"{r['build_s']:.1f}", f"{r['mb']:.0f}", f"{r['r@10']:.4f}", f"{r['r@100']:.4f}",
                 *[f"{r[f'r@100 {n}']:.4f}" for n in names], f"{r['min r@100']:.2f}", f"{r['p50']:.2f}", f"{r['p95']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def update_check(product: Product, docs: np.ndarray, extra: np.ndarray, queries: np.ndarray, log) -> None:
    """A plan replaced in the product index: its 100 items leave, 100 new passages come
    (`ann.update`, no rebuild): seconds taken, recall@100 against brute force on the new set."""
    ids = np.arange(len(docs), dtype=np.int64)
    keep = np.arange(100, len(docs))
    new_ids = np.concatenate([ids[keep], np.arange(len(docs), len(docs) + len(extra))])
    new_docs = np.ascontiguousarray(np.concatenate([docs[keep], extra]))
    t = time.perf_counter()
    updated = ann.update(product.ann, "bench+1", new_ids, new_docs)
    took = time.perf_counter() - t
    if updated is None:
        log("update declined (rebuild)")
        return
    scores = []
    for q in queries:
        truth = ann.brute_force(new_docs, new_ids, q, 100)
        scores.append(len(set(updated.search(q, 100)) & set(truth)) / 100)
    log(f"update (-100 items, +{len(extra)} new passages): {took:.2f} s against a {product.build_s:.1f} s build; "
        f"dead rows {updated.dead}; question recall@100 {statistics.mean(scores):.4f}")


def parse_grid(text: str) -> list[tuple[int, int]]:
    return [(int(m), int(c)) for m, c in (part.split(":") for part in text.split(",") if part)]


# ------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, required=True, help="folder for the cached vectors")
    parser.add_argument("--n", type=int, default=100_000, help="distinct passages indexed")
    parser.add_argument("--held-out", type=int, default=300, help="generated passages used as queries")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--corpus", type=Path, action="append", help="plan folders (default: the repo's)")
    parser.add_argument("--questions", type=Path, action="append", help="question .jsonl files (field q)")
    parser.add_argument("--model", help="model folder (default: the settings' model)")
    parser.add_argument("--limit", type=int, help="use (and encode) only the first LIMIT of the n passages")
    parser.add_argument("--encode-only", action="store_true", help="build the cache and stop")
    parser.add_argument("--grid", default="16:80,32:80,32:200,48:200", help="HNSW M:efConstruction pairs")
    parser.add_argument("--ef", default="128,256,512,1024", help="HNSW efSearch values (at least k)")
    parser.add_argument("--nlist", type=int, default=1024, help="IVF-Flat lists (0: skip IVF)")
    parser.add_argument("--nprobe", default="16,32,64,128")
    parser.add_argument("--rounds", type=int, default=3, help="latency rounds over all queries")
    parser.add_argument("--threads", type=int, default=1, help="faiss search threads (builds use all, as the product)")
    args = parser.parse_args()
    args.corpus = args.corpus or DEFAULT_CORPUS
    args.questions = args.questions or DEFAULT_QUESTIONS

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    docs, queries, kinds = dataset(args, log)
    log(f"passages {docs.shape}, queries {queries.shape}; norms {np.linalg.norm(docs, axis=1).min():.4f}"
        f"–{np.linalg.norm(docs, axis=1).max():.4f}")
    if args.encode_only:
        return
    import faiss

    log(f"faiss {faiss.__version__}: builds on {faiss.omp_get_max_threads()} threads, searches on {args.threads}")
    candidates: list = [Brute(docs), Product(docs)]
    log(f"product index built in {candidates[1].build_s:.1f} s")
    for m, ef_c in parse_grid(args.grid):
        candidates += hnsw_variants(docs, m, ef_c, [int(e) for e in args.ef.split(",")], log)
    if args.nlist:
        candidates += ivf_variants(docs, args.nlist, [int(p) for p in args.nprobe.split(",")], log)
    faiss.omp_set_num_threads(args.threads)
    update_check(candidates[1], docs, queries[kinds.index("passage"):][:100], queries[: kinds.count("question")], log)
    rows = measure(candidates, docs, queries, kinds, args.rounds)
    print(f"\n{len(docs)} passages, {len(queries)} queries ({kinds.count('question')} questions, "
          f"{kinds.count('passage')} held-out passages); latency: k=100, {args.rounds} rounds, interleaved\n")
    print(report(rows, kinds))


if __name__ == "__main__":
    main()
