"""Recurring deadlines: "hằng quý", "định kỳ 6 tháng", "trước ngày 15/12 hằng năm" → an RRULE.

Works on diacritics-folded text. The RRULE is RFC 5545, readable by dateutil:
FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=10 for "hằng quý, chậm nhất ngày 10 của tháng kế tiếp".
"""

from __future__ import annotations

import re

_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half_year": 6, "nine_months": 9, "year": 12}

# A recurrence cue used as an adverb: "định kỳ hằng năm", "Hằng năm, …", "(hằng quý)", "hằng năm báo
# cáo", "trước ngày 15/12 hằng năm". After a noun it is an adjective and no recurrence: "ngân sách
# hằng năm", "kế hoạch hàng năm", "Trồng cây hàng năm".
CUE = re.compile(
    r"(dinh ky\s+)?\b(hang|moi)\s+(ngay|tuan|thang|quy|nam)\b|\bdinh ky\b|\b\d+\s+thang\s*(?:/|mot|1)\s*lan\b"
    r"|\b(?:\d+|mot|hai|ba|bon)\s+lan\s*(?:/|trong\s+(?:mot\s+|1\s+)?|moi\s+|mot\s+)(?:nam|quy|thang)\b"
    r"|(cham nhat|truoc)\s+(la\s+)?ngay\s+\d+\s+(cua|hang|moi)\s+thang|\b(?:6|sau) thang\b[^.;]{0,40}\bca nam\b"
    r"|(cham nhat|truoc|vao)\s+(la\s+)?ngay\s+\d+\s+(cua\s+)?thang\s+cuoi\s+(cua\s+)?(quy|ky)\b"
)
# "3 tháng một lần", "6 tháng/lần": months between two occurrences → the period.
_EVERY_MONTHS = re.compile(r"\b(?P<n>\d+)\s+thang\s*(?:/|mot|1)\s*lan\b")
# "2 lần/năm", "bốn lần trong một năm": occurrences a year → the period.
_TIMES_A_YEAR = re.compile(r"\b(?P<n>\d+|mot|hai|bon)\s+lan\s*(?:/|trong\s+(?:mot\s+|1\s+)?|moi\s+|mot\s+)nam\b")
_COUNT = {"mot": 1, "hai": 2, "ba": 3, "bon": 4}
_PERIOD_OF_MONTHS = {1: "month", 3: "quarter", 6: "half_year", 12: "year"}
_ADVERB_BEFORE = re.compile(
    r"(?:^|[,;:(]|\bdinh ky|\bbao cao|\bthuc hien|\bto chuc|\bcong bo|\bgui|\btrien khai|\bdanh gia|\btong ket"
    r"|\bso ket|\bkiem tra|\bngay\s+\d+(?:\s*/\s*\d+|\s+thang\s+\d+)?|\b(?:truoc|cham nhat)\s+\d{1,2}\s*/\s*\d{1,2}|\bthang\s+\d+|\btrong|\bvao|\bhoac"
    r"|\bva|\bquy(?:\s+(?:iv|iii|ii|i|[1-4]))?|\bthang|\bit nhat|\btoi thieu|\blien quan|\btheo\s+(?:ke hoach|chuong trinh)(?:\s+cong tac)?)\s*$"
)
# Work done inside the yearly budget or report: "bố trí … trong dự toán ngân sách hằng năm", "lập dự
# toán kinh phí hằng năm", "lồng ghép … trong báo cáo công tác giảm nghèo hằng năm". ("Kế hoạch hằng
# năm" stays a noun's adjective: "xây dựng các Kế hoạch hằng năm", "vào kế hoạch … hằng năm".)
_YEARLY_CYCLE = re.compile(r"\b(?:(?:trong|vao)\s+(?:du toan|du tru|bao cao)|lap\s+(?:du toan|du tru))\b[^,;.()]{0,45}$")
_ADVERB_AFTER = re.compile(
    r"\s*(?:[,;:.)]|\(|(?:mot|\d+|hai|ba) lan\b|bao cao|to chuc|cong bo|gui|thuc hien|danh gia|trien khai|kiem tra"
    r"|tham muu|xay dung|bo tri|ra soat|tong hop|cap nhat)"
)


