"""Names in questions, as officials write them: provinces, agency levels, agencies we do not know.

Pure helpers on top of `knowledge.orgs.agencies`: which province a question or a plan is about
("Sở Y tế Bắc Ninh", "ở TP.HCM"), whether "UBND" or "BHXH" was written without its level (then
the levels are offered, not guessed), whether a registry match is a real agency or a common word
("tỉnh" is not Tỉnh Đoàn), and whether the question names an agency the plans never mention.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from knowledge.orgs.agencies import QueryMatch
from knowledge.text import fold, squash

# Provinces and centrally run cities, before and after the 2025 merger; aliases are folded.
_PROVINCES: dict[str, tuple[str, ...]] = {
    "Hà Nội": ("ha noi",),
    "TP. Hồ Chí Minh": ("ho chi minh", "tp hcm", "tphcm", "tp ho chi minh", "sai gon"),
    "Hải Phòng": ("hai phong",), "Đà Nẵng": ("da nang",), "Cần Thơ": ("can tho",), "Huế": ("thua thien hue", "hue"),
    "An Giang": ("an giang",), "Bà Rịa - Vũng Tàu": ("ba ria vung tau", "vung tau"), "Bắc Giang": ("bac giang",),
    "Bắc Kạn": ("bac kan",), "Bạc Liêu": ("bac lieu",), "Bắc Ninh": ("bac ninh",), "Bến Tre": ("ben tre",),
    "Bình Định": ("binh dinh",), "Bình Dương": ("binh duong",), "Bình Phước": ("binh phuoc",),
    "Bình Thuận": ("binh thuan",), "Cà Mau": ("ca mau",), "Cao Bằng": ("cao bang",), "Đắk Lắk": ("dak lak", "dac lac"),
    "Đắk Nông": ("dak nong",), "Điện Biên": ("dien bien",), "Đồng Nai": ("dong nai",), "Đồng Tháp": ("dong thap",),
    "Gia Lai": ("gia lai",), "Hà Giang": ("ha giang",), "Hà Nam": ("ha nam",), "Hà Tĩnh": ("ha tinh",),
    "Hải Dương": ("hai duong",), "Hậu Giang": ("hau giang",), "Hòa Bình": ("hoa binh",), "Hưng Yên": ("hung yen",),
    "Khánh Hòa": ("khanh hoa",), "Kiên Giang": ("kien giang",), "Kon Tum": ("kon tum",), "Lai Châu": ("lai chau",),
    "Lâm Đồng": ("lam dong",), "Lạng Sơn": ("lang son",), "Lào Cai": ("lao cai",), "Long An": ("long an",),
    "Nam Định": ("nam dinh",), "Nghệ An": ("nghe an",), "Ninh Bình": ("ninh binh",), "Ninh Thuận": ("ninh thuan",),
    "Phú Thọ": ("phu tho",), "Phú Yên": ("phu yen",), "Quảng Bình": ("quang binh",), "Quảng Nam": ("quang nam",),
    "Quảng Ngãi": ("quang ngai",), "Quảng Ninh": ("quang ninh",), "Quảng Trị": ("quang tri",),
    "Sóc Trăng": ("soc trang",), "Sơn La": ("son la",), "Tây Ninh": ("tay ninh",), "Thái Bình": ("thai binh",),
    "Thái Nguyên": ("thai nguyen",), "Thanh Hóa": ("thanh hoa",), "Tiền Giang": ("tien giang",),
    "Trà Vinh": ("tra vinh",), "Tuyên Quang": ("tuyen quang",), "Vĩnh Long": ("vinh long",),
    "Vĩnh Phúc": ("vinh phuc",), "Yên Bái": ("yen bai",),
}
_ALIAS = {alias: name for name, aliases in _PROVINCES.items() for alias in aliases}
_PROVINCE_RE = re.compile(r"(?<![a-z0-9])(" + "|".join(sorted(map(re.escape, _ALIAS), key=len, reverse=True)) + r")(?![a-z0-9])")
# Words that, written just before a province, make it part of another name ("Bệnh viện Hà Nội"
# still names Hà Nội; "Nam Định" inside "Hà Nam Định" does not occur) — kept small on purpose.
_NATIONAL = re.compile(r"^\W*(thu tuong|chinh phu|quoc hoi|bo [a-z]|ban chap hanh trung uong|van phong chinh phu)")


def _squashed(text: str) -> str:
    return squash(text.replace(".", " "))


def find_provinces(text: str) -> list[str]:
    """Provinces named in `text`, in order of first mention."""
    return list(dict.fromkeys(_ALIAS[m.group(1)] for m in _PROVINCE_RE.finditer(_squashed(text))))


def plan_province(head: str) -> str | None:
    """The province a plan belongs to, from the start of its text (issuer, title, place line);
    None for national documents (Thủ tướng, Chính phủ, a Bộ) and when no province is named."""
    folded = _squashed(head[:3000])
    if _NATIONAL.match(folded):
        return None
    counts = Counter(_ALIAS[m.group(1)] for m in _PROVINCE_RE.finditer(folded))
    if not counts:
        return None
    return counts.most_common(1)[0][0]


# -- agency levels ----------------------------------------------------------------------------
# "UBND", "BHXH" written alone: the question has not said which level.
_BARE_HEADS = {
    "uy ban nhan dan": re.compile(r"(?<![a-z])(ubnd|uy ban nhan dan)(?!\s+(tinh|huyen|xa|thanh pho|tp|cap|cac|quan|phuong|thi xa|thi tran|dac khu|\w+ \w+ (tinh|huyen)))(?![a-z])"),
    "bao hiem xa hoi": re.compile(r"(?<![a-z])(bhxh|bao hiem xa hoi)(?!\s+(tinh|huyen|xa|thanh pho|tp|cap|cac|quan|viet nam|khu vuc|co so))(?![a-z])"),
}
_LEVEL_ORDER = ("tinh", "thanh pho", "huyen", "quan", "thi xa", "xa", "phuong")
_HEAD_KEYS = {"uy ban nhan dan": ("uy ban nhan dan", "ubnd"), "bao hiem xa hoi": ("bao hiem xa hoi", "bhxh")}


# A document number ("179/KH-UBND", "57/2025/NQ-HĐND", "252/KH-BCĐQG1237"): its issuer code names
# no agency the question asks about.
_DOCUMENT_NUMBER = re.compile(r"\b\d+[a-zA-Z]?\s*/\s*(?:\d{4}\s*/\s*)?[A-ZĐa-zđ]+(?:\s*-\s*[A-ZĐa-zđ0-9&.]+)+")


def without_document_numbers(question: str) -> str:
    """The question with the document numbers it cites blanked out."""
    return _DOCUMENT_NUMBER.sub(" ", question)


def bare_level_head(question: str) -> str | None:
    """'uy ban nhan dan' / 'bao hiem xa hoi' when the question names it without a level (a
    document number's issuer code, "…/KH-UBND", names none)."""
    folded = _squashed(without_document_numbers(question))
    for head, pattern in _BARE_HEADS.items():
        m = pattern.search(folded)
        if m and not find_provinces(folded[m.end() : m.end() + 25]):
            return head
    return None


def level_options(head: str, names: list[str]) -> list[str]:
    """Agency names (from the plans) of every level of `head`, province level first."""
    keys = _HEAD_KEYS.get(head, (head,))
    found = [n for n in names if any(_squashed(n).startswith(k + " ") for k in keys)]

    def level(name: str) -> int:
        rest = _squashed(name).split(" ", 4)[-1]
        return next((i for i, w in enumerate(_LEVEL_ORDER) if re.search(rf"\b{w}\b", rest)), len(_LEVEL_ORDER))

    return sorted(dict.fromkeys(found), key=lambda n: (level(n), len(n)))


# -- is a registry match a real agency? -------------------------------------------------------
_COMMON = frozenset({"tinh", "huyen", "xa", "thanh pho", "doan", "ban", "so", "phong", "bo", "cuc", "hoi", "vien", "nganh"})
_HEAD_WORDS = ("so", "bo", "ban", "cuc", "chi cuc", "phong", "vien", "trung tam", "van phong", "uy ban", "hoi", "doan", "cong an", "thanh tra")


def plausible(question: str, matches: list[QueryMatch]) -> list[QueryMatch]:
    """Drop matches that are common words ("tỉnh") or whose kind of agency differs from the word
    written just before them ("Bộ KH&CN" is not "Sở KH&CN")."""
    folded = _squashed(question)
    kept = []
    for m in matches:
        matched = _squashed(m.matched)
        if matched in _COMMON:
            continue
        at = folded.find(matched)
        before = folded[:at].split()[-2:] if at > 0 else []
        name_head = _squashed(m.name).split()[:1]
        if before and name_head and before[-1] in ("bo", "so", "cuc", "ban", "vien", "phong") and before[-1] != name_head[0] and not matched.startswith(before[-1]):
            continue
        kept.append(m)
    return kept


_AGENCY_HEAD = re.compile(
    r"(?<![a-z])(so|bo|cuc|chi cuc|tong cuc|ban|phong|vien|trung tam|van phong|hoi|lien doan|cong an|thanh tra)\s+(?=[a-z])"
)
_STOP_AFTER = frozenset(
    """phai lam co chu tri phoi hop duoc trong o cua gi nao thi la tai theo ve voi cho se da dang can
    nhiem vu trach nhiem tinh thanh huyen xa tp giao thuc hien lo""".split()
)


def named_agency(question: str) -> str | None:
    """An agency-shaped name in the question ("Sở Du lịch", "Cục Hàng hải"): an agency word and
    the words after it up to the question's own words; None when there is none."""
    folded = fold(question)
    m = _AGENCY_HEAD.search(folded)
    if not m or (m.start() > 0 and not question[m.start()].isupper()):
        return None
    tail = []
    for w in re.findall(r"[\w&]+", folded[m.end() :])[:6]:
        if w in _STOP_AFTER or find_provinces(w):
            break
        tail.append(w)
    if not tail:
        return None
    end = m.end()
    for w in tail:
        end = folded.index(w, end) + len(w)
    return question[m.start() : end]


_ABBREVIATIONS = {
    "ubnd": "Ủy ban nhân dân", "hđnd": "Hội đồng nhân dân", "hdnd": "Hội đồng nhân dân",
    "bhxh": "Bảo hiểm xã hội", "ubmttq": "Ủy ban Mặt trận Tổ quốc",
}
_ABBREVIATION_RE = re.compile(r"(?<![\w&])(" + "|".join(_ABBREVIATIONS) + r")(?![\w&])", re.I)


def expand_abbreviations(text: str) -> str:
    """'Văn phòng UBND thành phố' → 'Văn phòng Ủy ban nhân dân thành phố' (for matching names)."""
    return _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m.group(1).lower()], text)


