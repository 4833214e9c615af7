"""From a question to an answer: structured paths (an agency's duties, what falls due, reporting
rules) fused with plain search, never in place of it.

Every path ends the same way: its structured hits first when they are strong, then the search
hits (BM25 + vectors) that are not already listed, so structure adds recall and never hides the
lexical/semantic evidence. A question names a plan (number, topic, province) → that plan's
items come first and structured paths keep to it. When nothing answers, the answer says so
("không có trong các kế hoạch đã nạp") and lists at most the closest items, labelled as related.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from indexer import answer_checks as checks
from indexer.search_rank import FRAME
from knowledge import intent as intents
from knowledge import names, windows
from knowledge.agencies import is_note, split_agencies
from knowledge.answer import Answer, Result, render_text
from knowledge.deadlines import describe, find_deadline, parse_deadline
from knowledge.text import fold, squash, squash_folded, words

if TYPE_CHECKING:
    from indexer.search import Focus, KnowledgeBase

NOT_IN_PLANS = "Không có trong các kế hoạch đã nạp"
UNKNOWN_AGENCY = "Không có cơ quan này trong các kế hoạch đã nạp"
RELATED = "Nội dung liên quan (không phải câu trả lời):"
MAX_LISTED = 40
MIN_RELEVANT = 0.5  # coverage that makes a dated item "what the question's words point at"
MIN_COVERAGE = 0.2  # idf-weighted share of the question's words the first hit must contain


def merge(first: list[Result], then: list[Result]) -> list[Result]:
    """`first`, then the items of `then` not already in it."""
    seen = {r.item_id for r in first if r.item_id is not None}
    seen_text = {" ".join(r.text.split())[:200] for r in first}  # copies of one plan (.txt, .docx)
    out = list(first)
    for r in then:
        key = " ".join(r.text.split())[:200]
        if (r.item_id is not None and r.item_id in seen) or key in seen_text:
            continue
        seen.add(r.item_id)
        seen_text.add(key)
        out.append(r)
    return out


_LEVEL_WORDS = ("tinh", "thanh pho", "tp")


def _agency_key(agency: str) -> str:
    """An agency's name without its level word ("Sở Y tế tỉnh" → "so y te")."""
    key = squash(agency)
    return re.sub(r"\s+(tinh|thanh pho|tp)$", "", key)


def _variants(agency: str, known: list[str]) -> list[str]:
    """The agency and its same-level spellings met in the plans ("… tỉnh" / "… Thành phố")."""
    key = _agency_key(agency)
    same = [n for n in known if _agency_key(n) == key]
    return list(dict.fromkeys([agency, *same]))


def decline(q: str, intent: str, agency: str | None, reason: str, related: list[Result], candidates=None) -> Answer:
    shown = related[:3]
    text = render_text(f"{reason}. {RELATED}", shown) if shown else reason + "."
    return Answer(q, intent, agency, False, text, related, list(candidates or []), shown=len(shown))


def search_hits(
    kb: KnowledgeBase, q: str, intent, focus: Focus, agency: str | None, limit: int = 40, dense: bool = True
) -> list[Result]:
    """Plain search (BM25 + vectors), the named plan's items first, the asked agency's next.
    `dense=False`: keyword evidence only, for answers read from the structured tables (no model)."""
    drop = kb.title_terms(focus.plans) if focus.named else frozenset()
    within = focus.plans if focus.only else None  # the plan named by number, or the chat's plan
    results = kb._results(kb.rank(q, use_dense=dense and intent.diacritics, limit=limit, drop=drop, plans=within), agency)
    key_agency = squash(agency) if agency else ""
    for r in results:
        if r.plan.id in focus.plans:
            r.score *= focus.boost
        if agency and (r.role or names_in(key_agency, r.text)):
            r.score *= 1.3
        if (intent.name == intents.WHO_LEADS and r.lead) or (intent.name == intents.WHO_SUPPORTS and r.support):
            r.score *= 1.15
        if intent.name == intents.DEADLINE and r.deadline is not None:  # "… khi nào?": an item giving a time
            r.score *= 1.1
        if agency and r.role == "lead":  # "Sở Xây dựng phải lập xong …": what it leads before what it supports
            r.score *= 1.1
    results.sort(key=lambda r: -r.score)
    for r in results[:5]:
        own_words(kb, r)
    return results


