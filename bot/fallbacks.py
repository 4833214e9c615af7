"""What no feature handler takes: unknown commands, messages that are not text, and the one
error handler (a user-facing sentence for every failure).

The feature handlers live by feature and `bot.app` wires them all:
- `bot.lookups`: /start, /help, /plans, /nhiemvu, /hanchot, /baocao;
- `bot.questions`: free-text questions and the buttons under answers (pages, source, votes,
  agency picks);
- `bot.admin`: /reindex and plan uploads (admins);
- `bot.followthrough`: /xuat, /vanban, /gopy;
- `bot.plan_focus`: /kehoach (the chat's plan: pinned, or its last answer's);
- `bot.reminders.commands`: /nhacviec, /huynhac and the reminders' buttons.
What every handler shares (dependencies, per-chat memory, replies) is in `bot.chat`; the HTML
they send is built in `bot.render`.
"""

from __future__ import annotations

import logging

from telegram import Update

from bot.chat import Context, message_of
from knowledge.errors import PlanbotError
from knowledge.telegram_text import esc

log = logging.getLogger(__name__)

GENERIC_ERROR = "Xin lỗi, đã có lỗi khi xử lý yêu cầu. Xin thử lại sau ít phút."


async def unknown_command(update: Update, context: Context) -> None:
    """An unknown /command in a private chat: point to /help."""
    await message_of(update).reply_text("Lệnh không rõ. Gõ /help để xem các lệnh và ví dụ câu hỏi.")


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice…: ask for a written question."""
    await message_of(update).reply_text(
        "Tôi chỉ đọc câu hỏi bằng chữ. Ví dụ: “Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?”"
    )


async def on_error(update: object, context: Context) -> None:
    """Log the exception; tell the user one short sentence (a PlanbotError's own message)."""
    error = context.error
    if isinstance(error, PlanbotError):
        log.info("user-facing error: %s", error)
        text = str(error)
    else:
        log.error("error while handling an update", exc_info=error)
        text = GENERIC_ERROR
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text[:200], show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(esc(text))
    except Exception as exc:  # the error handler itself must never raise
        log.warning("could not report the error to the user: %s: %s", type(exc).__name__, exc)
