"""Which deadlines a time window asked about takes in ("tháng 01/2026", "quý I/2026", "từ năm 2027
trở đi", "trước 31/12/2025", "tháng 8 hoặc tháng 9", "giai đoạn 2025 - 2030").

Pure: a `Deadline` (its start/end/recurrence fields, never its text) against an
`intent.Period`. The match says how well: the deadline's span is the window itself, its last day
falls in it, a recurring date falls in it, or (asked what runs then, not what must be finished)
its span overlaps it.
"""

from __future__ import annotations

import re
from datetime import date

from knowledge.dates.deadlines import dated_last_day
from knowledge.model import Deadline

EXACT, DUE, RECURS, RUNS = 0, 1, 2, 3  # how an item falls in a window, best first
DATED_KINDS = ("date", "month", "quarter", "year", "range")


def _months_of(start: date, end: date) -> set[int]:
    if (end.year - start.year) * 12 + end.month - start.month >= 11:
        return set(range(1, 13))
    out, y, m = set(), start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.add(m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def recurring_months(deadline: Deadline) -> set[int]:
    """The months a recurring deadline falls due in ("FREQ=YEARLY;BYMONTH=6,12"); none when it
    names no month (a bare "hằng năm" is no date)."""
    m = re.search(r"BYMONTH=([\d,]+)", deadline.recurrence or "")
    return {int(x) for x in m.group(1).split(",") if x} if m else set()


def _in(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def match(deadline: Deadline | None, period) -> int | None:
    """How `deadline` falls in `period` (EXACT, DUE, RECURS, RUNS), or None when it does not."""
    if deadline is None:
        return None
    start, end, months = period.start, period.end, set(period.months)
    last = dated_last_day(deadline)
    if deadline.kind in DATED_KINDS and last is not None:
        first = deadline.start or last
        if months:
            if last.month in months and _in(last, start, end):
                return EXACT if _months_of(first, last) <= months else DUE
            if not period.finish and _months_of(first, last) & months and _in(last, start, None):
                return RUNS
            return None
        if start is not None and start == end:  # one day: due that day, or "trước" it
            return DUE if last == start or deadline.end == start else None
        if _in(last, start, end):
            exact = start is not None and end is not None and first == start and deadline.end == end
            return EXACT if exact else DUE
        if (
            not period.finish
            and period.mode == "within"
            and first <= (end or first)
            and last >= (start or last)
        ):
            return RUNS
        return None
    if deadline.kind == "recurring":
        due = recurring_months(deadline)
        if (
            not due
            or (deadline.end and start and deadline.end < start)
            or (deadline.start and end and deadline.start > end)
        ):
            return None
        if months:
            return RECURS if due & months else None
        if period.mode != "within" or start is None or end is None:
            return None
        return RECURS if due & _months_of(start, end) else None
    if deadline.kind == "from" and deadline.start and not period.finish and period.mode == "within":
        return RUNS if end is None or deadline.start <= end else None
    return None
