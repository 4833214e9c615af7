"""Answers and listings → Telegram HTML. Pure: no network, no clock (`today` is passed in).

Everything that comes from documents or users is escaped with `html.escape`. A listing is a
header plus numbered items ("blocks"), each under its group headings (plan, role, status).
`paginate` cuts a listing into pages of at most `PAGE_SIZE` items that each fit in one
Telegram message (4,096 characters), always at item boundaries, repeating the group headings
a page starts in. Callback data of the inline buttons (≤ 64 bytes):

    p:<key>:<page>      show page <page> of listing <key>          (◀ ▶)
    s:<item id>.<crc>   the item's full source text                 ("Xem nguyên văn")
    f:<key>:up|down     feedback on the answer of listing <key>     (👍 👎)
    a:<key>:<n>         the user picked agency candidate n          ("Ý bạn là …")
    u:<key>:ok|no       import / cancel an uploaded plan            (Nhập / Huỷ)
    noop                the page counter
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from knowledge.answer import ROLE_LABEL, Answer, PlanRef, Result, deadline_phrase
from knowledge.deadlines import (
    DONE,
    ONGOING_STATUS,
    OPEN,
    OVERDUE,
    SOON,
    SOON_DAYS,
    STATUS_WORD,
    UNDATED,
    status_of,
)
from knowledge.model import Deadline
from knowledge.text import fold, nfc, words

MAX_MESSAGE = 4096  # Telegram's limit for one text message
PAGE_SIZE = 5  # items per page of a paginated answer
SUPPORTED_UPLOADS = (".txt", ".md", ".docx", ".doc", ".pdf")

# Upper bounds (escaped characters) that make any single item fit in a message with its header.
_HEADER_MAX = 800
_HEADING_MAX = 220
_TEXT_MAX = 900
_NAMES_MAX = 300
_SMALL_MAX = 200
_PAGE_MARK_RESERVE = 40
_CHUNK = 3500  # full source text: characters per message chunk

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

REFUSAL = (
    "Xin lỗi, chỉ quản trị viên của bot mới được nạp kế hoạch hoặc lập lại chỉ mục. "
    "Nếu cần, xin liên hệ quản trị viên."
)


# ------------------------------------------------------------------------------------------
# Text helpers


def esc(text: str | None) -> str:
    """Escape text from documents or users for Telegram HTML."""
    return html.escape(text or "", quote=False)


def esc_clip(text: str | None, limit: int) -> str:
    """Escaped, whitespace-collapsed `text`, shortened with "…" so the *escaped* form fits."""
    plain = " ".join((text or "").split())
    out = esc(plain)
    if len(out) <= limit:
        return out
    used, cut = 1, 0  # 1: the "…"
    for ch in plain:
        used += len(esc(ch))
        if used > limit:
            break
        cut += 1
    return esc(plain[:cut].rstrip()) + "…"


def to_plain(html_text: str) -> str:
    """Telegram HTML → plain text (for the console chat)."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def split_plain(text: str, limit: int = _CHUNK) -> list[str]:
    """Plain `text` → escaped chunks of at most `limit` characters, cut at line or word ends."""
    chunks: list[str] = []
    current = ""
    for line in nfc(text or "").split("\n"):
        for piece in _line_pieces(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(esc(candidate)) <= limit:
                current = candidate
                continue
            if current:
                chunks.append(esc(current))
            current = piece
    if current.strip():
        chunks.append(esc(current))
    return [c for c in chunks if c.strip()] or [""]


def _line_pieces(line: str, limit: int) -> Iterable[str]:
    """One line in pieces whose escaped form fits `limit` (split at spaces, else hard)."""
    if len(esc(line)) <= limit:
        yield line
        return
    current = ""
    for word in line.split(" "):
        while len(esc(word)) > limit:  # a single monster "word": cut it hard
            head = word[: max(1, limit // 5)]
            if current:
                yield current
                current = ""
            yield head
            word = word[len(head) :]
        candidate = f"{current} {word}" if current else word
        if len(esc(candidate)) <= limit:
            current = candidate
        else:
            yield current
            current = word
    if current:
        yield current


def split_messages(parts: Sequence[str], limit: int = MAX_MESSAGE, sep: str = "\n\n") -> list[str]:
    """Join HTML `parts` into as few messages as possible, each ≤ `limit`, at part boundaries.

    A part longer than `limit` on its own is split as plain text (callers only pass such
    parts for already-escaped prose without tags)."""
    messages: list[str] = []
    current = ""
    for part in parts:
        if not part:
            continue
        pieces = [part] if len(part) <= limit else split_plain(html.unescape(part), limit)
        for piece in pieces:
            candidate = f"{current}{sep}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages or [""]


# ------------------------------------------------------------------------------------------
# Deadlines and statuses


def deadline_html(deadline: Deadline | None) -> str:
    """The deadline, in bold (its wording and our reading of it)."""
    if deadline is None:
        return "<i>không nêu thời hạn</i>"
    return f"<b>{esc_clip(deadline_phrase(deadline), _SMALL_MAX)}</b>"


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
        items.sort(key=lambda r: (r.deadline.end or date.max) if r.deadline else date.max)
    return {s: items for s, items in groups.items() if items}


# ------------------------------------------------------------------------------------------
# Items, listings, pages


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


@dataclass(frozen=True)
class Page:
    text: str
    blocks: tuple[Block, ...]
    index: int  # 0-based
    count: int


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
    return f"📄 <b>{esc_clip(plan.label, _HEADING_MAX)}</b>"


def role_heading(role: str) -> str:
    return f"<u>{esc(ROLE_LABEL.get(role, role))}</u>"


def status_heading(status: str, count: int) -> str:
    return f"<b>{STATUS_LABEL[status]}</b> ({count})"


def item_html(result: Result, number: int) -> str:
    """One item: number, citation, text, agencies (lead apart from support), deadline in bold."""
    lines = [
        f"<b>{number}.</b> [<i>{esc_clip(result.section, _SMALL_MAX)}</i>] {esc_clip(result.text, _TEXT_MAX)}"
    ]
    if result.kind == "reporting":
        reporters = ", ".join(result.lead) or "không nêu"
        lines.append(f"   Đơn vị báo cáo: {esc_clip(reporters, _NAMES_MAX)}")
        if result.recipients:
            lines.append(f"   Gửi: {esc_clip(', '.join(result.recipients), _NAMES_MAX)}")
        lines.append(f"   Kỳ báo cáo: {deadline_html(result.deadline)}")
        day = _due_day(result.note)
        if day:
            lines.append(f"   Hạn gửi: <b>chậm nhất ngày {day} của tháng kế tiếp</b>")
        return "\n".join(lines)
    if result.lead:
        lines.append(f"   Chủ trì: {esc_clip(', '.join(result.lead), _NAMES_MAX)}")
    if result.support:
        lines.append(f"   Phối hợp: {esc_clip(', '.join(result.support), _NAMES_MAX)}")
    if result.recipients:
        lines.append(f"   Gửi/báo cáo: {esc_clip(', '.join(result.recipients), _NAMES_MAX)}")
    if result.kind == "task" and not result.lead and result.note:
        lines.append(f"   Ghi chú: {esc_clip(result.note, _SMALL_MAX)}")
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


def _by_plan(results: Iterable[Result]) -> list[tuple[PlanRef, list[Result]]]:
    """Stable grouping by plan, in order of first appearance (like knowledge.answer)."""
    groups: dict[int, tuple[PlanRef, list[Result]]] = {}
    for r in results:
        groups.setdefault(r.plan.id, (r.plan, []))[1].append(r)
    return list(groups.values())


def results_listing(
    header: str, results: Sequence[Result], by_role: bool = False, footer: str = ""
) -> Listing:
    """Items grouped by plan (and by the asked agency's role when `by_role`). `header` is HTML."""
    entries: list[tuple[tuple[str, ...], Result]] = []
    for plan, items in _by_plan(results):
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
        footer = f"<i>{esc_clip(paragraphs[-1], _SMALL_MAX)}</i>"
    by_role = answer.intent == "agency_duties" and answer.answered
    return results_listing(esc_clip(header, _HEADER_MAX), results, by_role=by_role, footer=footer)


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
        for plan, plan_items in _by_plan(items):
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
    ordered = sorted(
        results, key=lambda r: r.deadline.end if r.deadline and r.deadline.end else date.max
    )
    header = f"Có {len(results)} nhiệm vụ đến hạn trong <b>{esc(label)}</b> ({span}):"
    return results_listing(header, ordered)


def reporting_listing(results: Sequence[Result], agency: str | None = None) -> Listing:
    """`/baocao`: periodic reporting rules — who reports what to whom, by which day."""
    who = f" liên quan đến <b>{esc(agency)}</b>" if agency else ""
    if not results:
        return Listing(f"Không có quy định báo cáo định kỳ nào{who} trong các kế hoạch đã nạp.")
    return results_listing(f"Quy định báo cáo định kỳ{who} ({len(results)}):", results)


def _render(listing: Listing, blocks: Sequence[Block], index: int, count: int) -> str:
    header = listing.header
    if count > 1:
        header += f" <i>(trang {index + 1}/{count})</i>"
    parts = [header]
    previous: tuple[str, ...] = ()
    for block in blocks:
        level = 0
        while (
            level < len(block.groups)
            and level < len(previous)
            and block.groups[level] == previous[level]
        ):
            level += 1
        for depth, heading in enumerate(block.groups[level:], start=level):
            parts.append(("\n" if depth == 0 else "") + heading)
        parts.append(block.html)
        previous = block.groups
    if listing.footer and index == count - 1:
        parts.append("\n" + listing.footer)
    return "\n".join(parts)


def paginate(listing: Listing, per_page: int = PAGE_SIZE, limit: int = MAX_MESSAGE) -> list[Page]:
    """Pages of at most `per_page` items, each rendered under `limit` characters."""
    budget = limit - _PAGE_MARK_RESERVE - len(listing.footer)
    groups: list[list[Block]] = []
    current: list[Block] = []
    for block in listing.blocks:
        candidate = [*current, block]
        if current and (
            len(candidate) > per_page or len(_render(listing, candidate, 0, 1)) > budget
        ):
            groups.append(current)
            current = [block]
        else:
            current = candidate
    groups.append(current)
    count = len(groups)
    return [Page(_render(listing, g, i, count), tuple(g), i, count) for i, g in enumerate(groups)]


def split_listing(listing: Listing, limit: int = MAX_MESSAGE) -> list[str]:
    """The whole listing as consecutive messages under `limit`, split at item boundaries."""
    return [
        page.text for page in paginate(listing, per_page=max(1, len(listing.blocks)), limit=limit)
    ]


# ------------------------------------------------------------------------------------------
# Keyboards


def page_keyboard(key: str, page: Page, feedback: bool = False) -> InlineKeyboardMarkup | None:
    """Buttons: "Xem nguyên văn n" per item, ◀ n/N ▶ when there are several pages, 👍 👎 for answers."""
    rows: list[list[InlineKeyboardButton]] = []
    sources = [
        InlineKeyboardButton(f"Xem nguyên văn {b.number}", callback_data=f"s:{b.source}")
        for b in page.blocks
        if b.source
    ]
    rows += [sources[i : i + 2] for i in range(0, len(sources), 2)]
    if page.count > 1:
        nav = []
        if page.index > 0:
            nav.append(InlineKeyboardButton("◀", callback_data=f"p:{key}:{page.index - 1}"))
        nav.append(InlineKeyboardButton(f"{page.index + 1}/{page.count}", callback_data="noop"))
        if page.index < page.count - 1:
            nav.append(InlineKeyboardButton("▶", callback_data=f"p:{key}:{page.index + 1}"))
        rows.append(nav)
    if feedback:
        rows.append(
            [
                InlineKeyboardButton("👍", callback_data=f"f:{key}:up"),
                InlineKeyboardButton("👎", callback_data=f"f:{key}:down"),
            ]
        )
    return InlineKeyboardMarkup(rows) if rows else None


def choice_html(candidates: Sequence[str]) -> str:
    return "Ý bạn là: " + " / ".join(f"<b>{esc(c)}</b>" for c in candidates) + "?"


def choice_keyboard(key: str, candidates: Sequence[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(c[:60], callback_data=f"a:{key}:{i}")]
            for i, c in enumerate(candidates)
        ]
    )


def upload_keyboard(key: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("✅ Nhập", callback_data=f"u:{key}:ok"),
                InlineKeyboardButton("✖️ Huỷ", callback_data=f"u:{key}:no"),
            ]
        ]
    )


# ------------------------------------------------------------------------------------------
# Other messages


def source_messages(result: Result) -> list[str]:
    """Xem nguyên văn: the item's full text with its citation and assignments."""
    parts = [
        f"{plan_heading(result.plan)}\n📍 <i>{esc(result.section)}</i>",
    ]
    details = []
    if result.kind == "reporting" or result.lead:
        label = "Đơn vị báo cáo" if result.kind == "reporting" else "Chủ trì"
        details.append(f"{label}: {esc(', '.join(result.lead) or 'không nêu')}")
    if result.support:
        details.append(f"Phối hợp: {esc(', '.join(result.support))}")
    if result.recipients:
        details.append(f"Gửi/báo cáo: {esc(', '.join(result.recipients))}")
    if result.note and not result.note.startswith("due_day="):
        details.append(f"Ghi chú: {esc(result.note)}")
    details.append(f"Thời hạn: {deadline_html(result.deadline)}")
    parts.append("\n".join(details))
    parts += split_plain(result.text)
    return split_messages(parts)


def plans_parts(plans: Sequence[dict]) -> list[str]:
    """The list of indexed plans, one part per plan (for `split_messages`)."""
    if not plans:
        return [
            "Chưa nạp kế hoạch nào. Quản trị viên có thể gửi tệp kế hoạch cho bot hoặc dùng /reindex."
        ]
    parts = [f"📚 <b>Các kế hoạch đã nạp ({len(plans)})</b>"]
    for n, p in enumerate(plans, start=1):
        ref = _plan_ref(p)
        s = p.get("summary") or {}
        counts = f"{s.get('tasks', 0)} nhiệm vụ trong bảng, {s.get('assignments', 0)} phân công, {s.get('reporting_rules', 0)} quy định báo cáo"
        title = f"\n   {esc_clip(ref.title, 300)}" if ref.number and ref.title else ""
        parts.append(
            f"{n}. <b>{esc_clip(ref.label, _HEADING_MAX)}</b>{title}\n   <i>{counts}</i> · {esc(ref.file)}"
        )
    return parts