# Fields written in an item's own words, for a first hit the extraction left without them:
# "Cơ quan thực hiện: Sở Nội vụ …", "Sở Công Thương: hướng dẫn …", "… trong thời hạn 15 ngày làm việc".
_LABELLED = re.compile(
    r"(?i)\b(cơ quan|đơn vị|người)[^:]{0,60}?(thực hiện|chủ trì|thẩm quyền quyết định[^:]*|phối hợp)\s*:\s*([^.;\n]+)"
)
_TIME_PHRASE = re.compile(
    r"(?i)((trong (thời hạn|vòng)|không quá|ít nhất|chậm nhất( là)?|sau)\s+)?\d+\s+(ngày|tháng|năm)( làm việc)?"
    r"([^.;\n]{0,60}?(kể từ|trước|sau)[^.;,\n]{0,60})?|\b(hằng|hàng) (năm|quý|tháng)\b|\bđịnh kỳ\b"
)


def _subject(kb: KnowledgeBase, text: str) -> str | None:
    """The agency an item's text opens with, before "chủ trì" or a colon, if it opens with one."""
    parts = re.split(r"\s+(?:chủ trì|thực hiện|có trách nhiệm)\b|:", text, maxsplit=1)
    head = parts[0].strip(" .-")
    if len(parts) < 2 or not head or len(head) > 90:
        return None
    mentions = kb.registry.find_mentions(head)
    return head if mentions and mentions[0].start <= 1 else None


def _names_itself(text: str, subject: str) -> bool:
    """The text reads "<subject>: …" (the item's own addressee)."""
    return text.lstrip().startswith(subject) and text.lstrip()[len(subject) :].lstrip().startswith(":")


def own_words(kb: KnowledgeBase, r: Result) -> None:
    """Fill a result's agencies from its own text when none were extracted."""
    subject = _subject(kb, r.text)
    if subject and (not r.lead or any(subject.startswith(x) and subject != x for x in r.lead) or _names_itself(r.text, subject)):
        r.lead = [subject]  # "Sở Công Thương: hướng dẫn …", "Ban Quản lý các Khu chế xuất … chủ trì"
    m = _LABELLED.search(r.text)
    if m:
        agencies = [a for a in split_agencies(m.group(3)) if not is_note(a)]
        role = "support" if "phối hợp" in m.group(2).lower() else "lead"
        current = getattr(r, role)
        if not (r.lead or r.support or r.recipients):
            setattr(r, role, agencies)
        elif current:  # a name cut short by the extraction gives way to the full one written here
            setattr(r, role, [next((a for a in agencies if a.startswith(x) and a != x), x) for x in current])
    if not (r.lead or r.support) and r.heading:
        subject = _subject(kb, r.heading + ":") or _subject(kb, r.heading.split(" có trách nhiệm")[0] + ":")
        if subject:
            r.lead = [subject]  # "Điều 16. Trách nhiệm của Chính phủ" style headings name the doer


def own_deadlines(results: list[Result]) -> list[Result]:
    """The first results' time limits in their own words, when none was extracted (after the
    ranking: a limit read here must not promote an item as "giving the number asked for")."""
    for r in results[:5]:
        if r.deadline is None:
            r.deadline = find_deadline(r.text)
        if r.deadline is None:
            m = _TIME_PHRASE.search(r.text)
            if m:
                r.deadline = parse_deadline(m.group(0).strip())
    return results


def names_in(key: str, text: str) -> bool:
    """`key in squash(text)`, answered without squashing when a word of the key is not even in
    the folded text (a word of a squashed text lies inside one of its folded words)."""
    folded = fold(text)
    if any(word not in folded for word in key.split()):
        return False
    return key in squash_folded(folded)


@lru_cache(maxsize=1024)
def _content_terms(q: str) -> tuple[str, ...]:
    """The question's content words, province names aside (a pure function of the question)."""
    terms = [t for t in dict.fromkeys(words(q)) if t not in intents.STOPWORDS and len(t) > 1 and not t.isdigit()]
    place = set(" ".join(fold(p) for p in names.find_provinces(q)).split())
    return tuple(t for t in terms if t not in place)


def coverage(kb: KnowledgeBase, q: str, result: Result) -> float:
    """Idf-weighted share of the question's content words found in a result (words found in no
    item, and province names, carry no weight)."""
    terms = list(_content_terms(q))
    if not terms:
        return 1.0
    df = kb.frequencies(terms)
    n = max(kb._item_count, 1)
    weights = {t: _idf(df.get(t, 0), n) for t in terms if df.get(t, 0) > 0}
    if not weights:
        return 1.0
    hay = set(words(" ".join([result.text, result.heading, *result.lead, *result.support, *result.recipients])))
    return sum(w for t, w in weights.items() if t in hay) / sum(weights.values())


