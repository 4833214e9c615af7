"""Deadline grammar: Vietnamese deadline wording → a normalised `Deadline`.

Two entry points:
- `parse_deadline(text)` reads a whole deadline cell ("Trước ngày 01/7/2025", "Hàng năm").
- `find_deadline(text)` looks for a deadline *phrase* inside a sentence of prose
  ("… trình UBND tỉnh trong quý IV năm 2021"), ignoring dates that belong to document
  references ("Quyết định số 01/QĐ-UBND ngày 01/01/2021").

Both work on the diacritics-folded text (offsets are shared with the original), so
"truoc 01/7/2025" and "Trước 01/7/2025" parse alike. The raw wording is always kept.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

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
from knowledge.text import clean_spaces, fold

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q = r"(?:iv|iii|ii|i|[1-4])"
_YEAR = r"(?:19|20)\d\d"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_SEP = r"\s*[/.\-]{1,2}\s*"

# Numeric date: 01/7/2025, 1-7-2025, OCR "01/01//2021".
NUM_DATE = rf"(?P<d>{_DAY}){_SEP}(?P<m>{_MON}){_SEP}(?P<y>{_YEAR})"
# Spelled date: ngày 27 tháng 6 năm 2014
WORD_DATE = rf"ngay\s+(?P<d2>{_DAY})\s+thang\s+(?P<m2>{_MON})\s*(?:nam|/)\s*(?P<y2>{_YEAR})"
ANY_DATE = rf"(?:{NUM_DATE}|{WORD_DATE})"
MONTH_YEAR = rf"(?:thang\s+)?(?P<mm>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<my>{_YEAR})"
QUARTERS = rf"quy\s+(?P<qs>{_Q}(?:\s*(?:,|va|-|den)\s*(?:quy\s+)?{_Q})*)\s*(?:nam\s+|/\s*)?(?P<qy>{_YEAR})?"
YEAR_RANGE = rf"(?P<y_a>{_YEAR})\s*(?:-|–|—|den(?:\s+nam)?)\s*(?P<y_b>{_YEAR})"

PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "nine_months": 9, "year": 12}


@dataclass
class _Hit:
    deadline: Deadline
    start: int
    end: int


def safe_date(y: str, m: str, d: str) -> date | None:
    """The date for year/month/day strings, or None when they name no real day (31/02)."""
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _quarter_numbers(spec: str) -> list[int]:
    return [ROMAN[q] for q in re.findall(_Q, spec)]


def _recurrence(folded: str) -> tuple[str, list[str], int | None] | None:
    """Recurrence (RRULE, periods, due day of the following month) in `folded`, if any."""
    periods: list[str] = []
    if re.search(r"(hang|hang|moi|dinh ky)\s+ngay\b", folded):
        return "FREQ=DAILY", ["day"], None
    if re.search(r"(hang|moi|dinh ky)\s+tuan\b", folded):
        return "FREQ=WEEKLY", ["week"], None
    if re.search(r"(hang|moi|dinh ky)\s+thang\b", folded):
        periods.append("month")
    if re.search(r"(hang|moi|dinh ky|tung)\s+quy\b(?!\s+dinh)", folded):
        periods.append("quarter")
    if re.search(r"\b(6|sau)\s+thang\b(?!\s+(dau|cuoi)\s+nam)", folded) and (
        periods or re.search(r"dinh ky|/\s*lan|mot lan|1 lan|hang|moi", folded)
    ):
        periods.append("half_year")
    if re.search(r"\b(9|chin)\s+thang\b", folded) and periods:
        periods.append("nine_months")
    if re.search(r"(hang|moi|dinh ky)\s+nam\b|ca nam\b|hang nam|hang nam", folded) or (
        periods and re.search(r"\bnam\b", folded) and "ca nam" in folded
    ):
        periods.append("year")
    if not periods and re.search(r"ngay\s+\d+\s+(cua\s+)?(hang|moi|cua)?\s*thang", folded):
        periods.append("month")
    if not periods:
        if re.search(r"\bdinh ky\b", folded):
            return "", [], None  # periodic, period unknown
        return None
    due_day = None
    last_month = re.search(rf"ngay\s+(?P<n>{_DAY})\s+(?:cua\s+)?thang\s+cuoi\s+(?:ky|quy|nam|ky bao cao)", folded)
    if last_month:
        day = int(last_month.group("n"))
        return _rrule(periods, day, offset=0), periods, day
    m = re.search(rf"ngay\s+(?P<n>{_DAY})\s+(?:cua\s+)?(?:thang|hang thang)\s+(?:ke tiep|tiep theo|sau|lien ke)", folded)
    if not m:
        m = re.search(rf"(?:truoc|cham nhat|vao)\s+(?:la\s+)?ngay\s+(?P<n>{_DAY})\s+(?:hang|hang|moi|cua)\s+thang", folded)
    if m:
        due_day = int(m.group("n"))
    return _rrule(periods, due_day), periods, due_day


def _rrule(periods: list[str], due_day: int | None, offset: int = 1) -> str:
    if due_day is None:
        shortest = min(PERIOD_MONTHS[p] for p in periods if p in PERIOD_MONTHS) if any(
            p in PERIOD_MONTHS for p in periods
        ) else 12
        if shortest == 12:
            return "FREQ=YEARLY"
        if shortest == 1:
            return "FREQ=MONTHLY"
        return f"FREQ=MONTHLY;INTERVAL={shortest}"
    if "month" in periods:
        return f"FREQ=MONTHLY;BYMONTHDAY={due_day}"
    months = set(due_months(periods, offset))
    by_month = ",".join(str(m) for m in sorted(months))
    return f"FREQ=YEARLY;BYMONTH={by_month};BYMONTHDAY={due_day}"


def due_months(periods: list[str], offset: int = 1) -> dict[int, list[str]]:
    """Month of the due day → the periods whose report falls due in it.

    `offset` 1: the report is due in the month after the period ends ("tháng kế tiếp");
    0: in the last month of the period ("tháng cuối kỳ").
    """
    result: dict[int, list[str]] = {}
    for period in periods:
        if period == "month":
            for month in range(1, 13):
                result.setdefault(month, []).append(period)
        elif period == "nine_months":
            result.setdefault((9 + offset - 1) % 12 + 1, []).append(period)
        elif period in PERIOD_MONTHS:
            step = PERIOD_MONTHS[period]
            for end_month in range(step, 13, step):
                result.setdefault((end_month + offset - 1) % 12 + 1, []).append(period)
    return result


def due_offset(recurrence: str | None) -> int:
    """0 when an RRULE's due months are the period's last months (see `due_months`), else 1."""
    m = re.search(r"BYMONTH=([\d,]+)", recurrence or "")
    if not m:
        return 1
    months = {int(x) for x in m.group(1).split(",")}
    return 0 if months & {3, 6, 9, 12} and not months & {1, 4, 7, 10} else 1


def parse_deadline(text: str | None) -> Deadline | None:
    """Parse a whole deadline cell. Empty → None; anything unreadable → kind "unparsed"."""
    raw = clean_spaces(text or "")
    if not raw or raw in {"-", "—", "x", "X"}:
        return None
    folded = fold(raw)
    hit = _scan(folded, raw, whole=True)
    if hit:
        return hit.deadline
    return Deadline(text=raw, kind=UNPARSED)


def find_deadline(sentence: str) -> Deadline | None:
    """The deadline phrase in a sentence of prose, or None when it states none."""
    raw = sentence
    folded = fold(raw)
    hit = _scan(folded, raw, whole=False)
    return hit.deadline if hit else None


def _is_reference_date(folded: str, start: int) -> bool:
    """Date right after a document reference ("…số 01/QĐ-UBND ngày 01/01/2021")."""
    before = folded[max(0, start - 60) : start]
    return bool(
        re.search(r"(/[a-z&\-]{2,}[^,;.]{0,20}|-[a-z]{2,}/[a-z]{2,}[^,;.]{0,15})\s+(ngay\s+)?$", before)
        or re.search(r"\b(ban hanh|ky)\s+ngay\s+$", before)
    )


def _scan(folded: str, raw: str, whole: bool) -> _Hit | None:
    def text_of(start: int, end: int) -> str:
        piece = clean_spaces(raw[start:end]).strip(" ,;.")
        if piece.count("(") > piece.count(")"):
            piece += ")"
        return piece.lstrip("()").strip() if piece.startswith(("(", ")")) else piece

    full = clean_spaces(raw) if whole else None

    def make(kind: str, at: int, until: int, **fields) -> _Hit:
        return _Hit(Deadline(text=full or text_of(at, until), kind=kind, **fields), at, until)

    # Ongoing work.
    m = re.search(r"\b(nhiem vu )?thuong xuyen\b|\blien tuc\b", folded)
    if m and (whole or re.search(r"nhiem vu thuong xuyen", folded)):
        return make(ONGOING, m.start(), m.end())

    # Recurring: hàng năm / hằng quý / định kỳ 6 tháng / … ngày 10 của tháng kế tiếp.
    rec_cue = re.search(
        r"(dinh ky\s+)?\b(hang|moi)\s+(ngay|tuan|thang|quy|nam)\b|\bdinh ky\b|\b\d+\s+thang\s*/\s*lan\b"
        r"|(cham nhat|truoc)\s+(la\s+)?ngay\s+\d+\s+(cua|hang|moi)\s+thang",
        folded,
    )
    if rec_cue and (whole or not _is_reference_date(folded, rec_cue.start())):
        rec = _recurrence(folded if whole else _sentence_window(folded, rec_cue.start()))
        if rec is not None:
            rrule, periods, due_day = rec
            end = rec_cue.end()
            more = re.match(
                r"(?:\s*(?:,|va|/)?\s*(?:\d+|hang|sau|chin|ca|nam)?\s*(?:thang|quy|nam|lan)\b"
                r"|\s*,?\s*(?:truoc|cham nhat|vao)\s+(?:la\s+)?ngay\s+\d{1,2}\s+(?:cua\s+)?(?:hang|moi|cua)?\s*thang"
                r"(?:\s+(?:ke tiep|tiep theo|sau|cuoi ky|cuoi quy))?(?:\s+lien ke)?)*",
                folded[end:],
            )
            end += more.end() if more else 0
            tail = re.search(r"\(?\s*cham nhat[^)]*\)?|ngay\s+\d+\s+cua\s+thang[^,;.]*", folded[end : end + 160])
            if tail:
                end = end + tail.end()
            window_start = rec_cue.start()
            return make(RECURRING, window_start, end, recurrence=rrule or None)

    # Conditional: Theo lộ trình / Theo hướng dẫn / Theo tiến độ / Khi …
    if whole and re.match(r"\s*(theo|khi|sau khi|tuy|tuỳ|căn cứ|can cu)\b", folded):
        years = re.findall(_YEAR, folded)
        start = date(int(years[0]), 1, 1) if years and re.search(r"tu\s+(nam\s+)?" + years[0], folded) else None
        return make(CONDITIONAL, 0, len(folded), start=start)

    # Exact dates, usually "trước / chậm nhất / hạn …".
    for m in re.finditer(ANY_DATE, folded):
        if not whole and _is_reference_date(folded, m.start()):
            continue
        day = safe_date(m.group("y") or m.group("y2"), m.group("m") or m.group("m2"), m.group("d") or m.group("d2"))
        if day is None:
            continue
        cue = re.search(
            r"(truoc|cham nhat|han|hoan thanh|xong|hoan thien|den|vao|trong)(\s+(la|vao|het))?(\s+ngay)?\s*$",
            folded[max(0, m.start() - 30) : m.start()],
        )
        if not whole and not cue:
            continue
        before = bool(cue and re.search(r"truoc|cham nhat|han|den", cue.group(0)))
        start = m.start() - (len(cue.group(0)) if cue else 0)
        return make(DATE, start, m.end(), start=None if before else day, end=day, before=before)

    # Quarters: "Quý II, III năm 2024", "trong quý IV năm 2021".
    for m in re.finditer(QUARTERS, folded):
        year = m.group("qy")
        if not year:
            continue
        numbers = _quarter_numbers(m.group("qs"))
        if not numbers:
            continue
        cue_ok = whole or re.search(r"(trong|truoc|vao|cuoi|dau|hoan thanh|xong)\s*$", folded[max(0, m.start() - 25) : m.start()])
        if not cue_ok:
            continue
        y = int(year)
        first, last = min(numbers), max(numbers)
        pre = folded[max(0, m.start() - 12) : m.start()]
        before = "truoc" in pre
        q_start = date(y, 3 * first - 2, 1)
        q_end = _month_end(y, 3 * last)
        if before:
            q_end = date(y, 3 * first - 2, 1)
        s = m.start() - len(re.search(r"(\S+\s+)?$", pre).group(0) if pre.strip() else "")
        return make(QUARTER, max(0, s), m.end(), start=None if before else q_start, end=q_end, before=before)

    # Half years: "6 tháng đầu năm 2025".
    m = re.search(rf"6 thang (dau|cuoi) nam\s+(?P<y>{_YEAR})", folded)
    if m:
        y = int(m.group("y"))
        first = m.group(1) == "dau"
        return make(
            MONTH,
            m.start(),
            m.end(),
            start=date(y, 1 if first else 7, 1),
            end=_month_end(y, 6 if first else 12),
        )

    # Months: "tháng 01 năm 2021", "6/2025".
    for m in re.finditer(MONTH_YEAR, folded):
        if not whole:
            pre = folded[max(0, m.start() - 20) : m.start()]
            if not re.search(r"(trong|truoc|vao|cuoi|dau|den|hoan thanh|xong)\s*$", pre) or not folded[m.start() :].startswith("thang"):
                continue
        if re.match(r"\d", folded[m.start() :]) and m.start() > 0 and folded[m.start() - 1] in "/.-":
            continue
        y, mo = int(m.group("my")), int(m.group("mm"))
        pre = folded[max(0, m.start() - 12) : m.start()]
        before = "truoc" in pre
        return make(
            MONTH,
            m.start(),
            m.end(),
            start=None if before else date(y, mo, 1),
            end=date(y, mo, 1) if before else _month_end(y, mo),
            before=before,
        )

    # Year ranges: "2018-2020", "giai đoạn 2021 - 2025", "từ 2021 đến 2025".
    if whole:
        m = re.search(YEAR_RANGE, folded)
        if m:
            a, b = int(m.group("y_a")), int(m.group("y_b"))
            if a <= b:
                return make(RANGE, m.start(), m.end(), start=date(a, 1, 1), end=date(b, 12, 31))

    # Open-ended: "Từ năm 2026", "2025 và những năm tiếp theo", "từ năm 2025 trở đi".
    m = re.search(rf"\btu\s+(nam\s+)?(?P<y>{_YEAR})(?!\s*(-|den))", folded) or re.search(
        rf"(?P<y>{_YEAR})\s+(va\s+)?(nhung|cac)\s+nam\s+(tiep theo|sau)|(?P<y3>{_YEAR})\s+tro di", folded
    )
    if m and (whole or m.group(0).startswith("tu")):
        y = int(m.group("y") or m.group("y3"))
        return make(FROM, m.start(), m.end(), start=date(y, 1, 1))

    # Years: "2018", "năm 2025", "trước năm 2030", "đến năm 2025".
    pattern = rf"(?P<cue>truoc|den|trong|vao|cuoi)?\s*(nam\s+)?(?P<y>{_YEAR})\b"
    for m in re.finditer(pattern, folded):
        cue = m.group("cue")
        if not whole and cue not in ("truoc",):
            continue
        if not whole and _is_reference_date(folded, m.start()):
            continue
        y = int(m.group("y"))
        if cue == "truoc":
            return make(YEAR, m.start(), m.end(), start=None, end=date(y - 1, 12, 31), before=True)
        if cue == "den":
            return make(YEAR, m.start(), m.end(), start=None, end=date(y, 12, 31), before=True)
        if whole and not re.fullmatch(rf"\s*(nam\s+)?{_YEAR}\s*\.?\s*", folded) and not cue:
            # "2018" alone is a year; longer text with a year we could not read stays unparsed
            # unless the year is the only number in it.
            if len(re.findall(r"\d+", folded)) > 1:
                break
        return make(YEAR, m.start(), m.end(), start=date(y, 1, 1), end=date(y, 12, 31))
    return None


def _sentence_window(folded: str, at: int) -> str:
    """The clause of a long sentence around a recurrence cue (so distant words don't mix)."""
    left = max(folded.rfind(";", 0, at), folded.rfind(". ", 0, at))
    right_candidates = [i for i in (folded.find(";", at), folded.find(". ", at)) if i != -1]
    right = min(right_candidates) if right_candidates else len(folded)
    return folded[left + 1 : right + 1]


def ends_within(deadline: Deadline | None, start: date | None, end: date | None) -> bool:
    """A dated deadline (date, month, quarter, year, range) that ends in [start, end]."""
    if deadline is None or not deadline.dated or deadline.end is None:
        return False
    return (end is None or deadline.end <= end) and (start is None or deadline.end >= start)


def describe(deadline: Deadline | None) -> str:
    """Short Vietnamese normalised reading of a deadline, e.g. "đến 01/07/2025"."""
    if deadline is None:
        return "không nêu thời hạn"
    kind = deadline.kind
    fmt = "%d/%m/%Y"
    if kind == DATE and deadline.end:
        return ("hạn " if deadline.before else "ngày ") + deadline.end.strftime(fmt)
    if kind in (MONTH, QUARTER, YEAR, RANGE) and deadline.end:
        if deadline.before or not deadline.start:
            return "trước " + deadline.end.strftime(fmt) if deadline.before else "đến " + deadline.end.strftime(fmt)
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
