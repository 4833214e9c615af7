"""Documents that tell what was done, or what a meeting concluded, rather than plan work.

A Báo cáo narrates ("đã triển khai …", "đã tổ chức …", figures, "kết quả đạt được"): an agency
named there did something, it is not asked to. Its narrative parts stay searchable but give no
assignments or deadlines; only the parts that look ahead ("Nhiệm vụ, giải pháp thời gian tới",
"Phương hướng …", "Đề xuất, kiến nghị", "Tổ chức thực hiện") set duties. A Thông báo kết luận
gives each numbered point to the body it names first: that body leads it. Any notice's closing
formula ("Văn phòng … thông báo để các cơ quan, đơn vị biết, thực hiện") is no duty of its sender.
"""

from __future__ import annotations

import re

from knowledge.model import LEAD, Assignment, Clause
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.text import fold

# Headings of a report's parts (folded).
_AHEAD = re.compile(
    r"de xuat|kien nghi|phuong huong|thoi gian toi|sap toi|tiep theo|nhiem vu(?:,| va)? giai phap|nhiem vu trong tam"
    r"|giai phap trong tam|to chuc thuc hien|ke hoach (?:nam|thang|quy)|nhiem vu (?:nam|thang|quy|\d)|cuoi nam"
)
_PAST = re.compile(
    r"ket qua|tinh hinh|danh gia|ton tai|han che|nguyen nhan|bai hoc|kho khan|vuong mac|thuan loi|cong tac chi dao"
    r"|dac diem|so lieu|nhung viec da lam"
)
_OPENING = re.compile(r"^(?:[IVX]+|\d+(?:\.\d+)*)?[.)\s]*")
_CLOSING_NOTICE = re.compile(
    r"\bthong bao (?:de|den|cho)\b.{0,120}\b(?:biet|thuc hien|trien khai)\b"
)


def _part(title: str) -> str | None:
    """ "ahead", "past" or None for a heading of a report."""
    folded = _OPENING.sub("", fold(title)).strip()
    if re.match(_PAST.pattern, folded):
        return "past"
    if _AHEAD.search(folded):
        return "ahead"
    if _PAST.search(folded):
        return "past"
    return None


def _looks_ahead(heading: str) -> bool:
    """The innermost heading that says which part it is decides; none: narrative."""
    for title in reversed([t for t in heading.split(" › ") if t]):
        part = _part(title)
        if part:
            return part == "ahead"
    return False


def settle_duties(kind: str, clauses: list[Clause], registry: AgencyRegistry) -> None:
    """Drop the duties a report's narrative seems to set, give a conclusion notice's points to
    the bodies they name, and take the sender of a notice's closing formula off duty."""
    ahead = False  # for unsectioned paragraphs: a short heading line looking ahead was passed
    for clause in clauses:
        if (
            kind in ("thong_bao", "cong_van")
            and _CLOSING_NOTICE.search(fold(clause.text))
            and len(clause.text) < 300
        ):
            clause.assignments = [a for a in clause.assignments if a.role != LEAD]
            continue
        if kind == "bao_cao":
            if clause.heading:
                keep = _looks_ahead(clause.heading)
            else:
                if len(clause.text.split()) <= 12 and _part(clause.text):
                    ahead = _part(clause.text) == "ahead"
                keep = ahead
            if not keep:
                clause.assignments = []
                clause.deadline = None
        elif (
            kind == "thong_bao"
            and clause.section
            and not any(a.role == LEAD for a in clause.assignments)
        ):
            _point_owner(clause, registry)


def _point_owner(clause: Clause, registry: AgencyRegistry) -> None:
    """ "4. Ủy ban nhân dân các xã, phường đẩy nhanh …": the body the point opens with leads it."""
    text = re.sub(r"^(?:Giao|Đề nghị|Yêu cầu)\s+", "", clause.text)
    offset = len(clause.text) - len(text)
    mentions = registry.find_mentions(text)
    if mentions and mentions[0].start == 0:
        ref = mentions[0].ref
        clause.assignments = [a for a in clause.assignments if a.agency.name != ref.name]
        clause.assignments.insert(0, Assignment(ref, LEAD))
    elif offset and mentions and mentions[0].start <= 2:
        clause.assignments.insert(0, Assignment(mentions[0].ref, LEAD))
