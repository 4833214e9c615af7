"""Cell texts of task tables: the task without its number, both roles named in one cell, an
agency cell's role words and bullet list, a deadline completed by the year its header gives."""

from __future__ import annotations

import re

from knowledge.dates.deadlines import parse_deadline
from knowledge.model import Deadline
from knowledge.text import clean_spaces


def task_text(text: str, label: str) -> str:
    """The task, not its number: "1.1. Rà soát …" in the task cell loses its "1.1."."""
    if label:
        text = re.sub(rf"^{re.escape(label)}[.)]?\s+", "", text)
    return text


_ROLE_SPLIT = re.compile(
    r"^(?:(?:đơn vị |cơ quan )?chủ trì\s*[:,]?\s*)?(?P<lead>.+?)\s*(?:\(chủ trì\)|chủ trì)?\s*[,;.]?\s*"
    r"(?:(?:đơn vị |cơ quan )?phối hợp(?: với)?\s*[:,]?\s*)(?P<support>.+)$",
    re.I | re.S,
)


def split_roles(cell: str) -> tuple[str, str] | None:
    """One cell naming both roles: "Chủ trì: Sở Y tế; phối hợp: Sở Tài chính" or
    "Sở Y tế chủ trì, Sở Tài chính phối hợp" → (lead, support)."""
    if "phối hợp" not in cell.lower() or "chủ trì" not in cell.lower():
        return None
    m = _ROLE_SPLIT.match(clean_spaces(cell))
    if not m:
        return None
    lead = m.group("lead").strip(" ,;:.")
    lead = re.sub(r"\s*\(?chủ trì\)?$", "", lead, flags=re.I).strip(" ,;:.")
    support = re.sub(r"\s*\(?phối hợp\)?\.?$", "", m.group("support"), flags=re.I).strip(" ,;:.")
    return (lead, support) if lead and support else None


def agency_cell(text: str) -> str:
    """An agency cell without its role word ("Chủ trì: Sở Y tế") and with its bullet list
    ("- Sở Y tế - Sở Tài chính") written as a list ("Sở Y tế; Sở Tài chính")."""
    text = re.sub(
        r"^(?:(?:cơ quan|đơn vị)\s+)?(?:chủ trì|phối hợp)(?:\s+với)?\s*[:\-–]\s*",
        "",
        text,
        flags=re.I,
    )
    if re.match(r"^[-–+•]\s", text):
        parts = [p.strip(" ;,.") for p in re.split(r"(?:^|\s)[-–+•]\s+", text)]
        text = "; ".join(p for p in parts if p)
    return text


def deadline_of(text: str, year: int | None) -> Deadline | None:
    deadline = parse_deadline(text)
    if deadline is None or year is None or re.search(r"\b(19|20)\d\d\b", text):
        return deadline
    if deadline.parsed and deadline.kind not in ("unparsed",) and deadline.end is not None:
        return deadline
    if deadline.recurrence or deadline.kind in ("ongoing", "conditional"):
        return deadline
    completed = parse_deadline(f"{text} năm {year}")
    return completed if completed is not None and completed.parsed else deadline
