"""Telegram handlers: thin async functions over the knowledge base and `bot.formatting`.

Dependencies live in ``application.bot_data["deps"]`` (a `Deps`, set by `bot.app`). What the
user was shown (pages of a listing, agency choices, upload previews) is kept per chat in
``chat_data`` under a short key that the inline buttons carry.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot import followthrough, storage
from bot.formatting import (
    REFUSAL,
    Listing,
    Page,
    answer_listing,
    choice_html,
    choice_keyboard,
    due_listing,
    duties_listing,
    esc,
    help_parts,
    indexed_html,
    page_keyboard,
    paginate,
    parse_source_token,
    plans_parts,
    preview_html,
    reindex_html,
    reporting_listing,
    rewrite_question,
    source_messages,
    source_token,
    split_messages,
    upload_keyboard,
    upload_problem,
)
from bot.periods import USAGE as HANCHOT_USAGE
from bot.periods import parse_period
from indexer import feedback as answer_log
from indexer.answering import UNKNOWN_AGENCY
from indexer.indexing import index_paths, index_upload, preview_upload
from indexer.search import KnowledgeBase
from indexer.settings import Settings
from indexer.store import Store
from knowledge.errors import PlanbotError
from knowledge.names import find_provinces
from reminders.storage import done_item_ids

log = logging.getLogger(__name__)

T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

GENERIC_ERROR = "Xin lỗi, đã có lỗi khi xử lý yêu cầu. Xin thử lại sau ít phút."
EXPIRED = "Kết quả này đã cũ. Xin hỏi lại."
STALE_BUTTON = "Nút này không còn dùng được. Xin gửi lại lệnh hoặc câu hỏi."
NHIEMVU_USAGE = "Cách dùng: /nhiemvu <tên cơ quan>, ví dụ: /nhiemvu Sở Nội vụ"
BUSY = "Đang nhập kế hoạch khác, xin đợi giây lát rồi thử lại."
ASK_LIMIT = 30  # results per answer (the reply is paginated)
KEEP = 50  # listings remembered per chat (for ◀ ▶, 👍 👎)
KEEP_UPLOADS = 3  # pending upload previews per chat (each holds the file's bytes)


@dataclass
class Deps:
    """What the handlers need, built once at startup by `bot.app.build_application`."""

    settings: Settings
    kb: KnowledgeBase
    store: Store
    embedder: Any = None
    index_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Shown:
    """A listing sent to a chat, remembered for its buttons."""

    pages: list[Page]
    question: str = ""
    intent: str = ""
    answered: bool | None = None
    feedback: bool = False


@dataclass
class Choice:
    """An ambiguous agency name waiting for the user's pick."""

    kind: str  # "ask" | "nhiemvu" | "baocao"
    candidates: list[str]
    question: str = ""
    matched: str = ""  # folded words of the question that matched the agencies


@dataclass
class PendingUpload:
    file: str
    data: bytes


# ------------------------------------------------------------------------------------------
# Small helpers


def _deps(context: Context) -> Deps:
    return context.bot_data["deps"]


def _message(update: Update) -> Message:
    if update.effective_message is None:
        raise ValueError("update without a message")
    return update.effective_message


def _query(update: Update) -> CallbackQuery:
    if update.callback_query is None:
        raise ValueError("update without a callback query")
    return update.callback_query


def _chat_id(update: Update) -> int:
    if update.effective_chat is None:
        raise ValueError("update without a chat")
    return update.effective_chat.id


def _today(deps: Deps) -> date:
    """Today in Vietnam (the one place the bot reads the clock for answers)."""
    return datetime.now(ZoneInfo(deps.settings.timezone)).date()


def _is_admin(update: Update, deps: Deps) -> bool:
    user = update.effective_user
    return user is not None and user.id in deps.settings.admin_ids


def _remember(context: Context, slot: str, value: object, keep: int = KEEP) -> str:
    store: OrderedDict[str, object] = context.chat_data.setdefault(slot, OrderedDict())
    key = secrets.token_hex(4)
    store[key] = value
    while len(store) > keep:
        store.popitem(last=False)
    return key


def _recall(context: Context, slot: str, key: str, pop: bool = False) -> Any:
    store = (context.chat_data or {}).get(slot) or {}
    return store.pop(key, None) if pop else store.get(key)


def _callback_parts(update: Update, count: int) -> list[str]:
    """The callback data split on ":" into exactly `count` parts (ValueError otherwise)."""
    parts = (_query(update).data or "").split(":", count - 1)
    if len(parts) != count:
        raise ValueError(f"bad callback data {_query(update).data!r}")
    return parts


