"""Approximate nearest neighbours over the stored embeddings (faiss HNSW, inner product).

The vectors are e5 embeddings, normalised, so inner product = cosine. Below `MIN_VECTORS` the
brute-force product (`brute_force`) is as fast and exact; above it a `<db>.<model>.hnsw` file
beside the database answers in about a millisecond. The file carries its key (model,
index generation, vector count, digest of the item ids): a file whose key differs from the
state being built is stale and never used. Files are written to a temporary name and renamed.

`AnnSlot` belongs to one `SearchState`: it holds the index for exactly that state's vectors,
set once (loaded, or built in a background thread); until then the search uses brute force.

Per indexed plan the index is UPDATED, not rebuilt (`update`): HNSW can add but not remove, so
the previous file's graph gets the new distinct vectors added, and graph rows no item uses any
more (a plan replaced or removed) stay in the graph as dead rows, filtered out of every search.
A replaced plan keeps the vectors of its unchanged clauses, so it adds and kills few rows. When
more than `MAX_DEAD` of the rows are dead the index is rebuilt in full.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MIN_VECTORS = 20_000  # below this brute force is under ~5 ms and exact
# Measured by benchmarks/bench_ann_recall.py on 100k distinct real passages (int8 ONNX e5 vectors),
# 114 real questions + 300 held-out passages as queries: M=32, efConstruction 80, efSearch 256 gave
# recall@100 0.972 (questions 0.936); efConstruction 200 with efSearch 512 gives 0.995 (questions
# 0.986) at p50 1.3 ms against 4.5 ms for brute force. M=48 was no better, only bigger and slower to build.
M = 32  # graph degree
EF_CONSTRUCTION = 200  # build 43 s at 100k on 2 threads (12.5 s at 80); updates per plan make builds rare
EF_SEARCH = 512  # the candidate list at k ≤ 100
EF_PER_K = 5  # efSearch grows with k: max(EF_SEARCH, EF_PER_K * k)
MAX_DEAD = 0.25  # share of dead graph rows (their items were replaced) above which `update` rebuilds
_BUILD_LOCK = threading.Lock()


def available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def index_path(db_path: Path, model: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model)[-80:]
    return Path(f"{db_path}.{slug}.hnsw")


def make_key(model: str, generation: int, ids: np.ndarray) -> str:
    digest = hashlib.sha1(np.ascontiguousarray(ids, dtype=np.int64).tobytes()).hexdigest()
    return f"{model}|{generation}|{len(ids)}|{digest}"


def ef_search(k: int) -> int:
    """The HNSW candidate list for a top-k search."""
    return max(EF_SEARCH, EF_PER_K * k, k + 16)


def brute_force(matrix: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """The exact top k item ids by inner product (the reference the index is tested against)."""
    if not len(ids):
        return []
    sims = matrix @ np.asarray(query, dtype=np.float32)
    k = min(k, len(sims))
    kth = np.partition(sims, len(sims) - k)[len(sims) - k]  # the k-th largest similarity
    candidates = np.flatnonzero(sims >= kth)
    # equal similarities (the same text in several plans) in item id order, as pgvector's search
    top = candidates[np.lexsort((ids[candidates], -sims[candidates]))[:k]]
    return [int(ids[i]) for i in top]


@dataclass(frozen=True)
class AnnIndex:
    """HNSW over the DISTINCT vectors (a graph of many exact twins — the same clause in copies
    of a plan — traps the search: recall@100 fell to 0.2 at 1,000 near-copies); row r of the
    graph stands for the items ids[offsets[r]:offsets[r + 1]]. A row with no items is dead
    (left by `update`) and never returned."""

    key: str
    ids: np.ndarray  # every item id, grouped by distinct vector
    offsets: np.ndarray  # group boundaries, len = rows + 1
    index: object  # faiss.IndexHNSWFlat

    @property
    def dead(self) -> int:
        return int(np.count_nonzero(np.diff(self.offsets) == 0))

    def _live_selector(self) -> object | None:
        """A faiss selector of the live rows (None when every row is live), made once."""
        cached = self.__dict__.get("_selector", False)
        if cached is False:
            import faiss

            live = np.diff(self.offsets) > 0
            cached = None
            if not live.all():
                bitmap = np.packbits(live, bitorder="little")
                cached = (faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(bitmap)), bitmap)  # keeps bitmap alive
            object.__setattr__(self, "_selector", cached)
        return cached[0] if cached else None

    def search(self, query: np.ndarray, k: int) -> list[int]:
        import faiss

        rows = len(self.offsets) - 1 - self.dead
        want = min(k, rows)
        if want <= 0:
            return []
        params = faiss.SearchParametersHNSW(efSearch=ef_search(want))
        if (selector := self._live_selector()) is not None:
            params.sel = selector
        _, found = self.index.search(np.asarray(query, dtype=np.float32).reshape(1, -1), want, params=params)
        out: list[int] = []
        for r in found[0]:
            if r < 0:
                continue
            out.extend(int(i) for i in self.ids[self.offsets[r] : self.offsets[r + 1]])
            if len(out) >= k:
                break
        return out[:k]


def _grouped(key: str, ids: np.ndarray, group: np.ndarray, rows: int, index: object) -> AnnIndex:
    """The index whose graph row r stands for the items whose `group` is r."""
    order = np.argsort(group, kind="stable")
    offsets = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=rows))]).astype(np.int64)
    return AnnIndex(key, np.asarray(ids, dtype=np.int64)[order], offsets, index)


def build(key: str, ids: np.ndarray, matrix: np.ndarray) -> AnnIndex:
    import faiss

    first: dict[bytes, int] = {}
    group = np.array([first.setdefault(row.tobytes(), len(first)) for row in matrix], dtype=np.int64)
    distinct = np.zeros(len(first), dtype=np.int64)
    distinct[group[::-1]] = np.arange(len(group))[::-1]  # first row of each group
    index = faiss.IndexHNSWFlat(matrix.shape[1], M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.add(np.ascontiguousarray(matrix[distinct], dtype=np.float32))
    return _grouped(key, ids, group, len(first), index)


def update(previous: AnnIndex, key: str, ids: np.ndarray, matrix: np.ndarray) -> AnnIndex | None:
    """`previous` brought to these vectors without a rebuild: a copy of its graph with the new
    distinct vectors added; rows left without items are dead. None (rebuild) when the vector
    size differs or more than `MAX_DEAD` of the rows would be dead. `previous` is not changed:
    a state still searching it is unaffected."""
    import faiss

    old = previous.index
    if old.d != matrix.shape[1]:
        return None
    row_of = {row.tobytes(): r for r, row in enumerate(old.storage.reconstruct_n(0, old.ntotal))}
    known = len(row_of)
    group = np.array([row_of.setdefault(row.tobytes(), len(row_of)) for row in matrix], dtype=np.int64)
    rows = len(row_of)
    used = np.bincount(group, minlength=rows)
    if np.count_nonzero(used == 0) > MAX_DEAD * rows:
        return None
    index = faiss.clone_index(old)
    if rows > known:
        added = np.zeros(rows - known, dtype=np.int64)
        fresh = group >= known
        added[group[fresh][::-1] - known] = np.flatnonzero(fresh)[::-1]  # first item of each new row
        index.add(np.ascontiguousarray(matrix[added], dtype=np.float32))
    return _grouped(key, ids, group, rows, index)


def save(ann: AnnIndex, path: Path) -> None:
    """Write atomically: a reader sees the old file or the new one."""
    import faiss

    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, key=np.array(ann.key), ids=ann.ids, offsets=ann.offsets, index=faiss.serialize_index(ann.index))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path, key: str | None) -> AnnIndex | None:
    """The index in `path` if it was built for exactly `key` (any key: None); None when
    missing, stale or unreadable."""
    if not path.exists() or not available():
        return None
    import faiss

    try:
        with np.load(path, allow_pickle=False) as data:
            if key is not None and str(data["key"]) != key:
                return None
            key = str(data["key"])
            ids = data["ids"].astype(np.int64)
            offsets = data["offsets"].astype(np.int64)
            index = faiss.deserialize_index(data["index"])
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        log.warning("ANN index %s unreadable (%s): brute force", path, exc)
        return None
    return AnnIndex(key, ids, offsets, index)


class AnnSlot:
    """The index of one search state: set once, read as one attribute (None: brute force)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.index: AnnIndex | None = None
        self._thread: threading.Thread | None = None

    def wait(self, timeout: float | None = None) -> AnnIndex | None:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.index


