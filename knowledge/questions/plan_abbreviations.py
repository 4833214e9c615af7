"""Abbreviations officials use for a plan's topic ("Kế hoạch CCHC", "Chương trình MTQG"), and the
ones a plan defines for itself ("Chuyển đổi số (CĐS)", "(sau đây gọi tắt là Đề án)"). Pure.

Everything here works on folded text (`knowledge.text.fold`): keys are written without their
separators ("KT-XH" → "ktxh", "KH&CN" → "khcn"), expansions are folded words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.text import fold, words

# Topic abbreviations of Vietnamese administrative writing (not agency names: those are the
# agency registry's). Folded key without separators → folded expansion.
COMMON: dict[str, str] = {
    "cchc": "cai cach hanh chinh",
    "cds": "chuyen doi so",
    "pcmt": "phong chong ma tuy",
    "bmnn": "bi mat nha nuoc",
    "mtqg": "muc tieu quoc gia",
    "bdg": "binh dang gioi",
    "attp": "an toan thuc pham",
    "vsattp": "ve sinh an toan thuc pham",
    "ktxh": "kinh te xa hoi",
    "khcn": "khoa hoc va cong nghe",
    "dmst": "doi moi sang tao",
    "tthc": "thu tuc hanh chinh",
    "cntt": "cong nghe thong tin",
    "atgt": "an toan giao thong",
    "ttatgt": "trat tu an toan giao thong",
    "pccc": "phong chay chua chay",
    "ntm": "nong thon moi",
    "gnbv": "giam ngheo ben vung",
    "pctt": "phong chong thien tai",
    "tkcn": "tim kiem cuu nan",
    "bvmt": "bao ve moi truong",
    "bdkh": "bien doi khi hau",
    "antt": "an ninh trat tu",
    "qpan": "quoc phong an ninh",
    "dtts": "dan toc thieu so",
    "csdl": "co so du lieu",
    "attt": "an toan thong tin",
    "pbgdpl": "pho bien giao duc phap luat",
    "pctn": "phong chong tham nhung",
    "thtk": "thuc hanh tiet kiem",
    "bhyt": "bao hiem y te",
    "dvc": "dich vu cong",
    "dvctt": "dich vu cong truc tuyen",
    "cps": "chinh phu so",
    "cpdt": "chinh phu dien tu",
    "kts": "kinh te so",
    "xhs": "xa hoi so",
    "htx": "hop tac xa",
    "dnnvv": "doanh nghiep nho va vua",
    "gpmb": "giai phong mat bang",
    "dtc": "dau tu cong",
    "nsnn": "ngan sach nha nuoc",
    "gddt": "giao duc va dao tao",
    "gdnn": "giao duc nghe nghiep",
    "tdkt": "thi dua khen thuong",
    "qlnn": "quan ly nha nuoc",
    "ptbv": "phat trien ben vung",
    "vhttdl": "van hoa the thao va du lich",
}

# A word that may be an abbreviation: letters, maybe joined by "&" or "-" ("KH&CN", "KT-XH").
_TOKEN = re.compile(r"(?<![a-z0-9])([a-z]{1,6}(?:\s?[&-]\s?[a-z]{1,6}){0,2})(?![a-z0-9])")
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?$"
)


def key_of(abbreviation: str) -> str:
    """'KT-XH' → 'ktxh'; 'KH&CN' → 'khcn'."""
    return re.sub(r"[^a-z0-9]", "", fold(abbreviation))


def expand(question: str, known: dict[str, str]) -> tuple[str, list[str]]:
    """The folded question with its abbreviations spelled out, and the keys expanded. A word is
    read as an abbreviation when it is in `known` and written in capitals or is no Vietnamese
    syllable ("cchc", "cds"; not "da", which is a word)."""
    folded = fold(question)
    used: list[str] = []

    def spell(m: re.Match[str]) -> str:
        key = re.sub(r"[^a-z]", "", m.group(1))
        expansion = known.get(key)
        if expansion is None:
            return m.group(0)
        written = question[m.start() : m.end()]
        if not (sum(c.isupper() for c in written) >= 2 or not _SYLLABLE.match(key)):
            return m.group(0)
        used.append(key)
        return expansion

    return _TOKEN.sub(spell, folded), used


# -- what a plan defines for itself -----------------------------------------------------------
# "Chuyển đổi số (CĐS)", "(sau đây gọi tắt là CĐS)", "(sau đây gọi tắt là Đề án)".
_DEFINED = re.compile(r"\(\s*([A-ZĐ][A-ZĐ&\-]{1,9})\s*\)")
_CALLED = re.compile(
    r"\(\s*(?:sau đây\s+)?(?:được\s+)?(?:gọi|viết)\s+tắt\s+là\s*:?\s*([^()]{1,60})\)", re.I
)
_KIND_START = re.compile(
    r"^(ke hoach|de an|chuong trinh|du an|nghi quyet|quyet dinh|chien luoc|phuong an)\b"
)


@dataclass(frozen=True)
class Learned:
    """What a plan's own text defines: abbreviations (key → folded expansion), short names that
    carry a number or words ("chuong trinh 1237"), and the subject its short name stands for
    (the words before "(sau đây gọi tắt là Đề án)")."""

    abbreviations: dict[str, str]
    aliases: frozenset[str]
    subjects: tuple[str, ...]


def _initials(key: str, phrase: list[str]) -> int:
    """How many trailing words of `phrase` the abbreviation `key` spells by their initials ("và"
    may be skipped or spelled "&"); 0 when it does not."""
    i, j = len(key) - 1, len(phrase) - 1
    while i >= 0:
        if j < 0:
            return 0
        word = phrase[j]
        if key[i] == "&":
            if word != "va":
                return 0
            i -= 1
        elif word[0] == key[i]:
            i -= 1
        elif word != "va":
            return 0
        j -= 1
    return len(phrase) - 1 - j


def _abbreviation(raw: str, before: str) -> tuple[str, str] | None:
    """(key, expansion) when `raw` ("CĐS", "KH&CN") spells the last words written before it."""
    letters = re.sub(r"[^a-z&]", "", fold(raw))
    key = letters.replace("&", "")
    if len(key) < 2 or len(key) > 8:
        return None
    phrase = words(before)[-12:]
    n = _initials(letters, phrase)
    if not n or n > len(key) + 2:
        return None
    return key, " ".join(w for w in phrase[-n:] if w)


def learn(text: str) -> Learned:
    """The abbreviations, short names and subjects a plan's text defines for itself."""
    abbreviations: dict[str, str] = {}
    aliases: set[str] = set()
    subjects: list[str] = []
    for m in _DEFINED.finditer(text):
        found = _abbreviation(m.group(1), text[max(0, m.start() - 200) : m.start()])
        if found and found[0] not in abbreviations:
            abbreviations[found[0]] = found[1]
    for m in _CALLED.finditer(text):
        name = m.group(1).strip(" .,;:")
        before = text[max(0, m.start() - 400) : m.start()]
        if re.fullmatch(r"[A-ZĐ][A-ZĐ&\-]{1,9}", name):
            found = _abbreviation(name, before)
            if found and found[0] not in abbreviations:
                abbreviations[found[0]] = found[1]
            continue
        folded = " ".join(words(name))
        kind = _KIND_START.match(folded)
        if not kind:
            continue
        if folded != kind.group(1):  # "Chương trình 1237": a short name of its own
            aliases.add(folded)
            continue
        # "… Đề án X … (sau đây gọi tắt là Đề án)": X is what the plan is about
        said = fold(before)
        at = said.rfind(kind.group(1))
        if at != -1:
            subjects.append(" ".join(words(before[at:])[:30]))
    return Learned(abbreviations, frozenset(aliases), tuple(subjects))
