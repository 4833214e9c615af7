"""Honest declines: may the first hit be given as the answer to this question?

Beside the question's words (`answering.coverage`) and the number or day asked
(`answering.lacks_asked_fact`), the first hit must hold the kind of value asked (an amount of
money, a phone number, an e-mail address, a person: `knowledge.questions.asked`), belong to the province
the question names, name the agency the question is about (as lead, support, recipient, in its
text, or through a group that includes it: "các sở, ban, ngành" includes Sở Y tế), and its plan
must speak of the question's topic when that topic is another plan's subject ("thiên tai" asked of
a plan on digital transformation). All cheap: regular expressions and a few FTS look-ups.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from answering.ranking import FRAME
from knowledge.orgs import names
from knowledge.questions import asked
from knowledge.questions import intent as intents
from knowledge.questions.answer import Result
from knowledge.text import fold, nfc, squash, words
from store.writes import lexical_terms

if TYPE_CHECKING:
    from answering.knowledge_base import KnowledgeBase

# Words that join or frame others (written with their marks: "bị" is one, "Bí thư" is no pair of
# them), and the levels of government: a pair holding one is no subject.
_FUNCTION = frozenset(
    """và của các những cho với tại từ đến ở là thì mà để trong theo về do bị được sẽ đã đang này kia
    hoặc hay cùng mỗi một có không phải nào gì ai khi tỉnh thành phố huyện quận phường thị ubnd
    nhân dân ủy ban sở bộ""".split()
)
# Word pairs that frame a question (when, who, what kind of duty), never its subject.
_FRAME_PAIRS = frozenset(
    """thoi_diem thoi_gian thoi_han giai_doan bao_gio han_chot hoan_thanh thuc_hien trien_khai nhiem_vu
    ke_hoach trach_nhiem chu_tri phoi_hop bao_cao dinh_ky co_quan don_vi ket_qua tien_do
    hoach_thuc hoach_trien trinh_thuc trinh_trien""".split()
)  # the last four: "kế hoạch thực hiện …", "chương trình triển khai …" name which plan, not a subject
_RAW_WORD = re.compile(
    r"[0-9a-zA-Z\u00c0-\u1ef9]+(?:[&/][0-9a-zA-Z\u00c0-\u1ef9]+)*"
)  # knowledge.text's word
COMMON_SHARE = 0.03  # a word pair in more items than this names no subject


def asked_kind(q: str) -> str | None:
    return asked.asked_kind(q)


def lacks_kind(q: str, result: Result) -> bool:
    """The question asks for money, a phone number, an e-mail or a person the result does not give."""
    kind = asked.asked_kind(q)
    if kind is None:
        return False
    text = " ".join([result.text, result.deadline.text if result.deadline else ""])
    return not asked.holds(kind, text)


def kind_first(q: str, results: list[Result], within: int = 5) -> list[Result]:
    """For a question asking money, a phone number, an e-mail or a person: the first of the top
    results that gives one."""
    if asked.asked_kind(q) is None:
        return results
    for i, r in enumerate(results[:within]):
        if not lacks_kind(q, r):
            return [r, *results[:i], *results[i + 1 :]] if i else results
    return results


def other_province(kb: KnowledgeBase, q: str, result: Result) -> bool:
    """The question names provinces and the result's plan belongs to another one (or, for a phone
    number or e-mail asked, to none)."""
    wanted = names.find_provinces(q)
    if not wanted:
        return False
    profile = kb.catalog().plans.get(result.plan.id)
    if profile is None or profile.province in wanted:
        return False
    # a national plan answers for every province, except a contact it gives (its own hotline, e-mail)
    return profile.province is not None or asked.asked_kind(q) in (asked.PHONE, asked.EMAIL)


def _key(agency: str) -> str:
    return squash(names.without_province(agency)).removesuffix(" tinh").removesuffix(" thanh pho")


def names_agency(agency: str, result: Result) -> bool:
    """The result gives the agency a role, names it, or names a group that includes it."""
    if result.role:
        return True
    key = _key(agency)
    named = [*result.lead, *result.support, *result.recipients]
    if any(key in squash(n) for n in named) or key in squash(
        " ".join([result.text, result.heading])
    ):
        return True
    return bool(names.collective_names(agency, named))


def _topic_terms(kb: KnowledgeBase, q: str, agency: str | None) -> list[str]:
    """Word pairs of the question that are the subject of some plan (in its title)."""
    skip = set(" ".join(fold(p) for p in names.find_provinces(q)).split())
    skip |= set(fold(agency).split()) if agency else set()
    version = kb._snapshots.current.version
    cached = getattr(kb, "_title_pairs", None)
    if cached is None or cached[0] != version:
        pairs: dict[str, set[int]] = {}
        for pid, terms in kb._plan_terms.items():
            for t in terms:
                if "_" in t:
                    pairs.setdefault(t, set()).add(pid)
        cached = (version, pairs)
        kb._title_pairs = cached
    out = []
    raw = _RAW_WORD.findall(nfc(q).lower())  # as written, beside their folded forms
    folded = words(q)
    if len(raw) != len(folded):
        raw, folded = [], []
    for (a, b), (fa, fb) in zip(
        zip(raw, raw[1:], strict=False), zip(folded, folded[1:], strict=False), strict=False
    ):
        t = f"{fa}_{fb}".replace("&", "_").replace("/", "_")
        if (
            t not in cached[1]
            or t in _FRAME_PAIRS
            or fa.isdigit()
            or fb.isdigit()
            or a in _FUNCTION
            or b in _FUNCTION
        ):
            continue
        if fa in skip or fb in skip or all(p in intents.STOPWORDS or p in FRAME for p in (fa, fb)):
            continue
        out.append(t)
    return list(dict.fromkeys(out))


def uncovered_topic(kb: KnowledgeBase, q: str, result: Result, agency: str | None = None) -> bool:
    """A subject of other plans (a word pair of their titles) that the question asks about
    ("thiên tai", "tỉnh lộ"), that the result's plan never mentions and whose words the result
    does not hold, making up half the question's subject pairs or more (a pair formed across two
    words of the question is no subject)."""
    topic = _topic_terms(kb, q, agency)
    if not topic:
        return False
    df = kb.frequencies(topic)
    topic = [
        t for t in topic if df.get(t, 0) <= max(COMMON_SHARE * kb._item_count, 20)
    ]  # "giai đoạn", "hoàn thành"
    hay = set(words(" ".join([result.text, result.heading])))
    candidates = [
        t
        for t in topic
        if t not in kb._plan_terms.get(result.plan.id, ())
        and not all(p in hay for p in t.split("_"))
    ]
    missing = [t for t in candidates[:4] if not kb.plan_has_term(result.plan.id, t)]
    pairs = [t for t in lexical_terms(q) if "_" in t]
    missing = [t for t in missing if not _junction(kb, result.plan.id, pairs, t)]
    return bool(missing) and 2 * len(missing) >= len(topic)


def _junction(kb: KnowledgeBase, plan_id: int, pairs: list[str], term: str) -> bool:
    """The pair joins two words the plan holds ("nội bộ | lĩnh vực"): both pairs around it are in it."""
    i = pairs.index(term)
    if i == 0 or i + 1 >= len(pairs):
        return False
    return kb.plan_has_term(plan_id, pairs[i - 1]) and kb.plan_has_term(plan_id, pairs[i + 1])


def no_pair_covered(kb: KnowledgeBase, q: str, result: Result, least: int = 3) -> bool:
    """The question names its subject in several word pairs the index knows the words of
    ("sửa chữa", "tỉnh lộ", "sạt lở") and the result holds none of them: it is about something
    else, however many single words it shares (a rare word the plans never use weighs nothing
    in `answering.coverage`)."""
    raw = _RAW_WORD.findall(nfc(q).lower())
    folded = words(q)
    if len(raw) != len(folded):
        return False
    pairs = []
    for (a, b), (fa, fb) in zip(
        zip(raw, raw[1:], strict=False), zip(folded, folded[1:], strict=False), strict=False
    ):
        if (
            a in _FUNCTION
            or b in _FUNCTION
            or fa.isdigit()
            or fb.isdigit()
            or f"{fa}_{fb}" in _FRAME_PAIRS
        ):
            continue
        if fa in intents.STOPWORDS or fb in intents.STOPWORDS or fa in FRAME or fb in FRAME:
            continue
        pairs.append((fa, fb))
    if len(pairs) < least:
        return False
    df = kb.frequencies([p for pair in pairs for p in pair])
    pairs = [(a, b) for a, b in pairs if df.get(a, 0) and df.get(b, 0)]
    if len(pairs) < least:
        return False
    hay = words(" ".join([result.text, result.heading]))
    held = {f"{a}_{b}" for a, b in zip(hay, hay[1:], strict=False)}
    return not any(f"{a}_{b}" in held for a, b in pairs)


# "bao lâu một lần", "mấy lần một năm", "định kỳ thế nào": the question asks how often.
_HOW_OFTEN = re.compile(
    r"\bbao lau (mot|1) lan\b|\bmay lan\b|\bdinh ky (the nao|ra sao|nhu the nao|bao lau)\b"
)
_RECURS = re.compile(r"\b(hang|moi) (ngay|tuan|thang|quy|nam)\b|\bdinh ky\b|\bthuong xuyen\b")


def recurs(result: Result) -> bool:
    """The result gives a cycle (its deadline recurs, or its text says "định kỳ", "hằng năm")."""
    if result.deadline is not None and (
        result.deadline.kind == "recurring" or _RECURS.search(fold(result.deadline.text))
    ):
        return True
    return bool(_RECURS.search(fold(result.text)))


def cycle_first(q: str, results: list[Result], within: int = 5) -> list[Result]:
    """For a question asking how often ("báo cáo bao lâu một lần"): the first of the top results
    that gives a cycle (a one-off event's date does not answer it)."""
    if not _HOW_OFTEN.search(fold(q)):
        return results
    for i, r in enumerate(results[:within]):
        if recurs(r):
            return [r, *results[:i], *results[i + 1 :]] if i else results
    return results


def time_first(kb: KnowledgeBase, q: str, results: list[Result], within: int = 5) -> list[Result]:
    """For a question asking when: a first hit giving no time gives way to the first of the top
    results that gives one on the question's subject as well (`coverage` nearly as high); a first
    hit whose time it inherits (a section's "Thời gian thực hiện: …") is followed by the item that
    states it (one look-up)."""
    from answering.paths import coverage  # the answering module imports this one

    if not results:
        return results
    top = results[0]
    if top.deadline is None:
        least = coverage(kb, q, top) - 0.1
        for i, r in enumerate(results[1:within], start=1):
            if r.deadline is not None and coverage(kb, q, r) >= least:
                return [r, *results[:i], *results[i + 1 :]]
        return results
    said = " ".join(top.deadline.text.split())
    if len(said) < 12 or fold(said) in fold(top.text):
        return results
    source = kb.stating(top.plan.id, said)
    if source is None or source.item_id == top.item_id:
        return results
    rest = [r for r in results[1:] if r.item_id != source.item_id]
    return [top, source, *rest]


# "ai phê duyệt …", "cơ quan nào quyết định …": who decides, not who does the work.
_ASKS_DECIDER = re.compile(r"\b(phe duyet|quyet dinh|ky ban hanh)\b")
# A procedure's labelled deciding authority ("Cơ quan có thẩm quyền quyết định: Bộ …").
_DECIDER = re.compile(r"(?i)thẩm quyền (?:quyết định|phê duyệt)\s*:\s*([^.;\n]+)")


def _decider(r: Result) -> str | None:
    """The deciding authority a result names in a labelled field, the label written in its text or
    ending its heading ("… › Cơ quan có thẩm quyền quyết định" over "Chủ tịch Ủy ban nhân dân tỉnh.")."""
    label = r.heading.rsplit("›", 1)[-1].strip()
    m = _DECIDER.search(r.text) or _DECIDER.search(f"{label}: {r.text}")
    return m.group(1).strip() if m else None


def decider_first(
    kb: KnowledgeBase, q: str, results: list[Result], within: int = 10
) -> list[Result]:
    """For a question asking who approves or decides: the first of the top results on the
    question's subject (`coverage` nearly as high as the first hit's, or a part of the block of a
    result holding half the question's words: "III.1.b" of "III.1") that names the deciding authority in a labelled field, with that
    authority as its lead."""
    from answering.paths import coverage  # the answering module imports this one

    if not results or not _ASKS_DECIDER.search(fold(q)) or _decider(results[0]):
        return results
    least = coverage(kb, q, results[0]) - 0.15
    on_subject = [r.section for r in results[:within] if r.section and coverage(kb, q, r) >= 0.5]
    for i, r in enumerate(results[1:within], start=1):
        decider = _decider(r)
        if decider and (
            coverage(kb, q, r) >= least or any(r.section.startswith(f"{s}.") for s in on_subject)
        ):
            r.lead = [decider]
            return [r, *results[:i], *results[i + 1 :]]
    return results
