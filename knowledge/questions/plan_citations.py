"""The documents a plan implements, and who issued a document a question cites. Pure.

Local plans implement resolutions, decisions, directives and the plans of the level above: their
title or the first line of their preamble says so ("Thực hiện Quyết định số 7619/QĐ-BCA …, UBND
… ban hành Kế hoạch …"). A question names such a plan by that document ("kế hoạch thực hiện Nghị
quyết 57-NQ/TW", "… triển khai Chỉ thị 25"), and a number it writes with an issuer ("Nghị quyết 57
của Bộ Chính trị", "57-NQ/TW") is not the own number of a plan another body issued.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from knowledge.text import fold

# "… thực hiện Nghị quyết 57", "… triển khai, thực hiện Chỉ thị 25": an implementing verb right
# before a document; for a plan's number ("thực hiện Kế hoạch 179"), only after a plan word
# ("Kế hoạch thực hiện Kế hoạch 996"): "kết quả thực hiện Kế hoạch 179" names plan 179.
_IMPLEMENTS = re.compile(r"\b(thuc hien|trien khai|thi hanh)\s*,?\s*$")
_PLAN_WORD_BEFORE = re.compile(r"\b(ke hoach|chuong trinh|de an|phuong an|kh)\b[^?.;]{0,60}$")
# "Nghị quyết 57 của Bộ Chính trị", "… ngày 22/12/2024 của Bộ Chính trị"
_ISSUED_BY = re.compile(
    r"^\s*(?:ngay\s+[\d/ ]+(?:thang\s+\d+\s+nam\s+\d+)?\s*)?cua\s+((?:\w+\s*){1,4})"
)
_ISSUERS = (
    ("uy ban nhan dan", "ubnd"),
    ("hoi dong nhan dan", "hdnd"),
    ("thu tuong chinh phu", "thu tuong"),
)
_FIRST_SECTION = re.compile(r"(?m)^[ \t*_]*(?:i|1)\s*[.)]\s|^[ \t*_]*muc dich")


def implemented(before: str, kind: str) -> bool:
    """The document whose kind word follows `before` (folded) is named as implemented."""
    verb = _IMPLEMENTS.search(before)
    return bool(verb) and (kind != "kh" or bool(_PLAN_WORD_BEFORE.search(before[: verb.start()])))


def issuer_words(text: str, first: int = 3) -> str:
    """An issuer's folded words, the common long forms shortened ("ủy ban nhân dân" → "ubnd")."""
    text = f" {' '.join(text.split())} "
    for long, short in _ISSUERS:
        text = text.replace(f" {long} ", f" {short} ")
    return " ".join(text.split()[:first])


def written_issuer(suffix: str, after: str) -> tuple[str, str] | None:
    """(issuer code, issuer words) a question writes with a number: the code ending its suffix
    ("-nq/tw" → "tw") and the words after "của"; None when it writes neither."""
    code = re.findall(r"[a-z]+", suffix)
    by = _ISSUED_BY.match(after)
    if not code and not by:
        return None
    return (code[-1] if code else "", issuer_words(by.group(1)) if by else "")


def issued_as_written(
    doc: str, digits: str, issuers: Iterable[tuple[str, str, str]], kinds: Iterable[str]
) -> bool:
    """A plan (`doc`: "number|issuer", folded) fits what the question writes of that number
    ("57-NQ/TW", "Nghị quyết 57 của Bộ Chính trị" are not the 57/2025/NQ-HĐND of a city council).
    `kinds`: the kind codes, which name no issuer."""
    number, _, issuer = doc.partition("|")
    segments = set(re.findall(r"[a-z]+", number))
    for d, code, by in issuers:
        if d != digits:
            continue
        if code and code not in segments and code not in kinds:
            return False
        if (
            by
            and f" {by} " not in f" {issuer_words(issuer, 99)} "
            and not segments & set(by.split())
        ):
            return False
    return True


@lru_cache(maxsize=4)
def _implementing_line_re(kind_word: str) -> re.Pattern[str]:
    return re.compile(
        rf"(?m)^[ \t*_]*(?:thuc hien|trien khai|thi hanh)[ \t,]+(?:{kind_word})\b[^\n]*"
    )


def implementing_line(head: str, kind_word: str) -> str:
    """The preamble's first line saying what the plan implements ("Thực hiện Quyết định số …"),
    folded; `kind_word`: the alternation of document kinds."""
    folded = fold(head[:4000])
    section = _FIRST_SECTION.search(folded)
    m = _implementing_line_re(kind_word).search(
        folded[: section.start() if section else len(folded)]
    )
    return m.group(0)[:600] if m else ""
