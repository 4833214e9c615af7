"""Deadlines tied to an event, not to the calendar, and how prose is cut into sentences.

"sau khi được UBND Thành phố phê duyệt Đề án", "ngay khi xảy ra sự cố", "khi có yêu cầu",
"Sau khi kết thúc thẩm định, trong vòng 01 ngày làm việc", "ít nhất 03 ngày làm việc trước thời
hạn quy định": the wording is kept as a CONDITIONAL deadline and no date is invented. Works on
diacritics-folded text (offsets shared with the original); used by `knowledge.dates.deadline_scan`.
"""

from __future__ import annotations

import re

# The end of an event phrase: the clause ends ("phòng, chống …" is one name, not two clauses).
_CLAUSE_END = re.compile(r",(?!\s*chong\b)|[;.:()\n]|\s-\s|$")

# "sau khi …", "ngay khi …", "ngay sau khi …": the event runs to the end of its clause.
_AFTER_EVENT = re.compile(r"\b(?:ngay\s+sau\s+khi|ngay\s+khi|sau\s+khi)\s+(?=\S)")
# "(báo cáo đột xuất) khi có yêu cầu", "theo yêu cầu"
_ON_REQUEST = re.compile(r"\b(?:dot xuat\s+)?khi\s+(?:co|duoc)\s+yeu\s+cau\b(?:\s+cua\s+[^,;.]{1,60})?")
# A time limit whose start is an event named elsewhere: "trong vòng 01 ngày làm việc",
# "Trong thời hạn 15 ngày làm việc", "không quá 05 ngày".
_DURATION = re.compile(
    r"\b(?P<cue>trong vong|trong thoi han|khong qua|toi da|cham nhat(?: la)?|trong)\s+(?P<n>\d{1,3})\s*(?:\([a-z ]+\)\s*)?"
    r"(?P<unit>ngay lam viec|ngay|tuan|thang)\b(?!\s*(?:/|\d|ke tu|tinh tu|sau|truoc|cuoi|dau|nam))"
)


def clause_end(folded: str, at: int, limit: int = 120) -> int:
    """Where the clause starting at `at` ends (punctuation or end of text), at most `limit` on."""
    m = _CLAUSE_END.search(folded, at, min(len(folded), at + limit))
    return m.start() if m else min(len(folded), at + limit)


def event_phrase(folded: str) -> tuple[int, int] | None:
    """The span of "sau khi <event>", "ngay khi <event>" or "khi có yêu cầu", if any."""
    for m in _AFTER_EVENT.finditer(folded):
        end = clause_end(folded, m.end(), 160)
        event = folded[m.end() : end]
        # The event ends its clause; "sau khi từ chức nếu có nguyện vọng … thì …" states a rule, not a time.
        if len(event) < 3 or folded[end : end + 1] == "(" or not _CLAUSE_END.match(folded, end):
            continue  # cut by a parenthesis or by the length limit: not read whole
        if re.search(r"\b(thi|neu|ma)\b", event):
            continue
        # Opening a sentence ("Sau khi kiểm tra, UBND xã lập danh sách …", "Sau khi UBND phê duyệt Đề án,
        # Sở Tài chính …") it orders the steps, and the step's own time follows; it times the duty
        # when it closes the sentence ("… niêm yết sau khi được UBND Thành phố phê duyệt Đề án.").
        if folded[end : end + 1] == ",":
            continue
        return m.start(), end
    m = _ON_REQUEST.search(folded)
    if m:
        return m.start(), m.end()
    return None


def duration_phrase(folded: str, whole: bool) -> tuple[int, int] | None:
    """A time limit with no start named in it ("trong vòng 01 ngày làm việc"), with the event
    just before it when the sentence names one ("Sau khi kết thúc thẩm định, trong vòng …")."""
    for m in _DURATION.finditer(folded):
        cue, unit = m.group("cue"), m.group("unit")
        if not whole and cue == "trong" and unit != "ngay lam viec":
            continue  # "trong 3 tháng" in prose is often a length, not a limit
        start = m.start()
        before = folded[max(0, start - 90) : start]
        event = re.search(r"\bsau\s+khi\s+[^,;.]{3,80},\s*$", before)
        if event:
            start -= len(before) - event.start()
        return start, m.end()
    return None


def days_before_event(folded: str) -> tuple[int, int] | None:
    """"ít nhất 03 ngày làm việc trước thời hạn quy định": a lead time before an event."""
    m = re.search(
        r"\b(?:it nhat|toi thieu|truoc it nhat)\s+(?P<n>\d{1,3})\s*(?:ngay lam viec|ngay|tuan|thang)\s+"
        r"(?:truoc|tinh den)\s+(?=\S)",
        folded,
    )
    if not m:
        return None
    return m.start(), clause_end(folded, m.end(), 80)


def sentences(raw: str) -> list[tuple[int, int]]:
    """Spans of the sentences (and ";"-clauses) of a paragraph, in order."""
    spans, at = [], 0
    for m in re.finditer(r";\s*|\.\s+(?=[\"'(*\-+•\d\w])|\n+(?=[\-+•*]|[^\W\d_])", raw):
        nxt = raw[m.end() : m.end() + 1]
        if m.group(0).startswith(".") and not (nxt.isupper() or not nxt.isalpha()):
            continue  # "TP. Hồ Chí Minh" stays whole only when lower-case follows: "v.v. các"
        if m.group(0).startswith("\n") and nxt.isalpha() and not nxt.isupper():
            continue
        if m.start() > at:
            spans.append((at, m.start() + (1 if m.group(0).startswith((".", ";")) else 0)))
        at = m.end()
    if at < len(raw):
        spans.append((at, len(raw)))
    return spans or [(0, len(raw))]
