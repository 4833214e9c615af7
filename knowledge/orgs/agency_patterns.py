"""Agency names the registry does not know, recognised by the general shape of a name.

A Vietnamese agency name starts with a capitalised head word ("Bộ", "Sở", "Ban", "Cục",
"Văn phòng", "Công an", "Tỉnh Đoàn", "Ủy ban nhân dân", "Thuế", …) and goes on with
capitalised words, the lower-case second syllable of a capitalised word ("Giáo dục"), joiners
("và", "-", "&") and locality words ("tỉnh", "huyện", "thành phố"). It stops at punctuation, at a
verb or function word, and at "và" / "," followed by another head word (a list). Heads that are
also common words ("Phòng chống …", "Ban hành …", "Hội nghị …", "Bộ tiêu chí …") need a
capitalised word after them; "tỉnh" alone is never a name.

Everything runs on the diacritics-folded text (same offsets as the NFC original), and the
capital letters are checked in the original.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.text import fold, has_diacritics, tone_key

# Heads after which a capitalised word must follow ("Sở Y tế", "Bộ Công an", "Thuế Đồng Nai").
_NAMED_HEADS = (
    "van phong", "trung tam",
    "benh vien", "chi cuc", "tong cuc", "thanh tra", "ngan hang", "cong ty", "tong cong ty", "tap doan",
    "hoc vien", "dai hoc", "lien doan", "lien hiep", "hoi dong", "vien kiem sat", "toa an", "hai quan",
    "dien luc", "kho bac", "so", "bo", "ban", "cuc", "hoi", "phong", "tram", "truong", "vien", "dai", "bao",
    "quy", "doi", "thue", "doan", "uy ban", "chi nhanh", "bo doi", "vu", "hiep hoi",
)
# Heads that are names by themselves or with a locality ("Công an tỉnh", "UBND huyện Sơn Hà").
_SELF_HEADS = (
    "ban quan ly", "bo chi huy", "ban chi huy", "ban chi dao", "ban thuong vu", "bo tu lenh", "uy ban nhan dan", "hoi dong nhan dan", "ubnd", "hdnd", "ubmttq", "uy ban mat tran to quoc", "mat tran to quoc",
    "cong an", "tinh doan", "thanh doan", "huyen doan", "tinh uy", "thanh uy", "huyen uy", "bao hiem xa hoi",
    "bhxh", "kho bac nha nuoc", "vien kiem sat nhan dan", "toa an nhan dan", "bo chi huy quan su",
)
_HEADS = sorted({*_NAMED_HEADS, *_SELF_HEADS}, key=len, reverse=True)
_HEAD_RE = re.compile(r"(?<![\w&])(?:" + "|".join(h.replace(" ", r"\s+") for h in _HEADS) + r")(?![\w&])")
_SELF = {h.replace(" ", "") for h in _SELF_HEADS}

LOCALITY = ("tinh", "huyen", "thanh pho", "thi xa", "xa", "quan", "phuong", "thi tran", "trung uong", "cap tinh",
            "cap huyen", "cap xa", "khu vuc")
# ("xã hội" is no commune: "Ngân hàng Chính sách xã hội Thành phố")
_LOCALITY_RE = re.compile(r"(?:" + "|".join(LOCALITY) + r")(?![\w&])(?<!xa(?= hoi))")
_LOCALITY_LIST = re.compile(r"\s*,\s*(" + _LOCALITY_RE.pattern + r")(?![\w&])")
_JOINER_RE = re.compile(r"\s*(?:va(?!\w)|-|–|&)\s*")
_WORD_RE = re.compile(r"[0-9a-z]+(?:[&./\-][0-9a-z]+)*")
_MAX_WORDS = 12
_WORD_AT = re.compile(r"\w+")
_COMMA = re.compile(r",\s*")
_VA_SOON = re.compile(r"[^,;:.\n]{0,40}\bva\b")
_SPACE = re.compile(r"[ \t]+")
_LOWER_RUN = re.compile(r"((?:[a-z]+ ){1,4}?)(" + _LOCALITY_RE.pattern + ")")


def _key(head: str) -> str:
    return "".join(head.split())
# First syllables of verbs and function words: never the lower-case end of a name
# ("Thuế Đồng Nai chủ trì" ends at "Nai"). Compared with their tones ("thường" stops, "thưởng" in
# "Thi đua - Khen thưởng" does not); text without diacritics compares folded.
_STOP_WORDS = (
    "chủ tham thẩm thực có chịu là làm phối tổ xây cập thường hướng chỉ tiếp theo ra rà nghiên đề dự giúp tổng "
    "đảm bảo phụ trình tuyên lãnh duy khẩn tập nghiêm chuẩn hoàn điều kịp yêu được đã sẽ cần phải trong cho "
    "với tại nhằm khi nếu thì của trên đến sau trước và hoặc báo ban quy quyết xem phê lập bố đôn tăng đẩy "
    "nâng hỗ xử thu thống tích đưa"
).split()
_STOP = frozenset(tone_key(w) for w in _STOP_WORDS)
_STOP_FOLDED = frozenset(fold(w) for w in _STOP_WORDS)


def _stops(text: str, start: int, folded_word: str) -> bool:
    return _is_stop(text[start : start + len(folded_word)], folded_word)


@lru_cache(maxsize=8192)
def _is_stop(original: str, folded_word: str) -> bool:
    if has_diacritics(original):
        return tone_key(original) in _STOP
    return folded_word in _STOP_FOLDED


# How head words are spelt: a capitalised word that folds like a head but is spelt otherwise is
# another word ("ĐỐI TƯỢNG" is no "Đội", "Số" no "Sở", "Báo cáo" no "Bảo hiểm").
_HEAD_SPELLINGS = (
    "sở bộ ban cục hội phòng trạm trường viện đài báo quỹ đội thuế đoàn ủy uỷ văn trung bệnh chi tổng thanh thành "
    "ngân công tập học đại liên tòa toà hải điện kho tỉnh huyện mặt bảo vụ hội học xã quận phường thị cấp khu"
).split()
_SPELT: dict[str, set[str]] = {}
for _w in _HEAD_SPELLINGS:
    _SPELT.setdefault(fold(_w), set()).add(tone_key(_w))


def _spelt_as_head(text: str, at: int) -> bool:
    word = _WORD_AT.match(text, at, at + 12)
    return bool(word) and _head_spelling(word.group(0))


@lru_cache(maxsize=8192)
def _head_spelling(word: str) -> bool:
    if word.isupper() and len(word) > 1:
        # An abbreviation ("UBND", "BHXH"); an all-capitals heading ("BẢO TỒN THIÊN NHIÊN") is not:
        # capitals say nothing there.
        return not has_diacritics(word)
    spellings = _SPELT.get(fold(word))
    return spellings is None or not has_diacritics(word) or tone_key(word) in spellings


def _upper(text: str, at: int) -> bool:
    ch = text[at : at + 1]
    return ch.isupper() or ch.isdigit()


def name_end(text: str, folded: str, at: int) -> int | None:
    """End offset of an agency name starting exactly at `at`, or None when none starts there."""
    head = _HEAD_RE.match(folded, at)
    if not head or not text[at : at + 1].isupper() or not _spelt_as_head(text, at):
        return None
    end = pos = head.end()
    need_named = _key(head.group(0)) not in _SELF
    words, after_upper, glued = 0, False, False
    while words < _MAX_WORDS:
        if not glued and end > head.end():
            joiner = _JOINER_RE.match(folded, pos)
            comma = _COMMA.match(folded, pos, pos + 4)
            nxt = joiner.end() if joiner and joiner.group(0).strip() else comma.end() if comma else None
            if nxt is not None:
                # "Bộ Lao động - Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch"; never a
                # list of heads ("Sở Y tế, Sở Nội vụ"); a comma only when "và" follows soon.
                if not _upper(text, nxt) or _HEAD_RE.match(folded, nxt) and name_end(text, folded, nxt) is not None:
                    break  # (a head word that starts no name goes on: "Cục Trồng trọt và Bảo vệ thực vật")
                if comma and not _VA_SOON.match(folded, nxt, nxt + 44):
                    break
                pos, glued, after_upper = nxt, True, False
                continue
        space = _SPACE.match(folded, pos, pos + 8)
        if not space and not glued:
            break
        start = space.end() if space else pos
        glued = False
        inner = _HEAD_RE.match(folded, start)
        if inner and _key(inner.group(0)) in _SELF and _upper(text, start) and _spelt_as_head(text, start):
            # "Văn phòng Ủy ban nhân dân thành phố": a whole name inside the name.
            pos = end = inner.end()
            after_upper, need_named = False, False
            words += 1
            continue
        loc = _LOCALITY_RE.match(folded, start)
        if loc and not need_named and not _upper(text, start) and _spelt_as_head(text, start):
            # "Công an tỉnh", "huyện Sơn Hà": a locality, then possibly a place name.
            pos = end = loc.end()
            after_upper = False
            words += 1
            # "Ủy ban nhân dân xã, phường, thị trấn": a list of localities is one level's name
            while (more := _LOCALITY_LIST.match(folded, pos)) and not _upper(text, more.start(1)):
                if not _spelt_as_head(text, more.start(1)):
                    break
                pos = end = more.end()
            continue
        word = _WORD_RE.match(folded, start)
        if not word:
            break
        if word.group(0) == "cac" and not _upper(text, start) and (after := _SPACE.match(folded, word.end())):
            if _upper(text, after.end()) and _spelt_as_head(text, after.end()):
                # "Ban Quản lý các Khu công nghiệp", "Liên hiệp các Hội Khoa học và Kỹ thuật": a
                # capitalised word after "các" goes on with the name.
                pos = word.end()
                continue
        if _upper(text, start):
            after_upper, need_named = True, False
        elif after_upper and not _stops(text, start, word.group(0)):
            after_upper = False  # second syllable of a capitalised word ("Giáo dục")
        elif not need_named and (tail := _lower_run(text, folded, start)):
            pos = end = tail  # "Trung tâm Phục vụ hành chính công tỉnh"
            words += 1
            continue
        else:
            break
        pos = end = word.end()
        words += 1
    if need_named:
        return None
    return end


def _lower_run(text: str, folded: str, start: int) -> int | None:
    """End of up to four lower-case words ending in a locality ("hành chính công tỉnh"), or None."""
    m = _LOWER_RUN.match(folded[start : start + 60])
    if not m or any(c.isupper() for c in text[start : start + m.end()]):
        return None
    at = start
    for w in m.group(1).split():
        at = folded.index(w, at)
        if _stops(text, at, w):
            return None
        at += len(w)
    return start + m.end()


def find_names(text: str, folded: str, start: int = 0, stop: int | None = None) -> list[tuple[int, int]]:
    """Spans of agency names (by shape) in folded[start:stop], left to right, no overlaps."""
    spans: list[tuple[int, int]] = []
    last = -1
    for m in _HEAD_RE.finditer(folded, start, len(folded) if stop is None else stop):
        if m.start() < last:
            continue
        end = name_end(text, folded, m.start())
        if end is not None:
            spans.append((m.start(), end))
            last = end
    return spans


# The level of government a name states, read on its spelling with diacritics ("xã" is no "xa",
# "phường" no "địa phương"); the lowest level named wins ("UBND các huyện, thị xã, thành phố" is
# the district level). Names that state none (or are written without diacritics) have None.
_LEVELS = (
    ("xa", re.compile(r"\b(?:cấp xã|(?<!thị )xã(?! hội)|phường|thị trấn|đặc khu|đảng ủy xã)\b")),
    ("huyen", re.compile(r"\b(?:cấp huyện|huyện|quận|thị xã|huyện ủy|quận ủy)\b")),
    ("tinh", re.compile(r"\b(?:cấp tỉnh|tỉnh|tỉnh ủy|tỉnh đoàn)\b")),
    ("thanh pho", re.compile(r"\b(?:thành phố|thành ủy|thành đoàn|tp)\b")),
)


def level_of(name: str) -> str | None:
    """"xa", "huyen", "tinh", "thanh pho" (a centrally-run city) or None."""
    low = re.sub(r"u[ỷ]", "ủy", name.lower())
    for level, pattern in _LEVELS:
        if pattern.search(low):
            return level
    return None


def same_level(raw: str, canonical: str) -> bool:
    """A canonical name may stand for `raw` only when it states no other level of government
    ("UBND cấp xã" is never "… các huyện", "Thành ủy" never "Tỉnh ủy", "… thành phố" never "… tỉnh")."""
    a, b = level_of(raw), level_of(canonical)
    return a is None or b is None or a == b
