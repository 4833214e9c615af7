"""The bot's other messages: an item's full source, the plans, help, upload previews and
results, and the question rewritten after an agency pick. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from bot.render.listings import HEADING_MAX, deadline_html, plan_heading
from knowledge.questions.answer import PlanRef, Result
from knowledge.telegram_text import esc, esc_clip, split_messages, split_plain
from knowledge.text import fold, nfc, words

SUPPORTED_UPLOADS = (".txt", ".md", ".docx", ".doc", ".pdf")

REFUSAL = (
    "Xin lỗi, chỉ quản trị viên của bot mới được nạp kế hoạch hoặc lập lại chỉ mục. "
    "Nếu cần, xin liên hệ quản trị viên."
)

EXAMPLES = (
    "Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?",
    "Ai chủ trì việc chuyển Trung tâm Y tế về UBND huyện?",
    "Nhiệm vụ nào phải xong trước 01/7/2025?",
    "Báo cáo định kỳ gửi khi nào?",
)


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
            f"{n}. <b>{esc_clip(ref.label, HEADING_MAX)}</b>{title}\n   <i>{counts}</i> · {esc(ref.file)}"
        )
    return parts


def _plan_ref(row: dict) -> PlanRef:
    """A PlanRef from a `plans()` row (whatever optional columns the store has)."""
    values = {f.name: row.get(f.name) for f in fields(PlanRef) if f.name in row}
    for key in ("title", "number", "issuer", "file"):
        values[key] = values.get(key) or ""
    return PlanRef(**values)


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
        "/kehoach &lt;số hiệu hoặc tên&gt; — ghim một kế hoạch: mọi câu hỏi ở đây theo kế hoạch đó "
        "(trừ khi câu hỏi nêu kế hoạch khác); /kehoach — xem; /kehoach bỏ — bỏ ghim. "
        "Không ghim thì “kế hoạch này” là kế hoạch của câu trả lời vừa rồi\n"
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


# ------------------------------------------------------------------------------------------
# Uploads and reindexing (admins)


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
    """`/reindex` result: counts and failures (reports are store.writes.IndexReport)."""
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


# ------------------------------------------------------------------------------------------
# Agency picks


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