async def _reply_parts(message: Message, parts: list[str]) -> None:
    for text in split_messages(parts):
        await message.reply_text(text)


async def _send_listing(
    message: Message,
    context: Context,
    listing: Listing,
    *,
    edit: bool = False,
    question: str = "",
    intent: str = "",
    answered: bool | None = None,
    feedback: bool = False,
) -> str:
    """First page of `listing` (a reply, or an edit of `message` when `edit`), with its buttons;
    returns the key the buttons carry."""
    pages = paginate(listing)
    shown = Shown(pages, question, intent, answered, feedback)
    key = _remember(context, "shown", shown)
    markup = page_keyboard(key, pages[0], feedback)
    if edit:
        await message.edit_text(pages[0].text, reply_markup=markup)
    else:
        await message.reply_text(pages[0].text, reply_markup=markup)
    return key


def question_text(message: Message, bot_username: str | None) -> str:
    """The question in a message, without the "@bot" mention that addressed it in a group."""
    text = message.text or ""
    if bot_username:
        mention = "@" + bot_username.lower()
        at = text.lower().find(mention)
        while at != -1:
            text = text[:at] + text[at + len(mention) :]
            at = text.lower().find(mention)
    return " ".join(text.split()).strip(" ,:")


class _Progress:
    """Shows a worker thread's progress by editing one status message (at most every `every` s)."""

    def __init__(self, message: Message, title: str, every: float = 2.0) -> None:
        self.message = message
        self.title = title
        self.every = every
        self.step = ""  # written by the worker thread
        self._shown = ""
        self._started = time.monotonic()

    def note(self, step: str) -> None:
        self.step = step

    async def run(self, job: Callable[[], T]) -> T:
        task = asyncio.ensure_future(asyncio.to_thread(job))
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.every)
            if done:
                return task.result()
            elapsed = int(time.monotonic() - self._started)
            text = (
                f"⏳ {self.title}"
                + (f": {esc(self.step)}" if self.step else "")
                + f" ({elapsed} giây)"
            )
            if text != self._shown:
                self._shown = text
                try:
                    await self.message.edit_text(text)
                except TelegramError as exc:  # progress is best effort; the result still comes
                    log.debug("progress edit failed: %s", exc)


# Worker-thread jobs: each opens its own connection, so the bot keeps reading the old index
# (SQLite WAL) until the new plan is committed.


def _preview_job(db_path: Path, name: str, data: bytes) -> dict:
    store = Store(db_path)
    try:
        return preview_upload(name, data, store)
    finally:
        store.close()


def _upload_job(db_path: Path, name: str, data: bytes, embedder: Any):
    store = Store(db_path)
    try:
        return index_upload(store, name, data, embedder)
    finally:
        store.close()


def _reindex_job(db_path: Path, plans_dir: Path, embedder: Any, progress: Callable[[str], None]):
    store = Store(db_path)
    try:
        return index_paths(store, [plans_dir], embedder, progress=progress)
    finally:
        store.close()


# ------------------------------------------------------------------------------------------
# Commands


async def start(update: Update, context: Context) -> None:
    """/start, /help: what the bot knows, example questions, commands and the list of plans."""
    deps = _deps(context)
    await _reply_parts(_message(update), help_parts(deps.kb.plans(), _is_admin(update, deps)))


async def plans(update: Update, context: Context) -> None:
    """/plans: the indexed plans."""
    await _reply_parts(_message(update), plans_parts(_deps(context).kb.plans()))


async def nhiemvu(update: Update, context: Context) -> None:
    """/nhiemvu <cơ quan>: every duty of an agency across plans, grouped by status."""
    deps, message = _deps(context), _message(update)
    name = " ".join(context.args or [])
    if not name.strip():
        await message.reply_text(esc(NHIEMVU_USAGE))
        return
    names, certain = deps.kb.agency_choices(name)
    if not names:  # the same words as a free-text question about an unknown agency
        await message.reply_text(f"{esc(UNKNOWN_AGENCY)}: “{esc(name[:100])}”. {esc(NHIEMVU_USAGE)}")
        return
    if not certain:  # "UBND" / "BHXH" alone: which level; a typo: which of the close names
        await _ask_choice(message, context, Choice("nhiemvu", names))
        return
    await _send_duties(message, context, names[0], provinces=find_provinces(name))


