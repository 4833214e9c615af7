"""Telegram handlers of the reminders: /nhacviec, /huynhac, the settings buttons, "Đã xong".

Thin: parse, check who may change the chat's subscription (group administrators or bot
admins), call `reminders.storage`, reschedule the chat's job, answer. `handlers()` returns them
for the bot's app builder to add; they need `bot.reminders.jobs.register_reminders` to have run.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.reminders.jobs import ADMINS_KEY, SERVICE_KEY, QueueJobs
from knowledge.telegram_text import esc
from knowledge.text import clean_spaces, fold, nfc
from reminders import storage
from reminders.due import next_reminder
from reminders.jobs import ReminderService
from reminders.model import Subscription
from reminders.render import DONE_PREFIX, describe_subscription, fmt_day, plan_label, weekday

log = logging.getLogger(__name__)

UNDO_PREFIX = "nvundo:"
SETTINGS_PREFIX = "nv:"
REPORT_PRESETS: tuple[tuple[int, ...], ...] = ((3, 1), (5, 3, 1), (7, 3, 1), (1,))
TASK_PRESETS: tuple[tuple[int, ...], ...] = ((7, 1), (14, 7, 1), (7, 3, 1), (3, 1), (1,))
TIME_PRESETS = ("07:30", "08:00", "09:00", "13:30", "16:00")
ALL_WORDS = {"tat ca", "het", "all", "toan bo"}
PLAN_WORDS = re.compile(r"(?:^|[\s;,|])(?:ke hoach|kh)\s*(?:so\s*)?[:#]?\s*(?P<value>\S+)\s*$")
GROUP_ANONYMOUS_BOT = 1087968824  # "Group" sender of anonymous administrators
UNAVAILABLE = "Nút này không còn dùng được."

USAGE = (
    "Cách dùng:\n"
    "/nhacviec — bật nhắc việc (tất cả kế hoạch) hoặc xem cài đặt\n"
    "/nhacviec Sở Y tế — chỉ nhắc việc của một cơ quan\n"
    "/nhacviec kế hoạch 220/KH-UBND — chỉ một kế hoạch (số, hoặc mã trong /nhacviec)\n"
    "/nhacviec tất cả — bỏ mọi bộ lọc\n"
    "/huynhac — tắt nhắc việc"
)


def _svc(context: ContextTypes.DEFAULT_TYPE) -> ReminderService | None:
    return context.application.bot_data.get(SERVICE_KEY)


async def _may_manage(
    update: Update, context: ContextTypes.DEFAULT_TYPE, svc: ReminderService
) -> bool:
    """Private chat: its user. Groups: chat administrators. Bot admins: everywhere."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if user.id in context.application.bot_data[ADMINS_KEY] or chat.type == ChatType.PRIVATE:
        return True
    message = update.effective_message
    if (
        user.id == GROUP_ANONYMOUS_BOT
        and message is not None
        and message.sender_chat
        and message.sender_chat.id == chat.id
    ):
        return True
    try:
        admins = await context.bot.get_chat_administrators(chat.id)
    except BadRequest:
        log.warning("getChatAdministrators failed for %s", chat.id, exc_info=True)
        return False
    return any(member.user.id == user.id for member in admins)


DENIED = "Chỉ quản trị viên của nhóm (hoặc quản trị bot) mới thay đổi được nhắc việc của nhóm."


