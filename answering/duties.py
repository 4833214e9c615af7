"""An agency's duties: listed plan by plan (the named one, else the most relevant), in each by
role, its own before shared rows, the appendix a question names first (`answer_duties`)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from answering import checks
from answering.paths import (
    MAX_LISTED,
    MIN_RELEVANT,
    NOT_IN_PLANS,
    _agency_key,
    _idf,
    _variants,
    confident,
    coverage,
    decline,
    merge,
    names_in,
    search_hits,
)
from answering.ranking import FRAME
from knowledge.dates import windows
from knowledge.orgs import names
from knowledge.questions import intent as intents
from knowledge.questions.answer import Answer, Result, render_text
from knowledge.text import fold, words

if TYPE_CHECKING:
    from answering.focus import Focus
    from answering.knowledge_base import KnowledgeBase


APPENDIX = re.compile(r"\bphu luc(?:\s+(?:so\s+)?([ivx]+|\d+)\b)?")


def answer_duties(kb: KnowledgeBase, q: str, agency: str, intent, focus: Focus, candidates) -> Answer:
    """An agency's duties, in the named plan when one is named; then search hits."""
    results, everywhere = kb.duties_listed(
        _variants(agency, kb.duty_agencies()), min(focus.plans) if focus.plans else None, focus.plans or None
    )
    shared_ids: set[int] = set()  # items given to a group the agency belongs to ("Các sở, ngành")
    for group in names.collective_names(agency, kb.duty_agencies()):
        shared_ids.update(i for i, _ in kb.store.assignment_item_ids(group))
    shared_ids -= set(everywhere)
    evidence = search_hits(kb, q, intent, focus, agency, dense=False)
    folded = fold(q)
    asks_lead, asks_support = "chu tri" in folded, "phoi hop" in folded
    position = {r.item_id: i for i, r in enumerate(evidence)}
    wanted = "lead" if asks_lead and not asks_support else "support" if asks_support and not asks_lead else None
    plan_order, topical_words = plans_by_relevance(
        kb, q, agency, results, evidence, focus.plans, focus.leaning
    )
    if not topical_words and intents.asks_time(q):  # "… hạn khi nào?": plans giving times first
        kept = [r for r in results if wanted is None or r.role == wanted]
        plan_order = dated_first(plan_order, kept, focus.plans)
    role_order = {"lead": 0, "support": 1, "recipient": 2}
    numbered = any(in_appendix(q, r.section) for r in results)
    named = focus.plans | focus.leaning
    on_subject = subject_items(kb, q, agency, results, named, frozenset(position))
    results.sort(  # plan by plan (the named one, else the most relevant); in each, by role, then by match
        key=lambda r: (
            wanted is not None and r.role != wanted,
            not in_appendix(q, r.section, numbered),  # "… trong Phụ lục II": its rows first
            r.plan.id not in focus.plans,
            r.plan.id not in focus.leaning,
            r.item_id not in on_subject,  # "… với chương trình hỗ trợ cửa hàng bán lẻ": whatever its role
            plan_order[r.plan.id],
            role_order.get(r.role or "", 3),
            r.role == "lead" and len(r.lead) > 2,  # its own duties before those it leads with many
            r.text.rstrip().endswith(":"),  # a lead-in ("Sở X chủ trì … các nội dung sau:") after its points
            position.get(r.item_id, len(position)) if focus.plans or topical_words else 0,
        )
    )
    period = intent.period
    if period and results:
        results = [
            r
            for r in results  # months of no year ("tháng 8 hoặc tháng 9") read by knowledge.dates.windows
            if (windows.match(r.deadline, period) in (windows.EXACT, windows.DUE) if period.months else kb.falls_due(r.deadline, period))
        ]
    if not results:
        key = _agency_key(agency)
        mentioned = [
            r
            for r in evidence[:10]
            if names_in(key, r.text) and coverage(kb, q, r) >= 0.4 and (not focus.plans or r.plan.id in focus.plans)
        ]
        if mentioned and confident(kb, q, mentioned[0], focus):
            text = render_text(f"Nội dung nhắc đến {agency}:", mentioned[:5])
            return Answer(q, intent.name, agency, True, text, merge(mentioned, evidence), candidates, shown=min(5, len(mentioned)))
        provinces = names.find_provinces(q)
        where = " trong kế hoạch này" if focus.named else f" trong các kế hoạch của {', '.join(provinces)}" if focus.plans and provinces else ""
        when = f" có thời hạn {period.text}" if period else ""
        reason = f"Không thấy nhiệm vụ nào giao cho {agency}{when}{where}: {NOT_IN_PLANS.lower()}"
        return decline(q, intent.name, agency, reason, evidence, candidates)
    # "Sở Y tế … về thiên tai": the plans speaking of that subject first; none of them: declined
    firsts: dict[int, Result] = {}
    for r in results:
        firsts.setdefault(r.plan.id, r)
    checked = list(firsts.items())[:8]
    uncovered = {pid for pid, r in checked if checks.uncovered_topic(kb, q, r, agency)}
    if uncovered and len(uncovered) == len(checked):
        reason = f"{NOT_IN_PLANS}: không thấy nhiệm vụ nào của {agency} về nội dung này"
        return decline(q, intent.name, agency, reason, evidence, candidates)
    if uncovered:
        results = [r for r in results if r.plan.id not in uncovered] + [r for r in results if r.plan.id in uncovered]
    # Listed: its own duties, then the group duties it shares ("Các sở, ngành") that the
    # question's words point at; the other group duties are counted, and follow the search hits.
    topic = " ".join(w for w in words(q) if w not in set(words(agency)))  # the question without the agency
    topical = [t for t in words(topic) if t not in intents.STOPWORDS and len(t) > 1 and not t.isdigit()]
    near = [
        replace(r, role="shared")
        for r in evidence
        if r.item_id in shared_ids and topical and coverage(kb, topic, r) >= MIN_RELEVANT
        and (not focus.plans or r.plan.id in focus.plans)
    ]
    listed = results + near
    plans = len({r.plan.id for r in listed})
    header = f"{agency}: {len(listed)} nội dung trong {plans} kế hoạch (chủ trì trước, phối hợp sau)."
    shown = listed[:MAX_LISTED]
    notes = []
    if len(listed) > len(shown):
        notes.append(f"Còn {len(listed) - len(shown)} nội dung nữa: xem đủ bằng /nhiemvu {agency}.")
    common = kb.count_in_plans(shared_ids, focus.plans) if focus.plans else len(shared_ids)
    if common > len(near):
        notes.append(f"Ngoài ra {common - len(near)} nhiệm vụ giao chung cho các cơ quan cùng cấp (có {agency}).")
    text = render_text(header, shown, by_role=True, footer=" ".join(f"({n})" for n in notes))
    ordered = merge(shown, merge(evidence, listed))
    return Answer(q, intent.name, agency, True, text, ordered, candidates, shown=len(shown))


