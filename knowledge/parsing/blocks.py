"""Task blocks: a task heading followed by labelled field lines, read as one task.

Many plans write a task as a heading ("a) Xây dựng …", "1. Tổ chức quán triệt …", "- Rà soát …",
a bold line) followed by labelled lines, each on its own line or after the task on the same line:

    - Xây dựng danh mục cơ sở dữ liệu dùng chung
      + Cơ quan chủ trì: Sở Khoa học và Công nghệ.
      + Cơ quan phối hợp: Văn phòng UBND tỉnh.
      + Thời hạn hoàn thành: Quý IV/2025.   (+ Sản phẩm: …)

or, for a group of tasks, as numbered parts of the group ("1. Nội dung, biện pháp: a) … b) …",
"2. Cơ quan chủ trì, phối hợp: a) Cơ quan chủ trì … b) Cơ quan phối hợp …", "3. Thời gian
thực hiện: …"). Labels are recognised by general vocabulary, not by one document's wording:
cơ quan / đơn vị + chủ trì / phối hợp / thực hiện / tham mưu; thời hạn / thời gian / tiến độ (+
hoàn thành / thực hiện / trình / ban hành …); sản phẩm / kết quả; nội dung (the task itself).

This module knows the vocabulary and reads a field's value; `knowledge.parsing.sections.Builder` joins the
fields to the task they describe (one clause per task, cited at its heading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from knowledge.dates.deadlines import find_deadline, parse_deadline
from knowledge.model import LEAD, RECIPIENT, SUPPORT, AgencyRef, Assignment, Clause, Deadline
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.parsing.duties import _ANY_VERB_RE, classify, mentions_in, subject_of_title
from knowledge.text import fold

_WORDING = 20  # longest time wording kept as written when the grammar reads no date in it

# Field kinds.
LEAD_FIELD = "lead"
SUPPORT_FIELD = "support"
ROLES_FIELD = "roles"  # "Cơ quan chủ trì, phối hợp": its lines say which
DEADLINE_FIELD = "deadline"
PRODUCT_FIELD = "product"
CONTENT_FIELD = "content"  # "Nội dung thực hiện": the task itself

_BODY = r"(?:cac\s+)?(?:co quan|don vi|bo phan|dia phuong)(?:\s*(?:,|va)\s*(?:co quan|don vi|dia phuong|bo phan))*"
_LEAD_CORE = (
    rf"(?:{_BODY}\s+(?:chu tri|thuc hien|tham muu|dau moi|phu trach)|chu tri(?:\s+thuc hien)?)"
)
_SUPPORT_CORE = rf"(?:{_BODY}\s+)?phoi hop(?:\s+thuc hien)?"
_ROLES_CORE = rf"(?:{_BODY}\s+)?chu tri\s*(?:,|va|/)\s*(?:phoi hop|thuc hien)"
_TIME_CORE = (
    r"(?:thoi han|thoi gian|tien do|thoi diem|lo trinh)(?:\s*,\s*(?:thoi han|thoi gian|tien do))?"
    r"(?:\s+(?:hoan thanh|thuc hien|trinh|ban hanh|xong|nop|gui|bao cao|hoan tat|trien khai|to chuc|du kien))*"
)
_PRODUCT_CORE = (
    r"(?:san pham|ket qua)(?:\s+(?:dau ra|du kien|can dat|dat duoc|dat|thuc hien|giao nop))*"
)
_CONTENT_CORE = r"noi dung(?:\s*,?\s*(?:thuc hien|cong viec|nhiem vu|bien phap|hoat dong|chinh))*"
_KINDS = (
    (ROLES_FIELD, _ROLES_CORE),
    (LEAD_FIELD, _LEAD_CORE),
    (SUPPORT_FIELD, _SUPPORT_CORE),
    (DEADLINE_FIELD, _TIME_CORE),
    (PRODUCT_FIELD, _PRODUCT_CORE),
    (CONTENT_FIELD, _CONTENT_CORE),
)
# A few words or a parenthesis may follow the core before the colon: "Đơn vị chủ trì (tham mưu)
# thực hiện:", "Thời hạn hoàn thành dự kiến:".
_TAIL = r"(?:\s*\([^()]{0,40}\)|\s+[a-z]+){0,4}?"
_MARK = r"[\s\-–+•*]*"
_LABELED = re.compile(
    _MARK + r"(?:" + "|".join(f"(?P<{k}>{c})" for k, c in _KINDS) + r")" + _TAIL + r"\s*:\s*"
)
_TITLE = re.compile(
    r"(?:" + "|".join(f"(?P<{k}>{c})" for k, c in _KINDS) + r")" + _TAIL + r"[\s.:]*"
)
# Where a label may start inside a line: after a sentence or a field ends.
_INLINE_CUT = re.compile(r"(?<=[.;])\s+|\s+[-–]\s+|\s*\n\s*")


def _kind(m: re.Match[str]) -> str:
    return next(k for k, _ in _KINDS if m.group(k) is not None)


def label_at(text: str) -> tuple[str, int] | None:
    """(field kind, where its value starts) when the line opens with a labelled field ("- Cơ quan
    chủ trì: …", "Thời hạn hoàn thành: …"), else None."""
    m = _LABELED.match(fold(text))
    return (_kind(m), m.end()) if m else None


def title_field(title: str) -> str | None:
    """The field a heading names when the heading is only a label ("Cơ quan chủ trì, phối hợp",
    "Thời gian thực hiện", "Nội dung, biện pháp"), else None."""
    m = _TITLE.fullmatch(fold(title).strip())
    return _kind(m) if m else None


def split_fields(text: str) -> tuple[str, list[tuple[str, str, str]]]:
    """A line → (the task text before any label, [(kind, field text as written, value)]).

    "Xây dựng quy chế …. Cơ quan chủ trì: Sở Tư pháp; thời hạn: Quý IV/2025." → the task, then a
    lead and a deadline field. A line opening with a label has no task text."""
    folded = fold(text)
    starts = [0] + [m.end() for m in _INLINE_CUT.finditer(folded)]
    found: list[tuple[int, str, int]] = []
    for at in starts:
        m = _LABELED.match(folded, at)
        if m and _kind(m) != CONTENT_FIELD or m and at == 0:
            found.append((at, _kind(m), m.end()))
    if not found:
        return text, []
    task = text[: found[0][0]].strip()
    fields = []
    for i, (at, kind, value_at) in enumerate(found):
        end = found[i + 1][0] if i + 1 < len(found) else len(text)
        written = text[at:end].strip().lstrip("-–+•* ").strip()
        fields.append((kind, written, text[value_at:end].strip()))
    return task, fields


@dataclass
class Fields:
    """What the labelled lines of one block say."""

    lead: list[AgencyRef] = field(default_factory=list)
    support: list[AgencyRef] = field(default_factory=list)
    deadline: Deadline | None = None
    product: str = ""

    def empty(self) -> bool:
        return not (self.lead or self.support or self.deadline or self.product)


def read_value(
    kind: str,
    value: str,
    registry: AgencyRegistry,
    into: Fields,
    issued: date | None = None,
    year: int | None = None,
) -> None:
    """Add one field's value to `into`: agencies for role fields, a deadline for time fields."""
    value = value.strip().rstrip(".;,").strip()
    if not value:
        return
    if kind == DEADLINE_FIELD:
        found = parse_deadline(value, issued=issued, default_year=year)
        if found is not None and not found.parsed:
            # a sentence rather than a date: its deadline phrase, else the wording as written
            found = find_deadline(value, issued=issued, default_year=year) or (
                found if len(value.split()) <= _WORDING else None
            )
        if found is not None and (into.deadline is None or not into.deadline.parsed):
            into.deadline = found
        return
    if kind == PRODUCT_FIELD:
        into.product = f"{into.product}; {value}" if into.product else value
        return
    if kind not in (LEAD_FIELD, SUPPORT_FIELD, ROLES_FIELD):
        return
    stated = classify(value, registry, [])
    named = _named(value, registry)
    recipients = {a.agency.name for a in stated if a.role == RECIPIENT}
    if kind == ROLES_FIELD and any(a.role in (LEAD, SUPPORT) for a in stated):
        leads = [a.agency for a in stated if a.role == LEAD]
        supports = [a.agency for a in stated if a.role == SUPPORT]
    elif kind == SUPPORT_FIELD:
        leads, supports = [], [r for r in named if r.name not in recipients]
    else:
        # "Sở Nội vụ chủ trì tham mưu UBND Thành phố …": the stated leads; a bare list: every name.
        leads = [a.agency for a in stated if a.role == LEAD] or [
            r for r in named if r.name not in recipients
        ]
        supports = [a.agency for a in stated if a.role == SUPPORT]
    for ref in leads:
        if ref.name not in {r.name for r in into.lead}:
            into.lead.append(ref)
    for ref in supports:
        if ref.name not in {r.name for r in into.support}:
            into.support.append(ref)


@dataclass
class Record:
    """One block: the tasks it groups (`members`), what its labelled lines say, and the clause
    holding its heading and field lines (`head`). What the record gave each clause is remembered,
    so fields read later replace it, and a clause keeps what its own sentence (or an inner block)
    said."""

    members: list[Clause] = field(default_factory=list)
    fields: Fields = field(default_factory=Fields)
    head: Clause | None = None
    path: str | None = None  # the section whose block it is (None: one item's block)
    start: int = 0  # number of clauses before its first task
    added: dict[int, list[Assignment]] = field(default_factory=dict)
    replaced: dict[int, Deadline | None] = field(default_factory=dict)

    def join(self, clause: Clause) -> None:
        if clause is not self.head and all(m is not clause for m in self.members):
            self.members.append(clause)
        self.apply()

    def apply(self) -> None:
        if self.fields.empty():
            return
        targets = [*self.members, *([self.head] if self.head is not None else [])]
        bases: list[tuple[Clause, list[Assignment], Deadline | None]] = []
        for clause in targets:
            mine = self.added.pop(clause.ordinal, [])
            base = [a for a in clause.assignments if all(a is not m for m in mine)]
            deadline = (
                self.replaced.pop(clause.ordinal, clause.deadline)
                if clause.ordinal in self.replaced
                else clause.deadline
            )
            bases.append((clause, base, deadline))
        fields = self.fields
        if not fields.lead:
            # No "Cơ quan chủ trì" line: the one the block's own sentences name leads its other
            # tasks ("Bước 2: Kiểm tra …" / "UBND xã … kiểm tra …" / "Thời gian hoàn tất: …").
            stated: list[AgencyRef] = []
            for _, base, _ in bases:
                stated.extend(
                    a.agency
                    for a in base
                    if a.role == LEAD and a.agency.name not in {r.name for r in stated}
                )
            fields = Fields(stated, fields.support, fields.deadline, fields.product)
        for clause, base, deadline in bases:
            give(fields, clause, clause is self.head, base, deadline, borrowed=not self.fields.lead)
            self.added[clause.ordinal] = [
                a for a in clause.assignments if all(a is not b for b in base)
            ]
            if clause.deadline is not deadline:
                self.replaced[clause.ordinal] = deadline


def _named(value: str, registry: AgencyRegistry) -> list[AgencyRef]:
    """Agencies a field's value names. A bare list ("Cục Trồng trọt và Bảo vệ thực vật; Vụ Pháp
    chế") is read piece by piece, each piece a whole name; prose gives the names found in it."""
    refs: list[AgencyRef] = []
    for piece in re.split(r"\s*;\s*", value):
        piece = piece.strip(" .,-–+")
        if not piece:
            continue
        found = subject_of_title(piece, registry)
        if not found:
            mentions = mentions_in(piece, fold(piece), registry)
            whole = mentions and mentions[0].start == 0 and len(piece.split()) <= 14
            if whole and len(mentions) == 1 and not _ANY_VERB_RE.search(fold(piece)):
                found = [registry.canonical(piece)]
            else:
                found = [m.ref for m in mentions]
        refs.extend(r for r in found if r.name not in {x.name for x in refs})
    return refs


def give(
    fields: Fields,
    clause: Clause,
    head: bool,
    assignments: list[Assignment],
    deadline: Deadline | None,
    borrowed: bool = False,
) -> None:
    """Give a clause the fields of its block, from what its own sentence said. The task heading
    (`head`) takes them as stated; the other tasks of a group keep what their own sentence says
    and take the rest."""
    result = list(assignments)
    if fields.lead and (head and not borrowed or not any(a.role == LEAD for a in result)):
        names = {r.name for r in fields.lead}
        result = [a for a in result if a.role != LEAD or a.agency.name in names]
        have = {(a.agency.name, a.role) for a in result}
        result.extend(Assignment(r, LEAD) for r in fields.lead if (r.name, LEAD) not in have)
    have = {(a.agency.name, a.role) for a in result}
    leads = {a.agency.name for a in result if a.role == LEAD}
    result.extend(
        Assignment(r, SUPPORT)
        for r in fields.support
        if (r.name, SUPPORT) not in have and r.name not in leads
    )
    clause.assignments = result
    clause.deadline = (
        fields.deadline if fields.deadline is not None and (head or deadline is None) else deadline
    )