def _settings_view(
    svc: ReminderService, sub: Subscription | None
) -> tuple[str, InlineKeyboardMarkup]:
    """The settings text and its buttons (change or stop; start when off)."""
    policy = svc.policy
    if sub is None or not sub.active:
        text = "🔕 <b>Nhắc việc đang tắt cho cuộc trò chuyện này.</b>\n\n" + esc(USAGE)
        return text, InlineKeyboardMarkup(
            [[InlineKeyboardButton("🔔 Bật nhắc việc", callback_data="nv:on")]]
        )
    knowledge = svc.knowledge()
    text = describe_subscription(sub, policy, plan_label(knowledge, sub.plan_file))
    now = svc.now()
    upcoming = next_reminder(
        sub,
        knowledge,
        policy,
        now,
        storage.sent_keys(svc.db, sub.chat_id),
        storage.done_keys(svc.db, sub.chat_id),
    )
    if upcoming is not None:
        day = upcoming.send_from.date()
        what = "báo cáo" if upcoming.kind == "report" else "nhiệm vụ"
        text += (
            f"\n\nLần nhắc tới: {weekday(day)}, {fmt_day(day)} lúc {upcoming.send_from.strftime('%H:%M')} "
            f"({what}, hạn {fmt_day(upcoming.due)})."
        )
    days_r = ", ".join(map(str, sub.days_for_reports(policy)))
    days_t = ", ".join(map(str, sub.days_for_tasks(policy)))
    at = sub.time_of_day(policy).strftime("%H:%M")
    rows = [
        [InlineKeyboardButton(f"📅 Báo cáo: trước {days_r} ngày", callback_data="nv:rep")],
        [InlineKeyboardButton(f"📌 Nhiệm vụ: trước {days_t} ngày", callback_data="nv:task")],
        [InlineKeyboardButton(f"⏰ Giờ nhắc: {at}", callback_data="nv:time")],
        [InlineKeyboardButton("📄 Chọn kế hoạch", callback_data="nv:plans")]
        + (
            [InlineKeyboardButton("🏢 Mọi cơ quan", callback_data="nv:agall")] if sub.agency else []
        ),
        [InlineKeyboardButton("🔕 Dừng nhắc", callback_data="nv:stop")],
    ]
    return text, InlineKeyboardMarkup(rows)


def _plans_view(svc: ReminderService) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[InlineKeyboardButton("Tất cả kế hoạch", callback_data="nv:plan:0")]]
    lines = ["<b>Chọn kế hoạch cần nhắc:</b>"]
    for plan in svc.knowledge().plans:
        lines.append(f"{plan.id}. {esc(plan.label)}")
        rows.append(
            [
                InlineKeyboardButton(
                    f"{plan.id}. {plan.label[:50]}", callback_data=f"nv:plan:{plan.id}"
                )
            ]
        )
    rows.append([InlineKeyboardButton("« Quay lại", callback_data="nv:show")])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def _find_plan(svc: ReminderService, value: str) -> str | None:
    """A plan file from what a user typed: its number, number prefix, id or file prefix."""
    wanted = fold(value).strip(" .,;")
    for plan in svc.knowledge().plans:
        number = fold(plan.number)
        if wanted and (wanted == number or (number and wanted == number.split("/")[0])):
            return plan.file
    for plan in svc.knowledge().plans:
        if wanted.isdigit() and (
            int(wanted) == plan.id or plan.file.startswith(wanted.zfill(3) + "_")
        ):
            return plan.file
    return None


def _parse_args(svc: ReminderService, args: str) -> tuple[dict, str | None]:
    """`/nhacviec` arguments → changes to the subscription, or an error message."""
    text = clean_spaces(nfc(args))
    if not text:
        return {}, None
    if fold(text) in ALL_WORDS:
        return {"agency": None, "plan_file": None}, None
    changes: dict = {}
    m = PLAN_WORDS.search(fold(text))
    if m:
        plan_file = _find_plan(svc, text[m.start("value") :])
        if plan_file is None:
            listing = "\n".join(f"{p.id}. {p.label}" for p in svc.knowledge().plans)
            return (
                {},
                f"Không tìm thấy kế hoạch “{text[m.start('value') :]}”. Các kế hoạch đã nạp:\n{listing}",
            )
        changes["plan_file"] = plan_file
        text = text[: m.start()].strip(" ;,|")
    if text:
        matches = svc.store.registry().match_query(text)
        if not matches:
            return {}, f"Không nhận ra cơ quan “{text}”. Ví dụ: /nhacviec Sở Y tế\n\n{USAGE}"
        if matches[0].score < 100 and len(matches) > 1:
            names = "\n".join(f"• {m.name}" for m in matches)
            return {}, f"“{text}” có thể là:\n{names}\nXin gõ lại đúng tên cơ quan."
        changes["agency"] = matches[0].name
    return changes, None