def _idf(df: int, n: int) -> float:
    import math

    return math.log(1 + n / (df + 0.5))


_DURATION = re.compile(r"\b(bao lau|may ngay|may thang|trong vong bao)\b(?! mot lan)")
_QUANTITY = re.compile(r"bao nhieu\s+(\w+)")
_ASKS_DATE = re.compile(r"\b(ngay nao|ngay may|ngay bao nhieu|thoi diem nao)\b")
_ASKS_DAY = re.compile(r"\b(ngay nao|ngay may|ngay bao nhieu)\b")  # a day, not any point in time
_RECURRING = re.compile(r"\b(hang|moi) (thang|quy|nam|tuan)\b|\bdinh ky\b")
_HAS_DAY = re.compile(r"\bngay\s+\d{1,2}\b|\b\d{1,2}\s*/\s*\d{1,2}\b")
_HAS_DATE = re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\b|\bngay\s+\d{1,2}\b")


def lacks_asked_fact(kb: KnowledgeBase, q: str, result: Result, durations: bool = False) -> bool:
    """The question asks for a number ("bao nhiêu ngày") or a day ("ngày nào", "ngày mấy") and
    no sentence of the result that gives one is about what the question asks."""
    f = fold(q)
    m = _QUANTITY.search(f)
    if m:
        fact = re.compile(r"\d+\s*(\(\w+\)\s*)?" + re.escape(m.group(1)))
    elif durations and _DURATION.search(f):
        fact = re.compile(r"\d+\s*(\(\w+\)\s*)?(ngay|thang|nam|tuan|gio)\b")
    elif _ASKS_DATE.search(f):
        kinds = ("date",) if _ASKS_DAY.search(f) else ("date", "month", "quarter", "year", "range")
        if result.deadline and result.deadline.kind in kinds and not _RECURRING.search(f):
            return False
        fact = _HAS_DATE
    else:
        return False
    text = fold(result.text)
    windows = [text[max(0, m.start() - 300) : m.end() + 100] for m in fact.finditer(text)]
    if result.deadline and fact.search(fold(result.deadline.text)):
        windows.append(text + " " + fold(result.deadline.text))
    if _RECURRING.search(f):  # "ngày mấy hằng tháng": a one-off date does not answer
        windows = [w for w in windows if _RECURRING.search(w)]
    return not any(coverage(kb, q, Result(result.plan, result.kind, "", w, heading=result.heading)) >= 0.5 for w in windows)


def _brevity(text: str, words_: int = 250) -> float:
    """1 for a paragraph; less for a page run together (it covers any question's words)."""
    return min(1.0, (words_ / max(len(text.split()), 1)) ** 0.5)


def fact_first(kb: KnowledgeBase, q: str, results: list[Result], within: int = 5) -> list[Result]:
    """For a question asking a number, a day or a duration, the first of the top results that
    gives it."""
    for i, r in enumerate(results[:within]):
        if not lacks_asked_fact(kb, q, r, durations=True):
            return [r, *results[:i], *results[i + 1 :]] if i else results
    return results


def confident(kb: KnowledgeBase, q: str, top: Result, focus: Focus, agency: str | None = None, subject: bool = False) -> bool:
    """The first hit may be given as the answer: from the plan the question names by number
    (when it does), on its subject, holding the number, date or kind of value asked for, in the
    province asked about, naming the agency asked about (`indexer.answer_checks`)."""
    if focus.strong and top.plan.id not in focus.plans:
        return False
    if coverage(kb, q, top) < MIN_COVERAGE or lacks_asked_fact(kb, q, top) or checks.lacks_kind(q, top):
        return False
    if checks.other_province(kb, q, top) or (agency and subject and not checks.names_agency(agency, top)):
        return False
    return not checks.uncovered_topic(kb, q, top, agency) and not checks.no_pair_covered(kb, q, top)


def missing_plan(kb: KnowledgeBase, q: str, intent, focus: Focus) -> Answer:
    """The question names a plan that is not indexed: say so; the closest items only as related."""
    related = search_hits(kb, q, intent, replace(focus, missing=""), None)
    return decline(q, intent.name, None, f"{NOT_IN_PLANS}: không có văn bản “{focus.missing}”", related)


