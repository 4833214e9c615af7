"""The section tree and its clauses: who owns the duties written under each heading.

An agency heading owns the items below it wherever it sits ("IV.3. Sở Tài chính", "b) Văn phòng
UBND tỉnh:", "Giao Sở X:", "Điều 2 › 1. Giám đốc Sở …:", an unnumbered short line naming an
agency), whatever the title of the part it belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from knowledge.agencies import AgencyRegistry
from knowledge.deadlines import find_deadline
from knowledge.duties import classify, subject_of_title
from knowledge.model import LEAD, AgencyRef, Clause, Section
from knowledge.structure import RANK
from knowledge.text import clean_spaces, fold

PLAN_LEVELS = {"roman": 1, "arabic": 2, "dotted": 3, "letter": 4}
_IMPLEMENTATION = re.compile(
    r"to chuc thuc hien|phan cong (?:nhiem vu|thuc hien|trach nhiem)|nhiem vu cu the|trach nhiem (?:thuc hien|cua|cac)"
    r"|giao nhiem vu|trach nhiem\b"
)


@dataclass
class _Frame:
    kind: str
    label: str
    path: str
    title: str
    owners: list[AgencyRef]
    implementation: bool


def _deadline(text: str, issued: date | None):
    """find_deadline, given the plan's date when the deadlines module accepts one."""
    if issued is not None:
        try:
            return find_deadline(text, issued)  # type: ignore[call-arg]
        except TypeError:
            pass
    return find_deadline(text)


class Builder:
    def __init__(self, registry: AgencyRegistry, issued: date | None = None) -> None:
        self.registry = registry
        self.issued = issued
        self.sections: list[Section] = []
        self.clauses: list[Clause] = []
        self.stack: list[_Frame] = []
        self.bullets: dict[str, int] = {}
        self.subheading = ""
        self.subheading_owners: list[AgencyRef] = []
        self.parent_bullet = ""
        self.prefix = ""  # path prefix of an attached document's parts ("" for the main one)

    @property
    def path(self) -> str:
        return self.stack[-1].path if self.stack else ""

    def heading(self) -> str:
        titles = [f.title for f in self.stack if f.title]
        if self.subheading:
            titles.append(self.subheading)
        return " › ".join(titles)

    def open_section(self, kind: str, label: str, title: str) -> None:
        rank = RANK[kind]
        while self.stack and RANK[self.stack[-1].kind] >= rank:
            self.stack.pop()
        parent = self.stack[-1] if self.stack else None
        if kind == "dotted" and parent and parent.kind == "arabic" and label.startswith(parent.label + "."):
            path = f"{parent.path}{label[len(parent.label):]}"
        elif kind == "dotted" and parent and parent.kind == "arabic":
            path = f"{parent.path.rsplit('.', 1)[0] if '.' in parent.path else parent.path}.{label}"
        else:
            path = f"{parent.path}.{label}" if parent else label
        if not parent and self.prefix:
            path = f"{self.prefix} {path}"
        implementation = bool(parent and parent.implementation) or bool(_IMPLEMENTATION.search(fold(title)))
        owners = subject_of_title(title, self.registry) if parent is not None or kind not in PLAN_LEVELS else []
        target = re.search(r"\bđối với\s+(.{3,80})$", re.sub(r"\s*\(.*", "", title), flags=re.I)
        if not owners and target:
            owners = subject_of_title(target.group(1), self.registry)
        frame = _Frame(kind, label, path, clean_spaces(title)[:160], owners, implementation)
        self.stack.append(frame)
        self.subheading = ""
        self.subheading_owners = []
        self.parent_bullet = ""
        level = PLAN_LEVELS.get(kind, len(self.stack))
        self.sections.append(Section(path=path, label=label, title=frame.title, level=level, parent=parent.path if parent else None))

    def set_subheading(self, text: str) -> None:
        self.subheading = text.rstrip(":")
        self.subheading_owners = subject_of_title(self.subheading, self.registry)

    def close_all(self) -> None:
        """Closing paragraphs ("Trên đây là Kế hoạch…") belong to no section."""
        self.stack.clear()
        self.subheading = ""
        self.subheading_owners = []
        self.parent_bullet = ""

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
        if len(title.split()) < 6 or subject_of_title(title, self.registry):
            return False
        return any(a.role == LEAD for a in classify(title, self.registry, []))

    def add_clause(self, text: str, bullet: bool = False, sub_bullet: bool = False, locator: str = "") -> None:
        text = clean_spaces(text.replace("\n", " "))
        if not text:
            return
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
            deadline=_deadline(text, self.issued),
            in_implementation=implementation,
            locator=locator,
        )
        self.clauses.append(clause)
        if bullet and not sub_bullet:
            self.parent_bullet = text


def title_and_rest(rest: str) -> tuple[str, str]:
    """Split "Sở Nội vụ: Thẩm định …" into a title and a clause body."""
    rest = rest.strip()
    m = re.match(r"^(.{2,120}?)\s*:\s+(.+)$", rest, flags=re.S)
    if m and len(m.group(1).split()) <= 20:
        return m.group(1).strip(), m.group(2).strip()
    if len(rest) <= 140 and not rest.endswith((".", ";")) or len(rest.split()) <= 12 and not rest.endswith(";"):
        return rest.rstrip(":. "), ""
    words = rest.split()
    return " ".join(words[:12]) + "…", rest