def _plan_ref(row: dict) -> PlanRef:
    """A PlanRef from a `plans()` row (whatever optional columns the store has)."""
    values = {f.name: row.get(f.name) for f in fields(PlanRef) if f.name in row}
    for key in ("title", "number", "issuer", "file"):
        values[key] = values.get(key) or ""
    return PlanRef(**values)


EXAMPLES = (
    "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?",
    "Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?",
    "Nhiệm vụ nào phải xong trước 01/7/2025?",
    "Báo cáo định kỳ gửi khi nào?",
)


def help_parts(plans: Sequence[dict], is_admin: bool) -> list[str]:
    """`/start` and `/help`: what the bot knows, example questions, commands, the plans."""
    intro = (
        "👋 Tôi trả lời <b>ai phải làm gì, hạn khi nào</b> theo các kế hoạch (Kế hoạch) đã nạp: "
        "cơ quan chủ trì, phối hợp, thời hạn, chế độ báo cáo — kèm trích dẫn mục/phụ lục.\n\n"
        "Cứ gõ câu hỏi bằng tiếng Việt (có dấu hoặc không dấu), ví dụ:\n"
        + "\n".join(f"• <i>{esc(q)}</i>" for q in EXAMPLES)
    )
    commands = (
        "<b>Lệnh</b>\n"
        "/nhiemvu &lt;cơ quan&gt; — mọi nhiệm vụ của một cơ quan, theo tình trạng thời hạn\n"
        "/hanchot [tháng|quý|ngày|từ … đến …|quá hạn] — việc đến hạn, ví dụ /hanchot 6/2025, "
        "/hanchot từ 01/01/2025 đến 30/06/2025 (mặc định: 30 ngày tới)\n"
        "/baocao [cơ quan] — chế độ báo cáo định kỳ: ai báo cáo gì, cho ai, hạn ngày nào\n"
        "/xuat &lt;cơ quan&gt; — tệp Excel các nhiệm vụ của cơ quan, để báo cáo tiến độ\n"
        "/vanban &lt;số hiệu&gt; — kế hoạch nào thực hiện văn bản này, kế hoạch căn cứ văn bản nào\n"
        "/plans — danh sách kế hoạch đã nạp\n"
        "/nhacviec [cơ quan] — nhắc việc sắp đến hạn cho cuộc trò chuyện này; /huynhac — tắt\n"
        "/help — hướng dẫn này\n"
        "Trong nhóm: gọi tên bot (@…) hoặc trả lời tin nhắn của bot."
    )
    if is_admin:
        commands += (
            "\n\n<b>Quản trị</b>\n/reindex — đọc lại thư mục kế hoạch\n"
            "/gopy — thống kê 👍/👎 và các câu trả lời bị chê\n"
            "Gửi tệp .txt, .md, .docx, .doc, .pdf (cả bản quét) để xem trước rồi nạp kế hoạch mới."
        )
    return [intro, commands, *plans_parts(plans)]


