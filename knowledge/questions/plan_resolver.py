"""Which indexed plan a question means. Pure: plan metadata in, a decision out.

Officials name a plan by its number ("141/KH-UBND", "kế hoạch 141", "NQ 03"), by its topic or
short title with abbreviations ("Kế hoạch CCHC năm 2026"), by province or city, year and kind
("kế hoạch", "quyết định", "nghị quyết", "thông báo" …). `read` reads what a question says about
a plan; `resolve` decides against the plans' profiles (`knowledge.questions.plan_catalog`): the
plans named (by number: certain; by title: likely), a plan named that is not indexed, or none
named.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from knowledge.orgs import names
from knowledge.questions.plan_abbreviations import expand
from knowledge.questions.plan_catalog import (
    KIND_WORD,
    KINDS,
    NUMBER,
    NUMBER_AFTER,
    SHORT,
    SHORT_WORD,
    Catalog,
    title_pairs,
    years_in,
)
from knowledge.questions.plan_citations import implemented, issued_as_written, written_issuer
from knowledge.text import fold, has_diacritics, nfc, words

# "kế hoạch này", "văn bản trên", "nhiệm vụ đó": the plan the chat was talking about.
_BACK = re.compile(
    rf"\b({KIND_WORD}|van ban|phu luc|nhiem vu|noi dung)\s+(nay|do|tren|noi tren|vua (?:roi|neu|hoi)|ay)\b"
)
# Words that end the name of a plan in a question ("Kế hoạch CCHC năm 2026 yêu cầu …"): matched
# with their diacritics ("có" ends a name, "cơ sở" does not); without, only the unambiguous ones.
_NAME_END = re.compile(
    r"(?<!\w)(phải|yêu cầu|quy định|giao(?! thông| dịch| lưu| thương| nhận| đất)|có|do|được|là|thì|cần|sẽ|đã|đạt|ai|nào|gì|bao nhiêu|khi|hạn|"
    r"những|các|nêu|ghi|nói|hướng dẫn|trong đó)(?!\w)|[?!.;:]"
)
_NAME_END_PLAIN = re.compile(r"\b(phai|yeu cau|quy dinh|ai|nao|gi|bao nhieu|nhung|cac)\b|[?!.;:]")
_NAMED = re.compile(rf"(?<![a-z0-9&])({KIND_WORD}|{SHORT_WORD})(?![a-z0-9&])")


@dataclass(frozen=True)
class Asked:
    """What a question says about a plan."""

    numbers: tuple[tuple[str, str, str], ...]  # (digits, kind code or "", as written)
    implemented: frozenset[str]  # digits of the documents a plan is named as implementing
    issuers: tuple[tuple[str, str, str], ...]  # (digits, issuer code, issuer words) as written
    kinds: frozenset[str]
    terms: frozenset[str]  # word pairs of the names it gives (abbreviations spelled out)
    abbreviations: tuple[str, ...]  # the topic abbreviations it used ("cchc")
    spans: tuple[str, ...]  # the names as written ("Kế hoạch CCHC năm 2026")
    years: frozenset[int]
    provinces: tuple[str, ...]
    back: bool  # "kế hoạch này", "văn bản trên": the plan already talked about
    folded: str  # the question folded, abbreviations spelled out


def read(question: str, catalog: Catalog, ignore: Iterable[str] = (), whole: bool = False) -> Asked:
    """What `question` says about a plan. `ignore`: folded words that name something else (an
    agency matched in it); `whole`: the text is only a plan's name (/kehoach …)."""
    folded = fold(question)
    lowered, marked = nfc(question).lower(), has_diacritics(question)
    numbers = []
    cited: set[str] = set()
    issuers: list[tuple[str, str, str]] = []
    for m in NUMBER_AFTER.finditer(folded):
        kind = KINDS.get(m.group("kind")) or SHORT.get(m.group("kind"), "")
        if implemented(folded[: m.start()], kind):  # "kế hoạch thực hiện Nghị quyết 57"
            cited.add(m.group("n").lstrip("0") or "0")
        suffix = re.match(r"(?:\s*/\s*|-)[a-z0-9]+(?:\s*[-/]\s*[a-z0-9]+)*", folded[m.end() :])
        end = m.end() + (suffix.end() if suffix else 0)
        numbers.append((m.group("n").lstrip("0") or "0", kind, question[m.start() : end]))
        written = written_issuer(folded[m.end() : end], folded[end:])
        if written:
            issuers.append((numbers[-1][0], *written))
    for m in NUMBER.finditer(folded):
        kind = SHORT.get(m.group("kind"), "")
        if kind or m.group("kind") in ("ubnd", "ttg", "cp"):
            numbers.append((m.group("n").lstrip("0") or "0", kind, question[m.start() : m.end()]))
    spelled, used = expand(question, catalog.abbreviations)
    spans: list[str] = []
    if whole:
        spans.append(question)
    else:
        for m in _NAMED.finditer(folded):
            rest = folded[m.end() :]
            if re.match(r"\s+(nay|do|tren|noi tren|ay)\b", rest):
                continue
            stop = _NAME_END.search(lowered[m.end() :]) if marked else _NAME_END_PLAIN.search(rest)
            end = m.end() + (stop.start() if stop else len(rest))
            end = min(end, m.end() + len(" ".join(rest.split()[:14])) + 1)
            spans.append(question[m.start() : end].strip(" ,-–"))
    if whole:
        numbers += [
            (m.group(1).lstrip("0"), "", m.group(1))
            for m in re.finditer(r"(?<![\d/])(\d{2,5})(?![\d/])", folded)
        ]
    text = _blank(" ".join(spans), ignore)
    provinces = tuple(names.find_provinces(question))
    named_text, span_used = expand(text, catalog.abbreviations)
    for p in provinces:
        named_text = named_text.replace(fold(p), " ")
    kinds = {KINDS.get(k) or SHORT.get(k, "") for k in _NAMED.findall(folded)} - {""}
    return Asked(
        numbers=tuple(numbers),
        implemented=frozenset(cited),
        issuers=tuple(issuers),
        kinds=frozenset(kinds),
        terms=frozenset(title_pairs(named_text)),
        abbreviations=tuple(dict.fromkeys(k for k in span_used if k in used)),
        spans=tuple(spans),
        years=frozenset(years_in(fold(text))),
        provinces=provinces,
        back=bool(_BACK.search(folded)),
        folded=f" {' '.join(words(spelled))} ",
    )


