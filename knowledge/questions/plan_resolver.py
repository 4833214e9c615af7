"""Which indexed plan a question means. Pure: plan metadata in, a decision out.

Officials name a plan by its number ("141/KH-UBND", "kế hoạch 141", "NQ 03"), by its topic or
short title with abbreviations ("Kế hoạch CCHC năm 2026"), by province or city, year and kind
("kế hoạch", "quyết định", "nghị quyết", "thông báo" …). `profile` reads what one plan offers
(its number, the numbers its title cites, title words, the abbreviations and short names its
own text defines, province, years, kinds); `Catalog` indexes the profiles once per index
generation; `read` reads what a question says about a plan; `resolve` decides: the plans named
(by number: certain; by title: likely), a plan named that is not indexed, or none named.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from knowledge.orgs import names
from knowledge.questions.plan_abbreviations import COMMON, expand, learn
from knowledge.questions.plan_citations import (
    implemented,
    implementing_line,
    issued_as_written,
    written_issuer,
)
from knowledge.text import fold, has_diacritics, nfc, words

# Kind words, folded → the kind code documents use in their numbers.
KINDS = {
    "ke hoach": "kh",
    "quyet dinh": "qd",
    "nghi quyet": "nq",
    "chi thi": "ct",
    "thong bao": "tb",
    "cong van": "cv",
    "cong dien": "cd",
    "chuong trinh": "ctr",
    "de an": "da",
    "thong tu": "tt",
    "nghi dinh": "nd",
    "phuong an": "pa",
    "chien luoc": "cl",
    "quy che": "qc",
}  # not "dự án": "Dự án 7", "Tiểu dự án 4" are parts of a plan, not documents
_SHORT = {
    "kh": "kh",
    "qd": "qd",
    "nq": "nq",
    "tb": "tb",
    "cv": "cv",
    "cd": "cd",
    "tt": "tt",
    "nd": "nd",
    "ct": "ct",
}
_KIND_WORD = "|".join(sorted(KINDS, key=len, reverse=True))
_SHORT_WORD = "|".join(_SHORT)

# "Kế hoạch số 141", "KH 179", "NQ 03", "Quyết định số: 2665" (a number after a kind word) …
_NUMBER_AFTER = re.compile(
    rf"(?<![a-z0-9&])(?P<kind>{_KIND_WORD}|{_SHORT_WORD}|van ban)\s*(?:so\s*)?:?\s*(?P<n>\d{{2,5}})(?![\d&])"
    r"(?!\s*[-–]\s*(?:19|20)\d\d)(?!\s*/\s*\d{1,2}\b)"
)
# … and a document number: "141/KH-UBND", "57/2025/NQ-HĐND", "25-CT/TW", "03/NQ-CP".
_NUMBER = re.compile(
    r"(?<![\d/])(?P<n>\d{1,5})\s*(?:/\s*(?:19|20)\d\d\s*)?[/-]\s*(?P<kind>[a-z]{1,5})(?=[-/\s.,;)]|$)"
)
_YEAR = re.compile(r"(?<![\d/.-])((?:19|20)\d\d)(?![\d/])")
_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d)(?!\d)")
# "kế hoạch này", "văn bản trên", "nhiệm vụ đó": the plan the chat was talking about.
_BACK = re.compile(
    rf"\b({_KIND_WORD}|van ban|phu luc|nhiem vu|noi dung)\s+(nay|do|tren|noi tren|vua (?:roi|neu|hoi)|ay)\b"
)
# Words that end the name of a plan in a question ("Kế hoạch CCHC năm 2026 yêu cầu …"): matched
# with their diacritics ("có" ends a name, "cơ sở" does not); without, only the unambiguous ones.
_NAME_END = re.compile(
    r"(?<!\w)(phải|yêu cầu|quy định|giao(?! thông| dịch| lưu| thương| nhận| đất)|có|do|được|là|thì|cần|sẽ|đã|đạt|ai|nào|gì|bao nhiêu|khi|hạn|"
    r"những|các|nêu|ghi|nói|hướng dẫn|trong đó)(?!\w)|[?!.;:]"
)
_NAME_END_PLAIN = re.compile(r"\b(phai|yeu cau|quy dinh|ai|nao|gi|bao nhieu|nhung|cac)\b|[?!.;:]")
_TITLE_KIND = re.compile(rf"^\W*({_KIND_WORD})\b|\b(?:phe duyet|ban hanh) ({_KIND_WORD})\b")
_NAMED = re.compile(rf"(?<![a-z0-9&])({_KIND_WORD}|{_SHORT_WORD})(?![a-z0-9&])")
_TITLE_STOP = {
    "ke_hoach",
    "thuc_hien",
    "trien_khai",
    "ve_viec",
    "tiep_tuc",
    "nang_cao",
    "tinh_hinh",
    "hinh_moi",
}
_KIND_PAIRS = {k.replace(" ", "_") for k in KINDS}


def _pairs(text: str) -> set[str]:
    tokens = [t.replace("&", "_") for t in words(text)]
    return (
        {f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)} - _TITLE_STOP - _KIND_PAIRS
    )


def _years(text: str) -> set[int]:
    found = {int(y) for y in _YEAR.findall(text)}
    for a, b in _RANGE.findall(text):
        if 0 <= int(b) - int(a) <= 20:
            found.update(range(int(a), int(b) + 1))
    return found


@dataclass(frozen=True)
class PlanMeta:
    """What the resolver knows of one indexed plan."""

    id: int
    doc: str  # copies of one document (.txt, .docx, .pdf) share it
    numbers: frozenset[str]  # its own number(s), leading digits without zeros: "141"
    kinds: frozenset[str]  # "kh", "qd", …: from its number and title
    refs: frozenset[str]  # numbers of the documents its title cites ("thực hiện Quyết định 1899")
    terms: frozenset[str]  # folded word pairs of its title, head and the subjects it defines
    province: str | None
    years: frozenset[int]
    abbreviations: Mapping[str, str] = field(default_factory=dict)
    aliases: frozenset[str] = frozenset()  # short names it gives itself ("chuong trinh 1237")
    implements: frozenset[str] = frozenset()  # refs and the documents its preamble implements


def profile(
    pid: int, title: str, number: str, issuer: str, year: int | None, head: str
) -> PlanMeta:
    """One plan's profile from its metadata and the start of its text (`head`)."""
    f_number = fold(number)
    numbers = {m.group("n").lstrip("0") for m in _NUMBER.finditer(f_number)}
    own = re.search(r"\bs[oố]\s*:\s*(\d{1,5})\s*/", head[:1500], flags=re.I)  # "Số: 179/KH-UBND"
    if own:
        numbers.add(own.group(1).lstrip("0"))
    kinds = {m.group("kind") for m in _NUMBER.finditer(f_number)} & set(_SHORT)
    f_title = fold(title)
    kinds |= {KINDS[m.group(1) or m.group(2)] for m in _TITLE_KIND.finditer(f_title)}
    learned = learn(head)
    cited = " ".join([f_title, *learned.aliases])  # "(sau đây gọi tắt là Nghị quyết số 57-NQ/TW)"
    refs = {m.group("n").lstrip("0") for m in _NUMBER.finditer(cited)}
    refs |= {m.group("n").lstrip("0") for m in _NUMBER_AFTER.finditer(cited)}
    preamble = implementing_line(head, _KIND_WORD)
    implements = refs | {m.group("n").lstrip("0") for m in _NUMBER.finditer(preamble)}
    implements |= {m.group("n").lstrip("0") for m in _NUMBER_AFTER.finditer(preamble)}
    aliases = frozenset(a for a in learned.aliases if not any(c.isdigit() for c in a))
    terms = _pairs(f"{title} {head[:800]}")
    for subject in learned.subjects:
        terms |= _pairs(subject)
    for expansion in learned.abbreviations.values():
        terms |= _pairs(expansion)
    province = names.plan_province(f"{issuer} {title} {head[:2500]}")
    years = _years(f"{title} {head[:300]}") | ({year} if year else set())
    until = re.search(r"\bden (?:het )?(?:nam )?((?:19|20)\d\d)\b", f_title)
    if year and until and 0 <= int(until.group(1)) - year <= 20:  # "… đến năm 2030", issued 2025
        years |= set(range(year, int(until.group(1)) + 1))
    doc = f"{f_number}|{fold(issuer)}" if number else f"#{pid}"
    return PlanMeta(
        pid,
        doc,
        frozenset(numbers),
        frozenset(kinds),
        frozenset(refs - numbers),
        frozenset(terms),
        province,
        frozenset(years),
        dict(learned.abbreviations),
        aliases,
        frozenset(implements - numbers),
    )


