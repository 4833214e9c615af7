"""Sending reminders: one named, timezone-aware daily job per subscribed chat.

Jobs are rebuilt deterministically from the `subscriptions` table at start-up (no APScheduler
job store: the table is the single source of truth, and which reminders are owed is recomputed
from the sent keys, so nothing depends on the scheduler remembering anything). At start-up a
catch-up run sends, once, whatever was missed while the bot was down and is still before its
deadline.

Delivery goes through an outbox (`reminder_outbox`). One transaction decides what is due (reading
the keys already settled), records each message as pending and settles its keys; then each
message is marked "attempted" (committed), sent, and marked sent. Whatever a crash, a timeout or
a network failure leaves pending is sent first by the next run for that chat (the start-up
catch-up, a retry, the daily job), with the same content. The Bot API cannot tell whether a
message whose send had started arrived, so the policy is to resend it (marked "gửi lại … nếu đã
nhận, xin bỏ qua"). Guaranteed:
- no reminder is lost once decided, unless Telegram refuses it for good (chat gone, message
  rejected: recorded as failed) or it stays undeliverable for `overdue_grace_days`;
- no reminder is decided twice (the decision and the record are one transaction);
- a reminder reaches a chat twice only when the process dies (or the request times out) after
  Telegram accepted the message and before "sent" was committed: at most one message per crash,
  since reminder messages go one at a time (`reminders.pacing`). "Sent" is committed as soon as
  Telegram's answer is read, with nothing awaited in between (WAL, synchronous=NORMAL: a commit
  survives a process kill), so that window is the answer's way back plus one small commit.
  There is no honest way to close it: the Bot API has no idempotency key and no way for a bot to
  read back the messages it sent.

Reminder sends are paced the way Telegram asks for broadcasts (about 25/s overall, 1/s per
chat, 20/min per group; `reminders.pacing.Pacer`); answers to users are not.

- `register_reminders(application, settings, store)`: call once from the app builder.
- `ReminderService.run_chat(bot, chat_id, now)`: one run for one chat (what the job does), with
  `now` injectable for tests; `ReminderService.clock` is the only clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackContext, JobQueue
from telegram.warnings import PTBDeprecationWarning

from indexer.settings import Settings
from indexer.store import Store, transaction
from reminders import storage
from reminders.due import Digest, due_now
from reminders.model import Knowledge, Policy, Subscription
from reminders.pacing import Pacer
from reminders.render import OutMessage, render

log = logging.getLogger(__name__)

SERVICE_KEY = "reminders"  # application.bot_data[SERVICE_KEY] -> ReminderService
JOB_PREFIX = "nhacviec:"
CATCHUP_JOB = "nhacviec:catchup"
# The start-up catch-up waits for the bot to be polling and for most of the embedding model's
# warm-up (bot.app): sends during that CPU-bound warm-up are slow, and a crash is then more
# likely to fall between Telegram's answer and the "sent" commit.
CATCHUP_AFTER = timedelta(seconds=5)
MAX_ATTEMPTS = 4
RESENT_NOTE = "<i>(Gửi lại sau một lần gián đoạn; nếu đã nhận tin này, xin bỏ qua.)</i>"
RETRY_LATER = timedelta(minutes=5)
CHATS_AT_ONCE = 32  # chats a broadcast works on together (their sends still go one at a time)
GONE = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "user is deactivated",
    "group chat was deleted",
)


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs on in real time (tests, dry runs of the bot)."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


def job_name(chat_id: int) -> str:
    return f"{JOB_PREFIX}{chat_id}"


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


@dataclass
class RunResult:
    chat_id: int
    status: str  # "sent" | "nothing" | "deferred" | "inactive" | "gone" | "failed"
    messages: list[int] = field(default_factory=list)  # Telegram message ids
    keys: list[str] = field(default_factory=list)


class ChatGone(Exception):
    """The chat blocked the bot or no longer exists."""


class ReminderService:
    """Reminder state and sending for one application (kept in `bot_data[SERVICE_KEY]`)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.policy = Policy.from_settings(settings)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(self.policy.tz))
        self.pacer = pacer or Pacer()
        self._locks: dict[int, asyncio.Lock] = {}
        self._knowledge: tuple[int, Knowledge] | None = None
        storage.ensure_schema(self.db)

    @property
    def db(self):  # this thread's connection
        return self.store.db

    def now(self) -> datetime:
        return self.clock().astimezone(self.policy.tz)

    def knowledge(self) -> Knowledge:
        with self.store.reading():  # the version and everything loaded: one commit
            version = self.store.data_version()
            if self._knowledge is None or self._knowledge[0] != version:
                self._knowledge = (version, storage.load_knowledge(self.db))
            return self._knowledge[1]

    # -- what is due --------------------------------------------------------------------------
    def digest(self, sub: Subscription, now: datetime) -> Digest:
        return due_now(
            sub,
            self.knowledge(),
            self.policy,
            now,
            sent=storage.sent_keys(self.db, sub.chat_id),
            done=storage.done_keys(self.db, sub.chat_id),
        )

    def messages(self, sub: Subscription, now: datetime) -> tuple[Digest, list[OutMessage]]:
        digest = self.digest(sub, now)
        return digest, render(digest, sub, self.knowledge())

    # -- sending ------------------------------------------------------------------------------
    def decide(self, sub: Subscription, now: datetime) -> tuple[Digest, list[storage.Outgoing]]:
        """What is due, recorded in the outbox in the same transaction that read what was sent."""
        knowledge = self.knowledge()
        with transaction(self.db):
            digest = due_now(
                sub,
                knowledge,
                self.policy,
                now,
                sent=storage.sent_keys(self.db, sub.chat_id),
                done=storage.done_keys(self.db, sub.chat_id),
            )
            queued = storage.enqueue(self.db, sub.chat_id, render(digest, sub, knowledge), now)
        return digest, queued

    async def run_chat(
        self, bot: Bot, chat_id: int, now: datetime | None = None, job_queue: JobQueue | None = None
    ) -> RunResult:
        """Send this chat what is due at `now` (one digest, split if long), through the outbox:
        first what an earlier run left pending (a crash, a network failure), then what is new."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        async with lock:
            now = (now or self.now()).astimezone(self.policy.tz)
            sub = storage.get_subscription(self.db, chat_id)
            if sub is None or not sub.active:
                storage.mark_failed(self.db, chat_id, "subscription off", state="expired")
                return RunResult(chat_id, "inactive")
            if not self.policy.allowed(now):
                return RunResult(chat_id, "deferred")
            result = RunResult(chat_id, "nothing")
            stale = now - timedelta(days=self.policy.overdue_grace_days)
            storage.expire_pending(self.db, chat_id, stale)  # left pending too long ago: dropped
            queue = storage.pending_messages(self.db, chat_id)
            for fresh in (False, True):
                if fresh:
                    _, queue = self.decide(sub, now)
                for outgoing in queue:
                    status = await self._deliver(bot, outgoing, now, job_queue, result)
                    if status == "rejected":  # this message only: the others still go
                        result.status = "failed"
                        continue
                    if status != "sent":
                        result.status = status
                        return result
                    if result.status != "failed":
                        result.status = "sent"
            return result

    async def _deliver(
        self,
        bot: Bot,
        outgoing: storage.Outgoing,
        now: datetime,
        job_queue: JobQueue | None,
        result: RunResult,
    ) -> str:
        chat_id = outgoing.chat_id
        text = outgoing.text
        if outgoing.attempts:  # a send was started before a crash or a timeout: it may have arrived
            text = RESENT_NOTE + "\n" + text
        message = OutMessage(text, list(outgoing.buttons), list(outgoing.keys))
        try:
            async with self.pacer.slot(chat_id):  # the only reminder send in flight
                storage.mark_attempt(self.db, outgoing.id)
                sent = await send_with_retry(bot, chat_id, message)
                # Telegram has it: commit at once, nothing awaited in between (a crash from here
                # to the commit is the one case that resends this message).
                storage.mark_sent(self.db, outgoing, now, sent.message_id)
        except ChatMigrated as exc:
            log.info("chat %s migrated to %s", chat_id, exc.new_chat_id)
            storage.move_chat(self.db, chat_id, exc.new_chat_id, now)
            if job_queue is not None:
                self.unschedule(job_queue, chat_id)
                moved = storage.get_subscription(self.db, exc.new_chat_id)
                if moved:
                    self.schedule(job_queue, moved)
                    job_queue.run_once(reminder_job, 1, data=moved.chat_id, name=job_name(moved.chat_id) + ":retry")
            return "gone"
        except ChatGone as exc:
            log.warning("chat %s unreachable (%s): subscription deactivated", chat_id, exc)
            storage.deactivate(self.db, chat_id, str(exc), now)
            storage.mark_failed(self.db, chat_id, str(exc))
            if job_queue is not None:
                self.unschedule(job_queue, chat_id)
            return "gone"
        except BadRequest as exc:
            log.exception("reminder to %s rejected by Telegram", chat_id)
            storage.mark_failed(self.db, chat_id, exc.message, outgoing_id=outgoing.id)
            return "rejected"
        except (TimedOut, NetworkError, RetryAfter) as exc:
            log.warning("reminder to %s not sent (%s): retrying in %s", chat_id, exc, RETRY_LATER)
            if job_queue is not None:
                job_queue.run_once(
                    reminder_job, RETRY_LATER, data=chat_id, name=job_name(chat_id) + ":retry"
                )
            return "failed"
        storage.note_message_id(self.db, outgoing, sent.message_id)
        result.messages.append(sent.message_id)
        result.keys.extend(outgoing.keys)
        return "sent"

    async def run_all(
        self, bot: Bot, now: datetime | None = None, job_queue: JobQueue | None = None
    ) -> list[RunResult]:
        """Every active chat at `now` (the start-up catch-up): up to `CHATS_AT_ONCE` chats at a
        time, so one chat waiting for its per-chat pace does not hold up the others."""
        now = now or self.now()
        gate = asyncio.Semaphore(CHATS_AT_ONCE)

        async def one(chat_id: int) -> RunResult:
            async with gate:
                return await self.run_chat(bot, chat_id, now, job_queue)

        subs = storage.active_subscriptions(self.db)
        return list(await asyncio.gather(*(one(sub.chat_id) for sub in subs)))

    # -- jobs ---------------------------------------------------------------------------------
    def schedule(self, job_queue: JobQueue, sub: Subscription) -> None:
        """(Re)create the chat's daily job at its reminder time, in the configured timezone."""
        self.unschedule(job_queue, sub.chat_id)
        if not sub.active:
            return
        at = self.real_time_of(sub.time_of_day(self.policy))
        job_queue.run_daily(
            reminder_job,
            at,
            data=sub.chat_id,
            name=job_name(sub.chat_id),
            job_kwargs={
                "misfire_grace_time": self.settings.misfire_grace_seconds,
                "coalesce": True,
            },
        )

    def real_time_of(self, at: dt_time) -> dt_time:
        """The wall-clock time of day at which the service's clock reads `at` (the same time
        unless the clock was chosen, e.g. `planbot run --now`): the job queue runs on real time."""
        real = datetime.now(self.policy.tz)
        offset = self.clock() - real
        if abs(offset) < timedelta(seconds=1):
            return at.replace(tzinfo=self.policy.tz)
        wanted = datetime.combine(real.date(), at, tzinfo=self.policy.tz) - offset
        return wanted.astimezone(self.policy.tz).timetz().replace(microsecond=0)

    @staticmethod
    def unschedule(job_queue: JobQueue, chat_id: int) -> None:
        for name in (job_name(chat_id), job_name(chat_id) + ":retry"):
            for job in job_queue.get_jobs_by_name(name):
                job.schedule_removal()

    def rebuild_jobs(self, job_queue: JobQueue) -> int:
        """One job per active subscription, from the table (deterministic)."""
        subs = storage.active_subscriptions(self.db)
        for sub in subs:
            self.schedule(job_queue, sub)
        return len(subs)


