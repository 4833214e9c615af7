"""What each indexed plan offers for being named, read once per index generation. Pure.

`profile` reads one plan (its number, the numbers its title cites, title words, the abbreviations
and short names its own text defines, province, years, kinds); `Catalog` indexes the profiles
for `knowledge.questions.plan_resolver`, which reads a question and decides which plan it means.
Also the kind words and number patterns both sides read documents' numbers with.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from knowledge.orgs import names
from knowledge.questions.plan_abbreviations import COMMON, learn
from knowledge.questions.plan_citations import implementing_line
from knowledge.text import fold, words

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
SHORT = {
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
KIND_WORD = "|".join(sorted(KINDS, key=len, reverse=True))
SHORT_WORD = "|".join(SHORT)

# "Kế hoạch số 141", "KH 179", "NQ 03", "Quyết định số: 2665" (a number after a kind word) …
NUMBER_AFTER = re.compile(
    rf"(?<![a-z0-9&])(?P<kind>{KIND_WORD}|{SHORT_WORD}|van ban)\s*(?:so\s*)?:?\s*(?P<n>\d{{2,5}})(?![\d&])"
    r"(?!\s*[-–]\s*(?:19|20)\d\d)(?!\s*/\s*\d{1,2}\b)"
)
# … and a document number: "141/KH-UBND", "57/2025/NQ-HĐND", "25-CT/TW", "03/NQ-CP".
NUMBER = re.compile(
    r"(?<![\d/])(?P<n>\d{1,5})\s*(?:/\s*(?:19|20)\d\d\s*)?[/-]\s*(?P<kind>[a-z]{1,5})(?=[-/\s.,;)]|$)"
)
_YEAR = re.compile(r"(?<![\d/.-])((?:19|20)\d\d)(?![\d/])")
_RANGE = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-–]\s*((?:19|20)\d\d)(?!\d)")
_TITLE_KIND = re.compile(rf"^\W*({KIND_WORD})\b|\b(?:phe duyet|ban hanh) ({KIND_WORD})\b")
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


def title_pairs(text: str) -> set[str]:
    tokens = [t.replace("&", "_") for t in words(text)]
    return (
        {f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)} - _TITLE_STOP - _KIND_PAIRS
    )


def years_in(text: str) -> set[int]:
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
    numbers = {m.group("n").lstrip("0") for m in NUMBER.finditer(f_number)}
    own = re.search(r"\bs[oố]\s*:\s*(\d{1,5})\s*/", head[:1500], flags=re.I)  # "Số: 179/KH-UBND"
    if own:
        numbers.add(own.group(1).lstrip("0"))
    kinds = {m.group("kind") for m in NUMBER.finditer(f_number)} & set(SHORT)
    f_title = fold(title)
    kinds |= {KINDS[m.group(1) or m.group(2)] for m in _TITLE_KIND.finditer(f_title)}
    learned = learn(head)
    cited = " ".join([f_title, *learned.aliases])  # "(sau đây gọi tắt là Nghị quyết số 57-NQ/TW)"
    refs = {m.group("n").lstrip("0") for m in NUMBER.finditer(cited)}
    refs |= {m.group("n").lstrip("0") for m in NUMBER_AFTER.finditer(cited)}
    preamble = implementing_line(head, KIND_WORD)
    implements = refs | {m.group("n").lstrip("0") for m in NUMBER.finditer(preamble)}
    implements |= {m.group("n").lstrip("0") for m in NUMBER_AFTER.finditer(preamble)}
    aliases = frozenset(a for a in learned.aliases if not any(c.isdigit() for c in a))
    terms = title_pairs(f"{title} {head[:800]}")
    for subject in learned.subjects:
        terms |= title_pairs(subject)
    for expansion in learned.abbreviations.values():
        terms |= title_pairs(expansion)
    province = names.plan_province(f"{issuer} {title} {head[:2500]}")
    years = years_in(f"{title} {head[:300]}") | ({year} if year else set())
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
        pairs = title_pairs(self.abbreviations.get(key, ""))
        return bool(pairs) and bool(set.intersection(*(self.by_term.get(t, set()) for t in pairs)))

    def copies(self, ids: Iterable[int]) -> frozenset[int]:
        """These plans and the other copies of the same documents."""
        docs = {self.plans[i].doc for i in ids if i in self.plans}
        return frozenset(p.id for p in self.plans.values() if p.doc in docs)
