"""The HNSW index against the brute-force reference: recall, rebuild per generation, fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from answering import ann
from answering.knowledge_base import KnowledgeBase
from encoders.embedder import HashingEmbedder
from indexer.indexing import index_paths, index_text
from store.database import Store

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


def exact_ids(index: ann.AnnIndex, ids: np.ndarray, matrix: np.ndarray, queries: np.ndarray, k: int) -> None:
    """The index answers exactly as brute force over (ids, matrix), order included."""
    for q in queries:
        assert index.search(q, k) == ann.brute_force(matrix, ids, q, k)


def test_update_adds_a_plan_and_replaces_one_like_brute_force():
    """Per indexed plan the graph is updated: new distinct vectors are added, rows whose items
    all left are dead and never answered; the answers equal brute force after each step."""
    base = unit_vectors(1500, 32, 7)
    ids = np.arange(1500, dtype=np.int64)
    first = ann.build("k1", ids, base)
    queries = unit_vectors(15, 32, 8)

    # add a plan: 200 new clauses and 20 copies of existing ones (new ids, same vectors)
    new = unit_vectors(200, 32, 9)
    ids2 = np.concatenate([ids, np.arange(5000, 5220)])
    matrix2 = np.concatenate([base, new, base[:20]])
    second = ann.update(first, "k2", ids2, matrix2)
    assert second is not None and second.index is not first.index
    assert second.index.ntotal == 1700 and second.dead == 0 and first.index.ntotal == 1500  # first untouched
    exact_ids(second, ids2, matrix2, queries, 10)
    exact_ids(first, ids, base, queries, 10)

    # replace a plan: items 0..299 leave, 100 of their texts come back unchanged under new ids
    keep = np.arange(300, len(ids2))
    back = np.arange(100, 200)
    ids3 = np.concatenate([ids2[keep], np.arange(9000, 9100), np.arange(9100, 9130)])
    matrix3 = np.concatenate([matrix2[keep], base[back], unit_vectors(30, 32, 10)])
    third = ann.update(second, "k3", ids3, matrix3)
    assert third is not None and third.index.ntotal == 1730
    assert third.dead == 180  # rows 20..99 and 200..299: rows 0..19 still hold the copies 5200..5219
    gone = set(range(300))
    for q in queries:
        assert not gone & set(third.search(q, 100))
    exact_ids(third, ids3, matrix3, queries, 10)
    exact_ids(third, ids3, matrix3, [matrix3[-1], base[150], base[250]], 5)  # a new row, a kept one, near a dead one

    # most rows dead: update declines, the caller rebuilds
    assert ann.update(third, "k4", ids3[:200], matrix3[:200]) is None
    # another vector size: rebuild
    assert ann.update(third, "k5", ids3[:5], unit_vectors(5, 16, 11)) is None


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

    # a new plan: new generation, new vectors, added to the index
    text = (SAMPLES / "000_7b0f32ab0385fc88.txt").read_text(encoding="utf-8")
    index_text(store, "added.txt", text.replace("Sở Y tế", "Sở Giao thông vận tải"), embedder)  # 10 new clauses
    kb.reload()
    after = kb._snapshots.current
    assert after.version > state.version and len(after.vec_ids) > len(state.vec_ids)
    fresh = after.ann.wait()
    assert fresh is not None and set(fresh.ids.tolist()) == set(after.vec_ids.tolist())
    assert ann.load(path, fresh.key) is not None  # the file beside the DB was replaced

    # the plan replaced by a shorter text: its old items leave the index
    index_text(store, "added.txt", text[: len(text) // 2], embedder)
    kb.reload()
    last = kb._snapshots.current
    gone = set(after.vec_ids.tolist()) - set(last.vec_ids.tolist())
    assert gone and not gone & set(last.ann.wait().ids.tolist())
    assert last.ann.index.dead >= 1  # updated, not rebuilt: the edited clauses cut off are dead rows
    assert recall(kb.dense_ids(query, 20), kb.dense_ids(query, 20, exact=True)) >= 0.95
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