def adverbial(folded: str, cue: re.Match[str], whole: bool = False) -> bool:
    """A recurrence cue that modifies the duty, not a noun before it.

    At the end of a sentence of prose the cue is an adverb ("… báo cáo kết quả hằng năm."); at
    the end of a whole cell it is not ("Trồng cây hàng năm").
    """
    if cue.group(0).startswith(("dinh ky", "cham nhat", "truoc")) or re.match(r"\d|6|sau", cue.group(0)):
        return True
    before = folded[max(0, cue.start() - 30) : cue.start()]
    if _ADVERB_BEFORE.search(before) or _ADVERB_AFTER.match(folded, cue.end()):
        return True
    if _YEARLY_CYCLE.search(folded[max(0, cue.start() - 60) : cue.start()]):
        return True
    return not whole and not folded[cue.end() :].strip()


def recurrence(folded: str) -> tuple[str, list[str], int | None] | None:
    """Recurrence (RRULE, periods, due day) in `folded`, if any.

    The due day is the day of the month after the period ("ngày 10 của tháng kế tiếp"), or of
    the period's last month ("ngày 25 tháng cuối của quý"), or of the calendar dates a yearly
    duty names ("trước ngày 15/6 và trước ngày 15/12 hằng năm").
    """
    periods: list[str] = []
    every = _EVERY_MONTHS.search(folded) or _TIMES_A_YEAR.search(folded)
    if every:
        n = _COUNT.get(every.group("n")) or int(every.group("n"))
        months = n if every.re is _EVERY_MONTHS else (12 // n if n and 12 % n == 0 else 0)
        if months in _PERIOD_OF_MONTHS:
            periods.append(_PERIOD_OF_MONTHS[months])
    if re.search(r"(hang|moi|dinh ky)\s+ngay\b", folded):
        return "FREQ=DAILY", ["day"], None
    if re.search(r"(hang|moi|dinh ky)\s+tuan\b", folded):
        return "FREQ=WEEKLY", ["week"], None
    if re.search(r"(hang|moi|dinh ky)\s+thang\b", folded) and "month" not in periods:
        periods.append("month")
    if re.search(r"(hang|moi|dinh ky|tung)\s+quy\b(?!\s+dinh)|thang cuoi (cua )?quy", folded) and "quarter" not in periods:
        periods.append("quarter")
    if re.search(r"\b(6|sau)\s+thang\b(?!\s+(dau|cuoi)\s+nam)", folded) and "half_year" not in periods and (
        periods or re.search(r"dinh ky|/\s*lan|mot lan|1 lan|hang|moi|\bca nam\b", folded)
    ):
        periods.append("half_year")
    if re.search(r"\b(9|chin)\s+thang\b", folded) and periods:
        periods.append("nine_months")
    if "year" not in periods and re.search(
        r"(hang|moi|dinh ky)\s+nam\b|ca nam\b|(?<!nhung )(?<!cac )\bnam (lien ke|sau|tiep theo)\b", folded
    ):
        periods.append("year")
    if not periods and re.search(r"ngay\s+\d+\s+(cua\s+)?(hang|moi|cua)?\s*thang\b(?!\s*\d)", folded):
        periods.append("month")
    if not periods:
        if re.search(r"\bdinh ky\b", folded):
            return "", [], None  # periodic, period unknown
        return None
    last_month = re.search(rf"ngay\s+(?P<n>{_DAY})\s+(?:cua\s+)?thang\s+cuoi\s+(?:cua\s+)?(?:ky|quy|nam|ky bao cao)", folded)
    if last_month:
        day = int(last_month.group("n"))
        return _rrule(periods, day, offset=0), periods, day
    calendar_days = _calendar_days(folded)
    if calendar_days and periods != ["month"]:
        return _yearly_days(calendar_days), periods, calendar_days[0][0]
    month_only = re.search(rf"\bthang\s+(?P<m>{_MON})\s+(?:hang|moi)\s+nam\b", folded)
    if month_only and periods == ["year"]:
        return f"FREQ=YEARLY;BYMONTH={int(month_only.group('m'))}", periods, None
    due_day = None
    m = re.search(rf"ngay\s+(?P<n>{_DAY})\s+(?:cua\s+)?(?:thang|hang thang)\s+(?:ke tiep|tiep theo|sau|lien ke)", folded)
    if not m:
        m = re.search(rf"(?:(?:truoc|cham nhat|vao)\s+(?:la\s+)?)?ngay\s+(?P<n>{_DAY})\s+(?:hang|moi|cua)\s+thang\b(?!\s*\d)", folded)
    if not m and periods == ["month"]:  # "định kỳ hằng tháng (trước ngày 20)"
        m = re.search(rf"(?:truoc|cham nhat|vao)\s+(?:la\s+)?ngay\s+(?P<n>{_DAY})\b(?!\s*(?:[/.\-]|thang)\s*\d)", folded)
    if m:
        due_day = int(m.group("n"))
    return _rrule(periods, due_day), periods, due_day


def _calendar_days(folded: str) -> list[tuple[int, int]]:
    """(day, month) pairs written without a year: "15/12", "ngày 15 tháng 12" (not "15/12/2025")."""
    out = []
    for m in re.finditer(
        rf"\bngay\s+(?P<d>{_DAY})\s*(?:/|\s+thang\s+)(?P<m>{_MON})\b(?!\s*(?:/|nam\s+)\s*\d)"
        rf"|\b(?P<d2>{_DAY})/(?P<m2>{_MON})\b(?!\s*/\s*\d)",
        folded,
    ):
        out.append((int(m.group("d") or m.group("d2")), int(m.group("m") or m.group("m2"))))
    return out


def _yearly_days(days: list[tuple[int, int]]) -> str:
    """One yearly RRULE for calendar days: "15/6 và 15/12" → BYMONTH=6,12;BYMONTHDAY=15. Days that
    differ ("15/6 và 01/12") are each kept by picking their places among the month × day grid
    (BYSETPOS), which every RFC 5545 reader understands."""
    pairs = sorted({(m, d) for d, m in days})
    months = sorted({m for m, _ in pairs})
    monthdays = sorted({d for _, d in pairs})
    head = f"FREQ=YEARLY;BYMONTH={','.join(map(str, months))};BYMONTHDAY={','.join(map(str, monthdays))}"
    if len(monthdays) == 1:
        return head
    if max(monthdays) > 28:  # a grid day missing in some month would shift the places
        return f"FREQ=YEARLY;BYMONTH={','.join(map(str, months))};BYMONTHDAY={days[0][0]}"
    grid = [(m, d) for m in months for d in monthdays]
    places = [str(grid.index(p) + 1) for p in pairs]
    return f"{head};BYSETPOS={','.join(places)}"


def _rrule(periods: list[str], due_day: int | None, offset: int = 1) -> str:
    if due_day is None:
        known = [PERIOD_MONTHS[p] for p in periods if p in PERIOD_MONTHS]
        shortest = min(known) if known else 12
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


def due_offset(rrule: str | None) -> int:
    """0 when an RRULE's due months are the period's last months (see `due_months`), else 1."""
    m = re.search(r"BYMONTH=([\d,]+)", rrule or "")
    if not m:
        return 1
    months = {int(x) for x in m.group(1).split(",")}
    return 0 if months & {3, 6, 9, 12} and not months & {1, 4, 7, 10} else 1


def sentence_window(folded: str, at: int) -> str:
    """The clause of a long sentence around a recurrence cue (so distant words don't mix)."""
    left = max(folded.rfind(";", max(0, at - 600), at), folded.rfind(". ", max(0, at - 600), at), at - 600)
    ends = [i for i in (folded.find(";", at, at + 600), folded.find(". ", at, at + 600)) if i != -1]
    right = min(ends) if ends else min(len(folded), at + 600)
    return folded[max(0, left + 1) : right + 1]
