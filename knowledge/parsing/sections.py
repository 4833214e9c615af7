"""The section tree and its clauses: who owns the duties written under each heading.

An agency heading owns the items below it wherever it sits ("IV.3. Sở Tài chính", "b) Văn phòng
UBND tỉnh:", "Giao Sở X:", "Điều 2 › 1. Giám đốc Sở …:", an unnumbered short line naming an
agency), whatever the title of the part it belongs to. A task heading and its labelled lines
("- Cơ quan chủ trì: …", "3. Thời gian thực hiện: …") are joined into one task (`knowledge.parsing.blocks`).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from datetime import date

from knowledge.dates.deadlines import find_deadline, parse_deadline
from knowledge.model import LEAD, AgencyRef, Clause, Section
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing.blocks import (
    CONTENT_FIELD,
    DEADLINE_FIELD,
    Record,
    read_value,
    split_fields,
    title_field,
)
from knowledge.parsing.duties import classify, subject_of_title
from knowledge.parsing.structure import RANK
from knowledge.text import clean_spaces, fold

PLAN_LEVELS = {"roman": 1, "arabic": 2, "dotted": 3, "letter": 4}
_IMPLEMENTATION = re.compile(
    r"to chuc thuc hien|phan cong (?:nhiem vu|thuc hien|trach nhiem)|nhiem vu cu the|trach nhiem (?:thuc hien|cua|cac)"
    r"|giao nhiem vu|trach nhiem\b"
)


_FIELD_WORDS = 30  # longest value of a labelled part ("3. Thời gian thực hiện: …")
_OWNER_PREFIX = re.compile(r"^(?:trách nhiệm|nhiệm vụ|phân công)(?:\s+(?:thực hiện|cụ thể))?(?:\s+của)?\s+", re.I)


_AGENCY_HEAD = re.compile(
    r"(?:giao\s+|de nghi\s+)?(?:cac\s+)?(?:so|bo|ubnd|uy ban|phong|ban|trung tam|benh vien|cong an|bo chi huy|van phong|"
    r"chi cuc|cuc|thanh tra|hoi|doan|mat tran|bao hiem|dai|bao|truong|vien|tram|giam doc|chu tich|thu truong|nguoi dung dau)\b"
    r"|cac (?:co quan|don vi|dia phuong|to chuc)\b"
)


def heading_owners(title: str, registry: AgencyRegistry) -> list[AgencyRef]:
    """Agencies a heading names, trying the heading as written, then without "Trách nhiệm của",
    a trailing description ("Sở Tài chính - Cơ quan thường trực …") or a parenthesis."""
    title = title.strip().rstrip(":. ")
    candidates = [title]
    bare = _OWNER_PREFIX.sub("", title)
    candidates.append(bare)
    # people for their office: "Giám đốc Sở X, Chủ tịch Ủy ban nhân dân cấp xã" → the agencies
    offices = re.sub(r"(^|[,;]\s*|\s+và\s+)(?:Giám đốc|Chủ tịch|Thủ trưởng|Chánh Văn phòng|Người đứng đầu|Trưởng)\s+(?=[A-ZĐÀ-Ỹ])", r"\1", bare)
    if offices != bare:
        candidates.insert(0, offices)
    for text in (title, bare, offices):
        candidates.append(re.split(r"\s+[-–]\s+|\s*\(|:", text)[0])
    # "Cấp xã (Ủy ban nhân dân cấp xã)": the body in the parenthesis
    candidates.extend(re.findall(r"\(([^()]{3,80})\)\s*$", title))
    for text in candidates:
        if text and len(text.split()) <= 25 and (registry.find_mentions(text) or _AGENCY_HEAD.match(fold(text))):
            found = subject_of_title(text, registry)
            if found:
                return found
    return []


@dataclass
class _Frame:
    kind: str
    label: str
    path: str
    title: str
    owners: list[AgencyRef]
    implementation: bool
    field: str | None = None  # a labelled part of a block: "2. Cơ quan chủ trì, phối hợp"
    first: int = 0  # number of clauses before it opened


_DEADLINE_PARAMS = set(inspect.signature(find_deadline).parameters)


def _deadline(text: str, issued: date | None, year: int | None = None):
    """find_deadline, given the plan's date (for "trong vòng 30 ngày kể từ ngày ban hành") and year
    when the deadlines module accepts them."""
    extra: dict = {}
    if "issued" in _DEADLINE_PARAMS:
        extra["issued"] = issued
    if "default_year" in _DEADLINE_PARAMS and year:
        extra["default_year"] = year
    return find_deadline(text, **extra)


class Builder:
    def __init__(self, registry: AgencyRegistry, issued: date | None = None, year: int | None = None) -> None:
        self.registry = registry
        self.issued = issued
        self.year = year
        self.sections: list[Section] = []
        self.clauses: list[Clause] = []
        self.stack: list[_Frame] = []
        self.bullets: dict[str, int] = {}
        self.subheading = ""
        self.subheading_owners: list[AgencyRef] = []
        self.parent_bullet = ""
        self.parent_clause: Clause | None = None  # the last "-" item, head of its "+" items
        self.records: dict[str, Record] = {}  # the open block of each section path
        self.bullet_record: Record | None = None  # the block of `parent_clause`
        self.flat_path: str | None = None  # a section whose "-" items have "-" fields of their own
        self.prefix = ""  # path prefix of an attached document's parts ("" for the main one)

    @property
    def path(self) -> str:
        return self.stack[-1].path if self.stack else ""

    def heading(self) -> str:
        titles = [f.title for f in self.stack if f.title]
        if self.subheading:
            titles.append(self.subheading)
        return " › ".join(titles)

    def open_section(self, kind: str, label: str, title: str, rest: str = "") -> str | None:
        """Open a numbered part; returns its field kind when the heading is a labelled part of
        the block above it ("2. Cơ quan chủ trì, phối hợp", "3. Thời gian thực hiện: …")."""
        rank = RANK[kind]
        while self.stack and RANK[self.stack[-1].kind] >= rank:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        if kind == "dotted" and parent and parent.kind == "arabic" and label.startswith(parent.label + "."):
            path = f"{parent.path}{label[len(parent.label):]}"
        elif kind == "dotted" and parent and parent.kind == "arabic":
            path = f"{parent.path.rsplit('.', 1)[0] if '.' in parent.path else parent.path}.{label}"
        elif kind == "article" or not parent:
            # articles are numbered through the whole document: "Điều 5", not "Chương II.Điều 5";
            # an attached document's own articles carry its name ("Quy chế Điều 5")
            path = f"{self.prefix} {label}" if self.prefix and kind == "article" else label
        else:
            path = f"{parent.path}.{label}"
        implementation = bool(parent and parent.implementation) or bool(_IMPLEMENTATION.search(fold(title)))
        field = None
        if parent and not self._in_provision() and kind in PLAN_LEVELS and kind != "roman" and len(rest.split()) <= _FIELD_WORDS:
            # (a long text after "Thời gian …:" is a duty of its own; a clause of an article —
            # "Điều 5 › 4. Thời hạn thẩm định" — is a provision, no part of a task block)
            field = title_field(title)
        owners = heading_owners(title, self.registry) if not field else []
        target = re.search(r"\bđối với\s+(.{3,80})$", re.sub(r"\s*\(.*", "", title), flags=re.I)
        if not owners and target:
            owners = subject_of_title(target.group(1), self.registry)
        frame = _Frame(kind, label, path, clean_spaces(title)[:160], owners, implementation, field, len(self.clauses))
        self.stack.append(frame)
        self.subheading = ""
        self.subheading_owners = []
        self.parent_bullet = ""
        self.parent_clause = self.bullet_record = None
        level = PLAN_LEVELS.get(kind, len(self.stack))
        self.sections.append(Section(path=path, label=label, title=frame.title, level=level, parent=parent.path if parent else None))
        return field

    def retitle(self, title: str) -> None:
        """A heading whose title stands on the next line ("Chương I" / "QUY ĐỊNH CHUNG")."""
        frame = self.stack[-1]
        frame.title = clean_spaces(title)[:160]
        self.sections[-1].title = frame.title
        if not frame.owners:
            frame.owners = heading_owners(title, self.registry)
        frame.implementation = frame.implementation or bool(_IMPLEMENTATION.search(fold(title)))

    def set_subheading(self, text: str) -> None:
        self.subheading = text.rstrip(":")
        self.subheading_owners = heading_owners(self.subheading, self.registry)

    def close_all(self) -> None:
        """Closing paragraphs ("Trên đây là Kế hoạch…") belong to no section."""
        self.stack.clear()
        self.subheading = ""
        self.subheading_owners = []
        self.parent_bullet = ""
        self.parent_clause = self.bullet_record = None

    def owners(self) -> list[AgencyRef]:
        if self.subheading_owners:
            return self.subheading_owners
        for frame in reversed(self.stack):
            if frame.owners:
                return frame.owners
        return []

    def is_duty_line(self, title: str) -> bool:
        """A numbered line without a final period that states a duty ("6. Sở Y tế thường xuyên
        kiểm tra …"): an agency as subject of a duty verb, not a heading."""
        if len(title.split()) < 6 or heading_owners(title, self.registry):
            return False
        return any(a.role == LEAD for a in classify(title, self.registry, []))

    def add_clause(self, text: str, bullet: bool = False, sub_bullet: bool = False, locator: str = "") -> None:
        lines = text
        text = clean_spaces(text.replace("\n", " "))
        if not text:
            return
        fields: list[tuple[str, str, str]] = []
        if not locator and not self._in_provision():
            value_of = self._value_frame()
            if value_of is not None:  # a line of "a) Cơ quan chủ trì" / "3. Thời gian thực hiện"
                task, fields = split_fields(lines)
                labelled = bool(fields) and not task and fields[0][0] != CONTENT_FIELD
                if labelled or len(text.split()) <= _FIELD_WORDS:
                    self._field(self._section_record(), fields if labelled else [(value_of.field or "", text, text)])
                    return
                fields = []  # a sentence under "1. Thời gian thực hiện": a duty of its own (below)
            task, fields = split_fields(lines)
            if fields and fields[0][0] == CONTENT_FIELD and not task:
                task, fields = fields[0][1], fields[1:]  # "- Nội dung thực hiện: …" is the task
            if fields and not task:  # "+ Cơ quan chủ trì: …": a field of the task above
                self._field(self._record_for_field(bullet, sub_bullet), fields)
                return
            text = clean_spaces(task) if fields else text
        bullet_no = None
        if bullet:
            bullet_no = self.bullets.get(self.path, 0) + 1
            self.bullets[self.path] = bullet_no
        heading = self.heading()
        if sub_bullet and self.parent_bullet:
            heading = f"{heading} › {self.parent_bullet[:120]}" if heading else self.parent_bullet[:120]
        implementation = bool(self.stack and self.stack[-1].implementation)
        clause = Clause(
            ordinal=len(self.clauses) + 1,
            section=self.path,
            heading=heading,
            text=text,
            bullet=bullet_no,
            assignments=classify(text, self.registry, self.owners()),
            deadline=_deadline(text, self.issued, self.year),
            in_implementation=implementation,
            locator=locator,
        )
        self.clauses.append(clause)
        if fields:  # "Xây dựng … . Cơ quan chủ trì: Sở Tư pháp; thời hạn: Quý IV/2025."
            own = Record(head=clause)
            self._field(own, fields)
        if not locator:
            self._join(clause, bullet, sub_bullet)
            part = self._value_frame()
            if part is not None and part.field == DEADLINE_FIELD:
                # … and what it says is the block's time, as a table's "Thời gian" cell would be
                clause.deadline = clause.deadline or parse_deadline(text.rstrip(". "), self.issued, self.year)
                record = self._section_record()
                record.fields.deadline = record.fields.deadline or clause.deadline
                record.apply()
        if not text.endswith(":") or not self.stack or any(f.owners for f in self.stack):
            pass
        elif bullet and len(text.split()) <= 15 and (named := heading_owners(text, self.registry)):
            # "- Cấp xã (Ủy ban nhân dân cấp xã):" heads the steps that follow, up to the next one
            self.subheading, self.subheading_owners = text.rstrip(":"), named
            clause.assignments = classify(text, self.registry, named)
        elif not bullet and not self.subheading_owners:
            owners = [a.agency for a in clause.assignments if a.role == LEAD]
            if owners:
                # "9. UBND các phường, xã chủ động …, tập trung một số nhiệm vụ cụ thể sau:" owns
                # the items that follow it in its section.
                self.stack[-1].owners = owners
        if bullet and not sub_bullet:
            self.parent_bullet = text

    # -- task blocks: a heading and its labelled lines (knowledge.parsing.blocks) -------------------------

    def field_heading(self, written: str, rest: str) -> None:
        """A numbered part that is a field of the block above ("3. Thời gian thực hiện: Quý IV",
        "2. Cơ quan chủ trì, phối hợp"): its line joins the block's text, its value the fields."""
        frame = self.stack[-1]
        self._field(self._section_record(), [(frame.field or "", clean_spaces(written.replace("\n", " ")), rest)])

    def _in_provision(self) -> bool:
        """Inside an article's clauses and points ("Điều 5 › 4. Thời hạn thẩm định › a)"): the
        provisions of a legal text, not the task blocks of a plan (a plan set inside an article
        has its own parts: "Điều 1 › IV. Nhiệm vụ › 5. …")."""
        for frame in reversed(self.stack):
            if frame.kind in ("article", "chapter", "lsection"):
                return True
            if frame.kind not in ("arabic", "dotted", "letter"):
                return False
        return False

    def in_content(self) -> bool:
        """Inside "1. Nội dung, biện pháp" of a block: every item there is a task."""
        return any(f.field == CONTENT_FIELD for f in self.stack[:-1])

    def _value_frame(self) -> _Frame | None:
        for frame in reversed(self.stack):
            if frame.field and frame.field != CONTENT_FIELD:
                return frame
        return None

    def _scope(self) -> int:
        """Index of the frame whose block the current lines belong to: above the outermost
        labelled part ("VIII" for the lines of "VIII.1. Nội dung" and "VIII.2. Cơ quan chủ trì")."""
        for i, frame in enumerate(self.stack):
            if frame.field:
                return i - 1
        return len(self.stack) - 1

    def _section_record(self, complete_ends: bool = False) -> Record:
        """The open block of the current scope; with `complete_ends`, a block that already has
        its tasks and fields is closed and a new one begins (for a task joining)."""
        scope = self._scope()
        key = self.stack[scope].path if scope >= 0 else ""
        record = self.records.get(key)
        if record is not None and complete_ends and record.members and not record.fields.empty():
            record = self.records[key] = Record(path=key, start=len(self.clauses) - 1)
        elif record is None:
            record = self.records[key] = Record(path=key, start=self.stack[scope].first if scope >= 0 else 0)
        return record

    def _record_for_field(self, bullet: bool, sub_bullet: bool) -> Record:
        """"+ Thời hạn: …" under "- Xây dựng …", or an unmarked field line after an item and its
        "+" lines: that item's block; "- Cơ quan chủ trì: …" beside the tasks: the section's."""
        item = self.parent_clause
        last = self.clauses[-1] if self.clauses else None
        # "- Task A / - Cơ quan chủ trì: … / - Task B / - Cơ quan chủ trì: …" (one list level, as
        # Word lists often come): a field right after the section's first item, or after an item
        # whose elder had fields of its own, is that item's.
        flat = bullet and last is item and item is not None and (item.bullet == 1 or self.flat_path == self.path)
        if flat:
            self.flat_path = self.path
        if item is not None and item.section == self.path and (flat or sub_bullet or (not bullet and last is not None and last.section == self.path)):
            if self.bullet_record is None:
                self.bullet_record = Record(head=item)
                self.bullet_record.join(item)
                for clause in self.clauses[item.ordinal :]:
                    if clause.section == item.section:
                        self.bullet_record.join(clause)
            return self.bullet_record
        return self._section_record()

    def _join(self, clause: Clause, bullet: bool, sub_bullet: bool) -> None:
        """A task joins the block of its section (and of its "-" item when it is a "+" line)."""
        self._section_record(complete_ends=True).join(clause)
        if bullet and not sub_bullet:
            self.parent_clause, self.bullet_record = clause, None
        elif self.bullet_record is not None and sub_bullet:
            self.bullet_record.join(clause)

    def _field(self, record: Record, fields: list[tuple[str, str, str]]) -> None:
        if record.path is not None:
            # a part of the block ("1.4. Lộ trình thực hiện: …") speaks for every task under the
            # block's heading, however deep ("1.2. Kiến nghị thực thi: - Kiến nghị Bộ …")
            inside = record.path + "."
            for clause in self.clauses[record.start :]:
                if (clause.section == record.path or clause.section.startswith(inside)) and not clause.locator:
                    if clause is not record.head and all(m is not clause for m in record.members):
                        record.members.append(clause)
        if record.head is None:
            if len(record.members) == 1:
                record.head = record.members[0]
                record.members = []
            else:
                record.head = self._heading_clause()
                record.join(record.head)
        head = record.head
        for kind, written, value in fields:
            if head.text != written and written:
                head.text = f"{head.text} {written}" if head.text else written
            read_value(kind, value, self.registry, record.fields, self.issued, self.year)
        record.apply()

    def _heading_clause(self) -> Clause:
        """The block's task is its heading ("1. Tổ chức quán triệt Luật …" then "- Cơ quan chủ trì:
        …"): a clause of the heading's title, cited at the heading."""
        scope = self._scope()
        frames = self.stack[: scope + 1]
        title = frames[-1].title if frames else ""
        owners = next((f.owners for f in reversed(frames) if f.owners), [])
        clause = Clause(
            ordinal=len(self.clauses) + 1,
            section=frames[-1].path if frames else "",
            heading=" › ".join(f.title for f in frames if f.title),
            text=title,
            assignments=classify(title, self.registry, owners) if title else [],
            in_implementation=bool(frames and frames[-1].implementation),
        )
        self.clauses.append(clause)
        return clause


def title_and_rest(rest: str) -> tuple[str, str]:
    """Split "Sở Nội vụ: Thẩm định …" into a title and a clause body."""
    rest = rest.strip()
    head, _, body = rest.partition("\n")
    if body and len(head.split()) <= 12 and not head.endswith((".", ";", ":", ",")) and not re.search(r":\s", head):
        return head.strip(), body.strip()  # a heading line, then its text on the next line
    m = re.match(r"^(.{2,120}?)\s*:\s+(.+)$", rest, flags=re.S)
    if m and len(m.group(1).split()) <= 20:
        return m.group(1).strip(), m.group(2).strip()
    if len(rest) <= 140 and not rest.endswith((".", ";")) or len(rest.split()) <= 12 and not rest.endswith(";"):
        return rest.rstrip(":. "), ""
    words = rest.split()
    return " ".join(words[:12]) + "…", rest
