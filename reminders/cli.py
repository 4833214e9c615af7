"""`planbot remind --dry-run`: what the reminders would send at a given moment, without sending.

The click command lives in `planbot/cli.py`; it calls `parse_on` and `remind_dry_run`.
"""

from __future__ import annotations

import html
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from indexer.settings import Settings
from knowledge.errors import PlanbotError
from reminders import storage
from reminders.due import Digest, candidates, due_now
from reminders.model import Policy, Subscription, everything
from reminders.render import OutMessage, describe_subscription, fmt_day, plan_label, render

DEFAULT_CHAT = 0  # the imaginary chat of a dry run without --chat
LONG_AGO = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))


def parse_on(value: str, settings: Settings) -> datetime:
    """Parse "YYYY-MM-DD" (at the reminder time) or "YYYY-MM-DDTHH:MM", in the configured timezone."""
    tz = ZoneInfo(settings.timezone)
    text = value.strip().replace(" ", "T")
    try:
        if "T" not in text:
            day = date.fromisoformat(text)
            return datetime.combine(day, Policy.from_settings(settings).slot(None), tzinfo=tz)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PlanbotError(
            f"Thời điểm không hợp lệ: {value} (dạng YYYY-MM-DD hoặc YYYY-MM-DDTHH:MM)."
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def remind_dry_run(settings: Settings, on: datetime, chat_id: int | None = None) -> str:
    """Exactly what a reminder run at `on` would send (the messages' HTML and buttons).

    With `chat_id`: that chat's subscription, sent keys and tasks done, as in the database.
    Without: a chat subscribed to everything with the default settings, that received every
    earlier reminder on time (so only what is owed at that moment is shown).
    """
    from store.database import Store

    policy = Policy.from_settings(settings)
    on = on if on.tzinfo else on.replace(tzinfo=policy.tz)
    on = on.astimezone(policy.tz)
    store = Store(settings.db_path, create=False)
    try:
        knowledge = storage.load_knowledge(store.db)
        if chat_id is not None:
            sub = storage.get_subscription(store.db, chat_id)
            if sub is None:
                raise PlanbotError(f"Chat {chat_id} chưa đăng ký nhắc việc (/nhacviec).")
            sent = storage.sent_keys(store.db, chat_id)
            done = storage.done_keys(store.db, chat_id)
        else:
            sub = everything(DEFAULT_CHAT, LONG_AGO)
            start_of_day = datetime.combine(on.date(), time(0), tzinfo=policy.tz)
            sent = {
                r.key for r in candidates(sub, knowledge, policy, on) if r.send_from < start_of_day
            }
            done = set()
        digest = due_now(sub, knowledge, policy, on, sent, done)
        messages = render(digest, sub, knowledge)
        header = _header(sub, policy, on, chat_id, plan_label(knowledge, sub.plan_file))
        return header + "\n" + _body(digest, messages, sub, policy)
    finally:
        store.close()


def _header(
    sub: Subscription, policy: Policy, on: datetime, chat_id: int | None, plan: str | None
) -> str:
    who = f"chat {chat_id}" if chat_id is not None else "một chat theo dõi tất cả, cài đặt mặc định"
    lines = describe_subscription(sub, policy, plan).splitlines()[1:]  # without the on/off title
    settings = html.unescape("\n".join(lines))
    return f"Chạy thử nhắc việc lúc {on.strftime('%d/%m/%Y %H:%M')} ({policy.tz.key}) cho {who}:\n{settings}\n"


def _body(digest: Digest, messages: list[OutMessage], sub: Subscription, policy: Policy) -> str:
    if not sub.active:
        return "Nhắc việc của chat này đang tắt: không gửi gì."
    if not digest.allowed or not policy.allowed(digest.now):
        hours = f"Ngoài giờ gửi (ngày làm việc, {policy.quiet_start:%H:%M}–{policy.quiet_end:%H:%M}): không gửi gì lúc này"
        when = digest.deferred_to
        if when is None:
            return hours + "."
        return f"{hours}; phần đến hạn sẽ gửi lúc {fmt_day(when.date())} {when.strftime('%H:%M')}."
    if not messages:
        return "Không có nhắc việc nào được gửi vào lúc này."
    out = [f"Sẽ gửi {len(messages)} tin nhắn (HTML):"]
    for n, message in enumerate(messages, 1):
        out.append(f"--- tin nhắn {n}/{len(messages)} ---")
        out.append(message.text)
        if message.buttons:
            out.append("Nút: " + "  ".join(f"[{label}]" for label, _ in message.buttons))
    out.append("--- hết ---")
    out.append(f"({len(digest.keys)} nhắc việc được ghi nhận là đã gửi.)")
    return "\n".join(out)
