"""Domain model: what a plan says, who must do what, by when."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

# Deadline kinds, from most to least specific.
DATE = "date"  # one day (start == end)
MONTH = "month"  # a calendar month
QUARTER = "quarter"  # one or more quarters of a year
YEAR = "year"  # a calendar year
RANGE = "range"  # a span of years / dates with both ends
FROM = "from"  # starts at `start`, open end ("Từ năm 2026", "2025 và những năm tiếp theo")
RECURRING = "recurring"  # repeats: see `recurrence` (an RFC 5545 RRULE, dateutil-readable)
ONGOING = "ongoing"  # "Nhiệm vụ thường xuyên"
CONDITIONAL = "conditional"  # "Theo lộ trình…", "sau khi Đề án được phê duyệt", "ngay khi xảy ra": no date
UNPARSED = "unparsed"  # raw text kept, counted and reported

DEADLINE_KINDS = (DATE, MONTH, QUARTER, YEAR, RANGE, FROM, RECURRING, ONGOING, CONDITIONAL, UNPARSED)

LEAD = "lead"  # chủ trì / responsible
SUPPORT = "support"  # phối hợp
RECIPIENT = "recipient"  # receives reports
ROLES = (LEAD, SUPPORT, RECIPIENT)


@dataclass
class Deadline:
    """A normalised deadline. `text` is always the original wording."""

    text: str
    kind: str
    start: date | None = None
    end: date | None = None
    recurrence: str | None = None  # e.g. "FREQ=YEARLY;BYMONTH=1,4,7,10;BYMONTHDAY=10"
    before: bool = False  # "trước …": the work must be finished by `end`

    @property
    def parsed(self) -> bool:
        return self.kind != UNPARSED

    @property
    def dated(self) -> bool:
        """True when it pins the work to a calendar interval (not ongoing / recurring)."""
        return self.end is not None and self.kind in (DATE, MONTH, QUARTER, YEAR, RANGE)

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "kind": self.kind,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "recurrence": self.recurrence,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> Deadline | None:
        if not data:
            return None
        return cls(
            text=data["text"],
            kind=data["kind"],
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            recurrence=data.get("recurrence"),
            before=bool(data.get("before", False)),
        )


@dataclass
class AgencyRef:
    """An agency as written (`raw`) and its canonical registry name (`name`)."""

    name: str
    raw: str
    collective: bool = False  # "Các sở, ngành", "UBND các huyện, thị xã, thành phố"


@dataclass
class Assignment:
    """Agency `agency` has role `role` in a task row or a clause."""

    agency: AgencyRef
    role: str


@dataclass
class Section:
    """A numbered part of the plan. `path` is the citation label ("IV.4")."""

    path: str
    label: str  # own label: "IV", "4", "a", "1.1"
    title: str
    level: int
    parent: str | None = None


@dataclass
class Clause:
    """A paragraph or bullet of prose, citable by `section` (+ bullet number)."""

    ordinal: int
    section: str  # section path, "" before the first section
    heading: str  # section titles from the root, joined with " › "
    text: str
    bullet: int | None = None  # 1-based position among bullets of its section
    assignments: list[Assignment] = field(default_factory=list)
    deadline: Deadline | None = None
    in_implementation: bool = False  # inside a part assigning duties ("Tổ chức thực hiện", …)
    locator: str = ""  # where an unsectioned paragraph sits: "đoạn 12", "trang 3"

    @property
    def citation(self) -> str:
        if not self.section:
            return self.locator or "Phần kết"
        if self.bullet:
            return f"{self.section}, ý {self.bullet}"
        return self.section


@dataclass
class Task:
    """One rebuilt row of an appendix task table."""

    ordinal: int
    row: str  # as numbered in the table: "5", "1.2", "a"
    table: str  # caption/title of the table ("Phụ lục")
    text: str
    group: str | None = None  # group heading row above it, if any
    lead: list[AgencyRef] = field(default_factory=list)
    support: list[AgencyRef] = field(default_factory=list)
    lead_text: str = ""
    support_text: str = ""
    deadline: Deadline | None = None
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # other columns by header label

    @property
    def citation(self) -> str:
        where = self.table or "Phụ lục"
        if self.group:
            return f"{where}, {self.group}, TT {self.row}"
        return f"{where}, TT {self.row}"


@dataclass
class ReportingRule:
    """A periodic reporting duty: who reports, to whom, how often, by which day."""

    ordinal: int
    clause_ordinal: int
    section: str
    text: str
    reporters: list[AgencyRef]
    recipients: list[AgencyRef]
    frequency: str  # human wording: "hàng quý, 6 tháng, 9 tháng và cả năm"
    periods: list[str]  # of "day", "week", "month", "quarter", "half_year", "nine_months", "year"
    due_day: int | None  # day of the month after the period when the report is due
    deadline: Deadline

    @property
    def citation(self) -> str:
        return self.section or "Phần mở đầu"


# Document kinds (PlanMeta.kind).
DOCUMENT_KINDS = (
    "ke_hoach", "quyet_dinh", "cong_van", "cong_dien", "thong_bao", "nghi_quyet", "nghi_dinh", "thong_tu",
    "chi_thi", "bao_cao", "khac",
)


@dataclass
class PlanMeta:
    issuer: str = ""
    number: str = ""
    date: date | None = None
    title: str = ""
    implements: list[str] = field(default_factory=list)
    place: str = ""
    year: int | None = None  # known even when the day is left blank ("ngày … tháng … năm 2024")
    valid_until: int | None = None  # last year the plan covers ("giai đoạn 2021-2025", "năm 2021")
    kind: str = "khac"  # one of DOCUMENT_KINDS: the document that carries the plan
    draft: bool = False  # the number is left blank ("Số:    /KH-UBND"): a draft not yet issued


@dataclass
class Plan:
    meta: PlanMeta
    sections: list[Section]
    clauses: list[Clause]
    tasks: list[Task]
    reporting_rules: list[ReportingRule]
    warnings: list[str] = field(default_factory=list)

    def deadlines(self) -> list[Deadline]:
        found = [c.deadline for c in self.clauses if c.deadline]
        found += [t.deadline for t in self.tasks if t.deadline]
        return found

    def assignment_count(self) -> int:
        clause_count = sum(len(c.assignments) for c in self.clauses)
        task_count = sum(len(t.lead) + len(t.support) for t in self.tasks)
        return clause_count + task_count

    def summary(self) -> dict:
        deadlines = self.deadlines()
        unparsed = [d.text for d in deadlines if not d.parsed]
        return {
            "kind": self.meta.kind,
            "title": self.meta.title,
            "number": self.meta.number,
            "issuer": self.meta.issuer,
            "date": self.meta.date.isoformat() if self.meta.date else None,
            "year": self.meta.year,
            "valid_until": self.meta.valid_until,
            "sections": len(self.sections),
            "clauses": len(self.clauses),
            "tasks": len(self.tasks),
            "assignments": self.assignment_count(),
            "deadlines_parsed": len(deadlines) - len(unparsed),
            "deadlines_unparsed": len(unparsed),
            "unparsed": unparsed,
            "reporting_rules": len(self.reporting_rules),
            "warnings": list(self.warnings),
        }


def to_jsonable(obj: object) -> object:
    """dataclasses → plain JSON types (dates as ISO strings)."""
    if hasattr(obj, "__dataclass_fields__"):
        return to_jsonable(asdict(obj))  # type: ignore[arg-type]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj
