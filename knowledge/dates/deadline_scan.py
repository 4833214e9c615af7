"""The deadline grammar's scanner: each wording form, tried in order on folded text.

Used through `knowledge.dates.deadlines.parse_deadline` / `find_deadline`; see that module for what the
fields of a `Deadline` mean.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from knowledge.dates.deadline_calendar import (
    _DAY,
    _MON,
    _YEAR,
    CalendarForms,
    _Hit,
    _is_reference_date,
)
from knowledge.dates.deadline_events import (
    clause_end,
    days_before_event,
    duration_phrase,
    event_phrase,
    sentences,
)
from knowledge.dates.recurrence import CUE, adverbial, recurrence, sentence_window
from knowledge.model import (
    CONDITIONAL,
    DATE,
    FROM,
    ONGOING,
    RANGE,
    RECURRING,
    UNPARSED,
    YEAR,
    Deadline,
)
from knowledge.text import clean_spaces, fold

RELATIVE = (
    r"(?P<cue>trong vong|trong thoi han|trong thoi gian|trong|sau|cham nhat|truoc|khong qua|toi da)?\s*(?:la\s+)?"
    r"(?P<n>\d{1,3})\s*(?:\([a-z ]+\)\s*)?(?P<unit>ngay lam viec|ngay|tuan|thang|nam)\s*(?:,\s*)?"
    r"(?:ke tu|tinh tu|sau|truoc)\s+(?:ngay|khi|thoi diem)?\s*(?P<anchor>[^,;.\n]{0,80})"
)
_ISSUANCE = re.compile(r"^(?:(?:ke hoach|quyet dinh|van ban|chuong trinh|de an)(?: nay)?\s+)?(?:duoc\s+)?(?:ban hanh|ky|co hieu luc)")
_LABEL = re.compile(
    r"(?:^|[\s(;.])(?:thoi gian|thoi han|tien do|lo trinh|han chot)(?:\s+(?:hoan thanh|thuc hien|trinh|nop|gui|bao cao"
    r"|giai quyet|thuc hien va hoan thanh|hoan tat|trien khai))?\s*:\s*\**"
)
# The words a deadline in parentheses is made of: "(Quý IV/2025)", "(hoàn thành trước 30/6/2026)".
_DEADLINE_WORDS = {
    "thang", "quy", "nam", "ngay", "truoc", "trong", "den", "het", "tu", "hoan", "thanh", "xong", "cham", "nhat",
    "dau", "cuoi", "va", "hoac", "hang", "moi", "dinh", "ky", "i", "ii", "iii", "iv", "giai", "doan", "vao", "la",
}


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


_DUE_DAY = rf"(?:truoc|cham nhat|vao|han)\s+(?:la\s+)?ngay\s+{_DAY}(?:\s*/\s*{_MON}|\s+thang\s+{_MON})\b(?!\s*(?:/|nam)\s*\d)"


def _due_days_after(folded: str, at: int) -> int | None:
    """The end of the calendar due days a periodic duty names later in its clause ("định kỳ 6 tháng
    báo cáo … trước ngày 15 tháng 6 và trước ngày 01 tháng 12"), or None."""
    stop = min([i for i in (folded.find(";", at), folded.find(". ", at)) if i != -1] + [len(folded), at + 200])
    m = re.search(rf"{_DUE_DAY}(?:\s*(?:,|va|hoac)\s*(?:{_DUE_DAY}|ngay\s+{_DAY}(?:\s*/\s*{_MON}|\s+thang\s+{_MON})\b))*",
                  folded[at:stop])
    return at + m.end() if m else None


class Scanner(CalendarForms):
    """One deadline text: each form is tried in order; the first that reads it wins."""

    def __init__(self, raw: str, whole: bool, issued: date | None, default_year: int | None) -> None:
        self.raw = raw
        # Newlines become spaces one for one, so dates broken across lines read as one.
        self.folded = re.sub(r"\bqui\b", "quy", fold(raw).replace("\n", " "))
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
        if self.whole:
            return self._forms() or self._event()
        return self._labelled() or self._prose()

    def _forms(self) -> _Hit | None:
        for form in (
            self._ongoing, self._relative, self._until_year, self._recurring, self._conditional, self._parenthesised,
            self._date_span, self._dates, self._named_year_day, self._short_dates, self._quarter_span, self._quarters, self._roman_quarter,
            self._half_years, self._span_to_year, self._month_span, self._from_month, self._months, self._open_span, self._year_range,
            self._open_ended, self._years, self._duration,
        ):
            hit = form()
            if hit:
                return hit
        return None

    def _prose(self) -> _Hit | None:
        """The deadline that governs a paragraph: the first sentence stating one wins; a loose
        "theo định kỳ" or a time hanging on an event ("sau khi …", "trong vòng 5 ngày kể từ ngày nhận
        hồ sơ") only when no sentence names a calendar time."""
        year = re.match(rf"\s*(?:[\-+•*]\s*)?nam\s*(?P<y>{_YEAR})(?:\s*[-–]\s*(?P<y2>{_YEAR}))?\s*:", self.folded)
        if year:  # "Năm 2018: …": the bullet's year, unless it names a more precise time
            inner = Scanner(self.raw[year.end() :], whole=False, issued=self.issued, default_year=int(year.group("y")))
            hit = inner._prose()
            if hit and hit.deadline.kind != CONDITIONAL:
                return _Hit(hit.deadline, hit.start + year.end(), hit.end + year.end())
            y, y2 = int(year.group("y")), int(year.group("y2") or year.group("y"))
            at = len(self.folded[: year.end()]) - len(self.folded[: year.end()].lstrip(" -+•*"))
            return self.make(YEAR if y == y2 else RANGE, at, year.end() - 1, start=date(y, 1, 1), end=date(y2, 12, 31))
        weak: _Hit | None = None
        for a, b in sentences(self.raw):
            part = Scanner(self.raw[a:b], whole=False, issued=self.issued, default_year=self.default_year)
            hit = part._forms()
            if hit and hit.deadline.kind != CONDITIONAL and (hit.deadline.kind != RECURRING or hit.deadline.recurrence):
                return _Hit(hit.deadline, hit.start + a, hit.end + a)
            hit = hit or part._event()
            if hit and weak is None:
                weak = _Hit(hit.deadline, hit.start + a, hit.end + a)
        return weak

    def _parenthesised(self) -> _Hit | None:
        """A duty's deadline in parentheses, in prose: "Xây dựng Đề án … (Quý IV/2025)"."""
        if self.whole:
            return None
        for m in re.finditer(r"\(([^()]{4,45})\)", self.folded):
            inner = m.group(1)
            if not re.search(r"\d", inner) or set(re.findall(r"[a-z]+", inner)) - _DEADLINE_WORDS:
                continue
            # It closes the duty ("… dịch vụ công trực tuyến (2027 - 2030)."), and is no label of a
            # document or an anniversary ("Kế hoạch 5 năm (2021 - 2025) theo …", "kỷ niệm … (1946 - 2026)").
            if not re.match(r"\s*(?:[.;,:]|$)", self.folded[m.end() :]) or re.search(r"ky niem", self.folded[: m.start()][-80:]):
                continue
            hit = Scanner(self.raw[m.start(1) : m.end(1)], whole=True, issued=self.issued, default_year=self.default_year).scan()
            if hit is None or hit.deadline.kind in (UNPARSED, CONDITIONAL, ONGOING):
                continue
            context = self.default_year or (self.issued.year if self.issued else None)
            first = hit.deadline.start or hit.deadline.end
            if context and first and first.year < context - 5:
                continue
            return _Hit(hit.deadline, m.start(1), m.end(1))
        return None

    def _event(self) -> _Hit | None:
        """"sau khi <event>", "ngay khi <event>", "khi có yêu cầu", "ít nhất 3 ngày trước <event>"."""
        span = days_before_event(self.folded) or event_phrase(self.folded)
        return self.make(CONDITIONAL, *span) if span else None

    def _duration(self) -> _Hit | None:
        """"trong vòng 01 ngày làm việc": a limit counted from an event, so no date."""
        span = duration_phrase(self.folded, self.whole)
        return self.make(CONDITIONAL, *span) if span else None

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
        if m and self.whole and m.start() > 0 and re.search(r"\d", self.folded):
            return None  # "Tháng 11, 12/2013 và kiện toàn thường xuyên": the months lead
        if m and (self.whole or re.search(r"nhiem vu thuong xuyen", self.folded)):
            return self.make(ONGOING, m.start(), m.end())
        return None

    def _relative(self) -> _Hit | None:
        """N days/months after the plan is issued (a date when the plan's date is known)."""
        for m in re.finditer(RELATIVE, self.folded):
            if not self.whole and not m.group("cue") and self.folded[: m.start()].strip(" -+•*:"):
                continue  # without "trong vòng", "sau", … only a sentence made of the limit itself
            n, unit, anchor = int(m.group("n")), m.group("unit"), m.group("anchor")
            if re.match(r"\s*\d", anchor):
                continue  # "6 tháng, trước ngày 15/6": a period and a calendar day, not a count of days
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
            return self._until_event()
        end = date(int(m.group("y")), 12, 31)
        if self.issued and self.issued <= end:
            return self.make(RANGE, m.start(), m.end(), start=self.issued, end=end)
        return self.make(YEAR, m.start(), m.end(), end=end)

    def _until_event(self) -> _Hit | None:
        """"Từ ngày ban hành Kế hoạch đến khi tổ chức thành công Đại hội …": from the plan's date to an
        event (open end; a condition when the plan's date is unknown)."""
        m = re.search(
            r"\btu\s+(?:khi|ngay|nay|thoi diem)\s*(?:ban hanh|ky)?\s*(?:ke hoach|quyet dinh|van ban)?\s*(?:nay\s*)?"
            r"(?:duoc\s+)?(?:ban hanh|ky)?\s*(?:,\s*)?den\s+(?:khi|luc|thoi diem)\s+(?=\S)",
            self.folded,
        )
        if not m or (not self.whole and not m.group(0).startswith("tu")):
            return None
        end = clause_end(self.folded, m.end(), 160) if not self.whole else len(self.folded)
        if self.issued:
            return self.make(FROM, m.start(), end, start=self.issued)
        return self.make(CONDITIONAL, m.start(), end)

    def _recurring(self) -> _Hit | None:
        """"Hàng năm", "định kỳ 6 tháng", "trước ngày 15/12 hằng năm", "Trước ngày 31/01 năm liền kề"."""
        folded = self.folded
        for cue in re.finditer(CUE.pattern + r"|(?<!nhung )(?<!cac )\bnam\s+(?:lien ke|sau|tiep theo)\b", folded):
            if not self.whole and _is_reference_date(folded, cue.start()):
                continue
            if cue.group(0).endswith("tiep theo") and not re.search(
                rf"{_DAY}\s*(?:/|\s+thang\s+)\s*{_MON}\s+(?:cua\s+)?$", folded[max(0, cue.start() - 25) : cue.start()]
            ):
                continue  # "trong năm tiếp theo" is one year; "ngày 30/01 của năm tiếp theo" is every year
            if not cue.group(0).startswith("nam") and not adverbial(folded, cue, self.whole):
                continue
            window = folded
            if not self.whole:
                # The clause around the cue, and near it only: a date elsewhere in a long sentence
                # is not the recurring due day.
                clause = sentence_window(folded, cue.start())
                at = clause.find(cue.group(0))
                window = clause[max(0, at - 80) : at + len(cue.group(0)) + 120] if at >= 0 else clause
            due = _due_days_after(folded, cue.end()) if not self.whole else None
            if due:
                window = window + " " + folded[cue.end() : due]
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
            event = re.match(r"\s*,?\s*(?:tai|vao|trong)\s+(?:ky hop|phien hop|hoi nghi|dip)\b[^,;.()]{0,40}", folded[end:])
            end += event.end() if event else 0
            tail = re.search(r"\(?\s*cham nhat[^)]*\)?|ngay\s+\d+\s+cua\s+thang[^,;.]*", folded[end : end + 160])
            if tail:
                end = end + tail.end()
            end = max(end, due or 0)
            start = cue.start()
            lead = re.search(
                r"(?:truoc|cham nhat|vao)\s+(?:la\s+)?(?:ngay\s+\d{1,2}(?:\s*/\s*\d{1,2}|\s+thang\s+\d{1,2})?|\d{1,2}\s*/\s*\d{1,2})\s*$",
                folded[max(0, start - 40) : start],
            )
            if lead:
                start -= len(lead.group(0))
            return self.make(RECURRING, start, end, recurrence=rec[0] or None)
        return None

    def _conditional(self) -> _Hit | None:
        """"Theo lộ trình …", "Theo hướng dẫn …", "Sau khi có Quy chế …", "Khi …"."""
        if self.whole and re.match(
            r"\s*(?:(?:theo|khi|sau khi|tuy|can cu|ngay sau khi|ngay khi)\b|(?:thuc hien |trien khai |bao cao )?ngay\W*$)",
            self.folded,
        ):
            years = re.findall(_YEAR, self.folded)
            start = date(int(years[0]), 1, 1) if years and re.search(r"tu\s+(nam\s+)?" + years[0], self.folded) else None
            return self.make(CONDITIONAL, 0, len(self.folded), start=start)
        return None