async def _send_duties(
    message: Message, context: Context, agency: str, edit: bool = False, provinces: list[str] | None = None
) -> None:
    deps = _deps(context)
    done = done_item_ids(deps.store.db, message.chat_id)  # tasks this chat marked "Đã xong"
    listing = duties_listing(agency, deps.kb.duties_in(agency, provinces), _today(deps), done)
    await _send_listing(message, context, listing, edit=edit)


async def hanchot(update: Update, context: Context) -> None:
    """/hanchot [tháng|quý|ngày]: what falls due in a period (default: the next 30 days)."""
    deps, message = _deps(context), _message(update)
    try:
        period = parse_period(" ".join(context.args or []), _today(deps))
    except ValueError as exc:
        await message.reply_text(f"Xin lỗi, {esc(str(exc))}. {esc(HANCHOT_USAGE)}")
        return
    results = deps.kb.due_in(period.start, period.end)  # "Trước 01/7/2025" falls in June
    await _send_listing(message, context, due_listing(results, period.label, period.span))


async def baocao(update: Update, context: Context) -> None:
    """/baocao [cơ quan]: periodic reporting rules — who reports what to whom, by which day."""
    deps, message = _deps(context), _message(update)
    name = " ".join(context.args or []).strip()
    if name:
        matches = deps.kb.resolve_agency(name)
        if not matches:
            await message.reply_text(
                f"Không nhận ra cơ quan “{esc(name[:100])}”. Ví dụ: /baocao Sở Y tế"
            )
            return
        if len(matches) > 1 and matches[0].score < 100:
            await _ask_choice(message, context, Choice("baocao", [m.name for m in matches]))
            return
        name = matches[0].name
    await _send_reporting(message, context, name or None)


async def _send_reporting(
    message: Message, context: Context, agency: str | None, edit: bool = False
) -> None:
    results = _deps(context).kb.reporting([agency] if agency else None)
    await _send_listing(message, context, reporting_listing(results, agency), edit=edit)


async def reindex(update: Update, context: Context) -> None:
    """/reindex (admins): re-read the plans folder in a worker thread, then refresh answers."""
    deps, message = _deps(context), _message(update)
    if not _is_admin(update, deps):
        await message.reply_text(REFUSAL)
        return
    if deps.index_lock.locked():
        await message.reply_text(BUSY)
        return
    async with deps.index_lock:
        status = await message.reply_text("⏳ Đang đọc lại thư mục kế hoạch…")
        progress = _Progress(status, "Đang đọc lại thư mục kế hoạch")
        settings = deps.settings
        try:
            reports = await progress.run(
                lambda: _reindex_job(
                    deps.store.path, settings.plans_dir, deps.embedder, progress.note
                )
            )
        except PlanbotError as exc:
            await status.edit_text(f"❌ {esc(str(exc))} Chỉ mục không thay đổi.")
            return
        deps.kb.reload()
        for report in reports:  # change notices to subscribed chats
            followthrough.deliver_soon(context, report.summary)
        await status.edit_text(reindex_html(reports))