def human_size(size: int) -> str:
    """1536 → "1,5 KB"; 20971520 → "20 MB" (Vietnamese decimal comma)."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = f"{size / scale:.1f}".rstrip("0").rstrip(".")
            return f"{value.replace('.', ',')} {unit}"
    return f"{size} byte"


def upload_problem(file_name: str | None, size: int | None, max_bytes: int) -> str | None:
    """Why an uploaded file is refused before download (type, size, emptiness), or None."""
    name = file_name or "tệp"
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_UPLOADS:
        return (
            f"Không nhận tệp “{esc(name)}”: chỉ hỗ trợ .txt, .md, .docx, .doc hoặc .pdf. "
            "Chỉ mục không thay đổi."
        )
    if size is not None and size > max_bytes:
        return (
            f"Tệp “{esc(name)}” quá lớn ({human_size(size)}); giới hạn là {human_size(max_bytes)}. "
            "Chỉ mục không thay đổi."
        )
    if size == 0:
        return f"Tệp “{esc(name)}” rỗng. Chỉ mục không thay đổi."
    return None


def preview_html(summary: dict) -> str:
    """What an admin sees before importing an uploaded plan."""
    title = summary.get("title") or "(không đọc được tiêu đề)"
    lines = [
        f"📥 <b>Xem trước:</b> {esc(summary.get('file', ''))}",
        f"Tiêu đề: <b>{esc_clip(title, 400)}</b>",
        f"Số: {esc(summary.get('number') or '—')} · Cơ quan ban hành: {esc(summary.get('issuer') or '—')}"
        + (f" · Ngày: {esc(summary['date'])}" if summary.get("date") else ""),
        f"Mục: {summary.get('sections', 0)} · Đoạn: {summary.get('clauses', 0)} · "
        f"Nhiệm vụ trong bảng: {summary.get('tasks', 0)} · Phân công: {summary.get('assignments', 0)}",
        f"Thời hạn đọc được: {summary.get('deadlines_parsed', 0)} · chưa đọc được: {summary.get('deadlines_unparsed', 0)}"
        f" · Quy định báo cáo: {summary.get('reporting_rules', 0)}",
    ]
    unparsed = summary.get("unparsed") or []
    if unparsed:
        shown = "; ".join(f"“{esc_clip(u, 80)}”" for u in unparsed[:5])
        more = f" (và {len(unparsed) - 5} mục khác)" if len(unparsed) > 5 else ""
        lines.append(f"⚠️ Thời hạn chưa đọc được: {shown}{more}")
    for warning in (summary.get("warnings") or [])[:5]:
        lines.append(f"⚠️ {esc_clip(warning, 200)}")
    if summary.get("replaces"):
        lines.append("🔁 Đã có kế hoạch cùng tên tệp: bản này sẽ <b>thay thế</b> bản cũ.")
    if not summary.get("tasks") and not summary.get("assignments"):
        lines.append("⚠️ Không tìm thấy nhiệm vụ hay phân công nào.")
    lines.append("\nBấm <b>Nhập</b> để đưa vào chỉ mục, hoặc <b>Huỷ</b>.")
    return "\n".join(lines)


def indexed_html(file: str, status: str, summary: dict, seconds: float) -> str:
    """The end of an import, replacing the progress message."""
    if status == "unchanged":
        return f"ℹ️ “{esc(file)}” giống hệt bản đã nạp; chỉ mục giữ nguyên."
    return (
        f"✅ Đã nhập “{esc(file)}” ({seconds:.1f} giây): {summary.get('tasks', 0)} nhiệm vụ trong bảng, "
        f"{summary.get('assignments', 0)} phân công, {summary.get('deadlines_parsed', 0)} thời hạn. "
        "Các câu hỏi từ giờ được trả lời theo chỉ mục mới."
    )


def reindex_html(reports: Sequence[object]) -> str:
    """`/reindex` result: counts and failures (reports are indexer.store.IndexReport)."""
    by_status: dict[str, list] = {}
    for r in reports:
        by_status.setdefault(getattr(r, "status", "failed"), []).append(r)
    lines = [
        f"✅ Đã đọc lại {len(reports)} tệp: {len(by_status.get('indexed', []))} nạp mới/cập nhật, "
        f"{len(by_status.get('unchanged', []))} không đổi, {len(by_status.get('failed', []))} lỗi."
    ]
    for r in by_status.get("failed", [])[:10]:
        lines.append(f"❌ {esc(getattr(r, 'file', ''))}: {esc_clip(getattr(r, 'error', ''), 200)}")
    return "\n".join(lines)


def rewrite_question(question: str, matched: str, name: str) -> str:
    """`question` with the words that matched an agency (folded `matched`) replaced by `name`.

    Used after the user picks one of several candidates; falls back to prefixing the name."""
    text = nfc(question)
    folded = fold(text)
    tokens = words(text)
    wanted = matched.split()
    spans: list[tuple[int, int]] = []
    pos = 0
    for token in tokens:
        at = folded.find(token, pos)
        spans.append((at, at + len(token)))
        pos = at + len(token)
    for i in range(len(tokens) - len(wanted) + 1):
        if wanted and tokens[i : i + len(wanted)] == wanted:
            start, end = spans[i][0], spans[i + len(wanted) - 1][1]
            return text[:start] + name + text[end:]
    return f"{name}: {text}"