@dataclass(frozen=True)
class ChatPlan:
    """The plan a chat is talking about: pinned there (/kehoach), or its last answer's."""

    plan_id: int
    pinned: bool = False


@dataclass(frozen=True)
class Resolved:
    """The plans a question names (with their copies), how, and a plan named but not indexed."""

    plans: frozenset[int] = frozenset()
    how: str = ""  # "number" | "title" | "cited" (a document its title cites) | "province" | ""
    missing: str = ""  # "Kế hoạch 141/KH-UBND": named by the question, not indexed
    back: bool = False
    ranked: tuple[int, ...] = ()  # plan ids, the likeliest first (for a choice)
    implementing: bool = False  # "cited": named as the plan implementing that document
    leaning: frozenset[int] = frozenset()  # not named, but its title words point at these most


def _blank(text: str, parts: Iterable[str]) -> str:
    """`text` with the folded `parts` blanked out (fold keeps offsets: the original case stays)."""
    folded = fold(text)
    for part in parts:
        at = folded.find(part) if part else -1
        while at != -1:
            text = text[:at] + " " * len(part) + text[at + len(part) :]
            folded = folded[:at] + " " * len(part) + folded[at + len(part) :]
            at = folded.find(part, at + len(part))
    return text


def _narrow(ids: set[int], asked: Asked, catalog: Catalog) -> set[int]:
    """Among plans sharing a number, those of the province, kind, year and words asked."""
    for keep in (
        lambda p: p.province in asked.provinces,
        lambda p: bool(p.kinds & {k for _, k, _ in asked.numbers if k}),
        lambda p: bool(p.years & asked.years),
        lambda p: bool(p.terms & asked.terms),
    ):
        narrowed = {i for i in ids if keep(catalog.plans[i])}
        if narrowed:
            ids = narrowed
    return ids


def _title_scores(asked: Asked, catalog: Catalog, pool: set[int] | None) -> dict[int, float]:
    n = max(catalog.docs, 2)
    scores: dict[int, float] = defaultdict(float)
    for t in asked.terms:
        for pid in catalog.by_term.get(t, ()):
            if pool is None or pid in pool:
                scores[pid] += math.log(n / catalog.df[t])
    for p in catalog.aliased:
        if (pool is None or p.id in pool) and any(
            f" {alias} " in asked.folded for alias in p.aliases
        ):
            scores[p.id] += 2 * math.log(n)
    for key in asked.abbreviations:
        for pid in catalog.by_abbreviation.get(key, ()):
            if pool is None or pid in pool:
                scores[pid] += 0.5 * math.log(n)
    if asked.kinds:
        for pid in list(scores):
            if catalog.plans[pid].kinds & asked.kinds:
                scores[pid] += 0.3 * math.log(n)
    return dict(scores)