async def unknown_command(update: Update, context: Context) -> None:
    """An unknown /command in a private chat: point to /help."""
    await _message(update).reply_text("Lệnh không rõ. Gõ /help để xem các lệnh và ví dụ câu hỏi.")


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice…: ask for a written question."""
    await _message(update).reply_text(
        "Tôi chỉ đọc câu hỏi bằng chữ. Ví dụ: “Sở Nội vụ chịu trách nhiệm gì, hạn khi nào?”"
    )


# ------------------------------------------------------------------------------------------
# Questions


async def question(update: Update, context: Context) -> None:
    """Answer a private message, or a group message that mentions or replies to the bot."""
    message = _message(update)
    await _answer(message, context, question_text(message, context.bot.username))


async def _answer(message: Message, context: Context, text: str, edit: bool = False) -> None:
    deps = _deps(context)
    # In a worker thread: encoding the question must not stall other chats.
    answer = await asyncio.to_thread(deps.kb.ask, text, limit=ASK_LIMIT, today=_today(deps))
    if answer.candidates and not edit:
        matches = deps.kb.resolve_agency(text)
        matched = matches[0].matched if matches else ""
        await _ask_choice(message, context, Choice("ask", list(answer.candidates), text, matched))
        return
    key = await _send_listing(
        message,
        context,
        answer_listing(answer),
        edit=edit,
        question=text,
        intent=answer.intent,
        answered=answer.answered,
        feedback=answer.intent != "invalid",
    )
    if answer.intent != "invalid":  # votes outlive a restart (chat_data does not)
        answer_log.remember_answer(deps.store.db, message.chat_id, key, answer)


async def _ask_choice(message: Message, context: Context, choice: Choice) -> None:
    key = _remember(context, "choices", choice)
    await message.reply_text(
        choice_html(choice.candidates), reply_markup=choice_keyboard(key, choice.candidates)
    )


# ------------------------------------------------------------------------------------------
# Buttons


async def page(update: Update, context: Context) -> None:
    """◀ ▶: show another page of a listing by editing its message."""
    query = _query(update)
    try:
        _, key, number = _callback_parts(update, 3)
        index = int(number)
    except ValueError:
        await query.answer("Nút không hợp lệ.")
        return
    shown: Shown | None = _recall(context, "shown", key)
    if shown is None or not 0 <= index < len(shown.pages):
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer()
    target = shown.pages[index]
    try:
        await query.edit_message_text(
            target.text, reply_markup=page_keyboard(key, target, shown.feedback)
        )
    except BadRequest as exc:  # the same page pressed twice
        if "not modified" not in str(exc).lower():
            raise


async def source(update: Update, context: Context) -> None:
    """Xem nguyên văn: send the item's full source text."""
    query, deps = _query(update), _deps(context)
    try:
        _, token = _callback_parts(update, 2)
        item_id, crc = parse_source_token(token)
    except ValueError:
        await query.answer("Nút không hợp lệ.")
        return
    result = deps.kb.item(item_id)
    if result is None or source_token(result) != f"{item_id}.{crc}":
        await query.answer(
            "Nội dung này đã thay đổi (kế hoạch vừa được nạp lại). Xin hỏi lại.", show_alert=True
        )
        return
    await query.answer()
    for text in source_messages(result):
        await context.bot.send_message(_chat_id(update), text)


async def feedback(update: Update, context: Context) -> None:
    """👍 / 👎: store the vote with the question it judges."""
    query, deps = _query(update), _deps(context)
    try:
        _, key, vote = _callback_parts(update, 3)
        value = {"up": storage.UP, "down": storage.DOWN}[vote]
    except (ValueError, KeyError):
        await query.answer("Nút không hợp lệ.")
        return
    shown: Shown | None = _recall(context, "shown", key)
    user_id, chat_id = query.from_user.id, _chat_id(update)
    logged = answer_log.record_vote(deps.store.db, chat_id=chat_id, key=key, user_id=user_id, vote=value)
    if logged is not None:
        await query.answer("Cảm ơn góp ý của bạn!" + (" 👍" if value == storage.UP else " 👎"))
        return
    if shown is None or not shown.question:
        await query.answer(EXPIRED, show_alert=True)
        return
    storage.record_feedback(
        deps.store.db,
        chat_id=_chat_id(update),
        user_id=query.from_user.id,
        question=shown.question,
        intent=shown.intent,
        answered=shown.answered,
        vote=value,
    )
    await query.answer("Cảm ơn góp ý của bạn!" + (" 👍" if value == storage.UP else " 👎"))


async def pick(update: Update, context: Context) -> None:
    """Ý bạn là …: the user picked one agency; answer for it in place of the question."""
    query = _query(update)
    try:
        _, key, number = _callback_parts(update, 3)
        choice: Choice | None = _recall(context, "choices", key)
        name = choice.candidates[int(number)] if choice else None
    except (ValueError, IndexError):
        await query.answer("Nút không hợp lệ.")
        return
    if choice is None or name is None:
        await query.answer(EXPIRED, show_alert=True)
        return
    message = query.message
    if not isinstance(message, Message):  # too old to be edited
        await query.answer(EXPIRED, show_alert=True)
        return
    await query.answer(name[:200])
    if choice.kind == "nhiemvu":
        await _send_duties(message, context, name, edit=True)
    elif choice.kind == "baocao":
        await _send_reporting(message, context, name, edit=True)
    else:
        await _answer(
            message, context, rewrite_question(choice.question, choice.matched, name), edit=True
        )


async def noop(update: Update, context: Context) -> None:
    """The page counter button: nothing to do."""
    await _query(update).answer()


async def unknown_button(update: Update, context: Context) -> None:
    """Callback data no handler knows (forged, from an older version): stop the spinner."""
    await _query(update).answer(STALE_BUTTON)


# ------------------------------------------------------------------------------------------
# Uploads (admins)