async def nhacviec(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/nhacviec [cơ quan] [kế hoạch …]: subscribe, narrow, or show the settings."""
    svc, chat, message = _svc(context), update.effective_chat, update.effective_message
    if svc is None or chat is None or message is None:
        return
    args = " ".join(context.args or [])
    sub = storage.get_subscription(svc.db, chat.id)
    changes, error = _parse_args(svc, args)
    if error:
        await message.reply_text(error)
        return
    if sub is not None and sub.active and not changes and not args.strip():
        text, markup = _settings_view(svc, sub)
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return
    if not await _may_manage(update, context, svc):
        await message.reply_text(DENIED)
        return
    sub = _subscribe(svc, update, sub, **changes)
    QueueJobs(context.application.job_queue, svc).schedule(sub)
    text, markup = _settings_view(svc, sub)
    await message.reply_text(
        "✅ Đã lưu.\n\n" + text, parse_mode=ParseMode.HTML, reply_markup=markup
    )


def _subscribe(
    svc: ReminderService, update: Update, sub: Subscription | None, **changes
) -> Subscription:
    """Create, re-enable or change the chat's subscription and save it."""
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    now = svc.now()
    title = chat.title or chat.full_name or ""
    if sub is None or not sub.active:
        # A new (or re-enabled) subscription starts now: nothing owed from before.
        base = sub or Subscription(chat_id=chat.id, created_at=now)
        sub = replace(base, created_at=now, active=True, created_by=user.id if user else None)
    sub = replace(sub, chat_type=chat.type, title=title, **changes)
    storage.save_subscription(svc.db, sub, now)
    return sub


async def huynhac(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/huynhac: stop this chat's reminders."""
    svc, chat, message = _svc(context), update.effective_chat, update.effective_message
    if svc is None or chat is None or message is None:
        return
    sub = storage.get_subscription(svc.db, chat.id)
    if sub is None or not sub.active:
        await message.reply_text("Cuộc trò chuyện này chưa bật nhắc việc. Gõ /nhacviec để bật.")
        return
    if not await _may_manage(update, context, svc):
        await message.reply_text(DENIED)
        return
    _stop(svc, context, sub)
    await message.reply_text("🔕 Đã tắt nhắc việc. Gõ /nhacviec để bật lại.")


def _stop(svc: ReminderService, context: ContextTypes.DEFAULT_TYPE, sub: Subscription) -> None:
    storage.save_subscription(svc.db, replace(sub, active=False), svc.now())
    QueueJobs(context.application.job_queue, svc).unschedule(sub.chat_id)


def _cycle(current: tuple, presets: tuple) -> tuple:
    return (
        presets[(presets.index(current) + 1) % len(presets)] if current in presets else presets[0]
    )


async def on_settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons of the settings message: cycle the days and time, choose a plan, stop, start."""
    svc, query, chat = _svc(context), update.callback_query, update.effective_chat
    if query is None:
        return
    if svc is None or chat is None:
        await query.answer(UNAVAILABLE)
        return
    action = (query.data or "")[len(SETTINGS_PREFIX) :]
    sub = storage.get_subscription(svc.db, chat.id)
    if action == "show" or action == "plans":
        text, markup = _plans_view(svc) if action == "plans" else _settings_view(svc, sub)
        await query.answer()
        await _edit(query, text, markup)
        return
    if not await _may_manage(update, context, svc):
        await query.answer(DENIED, show_alert=True)
        return
    policy = svc.policy
    if action == "stop":
        if sub is not None and sub.active:
            _stop(svc, context, sub)
        sub = storage.get_subscription(svc.db, chat.id)
        await query.answer("Đã tắt nhắc việc.")
    elif action == "on":
        sub = _subscribe(svc, update, sub)
        QueueJobs(context.application.job_queue, svc).schedule(sub)
        await query.answer("Đã bật nhắc việc.")
    elif sub is None or not sub.active:
        await query.answer("Nhắc việc đang tắt. Gõ /nhacviec để bật.", show_alert=True)
        return
    else:
        if action == "rep":
            changes = {"report_days": _cycle(sub.days_for_reports(policy), REPORT_PRESETS)}
        elif action == "task":
            changes = {"task_days": _cycle(sub.days_for_tasks(policy), TASK_PRESETS)}
        elif action == "time":
            current = sub.time_of_day(policy).strftime("%H:%M")
            changes = {"remind_time": time.fromisoformat(_cycle(current, TIME_PRESETS))}
        elif action == "agall":
            changes = {"agency": None}
        elif action.startswith("plan:") and action[5:].isdigit():
            plan_id = int(action[5:])
            plan = next((p for p in svc.knowledge().plans if p.id == plan_id), None)
            if plan is None:
                await query.answer("Kế hoạch này không còn trong chỉ mục.", show_alert=True)
                return
            changes = {"plan_file": plan.file}
        else:
            await query.answer(UNAVAILABLE)
            return
        sub = _subscribe(svc, update, sub, **changes)
        QueueJobs(context.application.job_queue, svc).schedule(sub)
        await query.answer("Đã lưu.")
    text, markup = _settings_view(svc, sub)
    await _edit(query, text, markup)


async def _edit(query, text: str, markup: InlineKeyboardMarkup) -> None:
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def on_done_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "Đã xong" button under a reminder: done for this chat ("Hoàn tác" undoes it)."""
    svc, query, chat = _svc(context), update.callback_query, update.effective_chat
    if query is None:
        return
    if svc is None or chat is None or not query.data:
        await query.answer(UNAVAILABLE)
        return
    undo = query.data.startswith(UNDO_PREFIX)
    try:
        item_id = int(query.data.split(":", 1)[1])
    except ValueError:
        await query.answer(UNAVAILABLE)
        return
    key = storage.item_key_for(svc.db, item_id)
    if key is None:
        await query.answer(
            "Nhiệm vụ này đã thay đổi khi kế hoạch được cập nhật; xem nhắc việc mới nhất.",
            show_alert=True,
        )
        return
    user = update.effective_user
    if undo:
        storage.unmark_done(svc.db, chat.id, key)
        await query.answer("Đã hoàn tác: việc này sẽ lại được nhắc.")
    else:
        storage.mark_done(svc.db, chat.id, key, item_id, user.id if user else None, svc.now())
        await query.answer("Đã ghi nhận hoàn thành: sẽ không nhắc lại việc này ở đây.")
    markup = _toggled(query.message.reply_markup if query.message else None, query.data, undo)
    if markup is not None:
        try:
            await query.edit_message_reply_markup(markup)
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise


def _toggled(
    markup: InlineKeyboardMarkup | None, data: str, undo: bool
) -> InlineKeyboardMarkup | None:
    """The same keyboard with the pressed button flipped between "Đã xong" and "Hoàn tác"."""
    if markup is None:
        return None
    item = data.split(":", 1)[1]
    rows = []
    for row in markup.inline_keyboard:
        new_row = []
        for button in row:
            if button.callback_data == data:
                number = re.search(r"\(\d+\)", button.text)
                tag = f" {number.group(0)}" if number else ""
                if undo:
                    button = InlineKeyboardButton(
                        f"✅ Đã xong{tag}", callback_data=f"{DONE_PREFIX}{item}"
                    )
                else:
                    button = InlineKeyboardButton(
                        f"↩️ Hoàn tác{tag}", callback_data=f"{UNDO_PREFIX}{item}"
                    )
            new_row.append(button)
        rows.append(new_row)
    return InlineKeyboardMarkup(rows)


def handlers() -> list[BaseHandler]:
    """Everything the bot app adds for reminders (after `register_reminders`)."""
    return [
        CommandHandler("nhacviec", nhacviec),
        CommandHandler("huynhac", huynhac),
        CallbackQueryHandler(on_settings_button, pattern=r"^nv:"),
        CallbackQueryHandler(on_done_button, pattern=rf"^({DONE_PREFIX}|{UNDO_PREFIX})\d+$"),
    ]
