"""Answering: structured lookups first (agency, period, reporting rules), then hybrid ranking.

Hybrid = BM25 over diacritics-folded syllables + bigrams (SQLite FTS5) fused by reciprocal
rank with e5 embeddings (cosine over float32 vectors). Questions typed without diacritics go
lexical-only: the folded index handles them, the embedding model does not.

`KnowledgeBase` is assembled from its concerns: `answering.lookups` (structured SQL lookups and
results), `answering.ranking` (BM25 + vectors), `answering.focus` (the plan a question names)
and, for the paths from a question to an answer, `answering.paths` (with `answering.duties`
and `answering.dated`). Their public names are re-exported here.
"""

from __future__ import annotations

import logging
import re
from datetime import date

import numpy as np

from answering import dated, duties, paths
from answering.focus import FocusMixin
from answering.lineage import lineage_answer
from answering.lookups import LookupsMixin
from answering.ranking import RankingMixin
from answering.snapshot import SearchState, Snapshots, build_state, consistent
from knowledge.orgs import names
from knowledge.orgs.agencies import QueryMatch
from knowledge.questions import intent as intents
from knowledge.questions.answer import Answer
from knowledge.questions.plan_catalog import Catalog, PlanMeta
from knowledge.questions.plan_resolver import ChatPlan
from knowledge.text import clean_spaces, fold, nfc, squash, words
from store.database import Store
from store.writes import lexical_terms

log = logging.getLogger(__name__)


MAX_QUESTION = 500


MAX_LISTED = 40  # items an answer's text lists; `results` keeps all of them


_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$"
)


def polite(question: str, text: str, intent: str = "invalid") -> Answer:
    return Answer(question=question, intent=intent, agency=None, answered=False, answer=text)