async def document(update: Update, context: Context) -> None:
    """A plan file sent in private: admins get a parsed preview with Nhập / Huỷ."""
    deps, message = _deps(context), _message(update)
    doc = message.document
    if doc is None:
        raise ValueError("document handler without a document")
    name = doc.file_name or "tep_khong_ten"
    log_upload = _upload_logger(update, deps, name, doc.file_size)
    if not _is_admin(update, deps):
        log_upload("refused", "not an admin")
        await message.reply_text(REFUSAL)
        return
    problem = upload_problem(name, doc.file_size, deps.settings.max_upload_bytes)
    if problem:
        log_upload("refused", problem)
        await message.reply_text(problem)
        return
    status = await message.reply_text(f"⏳ Đang tải “{esc(name)}”…")
    data = bytes(await (await doc.get_file()).download_as_bytearray())
    problem = upload_problem(name, len(data), deps.settings.max_upload_bytes)
    if problem:
        log_upload("refused", problem)
        await status.edit_text(problem)
        return
    await status.edit_text(f"⏳ Đang phân tích “{esc(name)}”…")
    try:
        summary = await asyncio.to_thread(_preview_job, deps.store.path, name, data)
    except PlanbotError as exc:
        log_upload("failed", str(exc))
        await status.edit_text(f"❌ {esc(str(exc))} Chỉ mục không thay đổi.")
        return
    key = _remember(context, "uploads", PendingUpload(name, data), keep=KEEP_UPLOADS)
    log_upload(
        "previewed", f"tasks={summary.get('tasks')} assignments={summary.get('assignments')}"
    )
    preview = preview_html(summary) + followthrough.changes_html(summary)  # what re-importing changes
    await status.edit_text(preview, reply_markup=upload_keyboard(key))


async def upload_choice(update: Update, context: Context) -> None:
    """Nhập / Huỷ under an upload preview: index in a worker thread, then refresh answers."""
    query, deps = _query(update), _deps(context)
    if not _is_admin(update, deps):
        await query.answer(REFUSAL, show_alert=True)
        return
    try:
        _, key, action = _callback_parts(update, 3)
    except ValueError:
        await query.answer("Nút không hợp lệ.")
        return
    if action == "ok" and deps.index_lock.locked():
        await query.answer(BUSY, show_alert=True)
        return
    pending: PendingUpload | None = _recall(context, "uploads", key, pop=True)
    if pending is None:
        await query.answer("Bản xem trước đã hết hạn. Xin gửi lại tệp.", show_alert=True)
        await query.edit_message_reply_markup(None)
        return
    log_upload = _upload_logger(update, deps, pending.file, len(pending.data))
    if action != "ok":
        await query.answer("Đã huỷ.")
        log_upload("cancelled")
        await query.edit_message_text(f"✖️ Đã huỷ “{esc(pending.file)}”. Chỉ mục không thay đổi.")
        return
    status = query.message
    if not isinstance(status, Message):
        await query.answer("Bản xem trước đã hết hạn. Xin gửi lại tệp.", show_alert=True)
        return
    await query.answer("Đang nhập…")
    async with deps.index_lock:
        await status.edit_text(f"⏳ Đang nhập “{esc(pending.file)}” vào chỉ mục…")
        progress = _Progress(status, f"Đang nhập “{esc(pending.file)}”")
        started = time.monotonic()
        try:
            report = await progress.run(
                lambda: _upload_job(deps.store.path, pending.file, pending.data, deps.embedder)
            )
        except PlanbotError as exc:
            log_upload("failed", str(exc))
            await status.edit_text(f"❌ {esc(str(exc))} Chỉ mục không thay đổi.")
            return
        except Exception:
            await status.edit_text("❌ Lỗi khi nhập kế hoạch. Chỉ mục không thay đổi.")
            raise
        deps.kb.reload()
    followthrough.deliver_soon(context, report.summary)  # change notices to subscribed chats
    log_upload(report.status, f"plan_id={report.plan_id}")
    await status.edit_text(
        indexed_html(pending.file, report.status, report.summary, time.monotonic() - started)
    )


def _upload_logger(update: Update, deps: Deps, file: str, size: int | None) -> Callable[..., None]:
    def write(status: str, detail: str = "") -> None:
        storage.log_upload(
            deps.store.db,
            chat_id=_chat_id(update),
            user_id=update.effective_user.id if update.effective_user else None,
            file=file,
            size=size,
            status=status,
            detail=detail,
        )

    return write


# ------------------------------------------------------------------------------------------
# Errors


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
