"""Answers and listings as numbered items under group headings (plan, role, status). Pure.

A `Listing` is a header plus numbered items ("blocks"), each under its group headings,
outermost first; `bot.render.pages` cuts it into Telegram messages. `today` is passed in."""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from knowledge.dates.deadlines import (
    DONE,
    ONGOING_STATUS,
    OPEN,
    OVERDUE,
    SOON,
    SOON_DAYS,
    STATUS_WORD,
    UNDATED,
    last_day,
    status_of,
)
from knowledge.model import Deadline
from knowledge.questions.answer import (
    ROLE_LABEL,
    Answer,
    PlanRef,
    Result,
    deadline_phrase,
    group_by_plan,
)
from knowledge.telegram_text import esc, esc_clip

# Upper bounds (escaped characters) that make any single item fit in a message with its header.
HEADER_MAX = 800
HEADING_MAX = 220
TEXT_MAX = 900
NAMES_MAX = 300
SMALL_MAX = 200

STATUS_ORDER = (OVERDUE, SOON, OPEN, ONGOING_STATUS, UNDATED, DONE)
STATUS_LABEL = {
    DONE: "✅ Đã xong (nhóm này đã đánh dấu)",
    OVERDUE: "⛔ Quá hạn",
    SOON: f"⏰ Sắp đến hạn ({SOON_DAYS} ngày tới)",
    OPEN: "🟢 Còn hạn",
    ONGOING_STATUS: "🔁 Thường xuyên",
    UNDATED: "➖ Không thời hạn",
}
_ROLE_ORDER = {"lead": 0, "support": 1, "recipient": 2}


@dataclass(frozen=True)
class Block:
    """One numbered item of a listing, under its group headings (outermost first)."""

    groups: tuple[str, ...]
    html: str
    number: int
    source: str | None = None  # "s:" callback payload for "Xem nguyên văn"


@dataclass(frozen=True)
class Listing:
    header: str  # HTML
    blocks: tuple[Block, ...] = ()
    footer: str = ""  # HTML


# ------------------------------------------------------------------------------------------
# Deadlines and statuses


def deadline_html(deadline: Deadline | None) -> str:
    """The deadline, in bold (its wording and the last day we read from it)."""
    if deadline is None:
        return "<i>không nêu thời hạn</i>"
    return f"<b>{esc_clip(deadline_phrase(deadline), SMALL_MAX)}</b>"


def group_by_status(
    results: Iterable[Result], today: date, done: Collection[int] = frozenset()
) -> dict[str, list[Result]]:
    """Results by status (in STATUS_ORDER; empty statuses omitted), soonest deadline first.

    Items whose id is in `done` (marked "Đã xong" by this chat) are grouped apart, last.
    """
    groups: dict[str, list[Result]] = {s: [] for s in STATUS_ORDER}
    for r in results:
        status = DONE if r.item_id in done else status_of(r.deadline, today)
        groups[status].append(r)
    for items in groups.values():
        items.sort(key=lambda r: last_day(r.deadline) or date.max)
    return {s: items for s, items in groups.items() if items}


# ------------------------------------------------------------------------------------------
# Items


def source_token(result: Result) -> str | None:
    """Callback payload identifying an item *and* its text (ids are reused after reindexing)."""
    if result.item_id is None:
        return None
    return f"{result.item_id}.{zlib.crc32(result.text.encode('utf-8')):08x}"


def parse_source_token(token: str) -> tuple[int, str]:
    """`source_token` → (item id, crc). Raises ValueError on malformed data."""
    item, crc = token.split(".", 1)
    return int(item), crc


def plan_heading(plan: PlanRef) -> str:
    return f"📄 <b>{esc_clip(plan.label, HEADING_MAX)}</b>"


def role_heading(role: str) -> str:
    return f"<u>{esc(ROLE_LABEL.get(role, role))}</u>"


def status_heading(status: str, count: int) -> str:
    return f"<b>{STATUS_LABEL[status]}</b> ({count})"


def item_html(result: Result, number: int) -> str:
    """One item: number, citation, text, agencies (lead apart from support), deadline in bold."""
    lines = [
        f"<b>{number}.</b> [<i>{esc_clip(result.section, SMALL_MAX)}</i>] {esc_clip(result.text, TEXT_MAX)}"
    ]
    if result.kind == "reporting":
        reporters = ", ".join(result.lead) or "không nêu"
        lines.append(f"   Đơn vị báo cáo: {esc_clip(reporters, NAMES_MAX)}")
        if result.recipients:
            lines.append(f"   Gửi: {esc_clip(', '.join(result.recipients), NAMES_MAX)}")
        lines.append(f"   Kỳ báo cáo: {deadline_html(result.deadline)}")
        day = _due_day(result.note)
        if day:
            lines.append(f"   Hạn gửi: <b>chậm nhất ngày {day} của tháng kế tiếp</b>")
        return "\n".join(lines)
    if result.lead:
        lines.append(f"   Chủ trì: {esc_clip(', '.join(result.lead), NAMES_MAX)}")
    if result.support:
        lines.append(f"   Phối hợp: {esc_clip(', '.join(result.support), NAMES_MAX)}")
    if result.recipients:
        lines.append(f"   Gửi/báo cáo: {esc_clip(', '.join(result.recipients), NAMES_MAX)}")
    if result.kind == "task" and not result.lead and result.note:
        lines.append(f"   Ghi chú: {esc_clip(result.note, SMALL_MAX)}")
    lines.append(f"   Thời hạn: {deadline_html(result.deadline)}")
    return "\n".join(lines)


