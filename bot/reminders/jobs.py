"""The reminders' side of Telegram: their jobs in the job queue and how a reminder is sent.

One named, timezone-aware daily job per subscribed chat, rebuilt deterministically from the
`subscriptions` table at start-up, plus a catch-up run once after start-up (`reminders.jobs`
explains the outbox and what it guarantees). The service sends through `sender(bot)`: the Bot
API's errors become the reminders' own (`ChatGone`, `ChatMoved`, `Rejected`, `Unsent`,
`FloodWait`) here, at the edge.

- `register_reminders(application, settings, store)`: call once from the app builder.
- `QueueJobs(job_queue, svc)`: (re)schedule a chat's job after its settings change.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackContext, JobQueue
from telegram.warnings import PTBDeprecationWarning

from bot.settings import BotSettings
from reminders import storage
from reminders.claims import worker_name
from reminders.jobs import (
    ChatGone,
    ChatMoved,
    FloodWait,
    Rejected,
    ReminderService,
    Send,
    Unsent,
)
from reminders.model import Subscription
from store.database import Store

log = logging.getLogger(__name__)

SERVICE_KEY = "reminders"  # application.bot_data[SERVICE_KEY] -> ReminderService
ADMINS_KEY = "reminder_admins"  # the bot's administrators: may change any chat's reminders
JOB_PREFIX = "nhacviec:"
CATCHUP_JOB = "nhacviec:catchup"
# The start-up catch-up waits for the bot to be polling and for most of the embedding model's
# warm-up (bot.app): sends during that CPU-bound warm-up are slow, and a crash is then more
# likely to fall between Telegram's answer and the "sent" commit.
CATCHUP_AFTER = timedelta(seconds=5)
GONE = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "user is deactivated",
    "group chat was deleted",
)


def job_name(chat_id: int) -> str:
    return f"{JOB_PREFIX}{chat_id}"


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def sender(bot: Bot) -> Send:
    """The reminders' `send`: one HTML message with its buttons; Telegram's errors mapped."""

    async def send(chat_id: int, html: str, buttons: list[tuple[str, str]]) -> int:
        try:
            sent = await bot.send_message(
                chat_id, html, parse_mode=ParseMode.HTML, reply_markup=keyboard(buttons)
            )
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22: int now, timedelta in a future version
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise FloodWait(seconds, str(exc)) from exc
        except Forbidden as exc:
            raise ChatGone(str(exc)) from exc
        except ChatMigrated as exc:
            raise ChatMoved(exc.new_chat_id) from exc
        except BadRequest as exc:  # before NetworkError: a BadRequest is one
            if any(marker in exc.message.lower() for marker in GONE):
                raise ChatGone(exc.message) from exc
            raise Rejected(exc.message) from exc
        except (TimedOut, NetworkError) as exc:
            raise Unsent(str(exc)) from exc
        return sent.message_id

    return send


class QueueJobs:
    """The reminder jobs of the chats in the application's job queue."""

    def __init__(self, job_queue: JobQueue, svc: ReminderService) -> None:
        self.job_queue = job_queue
        self.svc = svc

    def schedule(self, sub: Subscription) -> None:
        """(Re)create the chat's daily job at its reminder time, in the configured timezone."""
        self.unschedule(sub.chat_id)
        if not sub.active:
            return
        at = self.svc.real_time_of(sub.time_of_day(self.svc.policy))
        self.job_queue.run_daily(
            reminder_job,
            at,
            data=sub.chat_id,
            name=job_name(sub.chat_id),
            job_kwargs={
                "misfire_grace_time": self.svc.settings.misfire_grace_seconds,
                "coalesce": True,
            },
        )

    def unschedule(self, chat_id: int) -> None:
        for name in (job_name(chat_id), job_name(chat_id) + ":retry"):
            for job in self.job_queue.get_jobs_by_name(name):
                job.schedule_removal()

    def retry(self, chat_id: int, after: timedelta) -> None:
        self.job_queue.run_once(
            reminder_job, after, data=chat_id, name=job_name(chat_id) + ":retry"
        )

    def rebuild(self) -> int:
        """One job per active subscription, from the table (deterministic)."""
        subs = storage.active_subscriptions(self.svc.db)
        for sub in subs:
            self.schedule(sub)
        return len(subs)


def service(context: CallbackContext) -> ReminderService:
    return context.application.bot_data[SERVICE_KEY]


async def reminder_job(context: CallbackContext) -> None:
    """Daily job of one chat: send what is due now."""
    svc = service(context)
    await svc.run_chat(
        sender(context.bot), context.job.data, jobs=QueueJobs(context.job_queue, svc)
    )


async def catchup_job(context: CallbackContext) -> None:
    """At start-up: send once what was missed while the bot was down (still before deadline)."""
    svc = service(context)
    results = await svc.run_all(sender(context.bot), jobs=QueueJobs(context.job_queue, svc))
    sent = sum(1 for r in results if r.status == "sent")
    log.info("reminder catch-up: %d chat(s), %d sent", len(results), sent)


def register_reminders(
    application: Application,
    settings: BotSettings,
    store: Store,
    clock: Callable[[], datetime] | None = None,
) -> ReminderService:
    """Attach the reminder service and rebuild its jobs; call before the application starts."""
    if application.job_queue is None:
        raise RuntimeError(
            'reminders need the job queue: pip install "python-telegram-bot[job-queue]"'
        )
    port = settings.webhook_port if settings.webhook_url else None
    svc = ReminderService(
        settings,
        store,
        clock,
        worker=worker_name(settings.worker_id, port),
        lease=timedelta(seconds=settings.reminder_lease_seconds),
    )
    application.bot_data[SERVICE_KEY] = svc
    application.bot_data[ADMINS_KEY] = settings.admin_ids
    count = QueueJobs(application.job_queue, svc).rebuild()
    application.job_queue.run_once(
        catchup_job,
        CATCHUP_AFTER,
        name=CATCHUP_JOB,
        job_kwargs={"misfire_grace_time": settings.misfire_grace_seconds},
    )
    log.info("reminders: %d chat job(s) scheduled", count)
    return svc
