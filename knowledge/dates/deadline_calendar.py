"""Calendar wordings of the deadline grammar: days, spans of days, months, quarters, years.

A mixin of `knowledge.dates.deadline_scan.Scanner` (it reads `folded`, `whole`, `issued`, `default_year`
and builds hits with `make`); the patterns work on diacritics-folded text.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from knowledge.model import CONDITIONAL, DATE, FROM, MONTH, QUARTER, RANGE, YEAR, Deadline

ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_Q = r"(?:iv|iii|ii|i|[1-4])"
_YEAR = r"(?:19|20)\d\d"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MON = r"(?:0?[1-9]|1[0-2])"
_SEP = r"\s*[/.\-]{1,2}\s*"

# Numeric date: 01/7/2025, 1-7-2025, OCR "01/01//2021", broken lines "31/12/\n2025".
NUM_DATE = rf"(?P<d>{_DAY}){_SEP}(?P<m>{_MON}){_SEP}(?P<y>{_YEAR})"
# Spelled date: ngày 27 tháng 6 năm 2014
WORD_DATE = rf"(?:ngay\s+|\b)(?P<d2>{_DAY})\s+thang\s+(?P<m2>{_MON})\s*(?:nam|/)\s*(?P<y2>{_YEAR})"
ANY_DATE = rf"(?:{NUM_DATE}|{WORD_DATE})"
# Day and month only: "15/6", "ngày 15 tháng 6" (the year comes from context).
SHORT_DATE = rf"(?:ngay\s+)?(?P<d>{_DAY})\s*(?:/|\s+thang\s+)\s*(?P<m>{_MON})\b(?!\s*(?:[/.\-]|nam\b)\s*\d)"
MONTH_YEAR = rf"(?:thang\s+)?(?P<mm>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<my>{_YEAR})"
QUARTERS = (
    rf"quy\s+(?P<qs>{_Q}(?:\s*(?:,|va|hoac|-|den)\s*(?:quy\s+)?{_Q})*)\b\s*(?:nam\s*|[/\-–]\s*)?(?P<qy>{_YEAR})?"
)
QUARTER_SPAN = rf"quy\s+(?P<q1>{_Q})\s*(?:nam\s+|/\s*)(?P<y1>{_YEAR})\s*(?:-|–|den)\s*(?:het\s+)?quy\s+(?P<q2>{_Q})\s*(?:nam\s+|/\s*)(?P<y2>{_YEAR})"
YEAR_RANGE = rf"(?P<y_a>{_YEAR})\s*(?:-|–|—|den(?:\s+nam)?)\s*(?P<y_b>{_YEAR})"
# "trong vòng 30 ngày kể từ ngày Kế hoạch được ban hành", "Sau 03 tháng kể từ …".
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


def _date_of(m: re.Match[str]) -> date | None:
    return safe_date(m.group("y") or m.group("y2"), m.group("m") or m.group("m2"), m.group("d") or m.group("d2"))


def _quarter_numbers(spec: str) -> list[int]:
    return [ROMAN[q] for q in re.findall(_Q, spec)]


def _is_reference_date(folded: str, start: int) -> bool:
    """Date right after a document reference ("…số 01/QĐ-UBND ngày 01/01/2021") or a start."""
    before = folded[max(0, start - 60) : start]
    return bool(
        re.search(r"(/[a-z&\-]{2,}[^,;.]{0,20}|-[a-z]{2,}/[a-z]{2,}[^,;.]{0,15})\s+(ngay\s+)?$", before)
        or re.search(r"\b(ban hanh|ky|hieu luc|ke tu|bat dau tu|tu)\s+(ngay\s+)?$", before)
    )


class CalendarForms:
    """The calendar forms, most specific first (see `Scanner._forms` for their order)."""

    raw: str
    folded: str
    whole: bool
    issued: date | None
    default_year: int | None

    def _past(self, at: int, until: int) -> bool:
        """A time in prose that reports what was done ("Trong năm 2024, đã tổ chức …"): no deadline."""
        near = self.raw[max(0, at - 20) : at] + " " + self.raw[until : until + 20].split(" và ")[0]
        return not self.whole and bool(re.search(r"\bđã\b", near.lower()))

    def _date_span(self) -> _Hit | None:
        """"Kể từ ngày 01/7/2026 đến hết ngày 31/12/2027" (a range); a cell "Kể từ ngày 01/7/2026" (from)."""
        folded = self.folded
        found = [m for m in re.finditer(ANY_DATE, folded)]
        for i, m in enumerate(found):
            lead = re.search(r"\b(?:ke\s+)?tu\s+(?:ngay\s+)?$", folded[max(0, m.start() - 15) : m.start()])
            if not lead or re.search(r"hieu luc\s+(?:ke\s+)?tu\s+(?:ngay\s+)?$", folded[max(0, m.start() - 30) : m.start()]):
                continue
            first = _date_of(m)
            at = m.start() - len(lead.group(0))
            nxt = found[i + 1] if i + 1 < len(found) else None
            if first and nxt and re.fullmatch(r"\s*(?:-|–|den(?:\s+het)?)\s*(?:ngay\s+)?", folded[m.end() : nxt.start()]):
                last = _date_of(nxt)
                if last and first <= last:
                    return self.make(RANGE, at, nxt.end(), start=first, end=last)
            if first and self.whole and not nxt and not re.search(r"\bden\b", folded[m.end() :]):
                return self.make(FROM, at, m.end(), start=first)
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

    def _named_year_day(self) -> _Hit | None:
        """"trước ngày 10 tháng 6 năm cuối của chương trình": a day of a year named by an event (the
        programme's last year): kept as a condition, no year is guessed."""
        m = re.search(
            rf"(?:truoc|cham nhat|vao|han)\s+(?:la\s+)?(?:ngay\s+)?{_DAY}\s*(?:/|\s+thang\s+)\s*{_MON}\s+(?:cua\s+)?"
            r"nam\s+(?:cuoi|dau)(?:\s+cung)?(?:\s+(?:cua\s+)?(?:chuong trinh|ke hoach|giai doan|de an|ky|du an))?\b",
            self.folded,
        )
        return self.make(CONDITIONAL, m.start(), m.end()) if m else None

    def _short_dates(self) -> _Hit | None:
        """"Trước ngày 15/6" with the year from context (table header or the plan's date)."""
        year = self.default_year
        if year is None:
            return None
        for m in re.finditer(SHORT_DATE, self.folded):
            cue = _DEADLINE_CUE.search(self.folded[max(0, m.start() - 30) : m.start()])
            if not cue and self.whole and not self.folded[: m.start()].strip() and not self.folded[m.end() :].strip(" ."):
                cue = re.match("", "")  # a cell that is only a day and month: "15/12"
            if not cue or (not self.whole and _is_reference_date(self.folded, m.start())):
                continue
            if re.match(r"\s*(?:cua\s+)?nam\b(?!\s*\d)", self.folded[m.end() :]):
                continue  # "ngày 15 tháng 8 năm cuối", "… của năm tiếp theo": the year is named otherwise
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

    def _roman_quarter(self) -> _Hit | None:
        """A cell "IV/2025": a quarter written without the word "Quý"."""
        m = re.fullmatch(rf"\s*(?P<q>iv|iii|ii|i)\s*[/\-–]\s*(?P<y>{_YEAR})\s*\.?\s*", self.folded)
        if not m or not self.whole:
            return None
        y, q = int(m.group("y")), ROMAN[m.group("q")]
        return self.make(QUARTER, 0, len(self.folded), start=date(y, 3 * q - 2, 1), end=_month_end(y, 3 * q))

    def _half_years(self) -> _Hit | None:
        """"6 tháng đầu năm 2025", "6 tháng cuối năm" in a cell under a header naming the year."""
        m = re.search(rf"(?:6|sau) thang (dau|cuoi) nam(?:\s*(?P<y>{_YEAR}))?", self.folded)
        if not m or not (m.group("y") or (self.whole and self.default_year)):
            return None
        y, first = int(m.group("y") or self.default_year), m.group(1) == "dau"
        return self.make(MONTH, m.start(), m.end(), start=date(y, 1 if first else 7, 1), end=_month_end(y, 6 if first else 12))

    def _months(self) -> _Hit | None:
        """"Tháng 01 năm 2021", "6/2025", "Tháng 3" under a header naming the year."""
        folded = self.folded
        for m in re.finditer(MONTH_YEAR, folded):
            if not self.whole:
                pre = folded[max(0, m.start() - 20) : m.start()]
                if not re.search(r"(trong|truoc|vao|cuoi|dau|den|hoan thanh|xong)\s*$", pre) or not folded.startswith("thang", m.start()):
                    continue
                if self._past(m.start(), m.end()):
                    continue
            if folded[m.start()].isdigit() and m.start() > 0 and folded[m.start() - 1] in "/.-":
                continue
            at = m.start()
            if not self.whole:
                cue = re.search(r"(?:(?:hoan thanh|xong)\s+)?(?:trong|truoc|vao|cuoi|dau|den(?:\s+het)?|hoan thanh|xong)\s*$",
                                folded[max(0, at - 25) : at])
                at -= len(cue.group(0)) if cue else 0
            return self._month(at, m.end(), int(m.group("my")), int(m.group("mm")), cue_at=m.start())
        if self.whole and self.default_year:
            m = re.search(rf"\bthang\s+(?P<mm>{_MON})\b(?!\s*[/.\-]\s*\d|\s+(?:cua\s+)?nam\s+[a-z])", folded)
            if m:
                return self._month(m.start(), m.end(), self.default_year, int(m.group("mm")))
        return None

    def _month(self, at: int, until: int, y: int, mo: int, cue_at: int | None = None) -> _Hit:
        cue_at = at if cue_at is None else cue_at
        before = "truoc" in self.folded[max(0, cue_at - 12) : cue_at]
        return self.make(
            MONTH, at, until, start=None if before else date(y, mo, 1),
            end=date(y, mo, 1) if before else _month_end(y, mo), before=before,
        )

    def _open_span(self) -> _Hit | None:
        """"Từ năm 2013 đến năm 2020 và tiếp theo": a start with no real end."""
        m = re.search(
            rf"\b(?:tu\s+)?(?:nam\s*)?(?P<y>{_YEAR})\s*(?:-|–|den)\s*(?:het\s+)?(?:nam\s*)?{_YEAR}\s*,?\s*"
            r"(?:va\s+)?(?:(?:cac|nhung)\s+nam\s+)?(?:tiep theo|tro di|sau do)\b",
            self.folded,
        )
        if not m or not (self.whole or m.group(0).startswith("tu")):
            return None
        return self.make(FROM, m.start(), m.end(), start=date(int(m.group("y")), 1, 1))

    def _year_range(self) -> _Hit | None:
        """"2018-2020", "giai đoạn 2021 - 2025", "từ 2021 đến 2025"."""
        if not self.whole:  # in prose, only a span the duty is done in: "trong giai đoạn 2025 - 2030"
            m = re.search(rf"\btrong\s+(?:giai doan|thoi ky)\s+{YEAR_RANGE}", self.folded)
            if not m or int(m.group("y_a")) > int(m.group("y_b")):
                return None
            a, b = int(m.group("y_a")), int(m.group("y_b"))
            return self.make(RANGE, m.start(), m.end(), start=date(a, 1, 1), end=date(b, 12, 31))
        m = re.search(YEAR_RANGE, self.folded) or re.fullmatch(
            rf"\s*(?:nam\s*)?(?P<y_a>{_YEAR})\s*(?:,|va)\s*(?:nam\s*)?(?P<y_b>{_YEAR})\s*\.?\s*", self.folded
        )
        if m and int(m.group("y_a")) <= int(m.group("y_b")):
            a, b = int(m.group("y_a")), int(m.group("y_b"))
            return self.make(RANGE, m.start(), m.end(), start=date(a, 1, 1), end=date(b, 12, 31))
        return None

    def _span_to_year(self) -> _Hit | None:
        """"Từ tháng 6 năm 2025 đến hết năm 2026", "từ năm 2025 đến hết năm 2026": a span from a
        month or a year to the end of a later year."""
        m = re.search(
            rf"\b(?:ke\s+)?tu\s+(?:thang\s+(?P<m1>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<y1>{_YEAR})|nam\s+(?P<y0>{_YEAR}))"
            rf"\s*(?:-|–|den(?:\s+het)?)\s*nam\s+(?P<y2>{_YEAR})\b"
            r"(?!\s*,?\s*(?:va\s+)?(?:(?:cac|nhung)\s+nam\s+)?(?:tiep theo|tro di|sau do))",  # (open: "… và tiếp theo")
            self.folded,
        )
        if not m:
            return None
        y2 = int(m.group("y2"))
        start = date(int(m.group("y1")), int(m.group("m1")), 1) if m.group("m1") else date(int(m.group("y0")), 1, 1)
        if start.year > y2:
            return None
        return self.make(RANGE, m.start(), m.end(), start=start, end=date(y2, 12, 31))

    def _month_span(self) -> _Hit | None:
        """"Từ tháng 10/2025 đến tháng 12/2025", "Tháng 11 - 12/2025"."""
        m = re.search(
            rf"(?:tu\s+)?thang\s+(?P<m1>{_MON})(?:\s*(?:/|nam)\s*(?P<y1>{_YEAR}))?\s*(?:-|–|,|va|hoac|den(?:\s+het)?)\s*"
            rf"(?:thang\s+)?(?P<m2>{_MON})\s*(?:/|\s+nam\s+)\s*(?P<y2>{_YEAR})\b",
            self.folded,
        )
        pre = self.folded[max(0, m.start() - 20) : m.start()] if m else ""
        if not m or not (self.whole or m.group(0).startswith("tu") or re.search(r"(trong|tu|vao|hoan thanh)\s*$", pre)):
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
        if not m or re.match(r"[^,;]{0,20}\bden\s+(?:het\s+)?(?:thang|nam|ngay|quy)?\s*\d", self.folded[m.end() :]):
            return None
        if not self.whole and (  # in prose: a start that opens the sentence or follows "bắt đầu", "triển khai"
            re.match(r"\s*,?\s*den\s+(?:nay|thoi diem nay)", self.folded[m.end() :])
            or not re.search(r"(?:^|bat dau|trien khai|thuc hien|ap dung|van hanh)\s*(?:ke\s+)?$", self.folded[: m.start()].strip())
        ):
            return None
        return self.make(FROM, m.start(), m.end(), start=date(int(m.group("y")), int(m.group("m")), 1))

    def _open_ended(self) -> _Hit | None:
        """"Từ năm 2026", "2025 và những năm tiếp theo", "từ năm 2025 trở đi"."""
        folded = self.folded
        m = re.search(rf"\btu\s+(nam\s+)?(?P<y>{_YEAR})(?!\s*(-|den))", folded) or re.search(
            rf"(nam\s*)?(?P<y>{_YEAR})\s*,?\s+(va\s+)?(nhung|cac)\s+nam\s+(tiep theo|sau)|(?P<y3>{_YEAR})\s+tro di", folded
        )
        if m and (self.whole or m.group(0).startswith("tu") or re.search(r"(nhung|cac) nam", m.group(0))):
            if not self.whole and _is_reference_date(folded, m.start()):
                return None
            y = int(m.group("y") or m.group("y3"))
            return self.make(FROM, m.start(), m.end(), start=date(y, 1, 1))
        return None

    def _years(self) -> _Hit | None:
        """"2018", "năm 2025", "trước năm 2030", "đến (hết) năm 2025"."""
        folded = self.folded
        for m in re.finditer(rf"(?P<cue>truoc|den het|den|trong|vao|cuoi)?\s*(\bnam\s*)?(?P<y>{_YEAR})\b", folded):
            cue = m.group("cue")
            if not self.whole and (cue not in ("truoc", "den het", "trong", "vao") or _is_reference_date(folded, m.start())):
                continue
            if not self.whole and cue in ("trong", "vao") and not m.group(2):
                continue  # "trong 2025" is no wording; "trong năm 2025" is
            if self._past(m.start(), m.end()):
                continue
            y = int(m.group("y"))
            if cue == "truoc":
                return self.make(YEAR, m.start(), m.end(), end=date(y - 1, 12, 31), before=True)
            if cue in ("den", "den het"):
                return self.make(YEAR, m.start(), m.end(), end=date(y, 12, 31))
            if not cue and not re.fullmatch(rf"\s*(nam\s*)?{_YEAR}\s*\.?\s*", folded) and len(re.findall(r"\d+", folded)) > 1:
                break  # longer text with a year we could not read stays unparsed
            return self.make(YEAR, m.start(), m.end(), start=date(y, 1, 1), end=date(y, 12, 31))
        return None
