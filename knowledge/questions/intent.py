"""Question understanding without a remote model: intent, period and search terms."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from knowledge.dates.deadline_calendar import ROMAN, safe_date
from knowledge.orgs.names import without_document_numbers
from knowledge.questions import asked
from knowledge.text import fold, has_diacritics, words

DUTIES = "agency_duties"
WHO_LEADS = "who_leads"
WHO_SUPPORTS = "who_supports"  # "bên nào hỗ trợ / phối hợp": the supporting agencies
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
    r"\b(ai|don vi nao|co quan nao|so nao|bo nao|phong nao|ben nao|nganh nao|cap nao)\b|\bdo ai\b|\bai la\b|chu tri la ai|giao cho ai"
)
_DEADLINE = re.compile(
    r"\bkhi nao\b|\bbao gio\b|\bthoi han\b|\bhan\b|\bnam nao\b|\bngay nao\b|\bthang nao\b|\bluc nao\b|"
    r"\bgiai doan nao\b|\bthoi gian\b|\bcham nhat\b|\btien do\b|\bthoi diem nao\b"
)
_DUTY = re.compile(
    r"lam gi|trach nhiem gi|nhiem vu gi|nhung viec gi|viec gi|phai lam|co nhiem vu|chiu trach nhiem|"
    r"duoc giao|nhiem vu cua|trach nhiem cua|phu trach gi|lam nhung gi|can lam|phai thuc hien|vai tro gi"
)
DUTY_WORDS = _DUTY


def asks_time(text: str) -> bool:
    """The question asks when ("hạn khi nào", "thời hạn ra sao", "bao giờ")."""
    return bool(_DEADLINE.search(fold(text)))

_LIST = re.compile(r"\b(nhiem vu|viec|de an|du an|ke hoach|noi dung|hang muc)\b.{0,20}\bnao\b|\bnhung\b.{0,30}\bnao\b")
_REPORT = re.compile(r"\bbao cao\b")
_WHEN = re.compile(r"\b(khi nao|bao gio|luc nao|thoi diem nao|ngay nao|thang nao|nam nao)\b")  # one date asked, not a list
_REPORT_WHEN = re.compile(
    r"dinh ky|bao lau|khi nao|han|hang (thang|quy|nam)|ngay may|ngay nao|cho ai|ve dau|gui|tan suat|ky nao|moi"
)

# "bên nào hỗ trợ", "cơ quan nào phối hợp", "phối hợp với ai": the supporting agencies asked for
_ASKS_SUPPORT = re.compile(
    r"\b(ai|ben nao|don vi nao|co quan nao|so nao|nganh nao|nhung ai)\s+(se\s+|phai\s+|duoc\s+|cung\s+|tham gia\s+)?"
    r"(phoi hop|ho tro\s*(\?|$|,|;|thuc hien|trien khai|viec|cho viec|trong viec))|"
    r"\bphoi hop\s+(voi\s+)?(la\s+)?(ai|ben nao|don vi nao|co quan nao|nhung ai)\b|\b(co quan|don vi|ben) phoi hop\b(?!.*\bchu tri\b)"
)
_TASK_LIST = re.compile(r"\b(nhiem vu|viec|noi dung|hang muc|de an|du an|tieu du an)\b.{0,20}\b(nao|gi)\b")
_TO_WHOM = re.compile(r"\b(cho|gui|ve|toi|len|qua)\s+(ai|co quan nao|don vi nao|dau|noi nao)\b")


@dataclass
class Period:
    start: date | None
    end: date | None
    mode: str  # "before" (ends by `end`) | "within" | "after" | "overdue" (ended before today)
    text: str
    months: tuple[int, ...] = ()  # months of any year ("tháng 8 hoặc tháng 9", no year written)
    finish: bool = True  # asks what must be finished then ("xong", "hạn"), not what runs then


@dataclass
class Intent:
    name: str
    period: Period | None
    terms: list[str]  # content words for lexical search (folded)
    asks_day: bool  # asks for a specific day ("ngày mấy", "trước ngày nào")
    diacritics: bool


def _month_period(y: int, mo: int, text: str) -> Period:
    return Period(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), "within", text)


def _quarter_period(y: int, q: int, text: str) -> Period:
    return Period(date(y, 3 * q - 2, 1), date(y, 3 * q, calendar.monthrange(y, 3 * q)[1]), "within", text)


def _shift_month(y: int, mo: int, by: int) -> tuple[int, int]:
    n = y * 12 + mo - 1 + by
    return n // 12, n % 12 + 1


def relative_period(question: str, today: date | None) -> Period | None:
    """"đã quá hạn", "sắp đến hạn", "tuần này/sau", "tháng này/sau", "quý này/tới", "năm nay/sau"
    relative to `today` (passed in: nothing here reads the clock)."""
    if today is None:
        return None
    f = fold(question)
    if re.search(r"\b(da )?(qua han|tre han|cham tien do|het han)\b", f) and not re.search(r"sap (qua|het) han", f):
        return Period(None, today - timedelta(days=1), "overdue", "đã quá hạn")
    if re.search(r"sap (den|het|toi|qua) han|gan den han|sap phai", f):
        return Period(today, today + timedelta(days=30), "within", "30 ngày tới")
    if re.search(r"\btuan (nay|hien tai)\b", f):
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6), "within", "tuần này")
    if re.search(r"\btuan (sau|toi)\b", f):
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return Period(monday, monday + timedelta(days=6), "within", "tuần sau")
    if re.search(r"thang nay|trong thang\b(?!\s+\d)", f):
        return _month_period(today.year, today.month, "tháng này")
    if re.search(r"thang (sau|toi)", f):
        return _month_period(*_shift_month(today.year, today.month, 1), "tháng tới")
    q = (today.month - 1) // 3 + 1
    if re.search(r"quy nay", f):
        return _quarter_period(today.year, q, "quý này")
    if re.search(r"quy (sau|toi)", f):
        return _quarter_period(today.year + (q == 4), q % 4 + 1, "quý tới")
    if re.search(r"nam nay", f):
        return Period(date(today.year, 1, 1), date(today.year, 12, 31), "within", "năm nay")
    if re.search(r"nam (sau|toi)", f):
        return Period(date(today.year + 1, 1, 1), date(today.year + 1, 12, 31), "within", "năm tới")
    return None


# A date is a due-date filter only when the question asks about a due date near it.
_CUE_BEFORE = re.compile(r"\b(truoc|truoc ngay)\s*$")
_CUE_UNTIL = re.compile(r"\b(den het|cham nhat|khong muon hon|den truoc|han chot|han cuoi)\b[^,;?]{0,12}$")
_CUE_AFTER = re.compile(r"\b(sau|ke tu sau)\s*(ngay)?\s*$")
_CUE = re.compile(
    r"\b(han|thoi han|den han|xong|hoan thanh|ket thuc|thoi gian thuc hien|thoi gian hoan thanh|trong|vao|"
    r"den|tu|truoc|sau|cham nhat|nop|la)\b"
)
_ONWARD = re.compile(r"\s*(tro di|tro ve sau|ve sau|tro len)\b")
_CUE_LATER = re.compile(r"\b(den han|het han|phai xong|phai hoan thanh|hoan thanh|xong|can xong)\b")
_NAMES_PLAN = re.compile(r"\b(giai doan|tam nhin|nhiem ky|khoa)\s*$|\b(ke hoach|chuong trinh|de an|chien luoc|nghi quyet)\b(?!.*\b(han|xong|hoan thanh)\b)[^?;]{0,80}\b(den|toi|den nam|nam)\s*$")
# "… trong Kế hoạch chuyển đổi số năm 2026": a year ending a plan's name (no due word after the kind)
_PLAN_NAME = re.compile(
    r"\b(ke hoach|chuong trinh|de an|chien luoc|nghi quyet|kh)\b(?![^?;]*\b(han|xong|hoan thanh|nhung|nao)\b)[^?;,]{0,80}$"
)
_DATE_RE = re.compile(
    r"(?P<day>(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*((?:19|20)\d\d))"
    r"|(?P<quarter>quy\s+(iv|iii|ii|i|[1-4])\s*(?:nam\s+|/\s*)?((?:19|20)\d\d))"
    r"|(?P<month>(?:thang\s+)?(\d{1,2})\s*(?:nam\s+|/\s*)((?:19|20)\d\d))"
    r"|(?P<year>(?:nam\s+)?((?:19|20)\d\d))(?!\s*[-–/]\s*(?:19|20)?\d\d)"
)


def _span(m: re.Match[str]) -> tuple[date, date] | None:
    g = m.groups()
    if m.group("day"):
        day = safe_date(g[3], g[2], g[1])
        return (day, day) if day else None
    if m.group("quarter"):
        q, y = ROMAN[g[5]], int(g[6])
        p = _quarter_period(y, q, "")
        return p.start, p.end
    if m.group("month"):
        mo, y = int(g[8]), int(g[9])
        if not 1 <= mo <= 12 or (not m.group("month").startswith("thang") and "/" not in m.group("month")):
            return None
        p = _month_period(y, mo, "")
        return p.start, p.end
    y = int(g[11])
    return date(y, 1, 1), date(y, 12, 31)


def find_period(question: str, today: date | None = None) -> Period | None:
    """The due-date window a question asks about, or None. A year or period that names the plan
    ("kế hoạch … đến năm 2030", "giai đoạn 2026-2030", "năm 2025" in a plan's title) is no filter:
    a date counts only when a due word comes before it ("hạn", "trước", "đến hết", "trong", "xong")."""
    relative = relative_period(question, today)
    if relative:
        return relative
    question = without_document_numbers(question)  # "Thông tư 09/2013/TT-BXD" is no "tháng 9/2013"
    f = fold(question)
    finish = bool(_FINISH.search(f)) or not _RUNS.search(f)
    special = _year_range(question, f) or _months(question, f)
    if special:
        special.finish = finish
        return special
    period = _dated_period(question, f)
    if period:
        period.finish = finish
    return period


_FINISH = re.compile(r"\b(xong|hoan thanh|hoan tat|han|ket thuc|den han|het han|cham nhat)\b")
_RUNS = re.compile(r"\b(dien ra|thuc hien|trien khai|to chuc|tien hanh|hoat dong|lich)\b")
# "giai đoạn 2025 - 2030", "từ 2025 đến 2030", "thời gian thực hiện 2026-2028": a window of years,
# unless it names the plan ("Kế hoạch … giai đoạn 2026-2030").
_YEAR_RANGE = re.compile(r"\b((?:19|20)\d\d)\s*(?:-|–|den|toi)\s*(?:nam\s+)?((?:19|20)\d\d)\b")
_RANGE_CUE = re.compile(r"\b(giai doan|tu|trong|thuc hien|han|khoang|thoi ky|thoi gian|nam)\s*$")
_PLAN_BEFORE = re.compile(
    r"\b(ke hoach|chuong trinh|de an|chien luoc|nghi quyet|quyet dinh|kh|phong trao|du an)\b"
    r"(?![^?;]*\b(han|xong|hoan thanh|thoi gian|dien ra|nhiem vu nao|viec nao|nhung)\b)[^?;]{0,90}$"
)
# "tháng 8 hoặc tháng 9", "tháng 8, 9", "từ tháng 7 đến tháng 9" (no year: any year), "… năm 2025"
_MONTH_LIST = re.compile(
    r"(?<!\d )\bthang\s+(\d{1,2})\b(?!\s*[/.-]\s*\d)((?:\s*(?:,|va|hoac|hay|den|toi|-|–)\s*(?:thang\s+)?\d{1,2}\b(?!\s*[/.-]\s*\d))*)"
    r"(?:\s*(?:nam\s+|/\s*)((?:19|20)\d\d))?"
)


def _year_range(question: str, f: str) -> Period | None:
    for m in _YEAR_RANGE.finditer(f):
        y1, y2 = int(m.group(1)), int(m.group(2))
        before = f[: m.start()]
        if not y1 < y2 <= y1 + 30 or _PLAN_BEFORE.search(before) or not _RANGE_CUE.search(before):
            continue
        return Period(date(y1, 1, 1), date(y2, 12, 31), "within", question[m.start() : m.end()])
    return None


def _months(question: str, f: str) -> Period | None:
    """Months named without a year (or with one year after the last): "tháng 8 hoặc tháng 9"."""
    for m in _MONTH_LIST.finditer(f):
        if re.search(r"\bngay\s+\d{1,2}\s*$", f[: m.start()]):
            continue  # "ngày 15 tháng 12": a day, not a month
        if not m.group(3) and re.match(r"\s*(?:nam\s+|/\s*)?(?:19|20)\d\d", f[m.end() :]):
            continue
        months = [int(m.group(1)), *map(int, re.findall(r"\d{1,2}", m.group(2) or ""))]
        if not all(1 <= mo <= 12 for mo in months) or (not m.group(2) and not m.group(3) and not _DUE_LIST.search(f)):
            continue
        if re.search(r"\b(den|toi|-|–)\b|[-–]", m.group(2) or "") and len(months) == 2 and months[0] < months[1]:
            months = list(range(months[0], months[1] + 1))
        text = question[m.start() : m.end()]
        if m.group(3):
            y = int(m.group(3))
            first, last = min(months), max(months)
            return Period(date(y, first, 1), date(y, last, calendar.monthrange(y, last)[1]), "within", text, tuple(months))
        if len(months) == 1 and not _DUE_LIST.search(f):
            return None
        return Period(None, None, "within", text, tuple(sorted(set(months))))
    return None


_DUE_LIST = re.compile(r"\b(nhung|viec|nhiem vu|hoat dong|noi dung)\b.{0,40}\b(nao|gi)\b|\bnao\b.{0,40}\b(xong|han|dien ra)\b")


def _dated_period(question: str, f: str) -> Period | None:
    found = [(m, _span(m)) for m in _DATE_RE.finditer(f)]
    found = [(m, s) for m, s in found if s and not re.search(r"[\d\-–/]\s*$", f[: m.start()])]
    # "từ 01/01/2024 đến 31/12/2024": a window
    for (m1, s1), (m2, s2) in zip(found, found[1:], strict=False):
        between = f[m1.end() : m2.start()]
        if re.fullmatch(r"\s*(den|toi|[-–])\s*(het\s+)?(ngay\s+)?", between) and re.search(r"\b(tu|trong khoang|giua)\s*(ngay\s+)?$", f[: m1.start()]):
            return Period(s1[0], s2[1], "within", question[m1.start() : m2.end()])
    for m, (start, end) in found:
        before = f[: m.start()]
        text = question[m.start() : m.end()]
        if _NAMES_PLAN.search(before) or (f[m.start() :].startswith("nam") and _PLAN_NAME.search(before)):
            continue  # "kế hoạch … đến năm 2030", "Kế hoạch kinh tế số năm 2027": the plan's years
        if _ONWARD.match(f[m.end() :]):  # "từ năm 2027 trở đi": due from its first day on
            return Period(start, None, "after", question[m.start() : m.end()] + " trở đi")
        if _CUE_BEFORE.search(before):
            # "trước 31/12/2025" asks what is done by the end of 2025: a month's last day is kept
            month_end = start == end and (start + timedelta(days=1)).day == 1
            return Period(None, start if month_end else start - timedelta(days=1), "before", text)
        if _CUE_UNTIL.search(before):
            return Period(None, end, "before", text)
        if _CUE_AFTER.search(before):
            return Period(end + timedelta(days=1), None, "after", text)
        window = " ".join(before.split()[-6:])
        after = " ".join(f[m.end() :].split()[:6])
        if _CUE.search(window) or _CUE_LATER.search(after):
            return Period(start, end, "within", text)
    return None


def _asks_who_first(f: str) -> bool:
    """The question asks who before (or instead of) asking which duties: "ai chủ trì việc X" is
    not "Sở Y tế phối hợp trong nhiệm vụ nào, ai chủ trì nhiệm vụ đó"."""
    who = re.search(r"\bai\b|don vi nao|co quan nao|ben nao", f)
    duty = _DUTY.search(f) or _TASK_LIST.search(f)
    return bool(who) and (duty is None or who.start() < duty.start())


def detect(question: str, has_agency: bool, today: date | None = None) -> Intent:
    f = fold(question)
    tokens = words(question)
    terms = [t for t in tokens if t not in STOPWORDS and len(t) > 1]
    period = find_period(question, today)
    asks_day = bool(re.search(r"ngay may|ngay nao|truoc ngay|ngay bao nhieu", f))
    diacritics = has_diacritics(question)
    who = bool(_WHO.search(f)) and asked.asked_kind(question) not in (asked.PHONE, asked.EMAIL)  # "là số nào"
    # "báo cáo" asked about (to whom, how often, by when) — not "ai chủ trì … báo cáo"
    asks_leader = bool(re.search(r"chu tri|\b(ai|co quan nao|don vi nao)\b", f)) and not _TO_WHOM.search(f)
    asks_report = _REPORT_WHEN.search(f) or _TO_WHOM.search(f)
    if _REPORT.search(f) and asks_report and not _TASK_LIST.search(f) and not asks_leader:
        name = REPORTING
    elif period and (not has_agency or _LIST.search(f)) and not who and not (_WHEN.search(f) and not _LIST.search(f)):
        name = DUE
    elif has_agency and (_DUTY.search(f) or _TASK_LIST.search(f)) and not _asks_who_first(f):
        name = DUTIES
    elif who:
        name = WHO_SUPPORTS if _ASKS_SUPPORT.search(f) and "chu tri" not in f else WHO_LEADS
    elif _DEADLINE.search(f):
        name = DEADLINE
    elif has_agency and len(terms) <= 4:
        name = DUTIES
    else:
        name = SEARCH
    return Intent(name, period, terms, asks_day, diacritics)
