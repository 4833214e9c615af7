"""The plan a question names, behind `KnowledgeBase`: by its number ("KH 179"), by the words
of its title, or by the province ("ở Cần Thơ"); per-plan profiles are cached per index
generation."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from indexer.snapshot import consistent
from indexer.store import lexical_terms
from knowledge import names
from knowledge.agencies import QueryMatch
from knowledge.answer import Result
from knowledge.text import fold

_TITLE_STOP = {"ke_hoach", "thuc_hien", "trien_khai", "ve_viec", "tiep_tuc", "nang_cao", "tinh_hinh", "hinh_moi"}


class FocusMixin:
    """`KnowledgeBase`'s plan focus (needs its `store`, `plan_refs`, snapshots and `duties`)."""

    # -- the plan a question names ----------------------------------------------------------
    def _profiles(self) -> dict[int, PlanProfile]:
        """Per plan: number(s), province and title words (cached per index generation)."""
        version = self._snapshots.current.version
        cached = self._profile_cache
        if cached is not None and cached[0] == version:
            return cached[1]
        heads = {r[0]: r[1] or "" for r in self.store.db.execute("SELECT id, substr(text, 1, 2500) FROM plans")}
        profiles = {}
        for pid, ref in self.plan_refs.items():
            head = heads.get(pid, "")
            numbers = {n.lstrip("0") for n in re.findall(r"^\s*(\d{1,5})\s*/", ref.number or "")}
            own = re.search(r"\bs[oố]\s*:\s*(\d{1,5})\s*/", head[:1500], flags=re.I)  # "Số: 179/KH-UBND"
            numbers |= {own.group(1).lstrip("0")} if own else set()
            terms = frozenset(t for t in lexical_terms(f"{ref.title} {head[:800]}") if "_" in t and t not in _TITLE_STOP)
            province = names.plan_province(f"{ref.issuer} {ref.title} {head}")
            profiles[pid] = PlanProfile(frozenset(numbers), province, terms)
        self._profile_cache = (version, profiles)
        return profiles

    @consistent
    def plan_focus(self, question: str, matches: list[QueryMatch] | None = None) -> Focus:
        """The plans a question names: by number ("KH 179", "Quyết định 2665"), else by the
        words of its title, within the province it names ("ở Cần Thơ", "Sở Y tế Bắc Ninh")."""
        profiles = self._profiles()
        if len(profiles) < 2:
            return Focus(frozenset(), 1.0)
        folded = fold(question)
        numbers = {(m.group(1) or m.group(2)).lstrip("0") for m in _PLAN_NUMBER.finditer(folded)}
        provinces = set(names.find_provinces(question))
        in_province = {pid for pid, p in profiles.items() if p.province in provinces}
        by_number = {pid for pid, p in profiles.items() if numbers & p.numbers}
        if by_number:
            return Focus(frozenset(by_number & in_province or by_number), 2.0)
        # Title words count only where the question names a plan: after "kế hoạch", "đề án", …
        named = " ".join(" ".join(m.group(0).split()[:14]) for m in _NAMED_PLAN.finditer(folded))
        for m in matches or []:
            named = named.replace(m.matched, " ")
        for p in provinces:
            named = named.replace(fold(p), " ")
        pool = in_province or set(profiles)
        q = {t for t in lexical_terms(named) if "_" in t and t not in _TITLE_STOP}
        df: dict[str, int] = {}
        for p in profiles.values():
            for t in q & p.terms:
                df[t] = df.get(t, 0) + 1
        n = len(profiles)
        score = {pid: sum(math.log(n / df[t]) for t in q & profiles[pid].terms) for pid in pool}
        top = max(score.values(), default=0.0)
        if top >= 1.5 * math.log(n):
            chosen = {pid for pid, s in score.items() if s >= 0.8 * top}
            rest = max((s for pid, s in score.items() if pid not in chosen), default=0.0)
            documents = {profiles[pid].numbers or pid for pid in chosen}  # copies of one plan count once
            if len(documents) <= max(3, n // 10) and top >= 1.5 * rest:
                return Focus(frozenset(chosen), 1.6)
        if in_province and len(in_province) < n:
            return Focus(frozenset(in_province), 1.3)
        return Focus(frozenset(), 1.0)

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

    @consistent
    def duties_in(self, agency: str, provinces: list[str] | None = None) -> list[Result]:
        """An agency's duties, in the plans of the provinces named (all plans when none match)."""
        results = self.duties(agency)
        if provinces:
            profiles = self._profiles()
            local = [r for r in results if profiles[r.plan.id].province in provinces]
            results = local or results
        return results


@dataclass(frozen=True)
class Focus:
    """The plans a question names (empty: none) and how much their items are boosted; a plan
    named by its number is certain (`strong`), one named by title words or province is likely."""

    plans: frozenset[int]
    boost: float

    @property
    def strong(self) -> bool:
        return self.boost >= 2.0

    @property
    def named(self) -> bool:
        """Named by number or title (not only by province)."""
        return self.boost >= 1.6


@dataclass(frozen=True)
class PlanProfile:
    numbers: frozenset[str]
    province: str | None
    terms: frozenset[str]


_NAMED_PLAN = re.compile(
    r"\b(?:ke hoach|kh|chuong trinh|de an|quyet dinh|nghi quyet|phuong an|chien luoc)\b([^?!.;:]*)"
)


# "Kế hoạch 179", "KH 179/KH-UBND", "Quyết định số 2665", "179/KH-UBND": a plan's number.
_PLAN_NUMBER = re.compile(
    r"\b(?:ke hoach|kh|quyet dinh|qd|nghi quyet|nq|chi thi|ct|cong van|de an|thong tu|van ban|so)\s*(?:so\s*)?:?\s*"
    r"(\d{2,5})\b(?!\s*/\s*\d)|\b(\d{2,5})\s*/\s*(?:kh|qd|nq|ct|tt|bc|ubnd)\b"
)
