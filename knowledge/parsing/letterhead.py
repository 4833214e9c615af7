"""The letterhead: who issued the document and whether its number was left blank.

The issuing body stands left of (or above) the national motto, on one or more lines: "ỦY BAN
NHÂN DÂN / TỈNH ĐỒNG THÁP" is one body written over two lines; "UBND TỈNH QUẢNG TRỊ / SỞ Y TẾ"
is a parent and the body that issues (Sở Y tế tỉnh Quảng Trị). Scans and transcriptions break
words apart ("ỦY B AN NHÂN D Â N"): they are mended with the words the document itself uses.
"""

from __future__ import annotations

import re
from collections import Counter

from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing.wrapper import type_line_kind
from knowledge.text import clean_spaces, fold

MOTTO = re.compile(
    r"C[ỘO]NG\s*H[OÒ][AÀ]\s+X[ÃA]\s+H[ỘO]I|Độc lập\s*[-–—]\s*Tự do|(?:^|\s)(?:CHỦ\s+)?NGHĨA\s+VIỆT\s+NAM\b",
    re.I,
)
# "Số: /KH-UBND", "Số:      /QĐ-UBND", "Số: …/KH-UBND", "Số: ....../2025/NQ-HĐND": a draft's blank number
_BLANK_NUMBER = re.compile(
    r"(?:^|\s)Số\s*:?[ \t._…]*/\s*(?:(?:19|20)\d\d\s*/\s*)?[A-ZĐ]{1,8}\s*-", re.M
)
# Stamps written in the letterhead area that are not the issuer: "DỰ THẢO", "MẬT", "HỎA TỐC".
_STAMPS = re.compile(
    r"^\(?\s*(du thao|mat|toi mat|tuyet mat|khan|thuong khan|hoa toc|hoa toc hen gio)\s*\)?\s*\d*$"
)
_PLACE = r"TỈNH|THÀNH PHỐ|HUYỆN|XÃ|PHƯỜNG|QUẬN|THỊ XÃ|THỊ TRẤN|ĐẶC KHU"
_PLACE_RE = re.compile(rf"\b({_PLACE})\s+(?!ỦY\b|UỶ\b)(.+)$")
# Words that begin the name of a body (folded): a letterhead line starting so is a body of its own.
_BODY_HEADS = re.compile(
    r"^(so|bo|ban|cuc|chi cuc|tong cuc|vu|van phong|phong|trung tam|benh vien|truong|to|hoi dong|uy ban|ubnd|hdnd|"
    r"cong an|bo chi huy|bo tu lenh|kho bac|thanh tra|dang uy|tinh uy|thanh uy|huyen uy|doan|mat tran|vien|dai|"
    r"chinh phu|thu tuong|quoc hoi|toa an|ngan hang|bao hiem|tong cong ty|cong ty|hoc vien|hoi)\b"
)
# A body named without its place ("ỦY BAN NHÂN DÂN" / "TỈNH X" on the next line).
_BARE_HEADS = re.compile(r"^(uy ban nhan dan|ubnd|hoi dong nhan dan|hdnd|uy ban mat tran to quoc)$")
_ORG_WORDS = [
    (r"ỦY BAN NHÂN DÂN|UỶ BAN NHÂN DÂN|UBND", "UBND"),
    (r"HỘI ĐỒNG NHÂN DÂN|HĐND", "HĐND"),
]
_SYLLABLE = re.compile(r"[bcdfghjklmnpqrstvwxz']*[aeiouy]+(?:ch|ng|nh|[cmnptk])?")
_PARTY = re.compile(r"^(tỉnh ủy|thành ủy|huyện ủy|quận ủy|thị ủy|đảng ủy)\b")


def blank_number(header: str) -> bool:
    """The header's "Số:" has no number before its type code: a draft not yet numbered."""
    return bool(_BLANK_NUMBER.search(header))


def vocabulary(paras: list[str]) -> Counter[str]:
    """Words of two letters or more the document writes (lower case, with their counts), to
    mend broken words."""
    return Counter(w.lower() for p in paras for w in re.findall(r"[^\W\d_]{2,}", p))


