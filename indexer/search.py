"""Answering: structured lookups first (agency, period, reporting rules), then hybrid ranking.

Hybrid = BM25 over diacritics-folded syllables + bigrams (SQLite FTS5) fused by reciprocal
rank with e5 embeddings (cosine over float32 vectors). Questions typed without diacritics go
lexical-only: the folded index handles them, the embedding model does not.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import date

import numpy as np

from indexer.snapshot import SearchState, Snapshots, build_state, consistent
from indexer.store import Store, lexical_terms
from knowledge import intent as intents
from knowledge.agencies import QueryMatch
from knowledge.answer import Answer, Result, render_text
from knowledge.deadlines import describe, ends_within
from knowledge.text import clean_spaces, fold, nfc, words

log = logging.getLogger(__name__)

ROLE_ORDER = {"lead": 0, "support": 1, "recipient": 2}
MAX_QUESTION = 500
MAX_LISTED = 40  # items an answer's text lists; `results` keeps all of them
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$"
)
_TITLE_STOP = {"ke_hoach", "thuc_hien", "trien_khai", "ve_viec", "tiep_tuc", "nang_cao", "tinh_hinh", "hinh_moi"}


def polite(question: str, text: str, intent: str = "invalid") -> Answer:
    return Answer(question=question, intent=intent, agency=None, answered=False, answer=text)


class KnowledgeBase:
    """The library behind `planbot ask`, the bot and the reminders."""

    def __init__(self, store: Store, embedder=None, mode: str = "hybrid") -> None:
        self.store = store
        self.embedder = embedder
        self.mode = mode  # "hybrid" | "lexical" | "dense"
        self._snapshots = Snapshots(store, self._build_state)
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
        out = []
        for item_id, score in scored:
            row = rows.get(item_id)
            if row is None:
                continue
            out.append(self._result(row, score, agency))
        return out

    def _result(self, row: dict, score: float, agency: str | None = None) -> Result:
        assignments = row["assignments"]
        role = None
        if agency:
            roles = [a["role"] for a in assignments if a["agency"] == agency]
            role = min(roles, key=lambda r: ROLE_ORDER[r]) if roles else None
        return Result(
            plan=self.plan_refs[row["plan_id"]],
            kind=row["kind"],
            section=row["citation"],
            text=row["text"],
            lead=[a["agency"] for a in assignments if a["role"] == "lead"],
            support=[a["agency"] for a in assignments if a["role"] == "support"],
            recipients=[a["agency"] for a in assignments if a["role"] == "recipient"],
            deadline=row["deadline"],
            score=score,
            item_id=row["id"],
            note=row["note"] or "",
            role=role,
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
    @consistent
    def rank(self, question: str, use_dense: bool = True, limit: int = 50) -> list[tuple[int, float]]:
        """Hybrid ranking of all items for a free-text question: (item id, fused score)."""
        terms = query_terms(question)
        lists: list[list[int]] = []
        if self.mode in ("hybrid", "lexical"):
            lists.append([i for i, _ in self.store.lexical(self.selective_terms(terms), limit=100)])
        if self.mode in ("hybrid", "dense") and use_dense and self.embedder is not None and len(self.vec_ids):
            query = self.embedder.encode_queries([question])[0]
            sims = self.matrix @ np.asarray(query, dtype=np.float32)
            k = min(100, len(sims))
            top = np.argpartition(-sims, k - 1)[:k]
            top = top[np.argsort(-sims[top])]
            lists.append([int(self.vec_ids[i]) for i in top])
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
                body = set(bodies.get(item_id, "").split())
                overlap = len(bigrams & body) / len(bigrams)
                rescored.append((item_id, 0.5 * score / top + 0.5 * overlap))
            head = sorted(rescored, key=lambda kv: -kv[1])
            ranked_all = head + [(i, s * 0.5 / top) for i, s in ranked_all[40:]]
        return ranked_all[:limit]

    @consistent
    def plan_affinity(self, text: str, matches: list[QueryMatch] | None = None) -> dict[int, float]:
        """How strongly `text` names each plan: idf-weighted word pairs shared with its title,
        number and issuer. Words naming agencies are left out ("Sở Y tế" names no plan)."""
        folded = fold(text)
        for m in matches or []:
            folded = folded.replace(m.matched, " ")
        q = {t for t in lexical_terms(folded) if "_" in t and t not in _TITLE_STOP}
        plans = len(self.plan_refs)
        df: dict[str, int] = {}
        for terms in self._plan_terms.values():
            for t in q & terms:
                df[t] = df.get(t, 0) + 1
        return {
            pid: sum(math.log(plans / df[t]) for t in q & terms) for pid, terms in self._plan_terms.items()
        }

    @consistent
    def plan_hint(self, question: str, matches: list[QueryMatch] | None = None) -> int | None:
        """The plan a question clearly points at: its number, or distinctive words of its title
        written after "kế hoạch" ("trong kế hoạch y tế cơ sở", "Kế hoạch 220")."""
        folded = fold(question)
        named = " ".join(
            " ".join(m.group(1).split()[:12]) for m in re.finditer(r"\b(?:ke hoach|kh)\b([^?!.;]*)", folded)
        )
        scores = self.plan_affinity(named, matches) if named else {pid: 0.0 for pid in self.plan_refs}
        numbers = set(re.findall(r"\b\d{2,5}\b", question))
        for pid, ref in self.plan_refs.items():
            if ref.number and ref.number.split("/")[0] in numbers:
                scores[pid] += 10.0
        plans = len(self.plan_refs)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        if plans < 2 or not ranked or ranked[0][1] < 1.5 * math.log(plans):
            return None
        if len(ranked) > 1 and ranked[1][1] >= ranked[0][1]:
            return None
        return ranked[0][0]

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
        matches = self.registry.match_query(q)
        vietnamese = sum(1 for t in alpha if _SYLLABLE.match(t) or self.registry.entry(t))
        if vietnamese / len(alpha) < 0.6 and not matches:
            return polite(raw, "Xin lỗi, tôi chỉ trả lời câu hỏi bằng tiếng Việt về các kế hoạch đã nạp.")
        agency = matches[0].name if matches else None
        candidates = [m.name for m in matches] if len(matches) > 1 and matches[0].score < 100 else []
        intent = intents.detect(q, agency is not None, today)
        hint = self.plan_hint(q, matches)
        if intent.name == intents.DUTIES and agency:
            return self._answer_duties(q, agency, intent, hint, candidates)
        if intent.name == intents.DUE and intent.period:
            return self._answer_due(q, intent, agency, hint, limit)
        if intent.name == intents.REPORTING:
            answer = self._answer_reporting(q, intent, matches, hint, limit)
            if answer:
                return answer
        return self._answer_search(q, intent, agency, hint, limit, candidates)

    def _answer_duties(self, q, agency, intent, hint, candidates) -> Answer:
        results = self.duties(agency, plan_first=hint)
        folded = fold(q)
        asks_lead, asks_support = "chu tri" in folded, "phoi hop" in folded
        if asks_lead != asks_support:  # "… chủ trì những việc gì?": that role first, the rest after
            wanted = "lead" if asks_lead else "support"
            results.sort(key=lambda r: r.role != wanted)
        period = intent.period
        if period and results:  # "Sở Y tế phải làm gì trước 31/12/2025?": only what falls due then
            within = [r for r in results if ends_within(r.deadline, period.start, period.end)]
            if not within:
                text = f"{agency} không có nhiệm vụ nào có thời hạn {period.text} trong các kế hoạch đã nạp."
                return Answer(q, intent.name, agency, False, text, [], candidates, (period.start, period.end))
            header = f"{agency}: {len(within)} nội dung có thời hạn {period.text} (chủ trì trước, phối hợp sau)."
            return Answer(q, intent.name, agency, True, render_text(header, within, by_role=True), within, candidates, (period.start, period.end))
        if not results:
            closest = self._results(self.rank(q, use_dense=intent.diacritics, limit=3))
            text = render_text(
                f"Không thấy nhiệm vụ nào giao cho {agency} trong các kế hoạch đã nạp. Nội dung gần nhất:",
                closest,
            )
            return Answer(q, intent.name, agency, False, text, closest, candidates)
        plans = len({r.plan.id for r in results})
        header = f"{agency}: {len(results)} nội dung trong {plans} kế hoạch (chủ trì trước, phối hợp sau)."
        shown = results[:MAX_LISTED]
        footer = (
            f"(Còn {len(results) - len(shown)} nội dung nữa: xem đủ bằng /nhiemvu {agency} "
            f"hoặc planbot tasks --agency \"{agency}\".)"
            if len(results) > len(shown)
            else ""
        )
        text = render_text(header, shown, by_role=True, footer=footer)
        return Answer(q, intent.name, agency, True, text, results, candidates, shown=len(shown))

    def _answer_due(self, q, intent, agency, hint, limit) -> Answer:
        period = intent.period
        shown, total = self._due(
            period.start,
            period.end,
            contained=False,
            agency=agency,
            plan_first=hint,
            descending=period.mode == "before",
            limit=max(limit, 1),
        )
        if agency and not shown:
            shown, total = self._due(period.start, period.end, False, None, hint, period.mode == "before", max(limit, 1))
        what = {"before": "phải xong trước", "within": "đến hạn trong", "after": "bắt đầu sau"}[period.mode]
        if not shown:
            return Answer(q, intent.name, agency, False, f"Không có nhiệm vụ nào {what} {period.text} trong các kế hoạch đã nạp.", [], period=(period.start, period.end))
        header = f"Có {total} nhiệm vụ {what} {period.text}:"
        footer = f"(Còn {total - len(shown)} nhiệm vụ nữa.)" if total > len(shown) else ""
        return Answer(q, intent.name, agency, True, render_text(header, shown, footer=footer), shown, period=(period.start, period.end))

    def _answer_reporting(self, q, intent, matches, hint, limit) -> Answer | None:
        names = [m.name for m in matches]
        rows = self.store.reporting_rules(names or None, plan_first=hint, limit=300)
        if not rows:
            return None
        qterms = set(query_terms(q))
        folded = fold(q)
        # "X gửi báo cáo …" asks about X's own reports; "báo cáo cho/về Y" about reports Y receives.
        receivers = {
            m.name for m in matches if re.search(r"\b(cho|ve|toi|len)\s+" + re.escape(m.matched), folded)
        }
        senders = set(names) - receivers

        affinity = self.plan_affinity(q, matches)

        def key(rule: dict) -> tuple:
            overlap = len(qterms & set(lexical_terms(rule["text"]))) if (names or hint) else 0
            fit = bool(senders & set(rule["reporters"])) + bool(receivers & set(rule["recipients"]))
            return (
                0 if rule["plan_id"] == hint else 1,
                -fit,
                0 if intent.asks_day and rule["due_day"] else 1,
                -round(affinity.get(rule["plan_id"], 0.0), 3),
                -overlap,
                0 if rule["due_day"] else 1,
                0 if rule["d_recurrence"] else 1,
                rule["plan_id"],
                rule["id"],
            )

        rows.sort(key=key)
        rules = self._rule_results(rows[:limit])
        focus = [r for r in rules if hint is None or r.plan.id == hint]
        if intent.asks_day and not any(r.note.startswith("due_day") for r in focus):
            text = render_text(
                "Kế hoạch không quy định ngày cụ thể phải gửi báo cáo; chỉ có các quy định sau:", focus or rules
            )
            return Answer(q, intent.name, names[0] if names else None, False, text, focus or rules)
        return Answer(q, intent.name, names[0] if names else None, True, render_text("Quy định báo cáo định kỳ:", rules), rules)

    def _answer_search(self, q, intent, agency, hint, limit, candidates) -> Answer:
        ranked = self.rank(q, use_dense=intent.diacritics)
        results = self._results(ranked, agency)
        if hint is not None:
            for r in results:
                if r.plan.id == hint:
                    r.score *= 1.5
        if agency:
            for r in results:
                if r.role:
                    r.score *= 1.3
        if intent.name == intents.WHO_LEADS:
            for r in results[:8]:
                if r.lead:
                    r.score *= 1.2
        results.sort(key=lambda r: -r.score)
        results = results[:limit]
        if not results:
            return Answer(q, intent.name, agency, False, "Các kế hoạch đã nạp không có thông tin trả lời câu hỏi này.", [], candidates)
        top = results[0]
        coverage = _coverage(intent.terms, top.text + " " + top.section)
        if coverage < 0.34:
            text = render_text("Các kế hoạch đã nạp không có câu trả lời rõ cho câu hỏi này. Nội dung gần nhất:", results[:3])
            return Answer(q, intent.name, agency, False, text, results, candidates, shown=min(3, len(results)))
        if intent.name == intents.WHO_LEADS and top.kind == "task" and not top.lead:
            note = f" (ghi chú: {top.note})" if top.note else ""
            text = render_text(f"Kế hoạch không nêu đơn vị chủ trì cho nội dung này{note}.", [top])
            return Answer(q, intent.name, agency, False, text, results, candidates, shown=1)
        if intent.name == intents.WHO_LEADS and top.lead:
            header = f"Chủ trì: {', '.join(top.lead)}" + (f"; phối hợp: {', '.join(top.support)}" if top.support else "")
            header += f". Thời hạn: {top.deadline.text if top.deadline else 'không nêu'}."
        elif intent.name == intents.DEADLINE:
            header = f"Thời hạn: {top.deadline.text} ({describe(top.deadline)})." if top.deadline else "Nội dung phù hợp nhất (không nêu thời hạn cụ thể):"
        else:
            header = "Nội dung phù hợp nhất:"
        return Answer(q, intent.name, agency, True, render_text(header, results[:5]), results, candidates, shown=min(5, len(results)))


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



def _coverage(terms: list[str], text: str) -> float:
    if not terms:
        return 1.0
    have = set(fold(text).split()) | set(words(text))
    return sum(1 for t in terms if t in have) / len(terms)