async def send_with_retry(
    bot: Bot, chat_id: int, message: OutMessage, attempts: int = MAX_ATTEMPTS
):
    """send_message, waiting out flood control (RetryAfter); unreachable chats raise ChatGone."""
    for attempt in range(1, attempts + 1):
        try:
            return await bot.send_message(
                chat_id,
                message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(message.buttons),
            )
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            with warnings.catch_warnings():  # PTB 22: int now, timedelta in a future version
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            log.info("flood control for chat %s: waiting %.0f s", chat_id, seconds)
            await asyncio.sleep(seconds + 0.5)
        except Forbidden as exc:
            raise ChatGone(str(exc)) from exc
        except BadRequest as exc:
            if any(marker in exc.message.lower() for marker in GONE):
                raise ChatGone(exc.message) from exc
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def service(context: CallbackContext) -> ReminderService:
    return context.application.bot_data[SERVICE_KEY]


async def reminder_job(context: CallbackContext) -> None:
    """Daily job of one chat: send what is due now."""
    svc = service(context)
    await svc.run_chat(context.bot, context.job.data, job_queue=context.job_queue)


async def catchup_job(context: CallbackContext) -> None:
    """At start-up: send once what was missed while the bot was down (still before deadline)."""
    svc = service(context)
    results = await svc.run_all(context.bot, job_queue=context.job_queue)
    sent = sum(1 for r in results if r.status == "sent")
    log.info("reminder catch-up: %d chat(s), %d sent", len(results), sent)


def register_reminders(
    application: Application,
    settings: Settings,
    store: Store,
    clock: Callable[[], datetime] | None = None,
) -> ReminderService:
    """Attach the reminder service and rebuild its jobs; call before the application starts."""
    if application.job_queue is None:
        raise RuntimeError(
            'reminders need the job queue: pip install "python-telegram-bot[job-queue]"'
        )
    svc = ReminderService(settings, store, clock)
    application.bot_data[SERVICE_KEY] = svc
    count = svc.rebuild_jobs(application.job_queue)
    application.job_queue.run_once(
        catchup_job,
        CATCHUP_AFTER,
        name=CATCHUP_JOB,
        job_kwargs={"misfire_grace_time": settings.misfire_grace_seconds},
    )
    log.info("reminders: %d chat job(s) scheduled", count)
    return svc
