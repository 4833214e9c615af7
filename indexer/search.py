"""Answering: structured lookups first (agency, period, reporting rules), then hybrid ranking.

Hybrid = BM25 over diacritics-folded syllables + bigrams (SQLite FTS5) fused by reciprocal
rank with e5 embeddings (cosine over float32 vectors). Questions typed without diacritics go
lexical-only: the folded index handles them, the embedding model does not.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from indexer import ann, answering
from indexer.lazy_model import resolve
from indexer.lineage import lineage_answer
from indexer.snapshot import SearchState, Snapshots, build_state, consistent
from indexer.store import Store, lexical_terms
from knowledge import intent as intents
from knowledge import names
from knowledge.agencies import QueryMatch
from knowledge.answer import Answer, Result
from knowledge.deadlines import ends_within
from knowledge.text import clean_spaces, fold, nfc, squash, words

log = logging.getLogger(__name__)

ROLE_ORDER = {"lead": 0, "support": 1, "recipient": 2}
MAX_QUESTION = 500
MAX_LISTED = 40
LONG_BODY = 600  # lexical tokens (syllables + pairs) of a long paragraph  # items an answer's text lists; `results` keeps all of them
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$"
)
_TITLE_STOP = {"ke_hoach", "thuc_hien", "trien_khai", "ve_viec", "tiep_tuc", "nang_cao", "tinh_hinh", "hinh_moi"}


def polite(question: str, text: str, intent: str = "invalid") -> Answer:
    return Answer(question=question, intent=intent, agency=None, answered=False, answer=text)


class KnowledgeBase:
    """The library behind `planbot ask`, the bot and the reminders. `embedder`: a model, a
    `LazyEmbedder` (loaded on the first question that needs it) or None (lexical only)."""

    def __init__(self, store: Store, embedder=None, mode: str = "hybrid") -> None:
        self.store = store
        self.embedder = embedder
        self.mode = mode  # "hybrid" | "lexical" | "dense"
        self._snapshots = Snapshots(store, self._build_state)
        self._profile_cache: tuple[int, dict[int, PlanProfile]] | None = None
        self._agency_cache: tuple[int, list[str]] | None = None
        self._query_cache: dict[str, np.ndarray] = {}
        self.reload()

    # -- caches: one immutable SearchState, swapped whole; each answer pins one (indexer.snapshot)
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

    @consistent
    def plans(self) -> list[dict]:
        return self.store.plans()

    # -- building results -------------------------------------------------------------------
    def _results(self, scored: list[tuple[int, float]], agency: str | None = None) -> list[Result]:
        rows = self.store.items([i for i, _ in scored])
        written = self._written_names(list(rows))
        out = []
        for item_id, score in scored:
            row = rows.get(item_id)
            if row is None:
                continue
            out.append(self._result(row, score, agency, written.get(item_id)))
        return out

    def _written_names(self, ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """(role, name as the document writes it) per item: answers show the document's own
        names ("UBND cấp xã", "Các sở, ban, ngành, đoàn thể"), not the registry's group name."""
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        out: dict[int, list[tuple[str, str]]] = {}
        for item_id, role, raw, name in self.store.db.execute(
            f"SELECT item_id, role, agency_raw, agency FROM assignments WHERE item_id IN ({marks}) ORDER BY rowid", ids
        ).fetchall():
            shown = clean_spaces(raw or "") or name
            out.setdefault(item_id, []).append((role, shown[:1].upper() + shown[1:]))
        return out

    def _result(self, row: dict, score: float, agency: str | None = None, written=None) -> Result:
        assignments = row["assignments"]
        role = None
        if agency:
            roles = [a["role"] for a in assignments if a["agency"] == agency]
            role = min(roles, key=lambda r: ROLE_ORDER[r]) if roles else None
        names = written if written is not None else [(a["role"], a["agency"]) for a in assignments]

        def of(kind: str) -> list[str]:
            return list(dict.fromkeys(n for r, n in names if r == kind))

        return Result(
            plan=self.plan_refs[row["plan_id"]],
            kind=row["kind"],
            section=row["citation"],
            text=row["text"],
            lead=of("lead"),
            support=of("support"),
            recipients=of("recipient"),
            deadline=row["deadline"],
            score=score,
            item_id=row["id"],
            note=row["note"] or "",
            role=role,
            heading=row.get("heading") or "",
        )

    @consistent
    def item(self, item_id: int) -> Result | None:
        rows = self.store.items([item_id])
        return self._result(rows[item_id], 0.0) if item_id in rows else None

    # -- structured queries -----------------------------------------------------------------
    @consistent
    def resolve_agency(self, text: str) -> list[QueryMatch]:
        return self.registry.match_query(text)

    @consistent
    def duties(self, agency: str, role: str | None = None, plan_first: int | None = None) -> list[Result]:
        """Every assignment of `agency` (canonical name), grouped by plan, lead before support."""
        ids = self.store.assignment_item_ids(agency, role)
        results = self._results([(i, 1.0) for i in dict.fromkeys(i for i, _ in ids)], agency)
        results.sort(  # the plan asked about, else the newest plans first
            key=lambda r: (
                0 if r.plan.id == plan_first else 1,
                -(r.plan.year or int((r.plan.date or "0")[:4] or 0)),
                r.plan.id,
                ROLE_ORDER.get(r.role or "", 3),
                0 if r.kind == "clause" else 1,
                r.item_id or 0,
            )
        )
        return results

    @consistent
    def tasks(
        self,
        agency: str | None = None,
        role: str | None = None,
        due_before: date | None = None,
        due_after: date | None = None,
        plan_id: int | None = None,
    ) -> list[Result]:
        """Structured query of assignments (the `planbot tasks` command)."""
        if agency:
            matches = self.registry.match_query(agency)
            name = matches[0].name if matches else clean_spaces(agency)
            results = self.duties(name, role)
        else:
            ids = [
                r[0]
                for r in self.store.db.execute(
                    "SELECT DISTINCT item_id FROM assignments" + (" WHERE role = ?" if role else ""),
                    [role] if role else [],
                ).fetchall()
            ]
            ids = sorted(set(ids) | (set(self.store.dated_item_ids()) if not role else set()))
            results = self._results([(i, 1.0) for i in ids])
        if plan_id is not None:
            results = [r for r in results if r.plan.id == plan_id]
        if due_before is not None:
            results = [r for r in results if ends_within(r.deadline, None, due_before)]
        if due_after is not None:
            results = [
                r
                for r in results
                if r.deadline and (r.deadline.end or r.deadline.start) and (r.deadline.end or r.deadline.start) >= due_after
            ]
        return results

    def due_between(
        self,
        start: date | None,
        end: date | None,
        contained: bool = False,
        agency: str | None = None,
        plan_first: int | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Result]:
        """Items with a dated deadline ending in [start, end] (or lying inside it when `contained`)."""
        return self._due(start, end, contained, agency, plan_first, descending, limit)[0]

    @consistent
    def _due(self, start, end, contained=False, agency=None, plan_first=None, descending=False, limit=None):
        ids, total = self.store.due_item_ids(
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            contained,
            agency,
            plan_first,
            descending,
            limit,
        )
        return self._results([(i, 1.0) for i in ids]), total

    @consistent
    def reporting(self, agencies: list[str] | None = None, plan_id: int | None = None) -> list[Result]:
        """Periodic reporting rules as results (who reports = lead, to whom = recipients)."""
        rows = self.store.reporting_rules(agencies, plan_id)
        return self._rule_results(rows)

    def _rule_results(self, rows: list[dict]) -> list[Result]:
        items = self.store.items([r["item_id"] for r in rows if r["item_id"]])
        out = []
        for rule in rows:
            item = items.get(rule["item_id"])
            out.append(
                Result(
                    plan=self.plan_refs[rule["plan_id"]],
                    kind="reporting",
                    section=rule["section"],
                    text=rule["text"],
                    lead=rule["reporters"],
                    recipients=rule["recipients"],
                    deadline=item["deadline"] if item else None,
                    score=1.0,
                    item_id=rule["item_id"],
                    note=f"due_day={rule['due_day']}" if rule["due_day"] else "",
                )
            )
        return out

    # -- ranking ----------------------------------------------------------------------------
    def dense_ids(self, query: np.ndarray, k: int, exact: bool = False) -> list[int]:
        """The k items nearest the query: by the state's HNSW index when it has one (large
        indexes), else (or `exact`) by brute-force cosine over every vector."""
        state = self._snapshots.current
        index = state.ann.index if state.ann is not None and not exact else None
        if index is not None:
            return index.search(query, k)
        return ann.brute_force(state.matrix, state.vec_ids, query, k)

    @consistent
    def rank(
        self, question: str, use_dense: bool = True, limit: int = 50, drop: frozenset[str] = frozenset()
    ) -> list[tuple[int, float]]:
        """Hybrid ranking of all items for a free-text question: (item id, fused score). `drop`:
        words that only name the plan (its title words): they tell which plan, not which item."""
        terms = query_terms(question)
        kept = [t for t in terms if t not in drop]
        if len({t for t in kept if "_" not in t}) >= 2:
            terms = kept
        lists: list[list[int]] = []
        if self.mode in ("hybrid", "lexical"):
            lists.append([i for i, _ in self.store.lexical(self.selective_terms(terms), limit=100)])
        query = None
        if self.mode in ("hybrid", "dense") and use_dense and self.embedder is not None and len(self.vec_ids):
            query = self._encode(question)  # the model is loaded here, on the first dense question
        if query is not None:
            lists.append(self.dense_ids(query, 100))
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

    @consistent
    def duties_in(self, agency: str, provinces: list[str] | None = None) -> list[Result]:
        """An agency's duties, in the plans of the provinces named (all plans when none match)."""
        results = self.duties(agency)
        if provinces:
            profiles = self._profiles()
            local = [r for r in results if profiles[r.plan.id].province in provinces]
            results = local or results
        return results

    # -- helpers for the answering paths ----------------------------------------------------
    def mentioned(self, agency: str) -> bool:
        """Some item of the loaded plans names this agency (province words aside)."""
        key = squash(names.without_province(agency))
        hits = self._results(self.rank(agency, use_dense=False, limit=10))
        return any(key in squash(" ".join([r.text, *r.lead, *r.support, *r.recipients])) for r in hits)

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many items contain each folded word (cached per index generation)."""
        unknown = [t for t in dict.fromkeys(terms) if t not in self._df]
        if unknown:
            self._df.update(self.store.document_frequencies(unknown))
        return {t: self._df.get(t, 0) for t in terms}

    def duty_agencies(self) -> list[str]:
        """Every agency that has an assignment in the loaded plans."""
        version = self._snapshots.current.version
        cached = self._agency_cache
        if cached is None or cached[0] != version:
            rows = self.store.db.execute("SELECT DISTINCT agency FROM assignments").fetchall()
            cached = (version, [r[0] for r in rows])
            self._agency_cache = cached
        return cached[1]

    @staticmethod
    def falls_due(deadline, period) -> bool:
        """A dated deadline whose last day lies in the period ("Trước 01/7/2025" ends 30/6/2025)."""
        end = effective_end(deadline)
        if end is None:
            return False
        return (period.end is None or end <= period.end) and (period.start is None or end >= period.start)

    @consistent
    def due_in(
        self,
        start: date | None,
        end: date | None,
        agency: str | None = None,
        plans: frozenset[int] | None = None,
        latest_first: bool = False,
        limit: int | None = None,
    ) -> list[Result]:
        """Items whose dated deadline's last day lies in [start, end] ("Trước 01/7/2025" is due in
        June); asked about one day, the items due on it or "trước" it. Task rows first, then by
        date; `plans` keeps to those plans."""
        ids, _ = self.due_ids(start, end, agency, plans, latest_first, limit)
        return self._results([(i, 1.0) for i in ids], agency)

    def due_ids(self, start, end, agency=None, plans=None, latest_first=False, limit=None) -> tuple[list[int], int]:
        """(item ids, how many in all) for `due_in`, selected and ordered in SQL."""
        last_day = "date(d.end, CASE WHEN d.before THEN '-1 day' ELSE '+0 day' END)"
        where = ["d.kind IN ('date', 'month', 'quarter', 'year', 'range')", "d.end IS NOT NULL"]
        params: list = []
        if start is not None and start == end:
            where.append(f"({last_day} = ? OR d.end = ?)")
            params += [start.isoformat(), start.isoformat()]
        else:
            if start is not None:
                where.append(f"{last_day} >= ?")
                params.append(start.isoformat())
            if end is not None:
                where.append(f"{last_day} <= ?")
                params.append(end.isoformat())
        if agency:
            where.append("i.id IN (SELECT item_id FROM assignments WHERE agency_key = ? AND role IN ('lead', 'support'))")
            params.append(" ".join(words(agency)))
        if plans:
            where.append(f"i.plan_id IN ({','.join('?' * len(plans))})")
            params += sorted(plans)
        base = f"FROM items i JOIN deadlines d ON d.id = i.deadline_id WHERE {' AND '.join(where)}"
        total = int(self.store.db.execute(f"SELECT count(*) {base}", params).fetchone()[0])
        order = f"(i.kind = 'task') DESC, {last_day} {'DESC' if latest_first else 'ASC'}, i.id"
        sql = f"SELECT i.id {base} ORDER BY {order}" + (" LIMIT ?" if limit else "")
        rows = self.store.db.execute(sql, [*params, *([limit] if limit else [])]).fetchall()
        return [r[0] for r in rows], total

    def reporting_ranked(self, q: str, intent, matches: list[QueryMatch], focus: Focus) -> list[Result]:
        """Reporting rules, best first: the named plan's, the asked sender's / receiver's, a due day."""
        agencies = [m.name for m in matches]
        rows = self.store.reporting_rules(agencies or None, plan_first=min(focus.plans) if focus.plans else None, limit=300)
        if not rows and agencies:
            rows = self.store.reporting_rules(None, plan_first=min(focus.plans) if focus.plans else None, limit=300)
        folded = fold(q)
        receivers = {m.name for m in matches if re.search(r"\b(cho|ve|toi|len)\s+" + re.escape(m.matched), folded)}
        senders = set(agencies) - receivers

        def key(rule: dict) -> tuple:
            fit = bool(senders & set(rule["reporters"])) + bool(receivers & set(rule["recipients"]))
            return (rule["plan_id"] not in focus.plans, -fit, not (intent.asks_day and rule["due_day"]), rule["plan_id"], rule["id"])

        rows.sort(key=key)
        return self._rule_results(rows[:50])

    # -- answering --------------------------------------------------------------------------
    @consistent
    def ask(self, question: str, limit: int = 10, today: date | None = None) -> Answer:
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
        spelled = names.expand_abbreviations(q)  # "Văn phòng UBND thành phố" → "… Ủy ban nhân dân …"
        matches = names.plausible(spelled, self.registry.match_query(spelled))
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
        focus = self.plan_focus(q, matches)
        named = names.named_agency(q) if agency is None and not bare else None
        if named and intents.DUTY_WORDS.search(fold(q)) and not self.mentioned(named):
            # "Sở Du lịch phải làm gì?": no such agency anywhere in the plans
            related = answering.search_hits(self, q, intent, focus, None)
            return answering.decline(q, intents.DUTIES, None, answering.UNKNOWN_AGENCY, related)
        if intent.name == intents.DUTIES and agency:
            return answering.answer_duties(self, q, agency, intent, focus, candidates)
        if intent.name == intents.DUE and intent.period:
            return answering.answer_due(self, q, intent, agency, focus, limit)
        if intent.name == intents.REPORTING:
            answer = answering.answer_reporting(self, q, intent, matches, focus, limit)
            if answer:
                return answer
        return answering.answer_search(self, q, intent, agency, focus, limit, candidates)


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


def effective_end(deadline) -> date | None:
    """The last day a dated deadline allows: "Trước 01/7/2025" → 30/6/2025."""
    if deadline is None or not deadline.dated or deadline.end is None:
        return None
    return deadline.end - timedelta(days=1) if deadline.before else deadline.end


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


