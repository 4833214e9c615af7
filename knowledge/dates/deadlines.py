"""Deadline grammar: Vietnamese deadline wording → a normalised `Deadline`.

Two entry points:
- `parse_deadline(text)` reads a whole deadline cell ("Trước ngày 01/7/2025", "Hàng năm").
- `find_deadline(text)` looks for the deadline *phrase* that governs a paragraph of prose
  ("… trình UBND tỉnh trong quý IV năm 2021"): a labelled value ("Thời hạn: …") first, else the
  first sentence that names a time (in parentheses closing the duty too: "… (Quý IV/2025)."), a
  bullet's "Năm 2018:"; a loose "theo định kỳ" or an event ("sau khi được UBND phê duyệt Đề án",
  "ngay khi xảy ra") only when no sentence names a time. Dates and years that belong to document
  references ("Quyết định số 01/QĐ-UBND ngày 01/01/2021", "Luật … năm 2024"), start dates ("có
  hiệu lực kể từ ngày …") and what was done ("Trong năm 2024, … đã …") are no deadline.
Deadlines tied to an event are CONDITIONAL and keep the event in `text`; no date is invented.
Both take the plan's date (`issued`: "trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành",
"Từ khi ban hành đến hết năm 2030") and a year given by context (`default_year`: a table header
"Thời gian (Năm 2026)" over cells "Quý I", "Tháng 3", "Trước ngày 15/6").

Both work on the diacritics-folded text (offsets are shared with the original), so
"truoc 01/7/2025" and "Trước 01/7/2025" parse alike. The raw wording is always kept.

What `end` and `before` mean (unchanged for consumers):
- `end` is the day the wording names; `before` is True only for an exclusive bound ("trước ngày
  01/7/2025", "trước tháng 6/2025", "trước quý III"): the work must be done by the day before
  `end`. `last_day()` gives the last day the work may still be done, for every kind.
- "chậm nhất ngày X", "hạn X", "đến (hết) ngày X", "trong ngày X", "hoàn thành ngày X" include X:
  `before` is False and `last_day()` is X.
- YEAR deadlines already carry their last day in `end` ("trước năm 2030" → 31/12/2029).
"""

from __future__ import annotations

from datetime import date, timedelta

from knowledge.dates.deadline_scan import Scanner
from knowledge.dates.recurrence import (
    recurrence,
    sentence_window,
)
from knowledge.model import (
    CONDITIONAL,
    DATE,
    FROM,
    MONTH,
    ONGOING,
    QUARTER,
    RANGE,
    RECURRING,
    UNPARSED,
    YEAR,
    Deadline,
)
from knowledge.text import clean_spaces


def dated_last_day(deadline: Deadline | None) -> date | None:
    """`last_day` of a deadline pinned to the calendar ("Trước 01/7/2025" → 30/06/2025); None when
    ongoing, recurring, conditional or unread."""
    return last_day(deadline) if deadline is not None and deadline.dated else None


def last_day(deadline: Deadline | None) -> date | None:
    """The last day the work may still be done: the day before an exclusive bound ("trước …")."""
    if deadline is None or deadline.end is None:
        return None
    if deadline.before and deadline.kind in (DATE, MONTH, QUARTER):
        return deadline.end - timedelta(days=1)
    return deadline.end


# Status of a deadline on a day (the bot's /nhiemvu groups, Excel export, …).
OVERDUE, SOON, OPEN, ONGOING_STATUS, UNDATED, DONE = "overdue", "soon", "open", "ongoing", "undated", "done"
STATUS_WORD = {
    DONE: "đã xong",
    OVERDUE: "quá hạn",
    SOON: "sắp đến hạn",
    OPEN: "còn hạn",
    ONGOING_STATUS: "thường xuyên",
    UNDATED: "không thời hạn",
}
SOON_DAYS = 30  # "sắp đến hạn": due within this many days


def status_of(deadline: Deadline | None, today: date, soon_days: int = SOON_DAYS) -> str:
    """overdue / soon / open / ongoing / undated relative to `today`, by the deadline's last day."""
    if deadline is None:
        return UNDATED
    if deadline.kind in (ONGOING, RECURRING, FROM):
        return ONGOING_STATUS
    last = dated_last_day(deadline)
    if last is not None:
        if last < today:
            return OVERDUE
        if (last - today).days <= soon_days:
            return SOON
        return OPEN
    return UNDATED  # conditional ("theo lộ trình") or unreadable wording


def parse_deadline(text: str | None, issued: date | None = None, default_year: int | None = None) -> Deadline | None:
    """Parse a whole deadline cell. Empty → None; anything unreadable → kind "unparsed"."""
    raw = clean_spaces(text or "")
    if not raw or raw in {"-", "—", "x", "X"}:
        return None
    hit = Scanner(raw, whole=True, issued=issued, default_year=default_year).scan()
    if hit:
        return hit.deadline
    return Deadline(text=raw, kind=UNPARSED)


def find_deadline(sentence: str, issued: date | None = None, default_year: int | None = None) -> Deadline | None:
    """The deadline phrase in a sentence of prose, or None when it states none."""
    hit = Scanner(sentence, whole=False, issued=issued, default_year=default_year).scan()
    return hit.deadline if hit else None


def _recurrence(folded: str) -> tuple[str, list[str], int | None] | None:
    """Kept for callers of the old name: see `knowledge.dates.recurrence.recurrence`."""
    return recurrence(folded)


_sentence_window = sentence_window


def ends_within(deadline: Deadline | None, start: date | None, end: date | None) -> bool:
    """A dated deadline (date, month, quarter, year, range) whose last day is in [start, end]."""
    if deadline is None or not deadline.dated:
        return False
    last = last_day(deadline)
    return last is not None and (end is None or last <= end) and (start is None or last >= start)


def describe(deadline: Deadline | None) -> str:
    """Short Vietnamese normalised reading of a deadline. Where the wording sets a bound it is the
    last day (`last_day`, the day statuses, due filters, reminders and the export use):
    "Trước 01/7/2025" → "hạn cuối 30/06/2025"; "chậm nhất ngày 15/7/2025" → "hạn cuối 15/07/2025";
    "Trước năm 2030" → "hạn cuối 31/12/2029". Spans ("Quý III/2025" → "01/07/2025 – 30/09/2025"),
    a day ("Ngày 15/7/2025" → "ngày 15/07/2025") and open ends ("đến 31/12/2030") as written."""
    if deadline is None:
        return "không nêu thời hạn"
    kind = deadline.kind
    fmt = "%d/%m/%Y"
    last = last_day(deadline)
    bound = deadline.before or (kind == DATE and deadline.start is None)
    if deadline.dated and last is not None and bound:
        return "hạn cuối " + last.strftime(fmt)
    if kind == DATE and deadline.end:
        return "ngày " + deadline.end.strftime(fmt)
    if kind in (MONTH, QUARTER, YEAR, RANGE) and deadline.end:
        if deadline.before or not deadline.start:
            return ("trước " if deadline.before else "đến ") + deadline.end.strftime(fmt)
        return f"{deadline.start.strftime(fmt)} – {deadline.end.strftime(fmt)}"
    if kind == FROM and deadline.start:
        return "từ " + deadline.start.strftime(fmt)
    if kind == RECURRING:
        return "định kỳ"
    if kind == ONGOING:
        return "thường xuyên"
    if kind == CONDITIONAL:
        return "theo điều kiện/lộ trình"
    return "chưa đọc được thời hạn"
