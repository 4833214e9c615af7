"""Pure parser for `/hanchot` arguments: a day, a month, a quarter, a year or the next N days.

Accepted (with or without diacritics): "" (next 30 days), "6/2025", "tháng 6/2025",
"tháng 6 năm 2025", "quý III/2024", "quý 3 năm 2024", "Q3/2024", "01/7/2025", "2025-07-01",
"năm 2025", "2025", "tháng này", "tháng sau", "quý này", "quý tới", "năm nay", "7 ngày",
"tuần này", "tuần sau", "quá hạn", and any two of these as a range: "từ 01/01/2025 đến 30/06/2025".
`today` is passed in (Vietnam time); nothing here reads the clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from knowledge.dates.deadline_calendar import ROMAN
from knowledge.text import clean_spaces, fold

DEFAULT_DAYS = 30
USAGE = (
    "Cách dùng: /hanchot [khoảng thời gian], ví dụ: /hanchot 6/2025 · /hanchot quý III/2024 · "
    "/hanchot 01/7/2025 · /hanchot từ 01/01/2025 đến 30/06/2025 · /hanchot tháng này · "
    "/hanchot quá hạn · /hanchot 2025. Không ghi gì: 30 ngày tới."
)

_YEAR = r"((?:19|20)\d\d)"
_QUARTER = r"(iv|iii|ii|i|[1-4])"


@dataclass(frozen=True)
class Period:
    start: date | None  # None: open (everything due before `end`)
    end: date
    label: str  # Vietnamese, for the reply header ("tháng 6/2025", "30 ngày tới")

    @property
    def span(self) -> str:
        if self.start is None:
            return f"đến {self.end:%d/%m/%Y}"
        if self.start == self.end:
            return self.start.strftime("%d/%m/%Y")
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"


def _month(year: int, month: int) -> Period:
    if not 1 <= month <= 12:
        raise ValueError(f"tháng {month} không hợp lệ")
    last = calendar.monthrange(year, month)[1]
    return Period(date(year, month, 1), date(year, month, last), f"tháng {month}/{year}")


def _quarter(year: int, quarter: int) -> Period:
    roman = {1: "I", 2: "II", 3: "III", 4: "IV"}[quarter]
    first = 3 * quarter - 2
    last = calendar.monthrange(year, first + 2)[1]
    return Period(date(year, first, 1), date(year, first + 2, last), f"quý {roman}/{year}")


def _year(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), f"năm {year}")


def next_days(today: date, days: int = DEFAULT_DAYS) -> Period:
    return Period(today, today + timedelta(days=days), f"{days} ngày tới")


def parse_period(text: str, today: date) -> Period:
    """The period `text` names, relative to `today`. Raises ValueError when it names none."""
    f = clean_spaces(fold(text or "")).strip(" .?!")
    if not f:
        return next_days(today)
    m = re.fullmatch(r"(?:tu\s+)?(.+?)\s+(?:den|toi|-|–)\s+(?:het\s+)?(.+)", f)
    if m and not re.fullmatch(r"\d+", m.group(1)):
        try:
            first, last = parse_period(m.group(1), today), parse_period(m.group(2), today)
        except ValueError:
            first = last = None
        if first and last and first.start and last.end >= first.start:
            return Period(first.start, last.end, f"từ {first.start:%d/%m/%Y} đến {last.end:%d/%m/%Y}")
    if re.fullmatch(r"(da\s+)?(qua|tre|het)\s+han", f):
        return Period(None, today - timedelta(days=1), "thời gian đã qua (quá hạn)")
    m = re.fullmatch(r"((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})", f)
    if m:
        f = f"{m.group(3)}/{m.group(2)}/{m.group(1)}"
    if re.fullmatch(r"(thang nay|trong thang)", f):
        return _month(today.year, today.month)
    if f in ("thang sau", "thang toi"):
        month, year = (1, today.year + 1) if today.month == 12 else (today.month + 1, today.year)
        return _month(year, month)
    if f in ("quy nay", "trong quy"):
        return _quarter(today.year, (today.month - 1) // 3 + 1)
    if f in ("quy sau", "quy toi"):
        q = (today.month - 1) // 3 + 2
        return _quarter(today.year + (q > 4), q - 4 if q > 4 else q)
    if f in ("nam nay", "trong nam"):
        return _year(today.year)
    if f in ("nam sau", "nam toi"):
        return _year(today.year + 1)
    if f in ("tuan nay", "trong tuan"):
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6), "tuần này")
    if f in ("tuan sau", "tuan toi"):
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return Period(monday, monday + timedelta(days=6), "tuần sau")
    if f in ("7 ngay", "7 ngay toi"):
        return next_days(today, 7)
    if f in ("hom nay", "ngay mai"):
        day = today if f == "hom nay" else today + timedelta(days=1)
        return Period(day, day, "hôm nay" if f == "hom nay" else "ngày mai")
    m = re.fullmatch(r"(\d{1,3})\s*ngay(\s+toi)?", f)
    if m:
        days = int(m.group(1))
        if not 1 <= days <= 366:
            raise ValueError("số ngày phải từ 1 đến 366")
        return next_days(today, days)
    m = re.fullmatch(r"(?:ngay\s+)?(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*" + _YEAR, f)
    if m:
        try:
            day = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError as exc:
            raise ValueError(f"ngày {text.strip()} không hợp lệ") from exc
        return Period(day, day, f"ngày {day:%d/%m/%Y}")
    m = re.fullmatch(r"(?:quy|q)\s*" + _QUARTER + r"\s*(?:/|-|nam|\s)\s*" + _YEAR, f)
    if m:
        return _quarter(int(m.group(2)), ROMAN[m.group(1)])
    m = re.fullmatch(r"(?:thang\s*)?(\d{1,2})\s*(?:/|-|\.|nam|\s)\s*" + _YEAR, f)
    if m:
        return _month(int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(?:nam\s*)?" + _YEAR, f)
    if m:
        return _year(int(m.group(1)))
    raise ValueError(f"không hiểu khoảng thời gian “{text.strip()[:60]}”")
