"""Officials' follow-through in chat: /xuat (an agency's tasks as an Excel file), /vanban
(which plans implement a document, what a plan implements) and /gopy (admins: the votes).

Thin handlers over `indexer.export`, `answering.lineage` and `indexer.feedback`; wired in
`bot.app.build_application`.
"""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime

from telegram import InputFile, Message, Update

from answering.lineage import document_answer
from bot.chat import Context, deps_of, is_admin, message_of, today
from bot.render.messages import REFUSAL
from indexer.changes import declared_lines
from indexer.export import agency_export, export_title, file_name, xlsx_bytes
from indexer.feedback import feedback_report, render_text, write_csv
from knowledge.telegram_text import esc, split_messages
from reminders.storage import done_item_ids

XUAT_USAGE = "Cách dùng: /xuat <tên cơ quan>, ví dụ: /xuat Sở Nội vụ (gửi tệp Excel các nhiệm vụ)."
VANBAN_USAGE = "Cách dùng: /vanban <số hiệu>, ví dụ: /vanban 25-CT/TW hoặc /vanban 220/KH-UBND"
GOPY_USAGE = "Cách dùng: /gopy [từ ngày], ví dụ: /gopy 01/06/2025"


async def _reply_lines(message: Message, text: str) -> None:
    for part in split_messages([esc(line) for line in text.split("\n")], sep="\n"):
        await message.reply_text(part)


async def xuat(update: Update, context: Context) -> None:
    """/xuat <cơ quan>: the agency's tasks (those of /nhiemvu and `planbot tasks`) as an .xlsx."""
    deps, message = deps_of(context), message_of(update)
    name = " ".join(context.args or []).strip()
    if not name:
        await message.reply_text(esc(XUAT_USAGE))
        return
    matches = deps.kb.resolve_agency(name)
    if not matches:
        await message.reply_text(f"Không nhận ra cơ quan “{esc(name[:100])}”. {esc(XUAT_USAGE)}")
        return
    if len(matches) > 1 and matches[0].score < 100:
        options = "\n".join(f"• /xuat {esc(m.name)}" for m in matches[:8])
        await message.reply_text(f"Có nhiều cơ quan khớp “{esc(name[:100])}”. Ý bạn là:\n{options}")
        return
    day = today(deps)
    done = done_item_ids(deps.store.db, message.chat_id)
    agency, rows = agency_export(deps.kb, day, matches[0].name, done=done)
    if not rows:
        await message.reply_text(f"Không thấy nhiệm vụ nào giao cho <b>{esc(agency)}</b> trong các kế hoạch đã nạp.")
        return
    title = export_title(agency, day)
    data = await asyncio.to_thread(xlsx_bytes, rows, title)
    await message.reply_document(
        document=InputFile(io.BytesIO(data), filename=file_name(agency, day)),
        caption=f"📊 {esc(title)}: {len(rows)} nhiệm vụ. Cột cuối để đơn vị ghi kết quả thực hiện.",
    )


async def vanban(update: Update, context: Context) -> None:
    """/vanban <số hiệu>: the indexed plans implementing that document; what that plan implements."""
    deps, message = deps_of(context), message_of(update)
    number = " ".join(context.args or []).strip()
    if not number:
        await message.reply_text(esc(VANBAN_USAGE))
        return
    answer = await asyncio.to_thread(document_answer, deps.store, number)
    await _reply_lines(message, answer.answer)


async def gopy(update: Update, context: Context) -> None:
    """/gopy [từ ngày] (admins): 👍/👎 by intent and plan, the questions voted down with answers."""
    deps, message = deps_of(context), message_of(update)
    if not is_admin(update, deps):
        await message.reply_text(REFUSAL)
        return
    since = None
    if context.args:
        try:
            since = _parse_day(" ".join(context.args))
        except ValueError:
            await message.reply_text(esc(GOPY_USAGE))
            return
    report = feedback_report(deps.store.db, since)
    await _reply_lines(message, render_text(report, limit=20))
    if report.votes:
        out = io.StringIO()
        write_csv(report, out)
        await message.reply_document(
            document=InputFile(io.BytesIO(out.getvalue().encode("utf-8-sig")), filename="gop-y.csv"),
            caption="Mọi phiếu góp ý (CSV): câu hỏi, câu trả lời, kế hoạch được dẫn.",
        )


def changes_html(summary: dict, limit: int = 1800) -> str:
    """The change report under an upload preview ("" when the plan is new and declares nothing)."""
    lines = [f"🔗 {esc(line)}" for line in declared_lines(summary)]
    changes = summary.get("changes")
    if changes:
        against = changes.get("against") or {}
        versus = "bản đã nạp" if against.get("reason") == "same_file" else esc(against.get("plan") or "")
        lines.append(f"📝 <b>Thay đổi so với {versus}:</b> {esc(changes.get('headline', ''))}")
        for line in changes.get("lines", []):
            if sum(len(x) for x in lines) + len(line) > limit:
                lines.append("…")
                break
            lines.append(esc(line))
    return ("\n" + "\n".join(lines)) if lines else ""


def _parse_day(text: str) -> date:
    text = text.strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar day, no time
        except ValueError:
            continue
    raise ValueError(text)


def deliver_soon(context: Context, summary: dict) -> None:
    """Change notices an import queued (`notified` chats) go out now, by each chat's reminder
    run (which sends what its outbox holds), rather than with the next daily reminders."""
    from bot.reminders.jobs import job_name, reminder_job

    if context.job_queue is None:
        return
    for chat_id in summary.get("notified") or []:
        context.job_queue.run_once(reminder_job, 1, data=chat_id, name=job_name(chat_id) + ":changes")