def _core(token: str) -> str:
    return re.sub(r"^[^\w]+|[^\w]+$", "", token)


def respace(line: str, words: Counter[str]) -> str:
    """Mend words an OCR or a transcription broke apart ("ỦY B AN NHÂN D Â N" → "ỦY BAN NHÂN
    DÂN"): adjacent pieces are joined when together they make a word the document uses and one
    of them is no word alone; a word read with wrong marks ("TỎ") takes the document's spelling
    when the document has exactly one word with those letters ("Tổ")."""
    tokens = line.split()
    if not any(
        len(_core(t)) == 1 and _core(t).isalpha() and _core(t).lower() not in words for t in tokens
    ):
        return line
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for j in range(min(len(tokens), i + 5), i + 1, -1):
            piece = tokens[i:j]
            joined = "".join(piece)
            if (
                _core(joined).lower() in words
                and all(_core(t) for t in piece)
                and not any(re.search(r"[^\w]$", t) for t in piece[:-1])
                and any(_core(t).lower() not in words for t in piece)
            ):
                out.append(joined)
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return " ".join(out)


def mend_marks(line: str, words: Counter[str]) -> str:
    """A letterhead word the document never writes, read with wrong marks ("TỎ CÔNG TÁC"), takes
    the spelling the document mostly gives the same letters ("Tổ")."""
    out = []
    for token in line.split():
        core = _core(token)
        if core and core.isupper() and core.lower() not in words:
            same = sorted(((n, w) for w, n in words.items() if fold(w) == fold(core)), reverse=True)
            if same and (len(same) == 1 or same[0][0] >= 3 * same[1][0]):
                token = token.replace(core, same[0][1].upper())
        out.append(token)
    return " ".join(out)


def _upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def left_column(lines: list[str]) -> list[str]:
    """The letterhead's lines left of the motto, top to bottom, stamps and rules dropped; empty
    when the header has no motto."""
    if not any(MOTTO.search(line) for line in lines):
        return []
    out: list[str] = []
    started = False  # lines of a page above the letterhead (a site's heading) are passed over
    for line in lines:
        line = line.strip()
        m = MOTTO.search(line)
        started = started or bool(m)
        left = line[: m.start()] if m else line
        number = re.search(r"(?:^|\s)S[ốoó]\s*[:.]|(?:^|\s)S[ốoó]\s+\S*\d", left, re.I)
        stop = number is not None or re.search(r",\s*ngày\b", left)
        left = left[: number.start()] if number else left
        left = clean_spaces(re.sub(r"[-–—_=*|„]{2,}|^[-–—_*|„\s]+|[-–—_*|„\s]+$", " ", left))
        if left and not _STAMPS.match(fold(left)):
            if not _upper(left) or len(left.split()) > 16 or type_line_kind(left):
                if started or out:
                    break
                continue
            out.append(left)
        if stop:
            break
    return out


def _bodies(pieces: list[str]) -> list[str]:
    """Letterhead lines grouped into bodies: a line continues the one above when it gives its
    place ("TỈNH GIA LAI" under "ỦY BAN NHÂN DÂN") or does not begin a body's name."""
    bodies: list[str] = []
    for piece in pieces:
        folded = fold(piece)
        starts_place = re.match(rf"^({_PLACE})\b", piece) and not re.match(
            r"^(TỈNH|THÀNH|HUYỆN)\s+[ỦU][YỶ]\b", piece
        )
        if bodies and (
            starts_place or _BARE_HEADS.match(fold(bodies[-1])) or not _BODY_HEADS.match(folded)
        ):
            bodies[-1] = f"{bodies[-1]} {piece}"
        else:
            bodies.append(piece)
    return bodies