def answer_search(kb: KnowledgeBase, q: str, intent, agency, focus: Focus, limit: int, candidates) -> Answer:
    hits = checks.kind_first(q, search_hits(kb, q, intent, focus, agency)[: max(limit, 10)])
    if intent.name == intents.DEADLINE:
        hits = checks.time_first(kb, q, hits)
    elif intent.name == intents.WHO_LEADS:
        hits = checks.decider_first(kb, q, hits)
    results = own_deadlines(fact_first(kb, q, checks.cycle_first(q, hits), within=8))
    if not results:
        return Answer(q, intent.name, agency, False, NOT_IN_PLANS + ".", [], candidates)
    top = results[0]
    subject = intent.name not in (intents.WHO_LEADS, intents.WHO_SUPPORTS) and names.is_subject(q, agency)
    duty = intents.DUTY_WORDS.search(fold(q)) if agency is None else None
    doer = q[: duty.start()] if duty and len(fold(q)) == len(q) else ""  # "Thông tin và Truyền thong" phải làm gì
    if not confident(kb, q, top, focus, agency, subject) or (doer and checks.no_pair_covered(kb, doer, top, least=1)):
        return decline(q, intent.name, agency, NOT_IN_PLANS, results, candidates)
    if intent.name == intents.WHO_LEADS and top.kind == "task" and not top.lead:
        note = f" (ghi chú: {top.note})" if top.note else ""
        text = render_text(f"Kế hoạch không nêu đơn vị chủ trì cho nội dung này{note}.", [top])
        return Answer(q, intent.name, agency, False, text, results, candidates, shown=1)
    if intent.name == intents.WHO_SUPPORTS and top.support:
        header = f"Phối hợp: {', '.join(top.support)}" + (f"; chủ trì: {', '.join(top.lead)}" if top.lead else "")
        header += f". Thời hạn: {top.deadline.text if top.deadline else 'không nêu'}."
    elif intent.name == intents.WHO_SUPPORTS and top.kind == "task":
        lead = f" (chủ trì: {', '.join(top.lead)})" if top.lead else ""
        text = render_text(f"Kế hoạch không nêu đơn vị phối hợp cho nội dung này{lead}.", [top])
        return Answer(q, intent.name, agency, False, text, results, candidates, shown=1)
    elif intent.name in (intents.WHO_LEADS, intents.WHO_SUPPORTS) and top.lead:
        header = f"Chủ trì: {', '.join(top.lead)}" + (f"; phối hợp: {', '.join(top.support)}" if top.support else "")
        header += f". Thời hạn: {top.deadline.text if top.deadline else 'không nêu'}."
    elif intent.name == intents.DEADLINE:
        header = (
            f"Thời hạn: {top.deadline.text} ({describe(top.deadline)})."
            if top.deadline
            else "Nội dung phù hợp nhất (không nêu thời hạn cụ thể):"
        )
    else:
        header = "Nội dung phù hợp nhất:"
    return Answer(q, intent.name, agency, True, render_text(header, results[:5]), results, candidates, shown=min(5, len(results)))


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
    plan_order, topical_words = plans_by_relevance(kb, q, agency, results, evidence)
    if not topical_words and intents.asks_time(q):  # "… hạn khi nào?": plans giving times first
        kept = [r for r in results if wanted is None or r.role == wanted]
        plan_order = dated_first(plan_order, kept, focus.plans)
    role_order = {"lead": 0, "support": 1, "recipient": 2}
    numbered = any(in_appendix(q, r.section) for r in results)
    results.sort(  # plan by plan (the named one, else the most relevant); in each, by role, then by match
        key=lambda r: (
            wanted is not None and r.role != wanted,
            not in_appendix(q, r.section, numbered),  # "… trong Phụ lục II": its rows first
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
            for r in results  # months of no year ("tháng 8 hoặc tháng 9") read by knowledge.windows
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


# Words that ask about duties rather than name their subject ("chịu trách nhiệm gì, hạn khi nào").
_ASKING = frozenset("chiu trach nhiem lam gi han khi nao thoi gian phai duoc giao nhung viec tung ra sao the bao gio".split())


def plans_by_relevance(
    kb: KnowledgeBase, q: str, agency: str, results: list[Result], evidence: list[Result]
) -> tuple[dict[int, int], bool]:
    """The plans of an agency's duties in the order to list them: when the question has words of
    its own beyond the agency ("… trong Phụ lục II", "… về chuyển đổi số"), the plan whose listed
    items hold most of them (then the one search finds first); else the order given (newest first).
    Also whether the question has such words (then items are listed as search finds them, too)."""
    given = list(dict.fromkeys(r.plan.id for r in results))
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
    order = sorted(given, key=lambda pid: (-round(held.get(pid, 0.0), 6), first.get(pid, len(evidence)), given.index(pid)))
    return {pid: i for i, pid in enumerate(order)}, True

