"""Agency names: a canonical registry with aliases, abbreviations and collective names.

Names are compared on a "squashed" key (diacritics folded, đ→d, lower case, punctuation
dropped), exactly first, then with rapidfuzz for typos. The canonical spelling (with
diacritics) is what users see. Names met in indexed plans can be added at run time, so a
unit the static list does not know ("Ban QLDA&TXD CTDD và CN") is still found. The static list
itself (names, aliases, head words) is `knowledge.orgs.agency_list`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from knowledge.model import AgencyRef
from knowledge.orgs.agency_list import HEAD_WORDS, STATIC_ENTRIES, AgencyEntry
from knowledge.orgs.agency_patterns import name_end, same_level
from knowledge.text import clean_spaces, fold, has_diacritics, squash, squash_folded, tone_key

_HEAD_RE = re.compile(
    r"(?:" + "|".join(re.escape(fold(w)) for w in sorted(HEAD_WORDS, key=len, reverse=True)) + r")\b"
)
_LEVEL_AFTER = re.compile(r"\s+(thanh pho|tp|tinh|huyen|quan|thi xa)\b")
_LEVEL_TAIL = re.compile(r"\s+(?:thanh pho|tinh|huyen|quan|thi xa)$")
_GROUP_RE = re.compile(r"^(?:tat ca cac|cac|nhung)\s+")
# Text that is a note, not an agency ("Đã phê duyệt chủ trương đầu tư").
_NOTE_RE = re.compile(r"^(da|dang|chua|khong|hoan thanh|phe duyet|theo|ghi chu|x)\b")


@dataclass
class Mention:
    start: int
    end: int
    ref: AgencyRef


@dataclass
class QueryMatch:
    name: str
    score: float
    collective: bool = False
    matched: str = ""  # the words of the question that matched


@dataclass
class AgencyRegistry:
    entries: list[AgencyEntry] = field(default_factory=lambda: list(STATIC_ENTRIES))

    def __post_init__(self) -> None:
        self._by_key: dict[str, AgencyEntry] = {}
        self._first_words: dict[str, set[str]] = {}  # key → first words of its aliases (tone_key)
        self._alias_patterns: set[str] = set()
        self._pattern: _AliasMatcher | None = None
        for entry in self.entries:
            self._index(entry)
        # Names added while parsing go to a small second pattern, so the big one is compiled
        # once per process (re caches it) instead of after every added name.
        self._base = tuple(sorted(self._alias_patterns, key=len, reverse=True))
        self._alias_patterns = set()

    def _index(self, entry: AgencyEntry) -> None:
        for alias in (entry.name, *entry.aliases):
            key = squash(alias)
            if not key:
                continue
            if key not in self._by_key:
                self._by_key[key] = entry
            if self._by_key[key] is entry:
                self._first_words.setdefault(key, set()).add(tone_key(alias.split()[0]))
                self._alias_patterns.add(_alias_pattern(alias))
        self._pattern = None

    # -- building ---------------------------------------------------------------------------
    def add_name(self, name: str, collective: bool = False) -> AgencyEntry:
        """Register a name met in a plan (no-op when it is already known)."""
        key = squash(name)
        if key in self._by_key:
            return self._by_key[key]
        entry = AgencyEntry(clean_spaces(name), (), collective)
        self.entries.append(entry)
        self._index(entry)
        return entry

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def entry(self, name: str) -> AgencyEntry | None:
        return self._by_key.get(squash(name))

    # -- canonical names --------------------------------------------------------------------
    def canonical(self, raw: str) -> AgencyRef:
        """The registry name for an agency as written in a plan (exact, then fuzzy)."""
        cleaned = clean_agency_text(raw)
        key = squash(cleaned)
        entry = self._by_key.get(key)
        if entry is None:
            stripped = re.sub(r"\b(co )?lien quan$|\btinh$|\bhuyen$", "", key).strip()
            entry = self._by_key.get(stripped)
        if entry is None and len(key) >= 6:
            for scorer in (fuzz.ratio, fuzz.token_sort_ratio):
                best = process.extractOne(key, list(self._by_key), scorer=scorer, score_cutoff=90)
                if best and _same_head(key, best[0]):
                    entry = self._by_key[best[0]]
                    break
        if entry is not None and not same_level(cleaned, entry.name):
            entry = None  # "UBND cấp xã" is no group of districts, "… Thành ủy" no "… Tỉnh ủy"
        if entry is None:
            collective = bool(re.match(r"(cac|tat ca|nhung)\b", key))
            return AgencyRef(name=cleaned, raw=clean_spaces(raw), collective=collective)
        return AgencyRef(name=entry.name, raw=clean_spaces(raw), collective=entry.collective)

    # -- mentions in prose ------------------------------------------------------------------
    def _matchers(self) -> list[_AliasMatcher]:
        if self._pattern is None and self._alias_patterns:
            self._pattern = _matcher(tuple(sorted(self._alias_patterns, key=len, reverse=True)))
        base = _matcher(self._base)
        return [base, self._pattern] if self._pattern is not None else [base]

    def _matches(self, folded: str) -> list[tuple[int, int, str]]:
        """Alias matches in folded text, left to right, longest first at a position, no overlaps."""
        matchers = self._matchers()
        hits = [hit for matcher in matchers for hit in matcher.finditer(folded)]
        if len(matchers) > 1:
            hits.sort(key=lambda h: (h[0], h[0] - h[1]))
        out: list[tuple[int, int, str]] = []
        last = -1
        for hit in hits:
            if hit[0] >= last:
                out.append(hit)
                last = hit[1]
        return out

    def find_mentions(self, text: str, folded: str | None = None) -> list[Mention]:
        """Agencies named in `text`, left to right, longest alias first, no overlaps.

        A name of one agency starts with a capital letter ("cơ sở y tế" is no Sở Y tế, "cán bộ y
        tế" no Bộ Y tế, "toàn tỉnh đoàn kết" no Tỉnh Đoàn); collective names ("các sở, ngành") may
        not. A first word written with other diacritics than the alias's is another word ("số",
        "bảo tính").
        """
        folded = fold(text) if folded is None else folded
        found: list[Mention] = []
        for start, end, matched in self._matches(folded):
            key = squash_folded(matched)
            entry = self._by_key.get(key)
            if entry is None:
                continue
            raw = text[start:end]
            if not entry.collective and not (raw[:1].isupper() or raw[:1].isdigit()):
                continue
            first = raw.split()[0] if raw.split() else raw
            if has_diacritics(first) and tone_key(first) not in self._first_words.get(key, ()):
                continue
            found.append(Mention(start, end, AgencyRef(entry.name, raw, entry.collective)))
        return found

    def _at_level(self, entry: AgencyEntry, after: str) -> QueryMatch | None:
        """"BHXH Thành phố" in a question: the plans' "Bảo hiểm xã hội Thành phố" when one names it,
        rather than the entry of another level the abbreviation stands for."""
        level = _LEVEL_AFTER.match(after)
        if not level:
            return None
        place = "thanh pho" if level.group(1) == "tp" else level.group(1)
        for alias in (entry.name, *entry.aliases):
            stem = _LEVEL_TAIL.sub("", squash(alias))
            found = self._by_key.get(f"{stem} {place}")
            if found is not None:
                return QueryMatch(found.name, 100.0, found.collective, f"{stem} {place}")
        return None

    # -- questions --------------------------------------------------------------------------
    def match_query(self, question: str, limit: int = 3) -> list[QueryMatch]:
        """Agencies a question names, best first; tolerant of typos and missing diacritics.

        An exact alias wins. Otherwise every window of 1–8 words is compared with every alias
        (rapidfuzz ratio); candidates within a few points of the best are all returned, so the
        caller can ask the user to choose.
        """
        tokens = squash(question).split()
        if not tokens:
            return []
        joined = " ".join(tokens)
        exact: list[QueryMatch] = []
        for _, end, matched in self._matches(joined):
            entry = self._by_key.get(squash(matched))
            if entry:
                exact.append(self._at_level(entry, joined[end:]) or QueryMatch(entry.name, 100.0, entry.collective, matched))
        if exact:
            exact.sort(key=lambda q: (-len(q.matched), q.collective))
            return _dedupe(exact)[:limit]
        tokens = _COMMON_TERMS.sub(" ", joined).split()
        keys = list(self._by_key)
        scored: dict[str, QueryMatch] = {}
        for size in range(2, min(8, len(tokens)) + 1):
            for i in range(len(tokens) - size + 1):
                window = " ".join(tokens[i : i + size])
                for key, score, _ in process.extract(window, keys, scorer=fuzz.ratio, limit=3, score_cutoff=84):
                    if len(key) < 6 or not _same_head(window, key):
                        continue
                    entry = self._by_key[key]
                    old = scored.get(entry.name)
                    if old is None or score > old.score:
                        scored[entry.name] = QueryMatch(entry.name, float(score), entry.collective, window)
        ranked = sorted(scored.values(), key=lambda q: (-q.score, -len(q.matched)))
        if not ranked:
            return []
        best = ranked[0].score
        return [q for q in ranked if q.score >= best - 4][:limit]


def _compile_aliases(parts: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w&])(?:" + "|".join(parts) + r")(?![\w&])")


_WORD_START = re.compile(r"(?<![\w&])\w+")


class _AliasMatcher:
    """`_compile_aliases(parts).finditer` as (start, end, text) without compiling one regex of
    every alias (0.14-0.3 s of each cold process): an alias pattern opens with its first word
    written out, and can only match where that word stands whole ("so" in "so y te", "qlda" in
    "qlda&txd"), so at each word start only the aliases opening with that word are tried, in
    the same order, by a small regex compiled the first time the word is met."""

    def __init__(self, parts: tuple[str, ...]) -> None:
        self._parts = parts
        self._by_word: dict[str, list[str]] = {}
        self._whole: re.Pattern[str] | None = None
        for part in parts:
            word = re.match(r"\w*", part).group(0)
            if not word:  # opens with an escaped symbol: keep to the one big regex
                self._whole = _compile_aliases(parts)
                break
            self._by_word.setdefault(word, []).append(part)
        self._compiled: dict[str, re.Pattern[str]] = {}

    def finditer(self, folded: str) -> list[tuple[int, int, str]]:
        if self._whole is not None:
            return [(m.start(), m.end(), m.group(0)) for m in self._whole.finditer(folded)]
        out: list[tuple[int, int, str]] = []
        last = 0
        for word in _WORD_START.finditer(folded):
            start = word.start()
            if start < last:
                continue
            regex = self._regex(word.group(0))
            m = regex.match(folded, start) if regex is not None else None
            if m is not None:
                out.append((start, m.end(), m.group(0)))
                last = m.end()
        return out

    def _regex(self, word: str) -> re.Pattern[str] | None:
        regex = self._compiled.get(word)
        if regex is None and word in self._by_word:
            regex = self._compiled[word] = _compile_aliases(tuple(self._by_word[word]))
        return regex


@lru_cache(maxsize=8)
def _matcher(parts: tuple[str, ...]) -> _AliasMatcher:
    return _AliasMatcher(parts)


def _alias_pattern(alias: str) -> str:
    """Regex for an alias on folded text: its words, with punctuation optional where it has some.

    Words are joined by spaces, or by "-", "&", "/" ("Kế hoạch - Đầu tư" = "Kế hoạch Đầu tư");
    a comma only where the alias has one ("các sở, ngành"); never ";" or "." (no match across
    clauses).
    """
    parts = re.findall(r"[\w&]+|[^\w\s]", fold(alias))
    out: list[str] = []
    punct = ""
    for part in parts:
        if re.fullmatch(r"[\w&]+", part):
            if out:
                allowed = r"\-–&/" + ("," if "," in punct else "")
                out.append(rf"(?:\s*[{allowed}]\s*|\s+)")
            out.append(re.escape(part))
            punct = ""
        else:
            punct += part
    return "".join(out) + _NOT_BEFORE.get(squash(alias), "")


# Bodies whose name starts a common term: "Chính phủ số", "Chính phủ điện tử" name no body.
_NOT_BEFORE = {"chinh phu": r"(?!\s+(?:so|dien tu)(?![\w&]))"}
_COMMON_TERMS = re.compile(r"\bchinh phu (?:so|dien tu)\b")


def _dedupe(matches: list[QueryMatch]) -> list[QueryMatch]:
    seen: set[str] = set()
    out = []
    for q in matches:
        if q.name not in seen:
            seen.add(q.name)
            out.append(q)
    return out


def _same_head(a: str, b: str) -> bool:
    """Both keys start with the same kind of agency word (a "Sở" is never a "Phòng"; "các bộ,
    ngành" is never "các sở, ngành")."""
    a, b = _GROUP_RE.sub("", a, count=1), _GROUP_RE.sub("", b, count=1)
    ha, hb = _HEAD_RE.match(a), _HEAD_RE.match(b)
    if ha and hb:
        return ha.group(0) == hb.group(0)
    return not ha and not hb or a[:3] == b[:3]


def clean_agency_text(raw: str) -> str:
    text = clean_spaces(raw).strip(" .,;:-–")
    text = re.sub(r"\s*\((?:chủ trì|phối hợp)\)\s*$", "", text, flags=re.I)
    return text


def split_agencies(cell: str) -> list[str]:
    """Split a cell naming several agencies, keeping collective names whole.

    "Sở Nội vụ, Sở Tài chính, UBND các huyện, thị xã, thành phố" →
    ["Sở Nội vụ", "Sở Tài chính", "UBND các huyện, thị xã, thành phố"]; a comma or "và" splits
    only when an agency word follows it ("Sở Kế hoạch và Đầu tư" stays one name).
    """
    text = clean_spaces(cell.replace("\n", " "))
    if not text:
        return []
    folded = fold(text)
    cuts = [0]
    for m in re.finditer(r"\s*(?:,|;|\bva\b|\+|\n)\s*", folded):
        rest = folded[m.end() :]
        capital = text[m.end() : m.end() + 1].isupper() or re.match(r"(so|ubnd)\b", rest)
        collective = re.match(r"cac\s+", rest) and _HEAD_RE.match(rest[4:])
        if _HEAD_RE.match(rest) and (capital or collective):
            cuts.append(m.start())
            cuts.append(m.end())
    cuts.append(len(text))
    pieces = []
    for a, b in zip(cuts[0::2], cuts[1::2], strict=False):
        piece = clean_agency_text(text[a:b])
        if piece:
            pieces.append(piece)
    return pieces


def is_note(text: str) -> bool:
    """A cell that holds a remark ("Đã phê duyệt chủ trương đầu tư"), not an agency."""
    cleaned = clean_spaces(text)
    folded = fold(cleaned)
    if not folded:
        return False
    if _HEAD_RE.match(folded) or name_end(cleaned, folded, 0) is not None:
        return False  # (a name by its shape: "Hiệp hội Doanh nghiệp", "Liên hiệp các Hội …")
    return bool(_NOTE_RE.match(folded)) or len(folded.split()) >= 3 and not any(
        w in folded for w in ("so ", "ubnd", "uy ban", "phong", "trung tam", "ban ", "don vi")
    )