def dated_first(
    order: dict[int, int], results: list[Result], first: frozenset[int]
) -> dict[int, int]:
    """The plans in `order`, the plans named first; among plans of one year (newest first, as
    given), those giving the most of their listed items a time (a question asking when, with no
    subject of its own), then as given."""
    dated: dict[int, list[bool]] = {}
    year: dict[int, int] = {}
    for r in results:
        dated.setdefault(r.plan.id, []).append(r.deadline is not None)
        year[r.plan.id] = r.plan.year or 0
    share = {pid: sum(v) / len(v) for pid, v in dated.items()}

    def key(pid: int) -> tuple:
        return (pid not in first, -year.get(pid, 0), -round(share.get(pid, 0.0), 6), order[pid])

    ranked = sorted(order, key=key)
    return {pid: i for i, pid in enumerate(ranked)}


def in_appendix(q: str, section: str, numbered: bool = True) -> bool:
    """The question names an appendix ("trong Phụ lục II", "trong Phụ lục") and the item is cited
    in it (True as well when the question names none). `numbered=False`: in any appendix (for
    a plan none of whose items is cited under the number asked)."""
    asked = APPENDIX.search(fold(q))
    if not asked:
        return True
    cited = APPENDIX.match(fold(section).strip())
    return bool(cited) and (not numbered or not asked.group(1) or cited.group(1) == asked.group(1))


