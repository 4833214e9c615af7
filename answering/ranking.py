"""Free-text ranking behind `KnowledgeBase`: BM25 over the rarest query terms (SQLite FTS5)
fused by reciprocal rank with the e5 vectors (HNSW or brute force), the head re-ranked by how
many of the question's word pairs an item holds."""

from __future__ import annotations

import numpy as np

from answering import ann
from answering.snapshot import consistent
from encoders.lazy_model import resolve
from knowledge.questions import intent as intents
from store.writes import lexical_terms

LONG_BODY = 600  # lexical tokens (syllables + pairs) of a long paragraph


class RankingMixin:
    """`KnowledgeBase`'s ranking (needs its `store`, `embedder`, `mode` and snapshots)."""

    def selective_terms(self, terms: list[str], cap: int = 16) -> list[str]:
        """Drop terms found in most items (they cost time, not precision); keep the rarest."""
        unknown = [t for t in dict.fromkeys(terms) if t not in self._df]
        if unknown:
            self._df.update(self.store.document_frequencies(unknown))
        present = [t for t in dict.fromkeys(terms) if self._df.get(t, 0) > 0]
        ceiling = max(0.05 * self._item_count, 50)
        chosen = [t for t in present if self._df[t] <= ceiling]
        if not chosen:
            chosen = sorted(present, key=lambda t: self._df[t])[:3]
        return sorted(chosen, key=lambda t: self._df[t])[:cap]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many items contain each folded word (cached per index generation)."""
        unknown = [t for t in dict.fromkeys(terms) if t not in self._df]
        if unknown:
            self._df.update(self.store.document_frequencies(unknown))
        return {t: self._df.get(t, 0) for t in terms}

    # -- ranking ----------------------------------------------------------------------------
    def dense_ids(self, query: np.ndarray, k: int, exact: bool = False) -> list[int]:
        """The k items nearest the query: by the state's HNSW index when it has one (large
        indexes), else (or `exact`) by brute-force cosine over every vector; on PostgreSQL by
        pgvector's HNSW index in the database."""
        if not exact and self.store.engine == "postgresql" and self.embedder is not None:
            return self.store.nearest(self.embedder.name, query, k)
        state = self._snapshots.current
        index = state.ann.index if state.ann is not None and not exact else None
        if index is not None:
            return index.search(query, k)
        return ann.brute_force(state.matrix, state.vec_ids, query, k)

    @consistent
    def rank(
        self,
        question: str,
        use_dense: bool = True,
        limit: int = 50,
        drop: frozenset[str] = frozenset(),
        plans: frozenset[int] | None = None,
    ) -> list[tuple[int, float]]:
        """Hybrid ranking of all items for a free-text question: (item id, fused score). `drop`:
        words that only name the plan (its title words): they tell which plan, not which item.
        `plans`: rank the items of these plans only (`answering.focus`)."""
        terms = query_terms(question)
        kept = [t for t in terms if t not in drop]
        if len({t for t in kept if "_" not in t}) >= 2:
            terms = kept
        lists: list[list[int]] = []
        if self.mode in ("hybrid", "lexical"):
            chosen = self.selective_terms(terms)
            lists.append(self.lexical_within(chosen, plans) if plans else [i for i, _ in self.store.lexical(chosen, limit=100)])
        query = None
        if self.mode in ("hybrid", "dense") and use_dense and self.embedder is not None and len(self.vec_ids):
            query = self._encode(question)  # the model is loaded here, on the first dense question
        if query is not None:
            lists.append(self.dense_within(query, plans) if plans else self.dense_ids(query, 100))
        fused: dict[int, float] = {}
        for ranked in lists:
            for rank, item_id in enumerate(ranked):
                fused[item_id] = fused.get(item_id, 0.0) + 1.0 / (60 + rank)
        ranked_all = sorted(fused.items(), key=lambda kv: -kv[1])
        # Re-rank the head by how many of the question's word pairs the item contains:
        # extractive lookups ("Dự án mở rộng Bệnh viện Sản Nhi") name the row almost verbatim.
        head = ranked_all[:40]
        bigrams = {t for t in terms if "_" in t} or set(terms)
        if head and bigrams and self.mode != "dense":
            bodies = self.store.lexical_bodies([i for i, _ in head])
            top = head[0][1]
            rescored = []
            for item_id, score in head:
                tokens = bodies.get(item_id, "").split()
                overlap = len(bigrams & set(tokens)) / len(bigrams)
                # A body far longer than a paragraph (a whole page run together) holds every
                # pair of words somewhere: its overlap says little about any one answer.
                overlap *= min(1.0, (LONG_BODY / max(len(tokens), 1)) ** 0.5)
                rescored.append((item_id, 0.5 * score / top + 0.5 * overlap))
            head = sorted(rescored, key=lambda kv: -kv[1])
            ranked_all = head + [(i, s * 0.5 / top) for i, s in ranked_all[40:]]
        return ranked_all[:limit]

    def _encode(self, question: str) -> np.ndarray | None:
        """The question's embedding (None: the model cannot be loaded, answer lexically); one
        answer may rank several times with the same question."""
        cache = self._query_cache
        vector = cache.get(question)
        if vector is None:
            model = resolve(self.embedder)  # a lazy model loads once, whichever thread asks first
            if model is None:
                return None
            vector = np.asarray(model.encode_queries([question])[0], dtype=np.float32)
            if len(cache) >= 256:
                cache.clear()
            cache[question] = vector
        return vector


# Words that frame a question rather than name its subject ("ai chủ trì", "phối hợp", "xong").
FRAME = frozenset({"chu", "tri", "phoi", "hop", "xong", "lo", "nao"})


def query_terms(question: str) -> list[str]:
    terms = []
    for t in lexical_terms(question):
        parts = t.split("_")
        if all(p in intents.STOPWORDS or p in FRAME for p in parts):
            continue
        terms.append(t)
    return terms
