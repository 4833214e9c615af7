"""Question understanding without a remote model: intent, period and search terms."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from knowledge.deadlines import ROMAN, safe_date
from knowledge.text import fold, has_diacritics, words

DUTIES = "agency_duties"
WHO_LEADS = "who_leads"
DEADLINE = "deadline"
DUE = "due"
REPORTING = "reporting"
SEARCH = "search"

STOPWORDS = frozenset(
    """ai gi nao khi la co cua va cac nhung phai lam the nhu de trong theo ve cho do hay thi ma
    duoc bi nay kia day do roi se da dang viec nhiem vu ke hoach kh so tinh huyen o tai voi tu den
    hoi xin vui long giup toi minh ban biet muon can hoi bao lau mot lan gui han khi thoi gian""".split()
)

_WHO = re.compile(
    r"\b(ai|don vi nao|co quan nao|so nao|phong nao|ben nao|nganh nao)\b|\bdo ai\b|\bai la\b|chu tri la ai|giao cho ai"
)
_DEADLINE = re.compile(
    r"\bkhi nao\b|\bbao gio\b|\bthoi han\b|\bhan\b|\bnam nao\b|\bngay nao\b|\bthang nao\b|\bluc nao\b|"
    r"\bgiai doan nao\b|\bthoi gian\b|\bcham nhat\b|\btien do\b"
)
_DUTY = re.compile(
    r"lam gi|trach nhiem gi|nhiem vu gi|nhung viec gi|viec gi|phai lam|co nhiem vu|chiu trach nhiem|"
    r"duoc giao|nhiem vu cua|trach nhiem cua|phu trach gi|lam nhung gi|can lam|phai thuc hien"
)
_LIST = re.compile(r"\b(nhiem vu|viec|de an|du an|ke hoach|noi dung|hang muc)\b.{0,20}\bnao\b|\bnhung\b.{0,30}\bnao\b")
_REPORT = re.compile(r"\bbao cao\b")
_REPORT_WHEN = re.compile(
    r"dinh ky|bao lau|khi nao|han|hang (thang|quy|nam)|ngay may|ngay nao|cho ai|ve dau|gui|tan suat|ky nao|moi"
)


@dataclass
class Period:
    start: date | None
    end: date | None
    mode: str  # "before" | "within" | "after"
    text: str


@dataclass
class Intent:
    name: str
    period: Period | None
    terms: list[str]  # content words for lexical search (folded)
    asks_day: bool  # asks for a specific day ("ngày mấy", "trước ngày nào")
    diacritics: bool


def _month_period(y: int, mo: int, text: str) -> Period:
    return Period(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), "within", text)


def relative_period(question: str, today: date | None) -> Period | None:
    """"sắp đến hạn", "tháng này", "tháng sau/tới", "quý này", "năm nay" relative to `today`."""
    if today is None:
        return None
    f = fold(question)
    if re.search(r"sap (den|het) han|sap toi han|gan den han|sap phai", f):
        return Period(today, date.fromordinal(today.toordinal() + 30), "within", "30 ngày tới")
    if re.search(r"thang nay|trong thang\b(?!\s+\d)", f):
        return _month_period(today.year, today.month, "tháng này")
    if re.search(r"thang (sau|toi)", f):
        y, mo = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return _month_period(y, mo, "tháng tới")
    if re.search(r"quy nay", f):
        q = (today.month - 1) // 3 + 1
        end_month = 3 * q
        return Period(date(today.year, end_month - 2, 1), date(today.year, end_month, calendar.monthrange(today.year, end_month)[1]), "within", "quý này")
    if re.search(r"nam nay", f):
        return Period(date(today.year, 1, 1), date(today.year, 12, 31), "within", "năm nay")
    return None


def find_period(question: str, today: date | None = None) -> Period | None:
    """A date, month, quarter or year the question asks about, and how (before/within/after)."""
    relative = relative_period(question, today)
    if relative:
        return relative
    f = fold(question)

    def original(m: re.Match[str]) -> str:
        return question[m.start() : m.end()]

    mode = "within"
    if re.search(r"\b(truoc|cham nhat|den truoc|khong muon hon|han chot)\b", f):
        mode = "before"
    elif re.search(r"\b(sau|tu)\b\s+(ngay|thang|quy|nam)?\s*\d", f):
        mode = "after"
    m = re.search(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d)", f)
    if m:
        day = safe_date(m.group(3), m.group(2), m.group(1))
        if day:
            return Period(None if mode == "before" else day, day, mode, original(m))
    m = re.search(r"quy\s+(iv|iii|ii|i|[1-4])\s*(?:nam\s+|/\s*)?((?:19|20)\d\d)", f)
    if m:
        q, y = ROMAN[m.group(1)], int(m.group(2))
        start, end = date(y, 3 * q - 2, 1), date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
        return Period(None if mode == "before" else start, start if mode == "before" else end, mode, original(m))
    m = re.search(r"thang\s+(\d{1,2})\s*(?:nam\s+|/\s*)((?:19|20)\d\d)", f) or re.search(
        r"\b(\d{1,2})\s*/\s*((?:19|20)\d\d)\b", f
    )
    if m and 1 <= int(m.group(1)) <= 12:
        mo, y = int(m.group(1)), int(m.group(2))
        start, end = date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])
        return Period(None if mode == "before" else start, start if mode == "before" else end, mode, original(m))
    m = re.search(r"(?:nam\s+)((?:19|20)\d\d)\b", f) or re.search(r"\b((?:19|20)\d\d)\b", f)
    if m and not re.search(r"\d\s*[-–]\s*" + m.group(1), f):
        y = int(m.group(1))
        start, end = date(y, 1, 1), date(y, 12, 31)
        return Period(None if mode == "before" else start, start if mode == "before" else end, mode, original(m))
    return None


def detect(question: str, has_agency: bool, today: date | None = None) -> Intent:
    f = fold(question)
    tokens = words(question)
    terms = [t for t in tokens if t not in STOPWORDS and len(t) > 1]
    period = find_period(question, today)
    asks_day = bool(re.search(r"ngay may|ngay nao|truoc ngay|ngay bao nhieu", f))
    diacritics = has_diacritics(question)
    if _REPORT.search(f) and _REPORT_WHEN.search(f) and not _LIST.search(f):
        name = REPORTING
    elif period and not has_agency and not _WHO.search(f):
        name = DUE
    elif has_agency and _DUTY.search(f) and not re.search(r"\bai\b|don vi nao|co quan nao", f):
        name = DUTIES
    elif _WHO.search(f):
        name = WHO_LEADS
    elif _DEADLINE.search(f):
        name = DEADLINE
    elif has_agency and len(terms) <= 4:
        name = DUTIES
    else:
        name = SEARCH
    return Intent(name, period, terms, asks_day, diacritics)