def subject_items(
    kb: KnowledgeBase,
    q: str,
    agency: str,
    results: list[Result],
    named: frozenset[int],
    found: frozenset[int] = frozenset(),
) -> set[int]:
    """The listed items on the question's own subject: holding most (idf-weighted) of its words
    beyond the agency, the asking words, the province and the titles of the plans it names
    ("Sở Công Thương có nhiệm vụ gì với chương trình hỗ trợ cửa hàng bán lẻ chuyển đổi số?").
    Only the named plans' items are read when the question names some, else those search `found`
    (an agency's duties in a thousand plans are too many to read for each question)."""
    skip = set(words(agency)) | intents.STOPWORDS | FRAME | _ASKING
    skip |= set(" ".join(fold(p) for p in names.find_provinces(q)).split())
    for pid in named:
        skip |= {t for t in kb._plan_terms.get(pid, ()) if "_" not in t}
    topic = [t for t in dict.fromkeys(words(q)) if t not in skip and len(t) > 1 and not t.isdigit()]
    df = kb.frequencies(topic) if topic else {}
    n = max(kb._item_count, 1)
    weights = {t: _idf(df[t], n) for t in topic if df.get(t, 0) > 0}
    if len(weights) < 2:
        return set()
    total = sum(weights.values())
    out = set()
    for r in results:
        if (r.plan.id not in named) if named else (r.item_id not in found):
            continue
        hay = set(words(f"{r.text} {r.heading}"))
        if sum(w for t, w in weights.items() if t in hay) >= 0.6 * total:
            out.add(r.item_id)
    return out


# Words that ask about duties rather than name their subject ("chịu trách nhiệm gì, hạn khi nào").
_ASKING = frozenset("chiu trach nhiem lam gi han khi nao thoi gian phai duoc giao nhung viec tung ra sao the bao gio".split())


def plans_by_relevance(
    kb: KnowledgeBase,
    q: str,
    agency: str,
    results: list[Result],
    evidence: list[Result],
    named: frozenset[int] = frozenset(),
    leaning: frozenset[int] = frozenset(),
) -> tuple[dict[int, int], bool]:
    """The plans of an agency's duties in the order to list them: the plans the question names
    (`named`: by title words, province, a document they implement) first, among them (and then)
    those its title words point at most (`leaning`); then, when the question
    has words of its own beyond the agency ("… trong Phụ lục II", "… về chuyển đổi số"), the plan
    whose listed items hold most of them (then the one search finds first); else the order given
    (newest first). Also whether the question has such words (then items are listed as search
    finds them, too)."""
    given = list(dict.fromkeys(r.plan.id for r in results))
    given.sort(key=lambda pid: (pid not in named, pid not in leaning))  # stable: named first, in their order
    skip = set(words(agency)) | intents.STOPWORDS | FRAME | _ASKING
    topic = [t for t in dict.fromkeys(words(q)) if t not in skip and len(t) > 1 and not t.isdigit()]
    df = kb.frequencies(topic) if topic else {}
    n = max(kb._item_count, 1)
    weights = {t: _idf(df[t], n) for t in topic if df.get(t, 0) > 0}
    if not weights or len(given) < 2:
        return {pid: i for i, pid in enumerate(given)}, bool(weights)
    held: dict[int, float] = {}
    for r in results:
        hay = set(words(f"{r.text} {r.heading} {r.section}"))
        held[r.plan.id] = max(held.get(r.plan.id, 0.0), sum(w for t, w in weights.items() if t in hay))
    first: dict[int, int] = {}
    for i, r in enumerate(evidence):
        first.setdefault(r.plan.id, i)
    order = sorted(
        given,
        key=lambda pid: (pid not in named, pid not in leaning, -round(held.get(pid, 0.0), 6), first.get(pid, len(evidence)), given.index(pid)),
    )
    return {pid: i for i, pid in enumerate(order)}, True