class KnowledgeBase(LookupsMixin, RankingMixin, FocusMixin):
    """The library behind `planbot ask`, the bot and the reminders. `embedder`: a model, a
    `LazyEmbedder` (loaded on the first question that needs it) or None (lexical only)."""

    def __init__(self, store: Store, embedder=None, mode: str = "hybrid") -> None:
        self.store = store
        self.embedder = embedder
        self.mode = mode  # "hybrid" | "lexical" | "dense"
        self._snapshots = Snapshots(store, self._build_state)
        self._profile_cache: tuple[int, Catalog] | None = None
        self._plan_meta: dict[tuple[int, str | None], PlanMeta] = {}
        self._agency_cache: tuple[int, list[str]] | None = None
        self._query_cache: dict[str, np.ndarray] = {}
        self.reload()

    # -- caches: one immutable SearchState, swapped whole; each answer pins one (answering.snapshot)
    def reload(self) -> None:
        self._snapshots.reload()

    def _build_state(self) -> SearchState:
        model = self.embedder.name if self.embedder is not None and self.mode != "lexical" else None
        return build_state(self.store, model, lexical_terms)

    registry = property(lambda self: self._snapshots.current.registry)
    plan_refs = property(lambda self: self._snapshots.current.plan_refs)
    vec_ids = property(lambda self: self._snapshots.current.vec_ids)
    matrix = property(lambda self: self._snapshots.current.matrix)
    _plan_terms = property(lambda self: self._snapshots.current.plan_terms)
    _item_count = property(lambda self: self._snapshots.current.item_count)
    _df = property(lambda self: self._snapshots.current.df)

    @consistent
    def plans(self) -> list[dict]:
        return self.store.plans()

    # -- agencies -----------------------------------------------------------------
    @consistent
    def resolve_agency(self, text: str) -> list[QueryMatch]:
        return self.registry.match_query(text)

    @consistent
    def agency_choices(self, text: str) -> tuple[list[str], bool]:
        """(agency names, certain) for a name typed by a user: one name when it is clear; the
        levels when "UBND" or "BHXH" comes alone; the close names for a typo; none when unknown."""
        bare = names.bare_level_head(text)
        levels = names.level_options(bare, self.duty_agencies()) if bare else []
        if levels:
            return levels[:6], len(levels) == 1
        matches = names.plausible(text, self.registry.match_query(text))
        if not matches:
            return [], False
        if len(matches) > 1 and matches[0].score < 100:
            return [m.name for m in matches], False
        return [matches[0].name], True

    # -- helpers for the answering paths ----------------------------------------------------
    def mentioned(self, agency: str) -> bool:
        """Some item of the loaded plans names this agency (province words aside)."""
        key = squash(names.without_province(agency))
        hits = self._results(self.rank(agency, use_dense=False, limit=10))
        return any(key in squash(" ".join([r.text, *r.lead, *r.support, *r.recipients])) for r in hits)

    def duty_agencies(self) -> list[str]:
        """Every agency that has an assignment in the loaded plans."""
        version = self._snapshots.current.version
        cached = self._agency_cache
        if cached is None or cached[0] != version:
            rows = self.store.db.execute("SELECT agency FROM assignments GROUP BY agency ORDER BY min(rowid)").fetchall()
            cached = (version, [r[0] for r in rows])
            self._agency_cache = cached
        return cached[1]

    # -- answering --------------------------------------------------------------------------
    @consistent
    def ask(self, question: str, limit: int = 10, today: date | None = None, chat: ChatPlan | None = None) -> Answer:
        """The answer to a question; `chat`: the plan the chat is talking about (`ask_in_chat`)."""
        raw = nfc(question or "")
        q = clean_spaces(raw)
        if not q:
            return polite(raw, "Bạn chưa nhập câu hỏi. Ví dụ: “Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?”")
        if len(q) > MAX_QUESTION * 4:
            return polite(raw, "Câu hỏi quá dài. Xin hỏi ngắn gọn (dưới 500 ký tự), ví dụ: “Ai chủ trì việc …?”")
        tokens = words(q)
        alpha = [t for t in tokens if t.isalpha()]
        if not alpha:
            return polite(raw, "Tôi chưa hiểu câu hỏi. Xin hỏi bằng chữ, ví dụ: “Nhiệm vụ nào phải xong trước 01/7/2025?”")
        if (lineage := lineage_answer(self.store, q)) is not None:  # "Kế hoạch nào thực hiện Chỉ thị 25-CT/TW?"
            return lineage
        # "Văn phòng UBND thành phố" → "… Ủy ban nhân dân …"; "Kế hoạch 179/KH-UBND" names no UBND
        spelled = names.expand_abbreviations(names.without_document_numbers(q))
        found = self.registry.match_query(spelled)
        matches = names.plausible(spelled, found)
        if not matches and found:  # "Bộ TT&TT" where the alias is known at another level
            matches = names.relevel(spelled, found, self.duty_agencies())
        if not matches and intents.DUTY_WORDS.search(fold(q)) and not names.named_agency(q):
            matches = names.headless(spelled, self.duty_agencies())  # "Thông tin và Truyền thong"
        vietnamese = sum(1 for t in alpha if _SYLLABLE.match(t) or self.registry.entry(t))
        if vietnamese / len(alpha) < 0.6 and not matches:
            return polite(raw, "Xin lỗi, tôi chỉ trả lời câu hỏi bằng tiếng Việt về các kế hoạch đã nạp.")
        candidates = [m.name for m in matches] if len(matches) > 1 and matches[0].score < 100 else []
        bare = names.bare_level_head(q)
        if bare:  # "UBND", "BHXH" without a level: offer the levels, do not pick one
            levels = names.level_options(bare, self.duty_agencies())
            matches = [m for m in matches if m.name not in levels and not names.level_options(bare, [m.name])]
            candidates = levels[:6]
        agency = matches[0].name if matches else None
        intent = intents.detect(q, agency is not None, today)
        focus = self.plan_focus(q, matches, chat)
        if focus.missing:  # "Kế hoạch 141/KH-UBND …" and no such plan is indexed
            return paths.missing_plan(self, q, intent, focus)
        named = names.named_agency(q) if agency is None and not bare else None
        if named and intents.DUTY_WORDS.search(fold(q)) and not self.mentioned(named):
            # "Sở Du lịch phải làm gì?": no such agency anywhere in the plans
            related = paths.search_hits(self, q, intent, focus, None)
            return paths.decline(q, intents.DUTIES, None, paths.UNKNOWN_AGENCY, related)
        if intent.name == intents.DUTIES and agency:
            return self.plan_options(duties.answer_duties(self, q, agency, intent, focus, candidates), focus)
        if intent.name == intents.DUE and intent.period:
            return self.plan_options(dated.answer_due(self, q, intent, agency, focus, limit), focus)
        if intent.name == intents.REPORTING:
            answer = dated.answer_reporting(self, q, intent, matches, focus, limit)
            if answer:
                return answer
        return paths.answer_search(self, q, intent, agency, focus, limit, candidates)
