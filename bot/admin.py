"""Admins' handlers: /reindex, and a plan file sent in private (preview, then Nhập / Huỷ).

Parsing and indexing run in a worker thread, each job on its own connection, so the bot keeps
reading the old index (SQLite WAL) until the new plan is committed; one status message shows
the progress."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from telegram import Message, Update
from telegram.error import TelegramError

from bot import followthrough, storage
from bot.chat import (
    BAD_BUTTON,
    Context,
    Deps,
    callback_parts,
    chat_id_of,
    deps_of,
    is_admin,
    message_of,
    query_of,
    recall,
    remember,
)
from bot.render.messages import REFUSAL, indexed_html, preview_html, reindex_html, upload_problem
from bot.render.pages import upload_keyboard
from indexer.indexing import index_paths, index_upload, preview_upload
from knowledge.errors import PlanbotError
from knowledge.telegram_text import esc
from reminders.notices import notifier
from store.database import Store

log = logging.getLogger(__name__)

T = TypeVar("T")

BUSY = "Đang nhập kế hoạch khác, xin đợi giây lát rồi thử lại."
PREVIEW_GONE = "Bản xem trước đã hết hạn. Xin gửi lại tệp."
UNCHANGED = "Chỉ mục không thay đổi."
KEEP_UPLOADS = 3  # pending upload previews per chat (each holds the file's bytes)


@dataclass
class PendingUpload:
    file: str
    data: bytes


storage.register_state(  # the bytes wait in the database (at most max_upload_bytes: checked before)
    "uploads",
    lambda p: ({"file": p.file}, p.data),
    lambda payload, data: PendingUpload(payload["file"], data or b""),
)


class Progress:
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


# Worker-thread jobs: each opens its own connection.


def _preview_job(db_path: Path, name: str, data: bytes) -> dict:
    store = Store(db_path)
    try:
        return preview_upload(name, data, store)
    finally:
        store.close()


def _upload_job(db_path: Path, name: str, data: bytes, embedder: Any):
    store = Store(db_path)
    try:
        return index_upload(store, name, data, embedder, notify=notifier(store))
    finally:
        store.close()


def _reindex_job(db_path: Path, plans_dir: Path, embedder: Any, progress: Callable[[str], None]):
    store = Store(db_path)
    try:
        return index_paths(store, [plans_dir], embedder, progress=progress, notify=notifier(store))
    finally:
        store.close()


# ------------------------------------------------------------------------------------------
# Handlers


async def reindex(update: Update, context: Context) -> None:
    """/reindex (admins): re-read the plans folder in a worker thread, then refresh answers."""
    deps, message = deps_of(context), message_of(update)
    if not is_admin(update, deps):
        await message.reply_text(REFUSAL)
        return
    if deps.index_lock.locked():
        await message.reply_text(BUSY)
        return
    async with deps.index_lock:
        status = await message.reply_text("⏳ Đang đọc lại thư mục kế hoạch…")
        progress = Progress(status, "Đang đọc lại thư mục kế hoạch")
        plans_dir = deps.settings.plans_dir
        try:
            reports = await progress.run(
                lambda: _reindex_job(deps.store.path, plans_dir, deps.embedder, progress.note)
            )
        except PlanbotError as exc:
            await status.edit_text(f"❌ {esc(str(exc))} {UNCHANGED}")
            return
        deps.kb.reload()
        for report in reports:  # change notices to subscribed chats
            followthrough.deliver_soon(context, report.summary)
        await status.edit_text(reindex_html(reports))


async def document(update: Update, context: Context) -> None:
    """A plan file sent in private: admins get a parsed preview with Nhập / Huỷ."""
    deps, message = deps_of(context), message_of(update)
    doc = message.document
    if doc is None:
        raise ValueError("document handler without a document")
    name = doc.file_name or "tep_khong_ten"
    log_upload = _upload_logger(update, deps, name, doc.file_size)
    if not is_admin(update, deps):
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
        await status.edit_text(f"❌ {esc(str(exc))} {UNCHANGED}")
        return
    key = remember(context, "uploads", PendingUpload(name, data), keep=KEEP_UPLOADS)
    log_upload(
        "previewed", f"tasks={summary.get('tasks')} assignments={summary.get('assignments')}"
    )
    changes = followthrough.changes_html(summary)  # what re-importing changes
    await status.edit_text(preview_html(summary) + changes, reply_markup=upload_keyboard(key))


async def upload_choice(update: Update, context: Context) -> None:
    """Nhập / Huỷ under an upload preview: index in a worker thread, then refresh answers."""
    query, deps = query_of(update), deps_of(context)
    if not is_admin(update, deps):
        await query.answer(REFUSAL, show_alert=True)
        return
    try:
        _, key, action = callback_parts(update, 3)
    except ValueError:
        await query.answer(BAD_BUTTON)
        return
    if action == "ok" and deps.index_lock.locked():
        await query.answer(BUSY, show_alert=True)
        return
    pending: PendingUpload | None = recall(context, "uploads", key, pop=True)
    if pending is None:
        await query.answer(PREVIEW_GONE, show_alert=True)
        try:
            await query.edit_message_reply_markup(None)
        except TelegramError as exc:  # no buttons left: another press (any worker) took it
            log.debug("preview buttons already gone: %s", exc)
        return
    log_upload = _upload_logger(update, deps, pending.file, len(pending.data))
    if action != "ok":
        await query.answer("Đã huỷ.")
        log_upload("cancelled")
        await query.edit_message_text(f"✖️ Đã huỷ “{esc(pending.file)}”. {UNCHANGED}")
        return
    status = query.message
    if not isinstance(status, Message):
        await query.answer(PREVIEW_GONE, show_alert=True)
        return
    await query.answer("Đang nhập…")
    async with deps.index_lock:
        await status.edit_text(f"⏳ Đang nhập “{esc(pending.file)}” vào chỉ mục…")
        progress = Progress(status, f"Đang nhập “{esc(pending.file)}”")
        started = time.monotonic()
        try:
            report = await progress.run(
                lambda: _upload_job(deps.store.path, pending.file, pending.data, deps.embedder)
            )
        except PlanbotError as exc:
            log_upload("failed", str(exc))
            await status.edit_text(f"❌ {esc(str(exc))} {UNCHANGED}")
            return
        except Exception:
            await status.edit_text(f"❌ Lỗi khi nhập kế hoạch. {UNCHANGED}")
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
            chat_id=chat_id_of(update),
            user_id=update.effective_user.id if update.effective_user else None,
            file=file,
            size=size,
            status=status,
            detail=detail,
        )

    return write