def slot_for(db_path: Path, model: str, generation: int, ids: np.ndarray, matrix: np.ndarray,
             background: bool = True) -> AnnSlot | None:
    """The ANN slot of a state with these vectors: None below `MIN_VECTORS` or without faiss;
    a fresh file is loaded, else the index is built (in a thread) and written beside the DB."""
    if len(ids) < max(MIN_VECTORS, 1) or not available():
        return None
    key = make_key(model, generation, ids)
    slot = AnnSlot(key)
    path = index_path(db_path, model)
    slot.index = load(path, key)
    if slot.index is None:

        ref = weakref.ref(slot)

        def run() -> None:
            with _BUILD_LOCK:  # one build at a time; a state dropped meanwhile needs none
                if ref() is None:
                    return
                ann = load(path, key)  # another process may have written it meanwhile
                built = ann is None
                if built:
                    try:
                        ann = _updated_or_built(path, model, key, ids, matrix)
                    except RuntimeError as exc:
                        log.warning("ANN index not built (%s): brute force", exc)
                        return
                if (target := ref()) is not None:
                    target.index = ann
                if built:
                    try:
                        save(ann, path)
                    except OSError as exc:  # a read-only folder: the index lives in memory only
                        log.warning("ANN index not written to %s (%s)", path, exc)

        if background:
            slot._thread = threading.Thread(target=run, name="ann-build", daemon=True)
            slot._thread.start()
        else:
            run()
    return slot


def _updated_or_built(path: Path, model: str, key: str, ids: np.ndarray, matrix: np.ndarray) -> AnnIndex:
    """The previous file's index (same model) updated to these vectors, else a new build."""
    previous = load(path, None)
    if (previous is not None and previous.key.split("|", 1)[0] == model
            and previous.index.hnsw.nb_neighbors(1) == M and previous.index.hnsw.efConstruction == EF_CONSTRUCTION):
        started = time.perf_counter()
        ann = update(previous, key, ids, matrix)
        if ann is not None:
            log.info("ANN index updated: %d rows (%d added, %d dead) in %.2f s", len(ann.offsets) - 1,
                     len(ann.offsets) - len(previous.offsets), ann.dead, time.perf_counter() - started)
            return ann
    return build(key, ids, matrix)


def refresh(store, model: str) -> AnnSlot | None:
    """After indexing: bring `<db>.<model>.hnsw` up to date with the committed vectors (SQLite
    only: PostgreSQL keeps its own index)."""
    if not available() or store.engine != "sqlite":
        return None
    with store.reading():
        count = store.db.execute(
            "SELECT count(*) FROM items i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ?", [model]
        ).fetchone()[0]
        if count < max(MIN_VECTORS, 1):
            return None
        generation = store.data_version()
        ids, matrix = store.vectors(model)
    return slot_for(store.path, model, generation, ids, matrix, background=False)
