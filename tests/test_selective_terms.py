"""FTS5 queries keep only the most selective terms (issue 11): common words cost time, not precision."""

from __future__ import annotations

from pathlib import Path

from answering.knowledge_base import KnowledgeBase
from answering.ranking import query_terms
from indexer.indexing import index_paths
from store.database import Store

SAMPLES = Path(__file__).resolve().parent.parent / "sample_plans"


def test_lexical_query_keeps_rare_terms_only(tmp_path):
    store = Store(tmp_path / "kb.db")
    index_paths(store, [SAMPLES])
    kb = KnowledgeBase(store, None, mode="lexical")
    question = "Sở Y tế chủ trì tổ chức thực hiện kế hoạch tiêm chủng vắc xin sởi cho trẻ em trong tỉnh như thế nào"
    terms = query_terms(question)
    chosen = kb.selective_terms(terms)
    df = kb.frequencies(terms)
    ceiling = max(0.05 * kb._item_count, 50)
    assert 0 < len(chosen) <= 16 < len(set(terms))
    assert all(df[t] <= ceiling for t in chosen)
    assert [df[t] for t in chosen] == sorted(df[t] for t in chosen)  # rarest first
    common = [t for t in terms if df[t] > ceiling]
    assert common and not set(common) & set(chosen)  # e.g. "thuc_hien" is in most items
    # only common words: the three rarest of them are searched, not nothing
    assert len(kb.selective_terms(common)) == min(3, len(set(common)))
    top = [i for i, _ in store.lexical(chosen, limit=5)]
    assert top, "the selective terms still find items"
