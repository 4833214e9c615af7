"""The deadline grammar's scanner: each wording form, tried in order on folded text.

Used through `knowledge.deadlines.parse_deadline` / `find_deadline`; see that module for what the
fields of a `Deadline` mean.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from knowledge.model import (
    CONDITIONAL,
    DATE,
    FROM,
    MONTH,
    ONGOING,
    QUARTER,
    RANGE,
    RECURRING,
    YEAR,
    Deadline,
)
from knowledge.recurrence import CUE, adverbial, recurrence, sentence_window
from knowledge.text import clean_spaces, fold

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q = r"(?:iv|iii|ii|i|[1-4])"
_YEAR = r"(?:19|20)\d\d"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_SEP = r"\s*[/.\-]{1,2}\s*"

# Numeric date: 01/7/2025, 1-7-2025, OCR "01/01//2021", broken lines "31/12/\n2025".
NUM_DATE = rf"(?P<d>{_DAY}){_SEP}(?P<m>{_MON}){_SEP}(?P<y>{_YEAR})"
# Spelled date: ngày 27 tháng 6 năm 2014
WORD_DATE = rf"ngay\s+(?P<d2>{_DAY})\s+thang\s+(?P<m2>{_MON})\s*(?:nam|/)\s*(?P<y2>{_YEAR})"
ANY_DATE = rf"(?:{NUM_DATE}|{WORD_DATE})"
# Day and month only: "15/6", "ngày 15 tháng 6" (the year comes from context).
SHORT_DATE = rf"(?:ngay\s+)?(?P<d>{_DAY})\s*(?:/|\s+thang\s+)\s*(?P<m>{_MON})\b(?!\s*(?:[/.\-]|nam\b)\s*\d)"
MONTH_YEAR = rf"(?:thang\s+)?(?P<mm>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<my>{_YEAR})"
QUARTERS = rf"quy\s+(?P<qs>{_Q}(?:\s*(?:,|va|-|den)\s*(?:quy\s+)?{_Q})*)\b\s*(?:nam\s+|/\s*)?(?P<qy>{_YEAR})?"
QUARTER_SPAN = rf"quy\s+(?P<q1>{_Q})\s*(?:nam\s+|/\s*)(?P<y1>{_YEAR})\s*(?:-|–|den)\s*(?:het\s+)?quy\s+(?P<q2>{_Q})\s*(?:nam\s+|/\s*)(?P<y2>{_YEAR})"
YEAR_RANGE = rf"(?P<y_a>{_YEAR})\s*(?:-|–|—|den(?:\s+nam)?)\s*(?P<y_b>{_YEAR})"
# "trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành", "Sau 03 tháng kể từ …".
RELATIVE = (
    r"(?P<cue>trong vong|trong thoi han|trong thoi gian|trong|sau|cham nhat|truoc|khong qua|toi da)?\s*(?:la\s+)?"
    r"(?P<n>\d{1,3})\s*(?:\([a-z ]+\)\s*)?(?P<unit>ngay lam viec|ngay|tuan|thang|nam)\s*(?:,\s*)?"
    r"(?:ke tu|tinh tu|sau|truoc)\s+(?:ngay|khi|thoi diem)?\s*(?P<anchor>[^,;.\n]{0,80})"
)
_ISSUANCE = re.compile(r"^(?:(?:ke hoach|quyet dinh|van ban|chuong trinh|de an)(?: nay)?\s+)?(?:duoc\s+)?(?:ban hanh|ky|co hieu luc)")
_LABEL = re.compile(
    r"(?:^|[\s(;.])(?:thoi gian|thoi han|tien do|lo trinh|han chot)(?:\s+(?:hoan thanh|thuc hien|trinh|nop|gui|bao cao"
    r"|giai quyet|thuc hien va hoan thanh))?\s*:\s*\**"
)
_DEADLINE_CUE = re.compile(
    r"(truoc|cham nhat|han|hoan thanh|xong|hoan thien|den|vao|trong|ket thuc)(\s+(la|vao|het|trong))?(\s+ngay)?\s*$"
)


@dataclass
class _Hit:
    deadline: Deadline
    start: int
    end: int


def safe_date(y: str | int, m: str | int, d: str | int) -> date | None:
    """The date for year/month/day strings, or None when they name no real day (31/02)."""
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _add_working_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _quarter_numbers(spec: str) -> list[int]:
    return [ROMAN[q] for q in re.findall(_Q, spec)]


def _is_reference_date(folded: str, start: int) -> bool:
    """Date right after a document reference ("…số 01/QĐ-UBND ngày 01/01/2021") or a start."""
    before = folded[max(0, start - 60) : start]
    return bool(
        re.search(r"(/[a-z&\-]{2,}[^,;.]{0,20}|-[a-z]{2,}/[a-z]{2,}[^,;.]{0,15})\s+(ngay\s+)?$", before)
        or re.search(r"\b(ban hanh|ky|hieu luc|ke tu|bat dau tu|tu)\s+(ngay\s+)?$", before)
    )


class Scanner:
    """One deadline text: each form is tried in order; the first that reads it wins."""

    def __init__(self, raw: str, whole: bool, issued: date | None, default_year: int | None) -> None:
        self.raw = raw
        # Newlines become spaces one for one, so dates broken across lines read as one.
        self.folded = fold(raw).replace("\n", " ")
        self.whole = whole
        self.issued = issued
        self.default_year = default_year or (issued.year if issued and whole else None)

    def make(self, kind: str, at: int, until: int, **fields) -> _Hit:
        if self.whole:
            text = clean_spaces(self.raw.replace("\n", " "))
        else:
            text = clean_spaces(self.raw[at:until].replace("\n", " ")).strip(" ,;.")
            if text.count("(") > text.count(")"):
                text += ")"
            if text.startswith(("(", ")")):
                text = text.lstrip("()").strip()
        return _Hit(Deadline(text=text, kind=kind, **fields), at, until)

    def scan(self) -> _Hit | None:
        if not self.whole:
            labelled = self._labelled()
            if labelled:
                return labelled
        for form in (
            self._ongoing, self._relative, self._until_year, self._recurring, self._conditional, self._dates,
            self._short_dates, self._quarter_span, self._quarters, self._half_years, self._month_span, self._from_month, self._months,
            self._year_range, self._open_ended, self._years,
        ):
            hit = form()
            if hit:
                return hit
        return None

    def _labelled(self) -> _Hit | None:
        """A labelled field in prose: "Thời gian hoàn thành: Tháng 12/2025", "Thời hạn: …"."""
        m = _LABEL.search(self.folded)
        if not m:
            return None
        stop = re.search(r";|\.\s|\.$|\n", self.folded[m.end() :])
        end = m.end() + (stop.start() if stop else len(self.folded) - m.end())
        value = self.raw[m.end() : end].strip(" *")
        if not value or len(value) > 160:
            return None
        inner = Scanner(value, whole=True, issued=self.issued, default_year=self.default_year).scan()
        if inner is None:
            return None
        inner.deadline.text = clean_spaces(value)
        return _Hit(inner.deadline, m.end(), end)

    # -- forms, most specific first ------------------------------------------------------------
    def _ongoing(self) -> _Hit | None:
        m = re.search(r"\b(nhiem vu )?thuong xuyen\b|\blien tuc\b", self.folded)
        if m and (self.whole or re.search(r"nhiem vu thuong xuyen", self.folded)):
            return self.make(ONGOING, m.start(), m.end())
        return None

    def _relative(self) -> _Hit | None:
        """N days/months after the plan is issued (a date when the plan's date is known)."""
        for m in re.finditer(RELATIVE, self.folded):
            if not self.whole and not m.group("cue"):
                continue
            n, unit, anchor = int(m.group("n")), m.group("unit"), m.group("anchor")
            until = m.end()
            start = m.start("cue") if m.group("cue") else m.start("n")
            if not _ISSUANCE.match(anchor.strip()) or self.issued is None or n == 0:
                # After another event ("kể từ ngày nhận đủ hồ sơ"): a condition, not a date.
                return self.make(CONDITIONAL, start, until)
            if unit == "ngay lam viec":
                end = _add_working_days(self.issued, n)
            elif unit == "ngay":
                end = self.issued + timedelta(days=n)
            elif unit == "tuan":
                end = self.issued + timedelta(weeks=n)
            else:
                end = _add_months(self.issued, n * (12 if unit == "nam" else 1))
            return self.make(DATE, start, until, end=end)
        return None

    def _until_year(self) -> _Hit | None:
        """"Từ khi ban hành đến hết năm 2030", "từ nay đến năm 2025": from the plan's date."""
        m = re.search(
            rf"\btu\s+(?:khi|ngay|nay|thoi diem)\s*(?:ke hoach\s+|quyet dinh\s+)?(?:duoc\s+)?(?:ban hanh|ky)?\s*"
            rf"(?:,\s*)?den\s+(?:het\s+)?(?:nam\s+)?(?P<y>{_YEAR})\b",
            self.folded,
        )
        if not m:
            return None
        end = date(int(m.group("y")), 12, 31)
        if self.issued and self.issued <= end:
            return self.make(RANGE, m.start(), m.end(), start=self.issued, end=end)
        return self.make(YEAR, m.start(), m.end(), end=end)

    def _recurring(self) -> _Hit | None:
        """"Hàng năm", "định kỳ 6 tháng", "trước ngày 15/12 hằng năm", "Trước ngày 31/01 năm liền kề"."""
        folded = self.folded
        for cue in re.finditer(CUE.pattern + r"|(?<!nhung )(?<!cac )\bnam\s+(?:lien ke|sau)\b", folded):
            if not self.whole and _is_reference_date(folded, cue.start()):
                continue
            if not cue.group(0).startswith("nam") and not adverbial(folded, cue, self.whole):
                continue
            window = folded
            if not self.whole:
                # The clause around the cue, and near it only: a date elsewhere in a long sentence
                # is not the recurring due day.
                clause = sentence_window(folded, cue.start())
                at = clause.find(cue.group(0))
                window = clause[max(0, at - 80) : at + len(cue.group(0)) + 120] if at >= 0 else clause
            rec = recurrence(window)
            if rec is None:
                continue
            if cue.group(0).startswith("nam") and "year" not in rec[1]:
                continue
            end = cue.end()
            more = re.match(
                r"(?:\s*(?:,|va|/)?\s*(?:\d+|hang|sau|chin|ca|nam)?\s*(?:thang|quy|nam|lan)\b"
                r"|\s*,?\s*\(?(?:truoc|cham nhat|vao)\s+(?:la\s+)?ngay\s+\d{1,2}(?:\s*/\s*\d{1,2}|\s+(?:cua\s+)?"
                r"(?:hang|moi|cua)?\s*thang(?:\s+\d{1,2})?)(?:\s+(?:ke tiep|tiep theo|sau|cuoi ky|cuoi quy))?"
                r"(?:\s+lien ke)?\)?)*",
                folded[end:],
            )
            end += more.end() if more else 0
            tail = re.search(r"\(?\s*cham nhat[^)]*\)?|ngay\s+\d+\s+cua\s+thang[^,;.]*", folded[end : end + 160])
            if tail:
                end = end + tail.end()
            start = cue.start()
            lead = re.search(r"(?:truoc|cham nhat|vao)\s+(?:la\s+)?ngay\s+\d{1,2}(?:\s*/\s*\d{1,2}|\s+thang\s+\d{1,2})?\s*$", folded[max(0, start - 40) : start])
            if lead:
                start -= len(lead.group(0))
            return self.make(RECURRING, start, end, recurrence=rec[0] or None)
        return None

    def _conditional(self) -> _Hit | None:
        """"Theo lộ trình …", "Theo hướng dẫn …", "Sau khi có Quy chế …", "Khi …"."""
        if self.whole and re.match(r"\s*(theo|khi|sau khi|tuy|can cu|ngay sau khi)\b", self.folded):
            years = re.findall(_YEAR, self.folded)
            start = date(int(years[0]), 1, 1) if years and re.search(r"tu\s+(nam\s+)?" + years[0], self.folded) else None
            return self.make(CONDITIONAL, 0, len(self.folded), start=start)
        return None

    def _dates(self) -> _Hit | None:
        """Exact dates, usually after "trước / chậm nhất / hạn / đến hết / trong ngày …"."""
        folded = self.folded
        for m in re.finditer(ANY_DATE, folded):
            if not self.whole and _is_reference_date(folded, m.start()):
                continue
            if m.group("d") and (len(set(re.findall(r"[/.\-]", m.group(0)))) > 1 or re.search(r"thang\s*$", folded[: m.start()])):
                continue  # "Tháng 11 - 12/2025" is a span of months, not 11/12/2025
            day = safe_date(m.group("y") or m.group("y2"), m.group("m") or m.group("m2"), m.group("d") or m.group("d2"))
            if day is None:
                continue
            cue = _DEADLINE_CUE.search(folded[max(0, m.start() - 30) : m.start()])
            if not self.whole and not cue:
                continue
            return self._dated(m.start() - (len(cue.group(0)) if cue else 0), m.end(), day, cue.group(0) if cue else "")
        return None

    def _dated(self, start: int, end: int, day: date, cue: str) -> _Hit:
        # Only "trước" is an exclusive bound; "chậm nhất", "hạn", "đến (hết)", "trong ngày" include the day.
        before = bool(re.match(r"truoc\b", cue))
        deadline_cue = bool(re.search(r"truoc|cham nhat|han|den|xong|hoan thanh|hoan thien|ket thuc", cue))
        return self.make(DATE, start, end, start=None if deadline_cue else day, end=day, before=before)

    def _short_dates(self) -> _Hit | None:
        """"Trước ngày 15/6" with the year from context (table header or the plan's date)."""
        year = self.default_year
        if year is None:
            return None
        for m in re.finditer(SHORT_DATE, self.folded):
            cue = _DEADLINE_CUE.search(self.folded[max(0, m.start() - 30) : m.start()])
            if not cue or (not self.whole and _is_reference_date(self.folded, m.start())):
                continue
            day = safe_date(year, m.group("m"), m.group("d"))
            if day is None:
                continue
            if self.issued and not self.whole and day < self.issued:
                day = safe_date(year + 1, m.group("m"), m.group("d")) or day
            return self._dated(m.start() - len(cue.group(0)), m.end(), day, cue.group(0))
        return None

    def _quarter_span(self) -> _Hit | None:
        """"Quý IV/2025 - Quý II/2026"."""
        m = re.search(QUARTER_SPAN, self.folded)
        if not m:
            return None
        y1, y2 = int(m.group("y1")), int(m.group("y2"))
        q1, q2 = ROMAN[m.group("q1")], ROMAN[m.group("q2")]
        start, end = date(y1, 3 * q1 - 2, 1), _month_end(y2, 3 * q2)
        if start > end:
            return None
        return self.make(QUARTER, m.start(), m.end(), start=start, end=end)

    def _quarters(self) -> _Hit | None:
        """"Quý II, III năm 2024", "trong quý IV năm 2021", "Quý I" under a header naming the year."""
        folded = self.folded
        for m in re.finditer(QUARTERS, folded):
            year = m.group("qy") or (self.default_year if self.whole else None)
            numbers = _quarter_numbers(m.group("qs"))
            if not year or not numbers:
                continue
            pre = folded[max(0, m.start() - 25) : m.start()]
            if not self.whole and not re.search(r"(trong|truoc|vao|cuoi|dau|hoan thanh|xong)\s*$", pre):
                continue
            y = int(year)
            first, last = min(numbers), max(numbers)
            before = "truoc" in pre[-12:]
            q_start, q_end = date(y, 3 * first - 2, 1), _month_end(y, 3 * last)
            if before:
                q_end = q_start
            word = re.search(r"(\S+\s+)?$", pre[-12:]).group(0) if pre[-12:].strip() else ""
            return self.make(QUARTER, max(0, m.start() - len(word)), m.end(), start=None if before else q_start, end=q_end, before=before)
        return None

    def _half_years(self) -> _Hit | None:
        m = re.search(rf"6 thang (dau|cuoi) nam\s+(?P<y>{_YEAR})", self.folded)
        if not m:
            return None
        y, first = int(m.group("y")), m.group(1) == "dau"
        return self.make(MONTH, m.start(), m.end(), start=date(y, 1 if first else 7, 1), end=_month_end(y, 6 if first else 12))

    def _months(self) -> _Hit | None:
        """"Tháng 01 năm 2021", "6/2025", "Tháng 3" under a header naming the year."""
        folded = self.folded
        for m in re.finditer(MONTH_YEAR, folded):
            if not self.whole:
                pre = folded[max(0, m.start() - 20) : m.start()]
                if not re.search(r"(trong|truoc|vao|cuoi|dau|den|hoan thanh|xong)\s*$", pre) or not folded.startswith("thang", m.start()):
                    continue
            if folded[m.start()].isdigit() and m.start() > 0 and folded[m.start() - 1] in "/.-":
                continue
            return self._month(m.start(), m.end(), int(m.group("my")), int(m.group("mm")))
        if self.whole and self.default_year:
            m = re.search(rf"\bthang\s+(?P<mm>{_MON})\b(?!\s*[/.\-]\s*\d)", folded)
            if m:
                return self._month(m.start(), m.end(), self.default_year, int(m.group("mm")))
        return None

    def _month(self, at: int, until: int, y: int, mo: int) -> _Hit:
        before = "truoc" in self.folded[max(0, at - 12) : at]
        return self.make(
            MONTH, at, until, start=None if before else date(y, mo, 1),
            end=date(y, mo, 1) if before else _month_end(y, mo), before=before,
        )

    def _year_range(self) -> _Hit | None:
        """"2018-2020", "giai đoạn 2021 - 2025", "từ 2021 đến 2025"."""
        if not self.whole:
            return None
        m = re.search(YEAR_RANGE, self.folded)
        if m and int(m.group("y_a")) <= int(m.group("y_b")):
            a, b = int(m.group("y_a")), int(m.group("y_b"))
            return self.make(RANGE, m.start(), m.end(), start=date(a, 1, 1), end=date(b, 12, 31))
        return None

    def _month_span(self) -> _Hit | None:
        """"Từ tháng 10/2025 đến tháng 12/2025", "Tháng 11 - 12/2025"."""
        m = re.search(
            rf"(?:tu\s+)?thang\s+(?P<m1>{_MON})(?:\s*/\s*(?P<y1>{_YEAR}))?\s*(?:-|–|den(?:\s+het)?)\s*(?:thang\s+)?"
            rf"(?P<m2>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<y2>{_YEAR})\b",
            self.folded,
        )
        if not m or not (self.whole or re.search(r"(trong|tu|hoan thanh)\s*$", self.folded[max(0, m.start() - 20) : m.start()])):
            return None
        y2 = int(m.group("y2"))
        y1 = int(m.group("y1") or y2)
        start, end = date(y1, int(m.group("m1")), 1), _month_end(y2, int(m.group("m2")))
        if start > end:
            return None
        return self.make(MONTH, m.start(), m.end(), start=start, end=end)

    def _from_month(self) -> _Hit | None:
        """"Từ tháng 12/2025 đến khi kết thúc …": open-ended from a month (a cell, or a labelled field)."""
        m = re.search(rf"\btu\s+thang\s+(?P<m>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<y>{_YEAR})\b", self.folded)
        if not m or not self.whole or re.match(r"[^,;]{0,20}\bden\s+(?:het\s+)?(?:thang|nam|ngay|quy)?\s*\d", self.folded[m.end() :]):
            return None
        return self.make(FROM, m.start(), m.end(), start=date(int(m.group("y")), int(m.group("m")), 1))

    def _open_ended(self) -> _Hit | None:
        """"Từ năm 2026", "2025 và những năm tiếp theo", "từ năm 2025 trở đi"."""
        folded = self.folded
        m = re.search(rf"\btu\s+(nam\s+)?(?P<y>{_YEAR})(?!\s*(-|den))", folded) or re.search(
            rf"(?P<y>{_YEAR})\s+(va\s+)?(nhung|cac)\s+nam\s+(tiep theo|sau)|(?P<y3>{_YEAR})\s+tro di", folded
        )
        if m and (self.whole or m.group(0).startswith("tu")):
            if not self.whole and _is_reference_date(folded, m.start()):
                return None
            y = int(m.group("y") or m.group("y3"))
            return self.make(FROM, m.start(), m.end(), start=date(y, 1, 1))
        return None

    def _years(self) -> _Hit | None:
        """"2018", "năm 2025", "trước năm 2030", "đến (hết) năm 2025"."""
        folded = self.folded
        for m in re.finditer(rf"(?P<cue>truoc|den het|den|trong|vao|cuoi)?\s*(nam\s+)?(?P<y>{_YEAR})\b", folded):
            cue = m.group("cue")
            if not self.whole and (cue != "truoc" or _is_reference_date(folded, m.start())):
                continue
            y = int(m.group("y"))
            if cue == "truoc":
                return self.make(YEAR, m.start(), m.end(), end=date(y - 1, 12, 31), before=True)
            if cue in ("den", "den het"):
                return self.make(YEAR, m.start(), m.end(), end=date(y, 12, 31))
            if not cue and not re.fullmatch(rf"\s*(nam\s+)?{_YEAR}\s*\.?\s*", folded) and len(re.findall(r"\d+", folded)) > 1:
                break  # longer text with a year we could not read stays unparsed
            return self.make(YEAR, m.start(), m.end(), start=date(y, 1, 1), end=date(y, 12, 31))
        return None
