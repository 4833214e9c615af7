"""The plan a question means, behind `KnowledgeBase`: named by the question (number, title words
and abbreviations, province, year, kind: `knowledge.questions.plan_resolver`), else the plan the chat is
talking about (pinned with /kehoach, or the plan of its last answer). Plan profiles are read once
per index generation, and each plan's own text only when it is new or changed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from answering import ann
from answering.paths import coverage
from answering.snapshot import consistent
from knowledge.orgs.agencies import QueryMatch
from knowledge.questions import intent as intents
from knowledge.questions.answer import Answer, PlanRef, Result
from knowledge.questions.plan_catalog import Catalog, PlanMeta, profile
from knowledge.questions.plan_resolver import ChatPlan, Resolved, read, resolve
from store.writes import lexical_terms

HEAD = 12_000  # characters of a plan's text read for its own number and abbreviations
MAX_OPTIONS = 8  # plans offered as buttons under an answer drawn from several plans


@dataclass(frozen=True)
class Focus:
    """The plans an answer keeps to (empty: none) and how much their items are boosted; a plan
    named by its number is certain (`strong`), one named by title words or province is likely.
    `only`: results from these plans alone (named by number, or the chat's plan); `missing`: a
    plan the question names that is not indexed ("Kế hoạch 141/KH-UBND")."""

    plans: frozenset[int]
    boost: float
    only: bool = False
    missing: str = ""
    leaning: frozenset[int] = frozenset()  # the plans its title words point at most (not named)

    @property
    def strong(self) -> bool:
        return self.boost >= 2.0

    @property
    def named(self) -> bool:
        """Named by number or title (not only by province)."""
        return self.boost >= 1.6


NO_FOCUS = Focus(frozenset(), 1.0)


class FocusMixin:
    """`KnowledgeBase`'s plan focus (needs its `store`, `plan_refs`, snapshots and `duties`)."""

    # -- the plans' profiles ----------------------------------------------------------------
    def catalog(self) -> Catalog:
        """Every plan's profile, indexed (cached per index generation; a plan's text is read
        again only when its content changed)."""
        version = self._snapshots.current.version
        cached = self._profile_cache
        if cached is not None and cached[0] == version:
            return cached[1]
        hashes = dict(self.store.db.execute("SELECT id, content_hash FROM plans").fetchall())
        known = self._plan_meta
        new = [pid for pid in self.plan_refs if (pid, hashes.get(pid)) not in known]
        heads: dict[int, str] = {}
        for start in range(0, len(new), 500):
            chunk = new[start : start + 500]
            sql = f"SELECT id, substr(text, 1, {HEAD}) FROM plans WHERE id IN ({','.join('?' * len(chunk))})"
            heads.update((r[0], r[1] or "") for r in self.store.db.execute(sql, chunk))
        metas: dict[tuple[int, str | None], PlanMeta] = {}
        for pid, ref in self.plan_refs.items():
            key = (pid, hashes.get(pid))
            meta = known.get(key)
            if meta is None:
                meta = profile(pid, ref.title, ref.number, ref.issuer, ref.year, heads.get(pid, ""))
            metas[key] = meta
        self._plan_meta = metas
        catalog = Catalog(metas.values())
        self._profile_cache = (version, catalog)
        return catalog

    # -- the plan a question means ------------------------------------------------------------
    def _known_word(self, word: str) -> bool:
        return self.frequencies([word]).get(word, 0) > 0

    @consistent
    def resolve_plans(
        self, text: str, matches: list[QueryMatch] | None = None, whole: bool = False
    ) -> Resolved:
        """The plans `text` names (`whole`: the text is a plan's name only, as after /kehoach)."""
        catalog = self.catalog()
        asked = read(text, catalog, [m.matched for m in matches or []], whole=whole)
        return resolve(asked, catalog, self._known_word)

    @consistent
    def plan_focus(
        self, question: str, matches: list[QueryMatch] | None = None, chat: ChatPlan | None = None
    ) -> Focus:
        """The plans a question keeps to: those it names (by number: only them; by title words
        or province: first), else the chat's plan (pinned, or its last answer's), else none."""
        found = self.resolve_plans(question, matches)
        if found.missing:
            return Focus(frozenset(), 1.0, missing=found.missing)
        if found.how == "number":
            return Focus(found.plans, 2.0, only=True)
        if found.how == "title" or (found.how == "cited" and found.implementing):
            # "… kế hoạch thực hiện Nghị quyết 57": the plans implementing it
            return Focus(found.plans, 1.6)
        if chat is not None and chat.plan_id in self.plan_refs:
            catalog = self.catalog()
            if (
                found.how != "province"
                or chat.plan_id in found.plans
                or catalog.plans[chat.plan_id].province is None
            ):
                return Focus(catalog.copies([chat.plan_id]), 2.0, only=True)
        if found.how == "province":
            return Focus(found.plans, 1.3, leaning=found.leaning)
        return Focus(frozenset(), 1.0, leaning=found.leaning) if found.leaning else NO_FOCUS

    @consistent
    def ask_in_chat(
        self, question: str, limit: int = 10, today=None, chat: ChatPlan | None = None
    ) -> Answer:
        """`ask` in a chat: a question that names no plan keeps to the chat's plan (pinned, or
        "kế hoạch này" after an answer); a follow-up that names none is answered from the last
        answer's plan when that plan answers it as well as all plans do, else from all plans."""
        if chat is None or chat.plan_id not in self.plan_refs:
            return self.ask(question, limit=limit, today=today)
        kept = self.ask(question, limit=limit, today=today, chat=chat)
        if chat.pinned or self.resolve_plans(question).back:
            return kept
        anywhere = self.ask(question, limit=limit, today=today)
        if not kept.answered or not kept.shown_results:
            return anywhere
        if not anywhere.answered or not anywhere.shown_results:
            return kept
        own, best = kept.shown_results[0], anywhere.shown_results[0]
        if own.plan.id in self.catalog().copies([best.plan.id]):
            return kept
        return (
            kept
            if coverage(self, question, own) >= coverage(self, question, best) - 0.05
            else anywhere
        )

    def plan_options(self, answer: Answer, focus: Focus) -> Answer:
        """An answer listed from several plans, with no plan named: the plans to pick one from,
        the first-listed first (copies of one document count once)."""
        if focus.plans or not answer.answered:
            return answer
        catalog = self.catalog()
        seen: dict[str, PlanRef] = {}
        for r in answer.shown_results:
            meta = catalog.plans.get(r.plan.id)
            seen.setdefault(meta.doc if meta else str(r.plan.id), r.plan)
        if len(seen) > 1:
            answer.plan_options = list(seen.values())[:MAX_OPTIONS]
        return answer

    def plan_of_answer(self, answer: Answer) -> int | None:
        """The plan an answer is about (the chat's "kế hoạch này" next): the first result's for
        one fact (who leads, a deadline, a passage); for a list, the one document it lists from
        (none when it lists several: the user is offered to pick one)."""
        shown = answer.shown_results
        if not answer.answered or not shown:
            return None
        if answer.intent in (intents.SEARCH, intents.WHO_LEADS, intents.DEADLINE):
            return shown[0].plan.id
        catalog = self.catalog()
        docs = {
            catalog.plans[r.plan.id].doc if r.plan.id in catalog.plans else r.plan.id for r in shown
        }
        return shown[0].plan.id if len(docs) == 1 else None

    # -- results kept to some plans --------------------------------------------------------------
    def lexical_within(
        self, terms: list[str], plans: frozenset[int], limit: int = 100
    ) -> list[int]:
        """BM25 over the items of these plans only."""
        return [i for i, _ in self.store.lexical(terms, limit, plans)] if plans else []

    def dense_within(self, query: np.ndarray, plans: frozenset[int], k: int = 100) -> list[int]:
        """The k items of these plans nearest the query (exact, over their vectors only)."""
        state = self._snapshots.current
        if not plans or not len(state.vec_ids):
            return []
        sql = f"SELECT id FROM items WHERE plan_id IN ({','.join('?' * len(plans))})"
        ids = np.fromiter((r[0] for r in self.store.db.execute(sql, sorted(plans))), dtype=np.int64)
        rows = np.flatnonzero(np.isin(state.vec_ids, ids))
        return ann.brute_force(state.matrix[rows], state.vec_ids[rows], query, k)

    # -- helpers of the answering paths -------------------------------------------------------
    def count_in_plans(self, ids: set[int], plans: frozenset[int]) -> int:
        """How many of these items belong to these plans."""
        if not ids or not plans:
            return 0
        sql = (
            f"SELECT count(*) FROM items WHERE id IN ({','.join('?' * len(ids))}) "
            f"AND plan_id IN ({','.join('?' * len(plans))})"
        )
        return int(self.store.db.execute(sql, [*sorted(ids), *sorted(plans)]).fetchone()[0])

    def title_terms(self, plans: frozenset[int]) -> frozenset[str]:
        """The lexical terms of these plans' titles."""
        terms: set[str] = set()
        for pid in plans:
            ref = self.plan_refs.get(pid)
            if ref is not None:
                terms.update(lexical_terms(ref.title))
        return frozenset(terms)

    def plan_hint(self, question: str, matches: list[QueryMatch] | None = None) -> int | None:
        """One plan the question clearly names (the lowest id among copies), else None."""
        focus = self.plan_focus(question, matches)
        return min(focus.plans) if focus.plans and focus.boost >= 1.6 else None

    def plan_of_file(self, file: str) -> int | None:
        """The id of the plan indexed under this file name, if any."""
        return next((pid for pid, ref in self.plan_refs.items() if ref.file == file), None)

    @consistent
    def duties_in(self, agency: str, provinces: list[str] | None = None) -> list[Result]:
        """An agency's duties, in the plans of the provinces named (all plans when none match)."""
        results = self.duties(agency)
        if provinces:
            catalog = self.catalog()
            local = [r for r in results if catalog.plans[r.plan.id].province in provinces]
            results = local or results
        return results