@lru_cache(maxsize=512)
def without_province(name: str) -> str:
    """'Sở Y tế Bắc Ninh' → 'Sở Y tế' (the registry's name has no province)."""
    folded = _squashed(name)
    found = list(_PROVINCE_RE.finditer(folded))
    m = found[-1] if found else None
    if not m or m.end() != len(folded):
        return name
    words = name.replace(".", ". ").split()[: len(folded[: m.start()].split())]
    while len(words) > 1 and fold(words[-1]).strip(".") in ("tinh", "thanh", "pho", "tp", "o", "cua"):
        words.pop()
    return " ".join(words) or name


_LEVEL = re.compile(r"\b(tinh|thanh pho|huyen|quan|thi xa|xa|phuong)\b")


def collective_names(agency: str, known: list[str]) -> list[str]:
    """Group names (met in the plans) that include this agency: "Sở Y tế" is one of "Các sở,
    ban, ngành"; "Ủy ban nhân dân huyện" one of "UBND các huyện, thị xã, thành phố"."""
    key = _squashed(expand_abbreviations(agency))
    if key.startswith("cac "):
        return []
    out = []
    for name in known:
        group = _squashed(expand_abbreviations(name))
        if key.startswith("so ") and re.match(r"cac so\b", group):
            out.append(name)
        elif key.startswith("uy ban nhan dan ") and group.startswith("uy ban nhan dan cac "):
            level = _LEVEL.search(key[len("uy ban nhan dan ") :])
            if level and re.search(rf"\bcac\b.*(?<!thi )\b{level.group(1)}\b", group):
                out.append(name)
    return out