def issuer(lines: list[str], registry: AgencyRegistry, words: Counter[str]) -> str:
    """The issuing body named by the letterhead, as written in running text: "UBND tỉnh Đồng
    Tháp", "Sở Y tế tỉnh Quảng Trị", "Bộ Công an", "Thủ tướng Chính phủ"; "" without a motto."""
    pieces = [mend_marks(respace(p, words), words) for p in left_column(lines)]
    bodies = _bodies(pieces)
    if len(bodies) == 1:  # "UBND TỈNH HÀ TĨNH SỞ Y TẾ" on one line: the province's department
        one = re.match(
            rf"^(.*?\b(?:{_PLACE})\s+.+?)\s+((?:SỞ|BAN|PHÒNG|CỤC|CHI CỤC|VĂN PHÒNG|TRUNG TÂM|BỆNH VIỆN)\b.*)$",
            bodies[0],
        )
        if one and not re.search(r"\bỦY$|\bUỶ$", one.group(1)):
            bodies = [one.group(1), one.group(2)]
    if not bodies or len(bodies[-1].split()) > 16:
        return ""
    own = bodies[-1]
    parent = bodies[-2] if len(bodies) > 1 else ""
    place = _PLACE_RE.search(parent) if parent else None
    if parent and not place and not _PLACE_RE.search(own):
        return f"{name_of(own, registry)} - {name_of(parent, registry)}"
    name = name_of(own, registry)
    if place and not _PLACE_RE.search(own):
        name = f"{name} {place.group(1).lower()} {_title_case(place.group(2))}"
    return name


def _title_case(words: str) -> str:
    return " ".join(
        w if not _is_syllable(w) else w[:1].upper() + w[1:].lower() for w in words.split()
    )


def _is_syllable(word: str) -> bool:
    """A Vietnamese syllable, not an abbreviation ("TW", "UBND", "HĐND") or a code."""
    return bool(_SYLLABLE.fullmatch(fold(_core(word))))


def name_of(org: str, registry: AgencyRegistry) -> str:
    """One body's name in running text: "UBND tỉnh Quảng Trị", "Sở Y tế", "Bộ Quốc phòng"."""
    short = org
    for pattern, abbr in _ORG_WORDS:
        short = re.sub(rf"^(?:{pattern})\b", abbr, short)
    place = _PLACE_RE.search(short)
    if place and place.start() > 0:
        head = short[: place.start()].strip()
        if head not in ("UBND", "HĐND"):
            known = registry.canonical(head).name
            head = known if registry.entry(known) else sentence(head)
        return f"{head} {place.group(1).lower()} {_title_case(place.group(2))}"
    known = registry.canonical(short).name
    if registry.entry(known):
        return known
    return sentence(short) if short.isupper() else short


def sentence(org: str) -> str:
    """An upper-case name as written in running text: "BỘ QUỐC PHÒNG" → "Bộ Quốc phòng", "THỦ
    TƯỚNG CHÍNH PHỦ" → "Thủ tướng Chính phủ", "TỔ CÔNG TÁC LIÊN NGÀNH TW" → "Tổ công tác liên
    ngành TW" (a word that is no syllable is an abbreviation and stays in capitals); a ministry
    or department names each of its fields ("Bộ Nông nghiệp và Môi trường"), a party committee
    its place ("Tỉnh ủy Đồng Tháp")."""
    words = [w if not _is_syllable(w) else w.lower() for w in org.split()]
    text = " ".join(words).replace("chính phủ", "Chính phủ").replace("quốc hội", "Quốc hội")
    party = _PARTY.match(text)
    if party:
        return text[:1].upper() + text[1 : party.end()] + " " + _title_case(text[party.end() :])
    words = text.split()
    if words and words[0] in ("bộ", "sở", "cục", "tổng", "ban", "vụ") and len(words) > 1:
        i = 2 if words[0] == "tổng" and len(words) > 2 else 1
        words[i] = words[i][:1].upper() + words[i][1:]
        if words[0] in ("bộ", "sở"):  # "Bộ Văn hóa, Thể thao và Du lịch"
            for k in range(i + 1, len(words)):
                if words[k - 1] == "và" or words[k - 1].endswith(","):
                    words[k] = words[k][:1].upper() + words[k][1:]
    return (
        (words[0][:1].upper() + words[0][1:] + " " + " ".join(words[1:])).strip() if words else ""
    )