def _due_day(note: str) -> int | None:
    m = re.match(r"due_day=(\d+)", note or "")
    return int(m.group(1)) if m else None


def _blocks(entries: Iterable[tuple[tuple[str, ...], Result]]) -> tuple[Block, ...]:
    return tuple(
        Block(groups, item_html(r, n), n, source_token(r))
        for n, (groups, r) in enumerate(entries, start=1)
    )


# ------------------------------------------------------------------------------------------
# Listings


def results_listing(
    header: str, results: Sequence[Result], by_role: bool = False, footer: str = ""
) -> Listing:
    """Items grouped by plan (and by the asked agency's role when `by_role`). `header` is HTML."""
    entries: list[tuple[tuple[str, ...], Result]] = []
    for plan, items in group_by_plan(list(results)):
        if by_role:
            items = sorted(items, key=lambda r: _ROLE_ORDER.get(r.role or "", 3))
        for r in items:
            groups = (plan_heading(plan),)
            if by_role and r.role:
                groups += (role_heading(r.role),)
            entries.append((groups, r))
    return Listing(header, _blocks(entries), footer)


def shown_results(answer: Answer) -> list[Result]:
    """The results the text answer (`planbot ask`) shows."""
    return answer.shown_results


def answer_listing(answer: Answer) -> Listing:
    """A question's answer: its header sentence, then the same items `planbot ask` shows."""
    results = shown_results(answer)
    paragraphs = answer.answer.split("\n\n")
    header = paragraphs[0] if results else answer.answer
    footer = ""
    if (
        results
        and len(paragraphs) > 1
        and " • " not in paragraphs[-1]
        and not paragraphs[-1].startswith("📄")
    ):
        footer = f"<i>{esc_clip(paragraphs[-1], SMALL_MAX)}</i>"
    by_role = answer.intent == "agency_duties" and answer.answered
    return results_listing(esc_clip(header, HEADER_MAX), results, by_role=by_role, footer=footer)


def duties_listing(
    agency: str, results: Sequence[Result], today: date, done: Collection[int] = frozenset()
) -> Listing:
    """`/nhiemvu`: an agency's duties by status, then plan, then role (chủ trì / phối hợp)."""
    if not results:
        return Listing(
            f"Không thấy nhiệm vụ nào giao cho <b>{esc(agency)}</b> trong các kế hoạch đã nạp."
        )
    by_status = group_by_status(results, today, done)
    counts = ", ".join(f"{STATUS_WORD[s]} {len(v)}" for s, v in by_status.items())
    plans = len({r.plan.id for r in results})
    header = (
        f"<b>{esc(agency)}</b>: {len(results)} nội dung trong {plans} kế hoạch "
        f"(tính đến {today:%d/%m/%Y}: {counts})."
    )
    entries: list[tuple[tuple[str, ...], Result]] = []
    for status, items in by_status.items():
        for plan, plan_items in group_by_plan(items):
            for r in sorted(plan_items, key=lambda r: _ROLE_ORDER.get(r.role or "", 3)):
                groups = (status_heading(status, len(items)), plan_heading(plan))
                if r.role:
                    groups += (role_heading(r.role),)
                entries.append((groups, r))
    return Listing(header, _blocks(entries))


def due_listing(results: Sequence[Result], label: str, span: str) -> Listing:
    """`/hanchot`: what falls due in a period, by plan, soonest first."""
    if not results:
        return Listing(f"Không có nhiệm vụ nào đến hạn trong {esc(label)} ({span}).")
    ordered = sorted(results, key=lambda r: last_day(r.deadline) or date.max)
    header = f"Có {len(results)} nhiệm vụ đến hạn trong <b>{esc(label)}</b> ({span}):"
    return results_listing(header, ordered)


def reporting_listing(results: Sequence[Result], agency: str | None = None) -> Listing:
    """`/baocao`: periodic reporting rules — who reports what to whom, by which day."""
    who = f" liên quan đến <b>{esc(agency)}</b>" if agency else ""
    if not results:
        return Listing(f"Không có quy định báo cáo định kỳ nào{who} trong các kế hoạch đã nạp.")
    return results_listing(f"Quy định báo cáo định kỳ{who} ({len(results)}):", results)