# -- names written at another level or without their head word ------------------------------
_HEADS = ("so", "bo", "cuc", "chi cuc", "ban", "phong", "vien", "trung tam", "van phong", "hoi", "hiep hoi")


@lru_cache(maxsize=4)
def _by_key(known: tuple[str, ...]) -> dict[str, str]:
    return {_squashed(n): n for n in known}


def relevel(question: str, matches: list[QueryMatch], known: list[str]) -> list[QueryMatch]:
    """A name the registry knows at one level, written with another head word ("Bộ TT&TT" when
    only "Sở Thông tin và Truyền thông" carries that alias): the same name under the head word
    written, when the plans know it."""
    folded = _squashed(question)
    by_key = _by_key(tuple(known))
    out = []
    for m in matches:
        at = folded.find(_squashed(m.matched))
        before = folded[:at].split()[-1:] if at > 0 else []
        head = _squashed(m.name).split()[:1]
        if before and head and before[0] in _HEADS and before[0] != head[0]:
            renamed = by_key.get(" ".join([before[0], *_squashed(m.name).split()[1:]]))
            if renamed:
                out.append(QueryMatch(renamed, m.score, m.collective, f"{before[0]} {m.matched}"))
    return out


@lru_cache(maxsize=4)
def _tails(known: tuple[str, ...]) -> dict[str, list[str]]:
    """Names of four words or more after their head word, by that tail ("thong tin va truyen thong")."""
    tails: dict[str, list[str]] = {}
    for name in known:
        key = _squashed(name)
        for head in sorted(_HEADS, key=len, reverse=True):
            if key.startswith(head + " ") and len(key.split()) - len(head.split()) >= 4:
                tails.setdefault(key[len(head) + 1 :], []).append(name)
                break
    return tails


