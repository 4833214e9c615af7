"""Sending reminders through the outbox, by whatever sends messages (the bot gives a callable).

The chat's daily jobs are the bot's (`bot.reminders.jobs`: one named, timezone-aware job per
subscribed chat, rebuilt deterministically from the `subscriptions` table at start-up, no job
store: which reminders are owed is recomputed from the sent keys, so nothing depends on the
scheduler remembering anything). At start-up a catch-up run sends, once, whatever was missed
while the bot was down and is still before its deadline.

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

Several bot processes may share the database (webhook workers): each pending row is claimed by
one of them with a lease (`reminders.claims`), and the attempt is counted in the statement that
renews the claim, right before the send; a killed worker's rows are taken over when the lease
lapses, and one whose send had started goes out marked, as above. So the guarantees hold per
killed worker: at most one marked resend each.

Reminder sends are paced the way Telegram asks for broadcasts (about 25/s overall, 1/s per
chat, 20/min per group; `reminders.pacing.Pacer`); answers to users are not.

- `ReminderService.run_chat(send, chat_id, now, jobs)`: one run for one chat (what the job
  does), with `now` injectable for tests; `ReminderService.clock` is the only clock. `send` is
  an async `send(chat_id, html, buttons) -> message_id` that raises the exceptions below (the
  bot maps Telegram's errors to them); `jobs` (optional) reschedules the chat's jobs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Protocol

from indexer.settings import Settings
from reminders import claims, storage
from reminders.due import Digest, due_now
from reminders.model import Knowledge, Policy, Subscription
from reminders.pacing import Pacer
from reminders.render import OutMessage, render
from store.connection import transaction
from store.database import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RESENT_NOTE = "<i>(Gửi lại sau một lần gián đoạn; nếu đã nhận tin này, xin bỏ qua.)</i>"
RETRY_LATER = timedelta(minutes=5)
MOVED_RETRY = timedelta(seconds=1)  # a migrated chat's pending messages go to its new id at once
CHATS_AT_ONCE = 32  # chats a broadcast works on together (their sends still go one at a time)


class ChatGone(Exception):
    """The chat blocked the bot or no longer exists."""


class ChatMoved(Exception):
    """The chat has a new id (a group became a supergroup)."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class Rejected(Exception):
    """This message was refused (bad request): the others still go."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unsent(Exception):
    """Not sent this time (timed out, network down, flood control): try again later."""


class FloodWait(Unsent):
    """Flood control: retry after `seconds`."""

    def __init__(self, seconds: float, message: str) -> None:
        super().__init__(message)
        self.seconds = seconds


# send(chat_id, html, buttons as (label, callback data)) -> the sent message's id
Send = Callable[[int, str, list[tuple[str, str]]], Awaitable[int]]


class ChatJobs(Protocol):
    """What a run may change in the chats' jobs (the bot's job queue)."""

    def schedule(self, sub: Subscription) -> None: ...

    def unschedule(self, chat_id: int) -> None: ...

    def retry(self, chat_id: int, after: timedelta) -> None: ...


def clock_from(start: datetime) -> Callable[[], datetime]:
    """A clock that reads `start` now and runs on in real time (tests, dry runs of the bot)."""
    origin = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - origin)


@dataclass
class RunResult:
    chat_id: int
    status: str  # "sent" | "nothing" | "deferred" | "inactive" | "gone" | "failed"
    messages: list[int] = field(default_factory=list)  # Telegram message ids
    keys: list[str] = field(default_factory=list)


class ReminderService:
    """Reminder state and sending for one application (the bot keeps one)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] | None = None,
        pacer: Pacer | None = None,
        worker: str = "",
        lease: timedelta = claims.LEASE,
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker or claims.worker_name()  # this process's name in outbox claims
        self.lease = lease
        self.policy = Policy.from_settings(settings)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(self.policy.tz))
        self.pacer = pacer or Pacer()
        self._locks: dict[int, asyncio.Lock] = {}
        self._knowledge: tuple[int, Knowledge] | None = None

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
            claims.lock_chat(self.db, sub.chat_id)  # PostgreSQL: one decision per chat at a time
            digest = due_now(
                sub,
                knowledge,
                self.policy,
                now,
                sent=storage.sent_keys(self.db, sub.chat_id),
                done=storage.done_keys(self.db, sub.chat_id),
            )
            queued = storage.enqueue(self.db, sub.chat_id, render(digest, sub, knowledge), now)
            claims.hold(self.db, [o.id for o in queued], self.worker, self.lease)
        return digest, queued

    async def run_chat(
        self, send: Send, chat_id: int, now: datetime | None = None, jobs: ChatJobs | None = None
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
            queue = claims.claim(self.db, chat_id, self.worker, self.lease)  # left pending earlier
            for fresh in (False, True):
                if fresh:
                    _, queue = self.decide(sub, now)
                for outgoing in queue:
                    status = await self._deliver(send, outgoing, now, jobs, result)
                    if status == "rejected":  # this message only: the others still go
                        result.status = "failed"
                        continue
                    if status == "taken":  # another worker took it over: it sends it
                        continue
                    if status != "sent":
                        result.status = status
                        return result
                    if result.status != "failed":
                        result.status = "sent"
            wait = claims.held_elsewhere(self.db, chat_id, self.worker)
            if wait is not None and jobs is not None:  # look again once that claim lapses
                jobs.retry(chat_id, timedelta(seconds=wait + 1))
            return result

    async def _deliver(
        self,
        send: Send,
        outgoing: storage.Outgoing,
        now: datetime,
        jobs: ChatJobs | None,
        result: RunResult,
    ) -> str:
        chat_id = outgoing.chat_id
        text = outgoing.text
        if outgoing.attempts:  # a send was started before a crash or a timeout: it may have arrived
            text = RESENT_NOTE + "\n" + text
        message = OutMessage(text, list(outgoing.buttons), list(outgoing.keys))
        try:
            async with self.pacer.slot(chat_id):  # the only reminder send in flight
                if not claims.start_send(self.db, outgoing.id, self.worker, self.lease):
                    return "taken"
                message_id = await send_with_retry(send, chat_id, message)
                # Telegram has it: commit at once, nothing awaited in between (a crash from here
                # to the commit is the one case that resends this message).
                storage.mark_sent(self.db, outgoing, now, message_id)
        except ChatMoved as exc:
            log.info("chat %s migrated to %s", chat_id, exc.new_chat_id)
            storage.move_chat(self.db, chat_id, exc.new_chat_id, now)
            if jobs is not None:
                jobs.unschedule(chat_id)
                moved = storage.get_subscription(self.db, exc.new_chat_id)
                if moved:
                    jobs.schedule(moved)
                    jobs.retry(moved.chat_id, MOVED_RETRY)
            return "gone"
        except ChatGone as exc:
            log.warning("chat %s unreachable (%s): subscription deactivated", chat_id, exc)
            storage.deactivate(self.db, chat_id, str(exc), now)
            storage.mark_failed(self.db, chat_id, str(exc))
            if jobs is not None:
                jobs.unschedule(chat_id)
            return "gone"
        except Rejected as exc:
            log.exception("reminder to %s rejected by Telegram", chat_id)
            storage.mark_failed(self.db, chat_id, exc.message, outgoing_id=outgoing.id)
            return "rejected"
        except Unsent as exc:
            log.warning("reminder to %s not sent (%s): retrying in %s", chat_id, exc, RETRY_LATER)
            if jobs is not None:
                jobs.retry(chat_id, RETRY_LATER)
            return "failed"
        storage.note_message_id(self.db, outgoing, message_id)
        result.messages.append(message_id)
        result.keys.extend(outgoing.keys)
        return "sent"

    async def run_all(
        self, send: Send, now: datetime | None = None, jobs: ChatJobs | None = None
    ) -> list[RunResult]:
        """Every active chat at `now` (the start-up catch-up): up to `CHATS_AT_ONCE` chats at a
        time, so one chat waiting for its per-chat pace does not hold up the others."""
        now = now or self.now()
        gate = asyncio.Semaphore(CHATS_AT_ONCE)

        async def one(chat_id: int) -> RunResult:
            async with gate:
                return await self.run_chat(send, chat_id, now, jobs)

        subs = storage.active_subscriptions(self.db)
        return list(await asyncio.gather(*(one(sub.chat_id) for sub in subs)))

    def real_time_of(self, at: dt_time) -> dt_time:
        """The wall-clock time of day at which the service's clock reads `at` (the same time
        unless the clock was chosen, e.g. `planbot run --now`): the job queue runs on real time."""
        real = datetime.now(self.policy.tz)
        offset = self.clock() - real
        if abs(offset) < timedelta(seconds=1):
            return at.replace(tzinfo=self.policy.tz)
        wanted = datetime.combine(real.date(), at, tzinfo=self.policy.tz) - offset
        return wanted.astimezone(self.policy.tz).timetz().replace(microsecond=0)


async def send_with_retry(
    send: Send, chat_id: int, message: OutMessage, attempts: int = MAX_ATTEMPTS
) -> int:
    """send, waiting out flood control (FloodWait); the message id of what was sent."""
    for attempt in range(1, attempts + 1):
        try:
            return await send(chat_id, message.text, message.buttons)
        except FloodWait as exc:
            if attempt == attempts:
                raise
            log.info("flood control for chat %s: waiting %.0f s", chat_id, exc.seconds)
            await asyncio.sleep(exc.seconds + 0.5)
    raise AssertionError("unreachable")  # pragma: no cover