def resolve(
    asked: Asked, catalog: Catalog, known: Callable[[str], bool] = lambda n: False
) -> Resolved:
    """The plans `asked` names. `known(digits)`: whether the index mentions that number anywhere
    else (an item's text): a number met there is no plan missing from the index."""
    if len(catalog.plans) < 2 and not asked.numbers:
        return Resolved(back=asked.back, ranked=tuple(catalog.plans))
    in_province = {pid for pid, p in catalog.plans.items() if p.province in asked.provinces}
    implementing = {d for d in asked.implemented if catalog.by_implemented.get(d)}
    own = {
        pid
        for digits, _, _ in asked.numbers
        if digits not in implementing
        for pid in catalog.by_number.get(digits, ())
        if not catalog.by_implemented.get(digits)
        or issued_as_written(catalog.plans[pid].doc, digits, asked.issuers, SHORT)
    }
    if (
        own
        and asked.provinces
        and all(catalog.plans[i].province not in (None, *asked.provinces) for i in own)
    ):  # "Kế hoạch 141 của Đồng Nai": the index has a 141 of other provinces only
        written = max((w for _, k, w in asked.numbers if k), key=len, default="")
        if written:
            return Resolved(missing=f"{written} ({', '.join(asked.provinces)})", back=asked.back)
    if own:
        chosen = catalog.copies(_narrow(own, asked, catalog))
        return Resolved(chosen, "number", back=asked.back, ranked=tuple(sorted(chosen)))
    if implementing:  # "kế hoạch thực hiện Quyết định 7619": the plans implementing it
        doing = {pid for d in implementing for pid in catalog.by_implemented[d]}
        chosen = catalog.copies(_narrow(doing, asked, catalog))
        return Resolved(
            chosen, "cited", back=asked.back, ranked=tuple(sorted(chosen)), implementing=True
        )
    cited = {pid for digits, _, _ in asked.numbers for pid in catalog.by_ref.get(digits, ())}
    if cited:
        chosen = catalog.copies(_narrow(cited, asked, catalog))
        return Resolved(chosen, "cited", back=asked.back, ranked=tuple(sorted(chosen)))
    absent = [
        d for d, kind, _ in asked.numbers if kind and not 1990 <= int(d) <= 2040 and not known(d)
    ]
    missing = max(
        (w for d, _, w in asked.numbers if absent and d == absent[0]), key=len, default=""
    )
    if missing:
        return Resolved(missing=missing, back=asked.back)
    n = max(catalog.docs, 2)
    scores = _title_scores(asked, catalog, in_province or None)
    ranked = sorted(scores, key=lambda pid: (-scores[pid], pid))
    top = scores[ranked[0]] if ranked else 0.0
    if top >= 1.5 * math.log(n):
        chosen = {pid for pid in ranked if scores[pid] >= 0.8 * top}
        rest = max((s for pid, s in scores.items() if pid not in chosen), default=0.0)
        documents = {catalog.plans[pid].doc for pid in chosen}
        if len(documents) <= max(3, n // 10) and top >= 1.5 * rest:
            if asked.years:
                dated = {pid for pid in chosen if catalog.plans[pid].years & asked.years}
                if not dated:
                    return Resolved(
                        missing=asked.spans[0] if asked.spans else "",
                        back=asked.back,
                        ranked=tuple(ranked[:5]),
                    )
                chosen = dated or chosen
            return Resolved(catalog.copies(chosen), "title", back=asked.back, ranked=tuple(ranked))
    if (
        asked.abbreviations
        and asked.spans
        and not any(catalog.about(key) for key in asked.abbreviations)
    ):  # "Kế hoạch CCHC …" and no plan is about cải cách hành chính
        return Resolved(missing=asked.spans[0], back=asked.back)
    leaning = _leaning(scores, ranked, catalog, n)
    if in_province and len(in_province) < len(catalog.plans):
        return Resolved(
            frozenset(in_province),
            "province",
            back=asked.back,
            ranked=tuple(ranked),
            leaning=leaning,
        )
    return Resolved(back=asked.back, ranked=tuple(ranked), leaning=leaning)


def _leaning(
    scores: dict[int, float], ranked: list[int], catalog: Catalog, n: int
) -> frozenset[int]:
    """The plans a question's title words point at most when they name none for certain ("Sở X
    làm gì trong kế hoạch chuyển đổi số giao thông" among several plans on chuyển đổi số): those
    scoring near the best, when the best holds at least one rare title pair and they are few."""
    top = scores[ranked[0]] if ranked else 0.0
    if top < math.log(n):
        return frozenset()
    near = [pid for pid in ranked if scores[pid] >= 0.8 * top]
    if len({catalog.plans[pid].doc for pid in near}) > max(3, n // 10):
        return frozenset()
    return catalog.copies(near)
