"""Periods stated once for many duties.

- The plan's own period ("3. Thời gian thực hiện: Từ nay đến hết năm 2025", in the part on scope
  and time, outside the part that assigns duties) is the time of every duty in that part that
  states none of its own: a reader of the plan knows the work is due by its end.
- A line leading into a list ("Từ nay đến hết năm 2027, các cơ quan thực hiện các nhiệm vụ
  sau:") gives its period to the items under it that state none.

Only a calendar period is carried (an end date, no recurrence): "Thường xuyên" or "hằng năm" said
of the plan is no deadline of each duty. Two different plan periods carry nothing (which one?).
"""

from __future__ import annotations

import re

from knowledge.model import LEAD, Clause
from knowledge.text import fold

_LABEL = re.compile(
    r"\b(?:thoi gian|tien do|thoi han)\s+(?:thuc hien|trien khai|hoan thanh)(?:\s+(?:ke hoach|chuong trinh|de an))?"
    r"(?:\s+(?:nay|la))?\s*[:\-–]?\s*$"
)
_REGULAR = re.compile(
    r"\b(?:thuong xuyen|lien tuc|hang nam|hang quy|hang thang|hang tuan|dinh ky)\b"
)


def carry_periods(clauses: list[Clause]) -> None:
    """Give duties without a time of their own the period stated for them all (in place)."""
    _lead_in_periods(clauses)
    period = _plan_period(clauses)
    if period is None:
        return
    for clause in clauses:
        if (
            clause.in_implementation
            and clause.deadline is None
            and _has_lead(clause)
            and not _regular(clause)
        ):
            clause.deadline = period


def _carried(clause: Clause) -> bool:
    d = clause.deadline
    return d is not None and d.dated and not d.recurrence


def _regular(clause: Clause) -> bool:
    """Work said to go on ("… tuyên truyền thường xuyên", "định kỳ") is not due at the period's end."""
    return bool(_REGULAR.search(fold(clause.text)))


def _has_lead(clause: Clause) -> bool:
    return any(a.role == LEAD for a in clause.assignments)


def _plan_period(clauses: list[Clause]):
    found = {}
    for clause in clauses:
        if clause.in_implementation or not _carried(clause) or clause.section.count(".") > 1:
            continue
        text = fold(clause.text)
        at = text.find(fold(clause.deadline.text))
        last_heading = fold(clause.heading.split(" › ")[-1]) if clause.heading else ""
        if (at >= 0 and _LABEL.search(text[:at])) or (at == 0 and _LABEL.search(last_heading)):
            found.setdefault((clause.deadline.start, clause.deadline.end), clause.deadline)
    return next(iter(found.values())) if len(found) == 1 else None


def _lead_in_periods(clauses: list[Clause]) -> None:
    for i, head in enumerate(clauses):
        if not head.text.rstrip().endswith(":") or not _carried(head) or head.bullet:
            continue
        if fold(head.text).find(fold(head.deadline.text)) > 20:
            continue  # the period must open the line ("Từ nay đến hết năm 2027, …")
        prefix = head.section + "."
        for clause in clauses[i + 1 :]:
            if clause.section != head.section and not clause.section.startswith(prefix):
                break
            if clause.deadline is None and _has_lead(clause) and not _regular(clause):
                clause.deadline = head.deadline
