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

from answering import checks
from answering.ranking import query_terms
from knowledge.dates.deadlines import describe, find_deadline, parse_deadline
from knowledge.orgs import names
from knowledge.orgs.agencies import is_note, split_agencies
from knowledge.questions import intent as intents
from knowledge.questions.answer import Answer, Result, render_text
from knowledge.text import fold, squash, squash_folded, words
from store.writes import lexical_terms

if TYPE_CHECKING:
    from answering.focus import Focus
    from answering.knowledge_base import KnowledgeBase

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
    related = merge([], related)  # copies of one document (.txt, .docx, .pdf) shown once
    shown = related[:3]
    text = render_text(f"{reason}. {RELATED}", shown) if shown else reason + "."
    return Answer(q, intent, agency, False, text, related, list(candidates or []), shown=len(shown))


# "bộ nào", "sở nào", "phòng nào": the kind of body asked for, the head word of its name (not
# "tỉnh nào", "xã nào": a place).
_ASKED_HEAD = re.compile(r"\b(bo|so|cuc|vien|truong|phong|ban|trung tam|hoi)\s+nao\b")


def search_hits(
    kb: KnowledgeBase, q: str, intent, focus: Focus, agency: str | None, limit: int = 40, dense: bool = True
) -> list[Result]:
    """Plain search (BM25 + vectors), the named plan's items first, the asked agency's next.
    `dense=False`: keyword evidence only, for answers read from the structured tables (no model)."""
    drop = kb.title_terms(focus.plans) if focus.named else frozenset()
    within = focus.plans if focus.only else None  # the plan named by number, or the chat's plan
    results = kb._results(kb.rank(q, use_dense=dense and intent.diacritics, limit=limit, drop=drop, plans=within), agency)
    key_agency = squash(agency) if agency else ""
    asked = _ASKED_HEAD.search(fold(q))
    head = f"{asked.group(1)} " if asked else ""
    for r in results:
        if r.plan.id in focus.plans:
            r.score *= focus.boost
        if r.plan.id in focus.leaning:  # not named, but its title words point at it most
            r.score *= 1.15
        if agency and (r.role or names_in(key_agency, r.text)):
            r.score *= 1.3
        if (intent.name == intents.WHO_LEADS and r.lead) or (intent.name == intents.WHO_SUPPORTS and r.support):
            r.score *= 1.15
            if head and any(fold(n).startswith(head) for n in (r.lead if intent.name == intents.WHO_LEADS else r.support)):
                r.score *= 1.2  # "do bộ nào đảm nhận": a ministry, not a department
        if intent.name == intents.DEADLINE and r.deadline is not None:  # "… khi nào?": an item giving a time
            r.score *= 1.1
        if agency and r.role == "lead":  # "Sở Xây dựng phải lập xong …": what it leads before what it supports
            r.score *= 1.1
    title_only(kb, q, results)
    results.sort(key=lambda r: -r.score)
    for r in results[:5]:
        own_words(kb, r)
    return results


def title_only(kb: KnowledgeBase, q: str, results: list[Result], head: int = 20) -> None:
    """Lower the items that share with the question only words of their own plan's title ("Trên
    đây là Kế hoạch truyền thông về giảm nghèo …" for "ai bảo báo đài tuyên truyền về giảm
    nghèo"): those words tell which plan, not which item, when the question has words of its own."""
    pairs = {t for t in query_terms(q) if "_" in t}
    if len(pairs) < 2:
        return
    for r in results[:head]:
        title = kb._plan_terms.get(r.plan.id, frozenset())
        if not pairs - title or not pairs & title:  # nothing to lower: the item's words cannot be only title words
            continue
        held = pairs & set(lexical_terms(" ".join([r.text, r.heading, *r.lead, *r.support])))
        if held and held <= title:
            r.score *= 0.85


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
    province asked about, naming the agency asked about (`answering.checks`)."""
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