def headless(question: str, known: list[str], cutoff: float = 88.0) -> list[QueryMatch]:
    """Names of the plans (of four words or more after the head word) written without their head
    word and with a typo ("Thông tin và Truyền thong"): every level that fits, scored below 100
    so the user is asked to choose. Written right, such words are as likely a topic: no match."""
    from rapidfuzz import fuzz, process

    tails = _tails(tuple(known))
    tokens = _squashed(question).split()
    best: dict[str, QueryMatch] = {}
    for size in range(3, min(8, len(tokens)) + 1):
        for i in range(len(tokens) - size + 1):
            window = " ".join(tokens[i : i + size])
            for tail, score, _ in process.extract(window, list(tails), scorer=fuzz.ratio, limit=2, score_cutoff=cutoff):
                if score >= 100:  # written right without its head word: a topic as likely as a name
                    continue
                for name in tails[tail]:
                    if name not in best or best[name].score < score:
                        best[name] = QueryMatch(name, min(float(score), 99.0), False, window)
    ranked = sorted(best.values(), key=lambda m: (-m.score, len(m.name)))
    return [m for m in ranked if m.score >= ranked[0].score - 4][:4] if ranked else []


_SUBJECT_HEADS = re.compile(
    r"^(so|bo|cuc|chi cuc|tong cuc|ban|phong|vien|trung tam|van phong|hiep hoi|hoi|uy ban|cong an|thanh tra|"
    r"bo chi huy|bo tu lenh|bao hiem|ngan hang|kho bac|toa an|vien kiem sat|lien doan|lien hiep|hoi dong|tinh doan|doan)\b"
)


def is_subject(question: str, agency: str | None) -> bool:
    """The question names this agency itself (its name, head word included, is written in it):
    the agency the question is about, not a name found inside other words."""
    if not agency:
        return False
    key = _squashed(expand_abbreviations(without_province(agency)))
    key = re.sub(r"\s+(tinh|thanh pho|tp)$", "", key)
    return bool(_SUBJECT_HEADS.match(key)) and key in _squashed(expand_abbreviations(question))
