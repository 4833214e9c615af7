"""Answers: what search found, as data (for the bot and JSON) and as Vietnamese text (CLI)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from knowledge.dates.deadlines import describe
from knowledge.model import Deadline

MAX_TEXT = 600


@dataclass
class PlanRef:
    id: int
    title: str
    number: str
    issuer: str
    date: str | None
    file: str
    year: int | None = None

    @property
    def label(self) -> str:
        """How an answer cites the plan: number if any, else its title; issuer and year."""
        year = (self.date or "")[:4] or (str(self.year) if self.year else "")
        name = f"Kế hoạch số {self.number}" if self.number else _short(self.title, 110)
        tail = ", ".join(p for p in (self.issuer, year) if p)
        return f"{name} ({tail})" if tail else name

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "number": self.number,
            "issuer": self.issuer,
            "date": self.date,
            "year": self.year,
            "file": self.file,
        }


@dataclass
class Result:
    plan: PlanRef
    kind: str  # "task" | "clause" | "reporting"
    section: str  # citation label
    text: str
    lead: list[str] = field(default_factory=list)
    support: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    deadline: Deadline | None = None
    score: float = 0.0
    item_id: int | None = None
    note: str = ""
    role: str | None = None  # role of the asked agency in this item ("shared": given to a group it is in)
    heading: str = ""  # the heading the item sits under (context for matching, not shown)

    def to_dict(self) -> dict:
        return {
            "plan": self.plan.to_dict(),
            "kind": self.kind,
            "section": self.section,
            "text": self.text,
            "lead": self.lead,
            "support": self.support,
            "recipients": self.recipients,
            "deadline": self.deadline.to_dict() if self.deadline else None,
            "score": round(float(self.score), 4),
            "item_id": self.item_id,
            "note": self.note,
            "role": self.role,
        }


@dataclass
class Answer:
    question: str
    intent: str
    agency: str | None
    answered: bool
    answer: str
    results: list[Result] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # agencies to choose from when ambiguous
    period: tuple[date | None, date | None] | None = None
    shown: int | None = None  # how many of `results` the text shows (None: all)
    plan_options: list[PlanRef] = field(default_factory=list)  # plans to pick one from (listed from several)

    @property
    def shown_results(self) -> list[Result]:
        """The results the text answer lists, in order (the rest are further context)."""
        return self.results if self.shown is None else self.results[: self.shown]

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "intent": self.intent,
            "agency": self.agency,
            "answered": self.answered,
            "answer": self.answer,
            "candidates": self.candidates,
            "shown": len(self.shown_results),
            "plan_options": [p.to_dict() for p in self.plan_options],
            "results": [r.to_dict() for r in self.results],
        }


ROLE_LABEL = {
    "lead": "Chủ trì",
    "support": "Phối hợp",
    "recipient": "Nhận báo cáo",
    "shared": "Nhiệm vụ chung (giao chung cho nhiều cơ quan)",
}


def _short(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def deadline_phrase(deadline: Deadline | None) -> str:
    """The deadline as written, then our reading of it when that adds something:
    "Trước 01/7/2025 (hạn cuối 30/06/2025)"."""
    if deadline is None:
        return "không nêu thời hạn"
    reading = describe(deadline)  # its last day where the wording sets a bound
    if reading and reading not in ("định kỳ", "thường xuyên") and deadline.kind not in ("unparsed", "conditional"):
        return f"{deadline.text} ({reading})" if reading.lower() != deadline.text.lower() else deadline.text
    return deadline.text


def item_line(result: Result, show_agencies: bool = True) -> str:
    """One answer item: citation, text, agencies (lead apart from support), deadline."""
    parts = [f"[{result.section}] {_short(result.text)}"]
    if show_agencies:
        if result.lead:
            parts.append("Chủ trì: " + ", ".join(result.lead))
        if result.support:
            parts.append("Phối hợp: " + ", ".join(result.support))
        if result.recipients:
            parts.append("Gửi/báo cáo: " + ", ".join(result.recipients))
    if result.kind == "task" and not result.lead and result.note:
        parts.append("Ghi chú: " + result.note)
    parts.append("Thời hạn: " + deadline_phrase(result.deadline))
    return "\n   ".join(parts)


def group_by_plan(results: list[Result]) -> list[tuple[PlanRef, list[Result]]]:
    groups: dict[int, tuple[PlanRef, list[Result]]] = {}
    for r in results:
        groups.setdefault(r.plan.id, (r.plan, []))[1].append(r)
    return list(groups.values())


def render_text(header: str, results: list[Result], by_role: bool = False, footer: str = "") -> str:
    """Plain-text answer grouped by plan (and by role of the asked agency when `by_role`)."""
    lines = [header]
    for plan, items in group_by_plan(results):
        lines.append("")
        lines.append(f"📄 {plan.label}")
        if by_role:
            for role in ("lead", "support", "recipient", "shared"):
                chosen = [r for r in items if r.role == role]
                if not chosen:
                    continue
                lines.append(f"{ROLE_LABEL[role]}:")
                for r in chosen:
                    lines.append(" • " + item_line(r))
        else:
            for r in items:
                lines.append(" • " + item_line(r))
    if footer:
        lines += ["", footer]
    return "\n".join(lines)


# -- reporting: who reports to whom, through whom, how often, by when -------------------------
_AGENCY_WORD = r"(?:Sở|Ban|Văn phòng|Công an|Phòng|Bộ|Ủy ban|UBND|Trung tâm|Cục|Chi cục|Thanh tra|Bộ Chỉ huy|Thường trực)"
_END = r"(?=\s+(?:để|nhằm|trước|trong|theo|định kỳ|hằng|hàng)\b|[,;.()\n]|$)"
_CHANNEL = re.compile(rf"\(?\bqua\s+({_AGENCY_WORD}[^,;.()\n]{{0,70}}?){_END}")
_TO = re.compile(rf"\b(?:gửi|về)\s+(?:về\s+)?({_AGENCY_WORD}[^,;.()\n]{{0,70}}?){_END}")
_PERIOD = re.compile(
    r"(?i)\b((?:định kỳ\s+)?(?:hằng|hàng|mỗi)\s+(?:tháng|quý|năm|tuần|6 tháng)"
    r"|định kỳ\s+\d+\s+tháng(?:,\s*hằng năm| và hằng năm| và năm)?|\d+\s+tháng một lần|6 tháng(?:, 9 tháng)?,? (?:và )?(?:cả |hằng )?năm"
    r"|đột xuất)"
)
_DUE = re.compile(
    r"(?i)\b((?:trước|chậm nhất|không muộn hơn|vào)\s+(?:ngày\s+)?\d{1,2}(?:\s*/\s*\d{1,2}(?:\s*/\s*\d{4})?"
    r"|\s+tháng\s+(?:\d{1,2}|cuối quý|cuối năm|đầu quý|đầu năm)(?:\s+(?:năm\s+)?\d{4})?)"
    r"(?:\s+(?:hằng|hàng)\s+(?:năm|quý|tháng))?(?:\s+(?:và|,)\s*(?:trước\s+)?(?:ngày\s+)?\d{1,2}(?:\s*/\s*\d{1,2}|\s+tháng\s+\d{1,2}))?"
    r"|(?:tại|trong|trước|vào)\s+(?:kỳ họp|phiên họp|hội nghị)[^,;.()\n]{0,50})"
)


def report_header(result: Result) -> str:
    """One line on a reporting rule: who reports, to whom, through whom, how often, by when
    ("Báo cáo: UBND các xã → Sở Y tế (qua Phòng Y tế); kỳ: hằng quý; hạn: trước ngày 20 tháng cuối quý.")."""
    text = " ".join(result.text.split())
    when = result.deadline.text if result.deadline is not None else ""
    parts = []
    channel = _CHANNEL.search(text)
    through = channel.group(1).strip() if channel else ""
    who = ", ".join(result.lead)
    to = ", ".join(n for n in result.recipients if not through or n.lower() not in through.lower())
    if not to:  # "… định kỳ hằng quý báo cáo về Sở Tài chính" (in the text or the time column)
        written = _TO.search(f"{text} {when}")
        to = written.group(1).strip() if written and written.group(1).strip() != through else ""
    if who or to:
        line = f"{who or 'Cơ quan thực hiện'} → {to or 'không nêu nơi nhận'}"
        if through:
            line += f" (qua {through})"
        parts.append(line)
    periods = list(dict.fromkeys(m.group(1).strip() for m in _PERIOD.finditer(f"{text} {when}")))
    if periods:
        parts.append("kỳ báo cáo: " + ", ".join(periods[:3]))
    due = _DUE.search(text)
    if due:
        parts.append("hạn: " + due.group(1).strip())
    elif result.deadline is not None and result.deadline.kind not in ("unparsed", "ongoing", "recurring"):
        parts.append("hạn: " + result.deadline.text)
    return ("Báo cáo: " + "; ".join(parts) + ".") if parts else ""
