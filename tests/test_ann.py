"""The HNSW index against the brute-force reference: recall, rebuild per generation, fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer import ann
from indexer.embedder import HashingEmbedder
from indexer.indexing import index_paths
from indexer.search import KnowledgeBase
from indexer.store import Store

pytestmark = pytest.mark.skipif(not ann.available(), reason="faiss-cpu not installed")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_plans"


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def recall(found: list[int], truth: list[int]) -> float:
    return len(set(found) & set(truth)) / len(truth)


def test_hnsw_recall_against_brute_force():
    matrix = unit_vectors(4000, 64, 1)
    ids = np.arange(10, 4010, dtype=np.int64)
    index = ann.build("k", ids, matrix)
    queries = unit_vectors(20, 64, 2)
    scores = [recall(index.search(q, 100), ann.brute_force(matrix, ids, q, 100)) for q in queries]
    assert np.mean(scores) >= 0.95
    assert index.search(queries[0], 1)[0] == ann.brute_force(matrix, ids, queries[0], 1)[0]


def test_exact_twins_do_not_trap_the_search():
    """Copies of one plan share their clauses' vectors: 60 distinct vectors, 50 items each."""
    distinct = unit_vectors(60, 64, 4)
    matrix = np.repeat(distinct, 50, axis=0)
    ids = np.random.default_rng(5).permutation(len(matrix)).astype(np.int64)
    index = ann.build("k", ids, matrix)
    assert len(index.offsets) == 61 and sorted(index.ids.tolist()) == sorted(ids.tolist())
    row_of = {int(i): r for r, i in enumerate(ids)}
    for q in unit_vectors(10, 64, 6):
        truth = ann.brute_force(matrix, ids, q, 100)
        kth = float(matrix[row_of[truth[-1]]] @ q)
        found = index.search(q, 100)
        assert len(found) == 100
        assert all(float(matrix[row_of[i]] @ q) >= kth - 1e-5 for i in found)  # twins tie


def test_missing_stale_or_broken_file_is_not_used(tmp_path):
    matrix = unit_vectors(500, 32, 3)
    ids = np.arange(500, dtype=np.int64)
    path = tmp_path / "x.db.m.hnsw"
    assert ann.load(path, "m|1|500|abc") is None  # missing
    key = ann.make_key("m", 1, ids)
    ann.save(ann.build(key, ids, matrix), path)
    assert ann.load(path, key) is not None
    assert ann.load(path, ann.make_key("m", 2, ids)) is None  # another generation: stale
    assert ann.load(path, ann.make_key("m", 1, ids[:-1])) is None  # other vectors: stale
    path.write_bytes(b"not an index")
    assert ann.load(path, key) is None
    assert not list(tmp_path.glob("*.tmp"))


def test_state_index_follows_each_generation(tmp_path, monkeypatch):
    monkeypatch.setattr(ann, "MIN_VECTORS", 1)  # the threshold: index even a tiny corpus
    embedder = HashingEmbedder()
    store = Store(tmp_path / "kb.db")
    index_paths(store, [SAMPLES], embedder=embedder)
    path = ann.index_path(store.path, embedder.name)
    assert path.exists()  # written by the indexing hook
    kb = KnowledgeBase(store, embedder, mode="dense")
    state = kb._snapshots.current
    assert state.ann is not None and state.ann.wait() is not None
    assert state.ann.index.key == ann.make_key(embedder.name, state.version, state.vec_ids)
    query = embedder.encode_queries(["Sở Y tế chủ trì tiêm chủng"])[0]
    assert recall(kb.dense_ids(query, 20), kb.dense_ids(query, 20, exact=True)) >= 0.95

    # a new plan: new generation, new vectors, the index is rebuilt for them
    text = (SAMPLES / "000_7b0f32ab0385fc88.txt").read_text(encoding="utf-8")
    store.index_text("added.txt", text + "\nSở Giao thông vận tải chủ trì sửa đường liên xã.", embedder)
    kb.reload()
    after = kb._snapshots.current
    assert after.version > state.version and len(after.vec_ids) > len(state.vec_ids)
    fresh = after.ann.wait()
    assert fresh is not None and set(fresh.ids.tolist()) == set(after.vec_ids.tolist())
    assert ann.load(path, fresh.key) is not None  # the file beside the DB was replaced

    # the plan replaced by a shorter text: its old items leave the index
    store.index_text("added.txt", text[: len(text) // 2], embedder)
    kb.reload()
    last = kb._snapshots.current
    gone = set(after.vec_ids.tolist()) - set(last.vec_ids.tolist())
    assert gone and not gone & set(last.ann.wait().ids.tolist())
    assert ann.load(path, after.ann.key) is None  # the previous file is stale now


def test_small_corpus_uses_brute_force(tmp_path):
    embedder = HashingEmbedder()
    store = Store(tmp_path / "kb.db")
    index_paths(store, [SAMPLES], embedder=embedder)
    assert not ann.index_path(store.path, embedder.name).exists()
    kb = KnowledgeBase(store, embedder, mode="dense")
    assert kb._snapshots.current.ann is None
    query = embedder.encode_queries(["Sở Y tế chủ trì"])[0]
    assert kb.dense_ids(query, 10) == kb.dense_ids(query, 10, exact=True)
