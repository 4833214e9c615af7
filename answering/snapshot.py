"""One consistent view of the index per answer.

Two things can change under a question while it is being answered: the in-memory search state
(agency registry, plan references, the embedding matrix and its item ids) and the rows in
SQLite. Both are pinned here:

- `SearchState` is immutable and built off to the side, then swapped in with one assignment:
  a reader never sees a half-filled state, nor ids from one moment and vectors from another.
- `Snapshots.pinned()` opens one read transaction on the thread's connection (WAL: every SELECT
  inside sees the same commit) and hands out the state built from that very commit; everything
  an answer reads goes through both. Nested calls reuse the pin.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from answering import ann
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.questions.answer import PlanRef

if TYPE_CHECKING:
    from store.database import Store


@dataclass(frozen=True)
class SearchState:
    """Everything `KnowledgeBase` caches about one generation of the index."""

    version: int  # index_state.generation it was read at
    registry: AgencyRegistry
    plan_refs: Mapping[int, PlanRef]
    plan_terms: Mapping[int, frozenset[str]]
    vec_ids: np.ndarray  # item ids of the rows of `matrix` (read-only)
    matrix: np.ndarray  # one embedding per row (read-only)
    item_count: int
    ann: ann.AnnSlot | None = field(default=None, compare=False)  # HNSW over exactly these vectors
    df: dict[str, int] = field(default_factory=dict, compare=False)  # document frequencies met so far


def build_state(store: Store, model: str | None, lexical_terms: Callable[[str], list[str]]) -> SearchState:
    """Read one generation of the index (call inside `store.reading()`)."""
    version = store.data_version()
    refs = {
        pid: PlanRef(r["id"], r["title"] or "", r["number"] or "", r["issuer"] or "", r["date"], r["file"], r["year"])
        for pid, r in store.plan_refs().items()
    }
    terms = {pid: frozenset(lexical_terms(f"{p.title} {p.number} {p.issuer}")) for pid, p in refs.items()}
    vec_ids = np.zeros(0, dtype=np.int64)
    matrix = np.zeros((0, 0), dtype=np.float32)
    if model is not None:
        vec_ids, matrix = store.vectors(model)
    vec_ids.setflags(write=False)
    matrix.setflags(write=False)
    # faiss beside a SQLite file; PostgreSQL searches its own HNSW index (`Store.nearest`)
    slot = ann.slot_for(store.path, model, version, vec_ids, matrix) if model is not None and store.engine == "sqlite" else None
    state = SearchState(
        version=version,
        registry=store.registry(),
        plan_refs=MappingProxyType(refs),
        plan_terms=MappingProxyType(terms),
        vec_ids=vec_ids,
        matrix=matrix,
        item_count=store.item_count(),
        ann=slot,
    )
    return state


class Snapshots:
    """The current `SearchState` (one attribute, swapped whole) and per-thread pins."""

    def __init__(self, store: Store, build: Callable[[], SearchState]) -> None:
        self.store = store
        self._build = build
        self._state: SearchState | None = None
        self._swap_lock = threading.Lock()
        self._build_lock = threading.Lock()  # one thread builds a new generation, others wait
        self._local = threading.local()

    @property
    def current(self) -> SearchState:
        """The state pinned by this thread's answer, else the latest one."""
        pinned = getattr(self._local, "state", None)
        if pinned is not None:
            return pinned
        state = self._state
        if state is None:
            return self.reload()
        return state

    def _swap(self, state: SearchState) -> SearchState:
        with self._swap_lock:
            if self._state is None or state.version >= self._state.version:
                self._state = state
        return state

    def reload(self) -> SearchState:
        """Build a new state from the committed index and swap it in."""
        with self.store.reading():
            return self._swap(self._build())

    @contextmanager
    def pinned(self) -> Iterator[SearchState]:
        """One read transaction and the state of the same generation, for one answer."""
        held = getattr(self._local, "state", None)
        if held is not None:
            yield held
            return
        with ExitStack() as stack:
            state = None
            for attempt in range(3):
                stack.enter_context(self.store.reading())
                version = self.store.data_version()  # the transaction's snapshot starts here
                latest = self._state
                if latest is not None and latest.version == version:
                    state = latest
                    break
                if latest is None or version > latest.version:
                    with self._build_lock:
                        latest = self._state
                        if latest is not None and latest.version == version:
                            state = latest  # built meanwhile by another thread
                        else:
                            state = self._swap(self._build())
                    break
                # Our transaction began before a commit another thread already loaded: start over.
                if attempt < 2:
                    stack.close()
            if state is None:  # an enclosing transaction keeps us in the past: a private state
                state = self._build()
            self._local.state = state
            try:
                yield state
            finally:
                self._local.state = None


def consistent(method: Callable) -> Callable:
    """Run a `KnowledgeBase` read in one pinned snapshot (its `_snapshots`)."""

    @functools.wraps(method)
    def pinned(self, *args, **kwargs):
        with self._snapshots.pinned():
            return method(self, *args, **kwargs)

    return pinned