class Catalog:
    """The plans' profiles, indexed for resolving (built once per index generation)."""

    def __init__(self, plans: Iterable[PlanMeta]) -> None:
        self.plans = {p.id: p for p in plans}
        self.docs = len({p.doc for p in self.plans.values()})
        self.by_number: dict[str, set[int]] = defaultdict(set)
        self.by_ref: dict[str, set[int]] = defaultdict(set)
        self.by_implemented: dict[str, set[int]] = defaultdict(set)
        self.by_term: dict[str, set[int]] = defaultdict(set)
        self.abbreviations = dict(COMMON)
        self.by_abbreviation: dict[str, set[int]] = defaultdict(set)
        for p in self.plans.values():
            for n in p.numbers:
                self.by_number[n].add(p.id)
            for n in p.refs:
                self.by_ref[n].add(p.id)
            for n in p.implements:
                self.by_implemented[n].add(p.id)
            for t in p.terms:
                self.by_term[t].add(p.id)
            for key, expansion in p.abbreviations.items():
                self.abbreviations.setdefault(key, expansion)
                self.by_abbreviation[key].add(p.id)
        self.aliased = [p for p in self.plans.values() if p.aliases]
        self.df = {t: len({self.plans[i].doc for i in ids}) for t, ids in self.by_term.items()}

    def about(self, key: str) -> bool:
        """Some plan defines the abbreviation `key`, or holds its spelled-out words in its title."""
        if self.by_abbreviation.get(key):
            return True
        pairs = _pairs(self.abbreviations.get(key, ""))
        return bool(pairs) and bool(set.intersection(*(self.by_term.get(t, set()) for t in pairs)))

    def copies(self, ids: Iterable[int]) -> frozenset[int]:
        """These plans and the other copies of the same documents."""
        docs = {self.plans[i].doc for i in ids if i in self.plans}
        return frozenset(p.id for p in self.plans.values() if p.doc in docs)


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
    for m in _NUMBER_AFTER.finditer(folded):
        kind = KINDS.get(m.group("kind")) or _SHORT.get(m.group("kind"), "")
        if implemented(folded[: m.start()], kind):  # "kế hoạch thực hiện Nghị quyết 57"
            cited.add(m.group("n").lstrip("0") or "0")
        suffix = re.match(r"(?:\s*/\s*|-)[a-z0-9]+(?:\s*[-/]\s*[a-z0-9]+)*", folded[m.end() :])
        end = m.end() + (suffix.end() if suffix else 0)
        numbers.append((m.group("n").lstrip("0") or "0", kind, question[m.start() : end]))
        written = written_issuer(folded[m.end() : end], folded[end:])
        if written:
            issuers.append((numbers[-1][0], *written))
    for m in _NUMBER.finditer(folded):
        kind = _SHORT.get(m.group("kind"), "")
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
    kinds = {KINDS.get(k) or _SHORT.get(k, "") for k in _NAMED.findall(folded)} - {""}
    return Asked(
        numbers=tuple(numbers),
        implemented=frozenset(cited),
        issuers=tuple(issuers),
        kinds=frozenset(kinds),
        terms=frozenset(_pairs(named_text)),
        abbreviations=tuple(dict.fromkeys(k for k in span_used if k in used)),
        spans=tuple(spans),
        years=frozenset(_years(fold(text))),
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
        or issued_as_written(catalog.plans[pid].doc, digits, asked.issuers, _SHORT)
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
