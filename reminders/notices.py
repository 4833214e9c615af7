"""Change notices in the reminder outbox: when an indexed plan changes, each chat the changes
concern gets one notice, delivered by its next reminder run (`reminders.jobs`).

The indexing pipeline makes the `ChangeNotice` (plain data); the composition root hands it here
(`notifier(store)` is the pipeline's `notify`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from indexer.changes import ChangeNotice
from reminders import storage
from reminders.render import OutMessage, notice_text
from store.connection import transaction
from store.database import Store


def queue_notice(store: Store, notice: ChangeNotice, now: datetime) -> list[int]:
    """Record, in the reminder outbox, one notice per active subscription the changes concern
    (its agency is lead or support of a changed row; its plan, if any, is this one or the one
    replaced). Keyed by chat, plan and content: indexing the same file again queues nothing.
    The bot's reminder run for the chat delivers it. Returns the chats notified."""
    if not notice.changes:
        return []
    chats = []
    with transaction(store.db):
        for sub in storage.active_subscriptions(store.db):
            if sub.plan_file and sub.plan_file not in notice.plans:
                continue
            lines = [
                line
                for line, agencies in notice.changes
                if sub.agency is None or sub.agency in agencies
            ]
            key = f"{sub.chat_id}|change|{notice.file}|{notice.digest[:16]}"
            if not lines or storage.is_settled(store.db, key):
                continue
            storage.enqueue(
                store.db, sub.chat_id, [OutMessage(notice_text(notice, lines), [], [key])], now
            )
            chats.append(sub.chat_id)
    return chats


def notifier(store: Store) -> Callable[[ChangeNotice], list[int]]:
    """The pipeline's `notify` for this store: queue the notice now (UTC)."""
    return lambda notice: queue_notice(store, notice, datetime.now(UTC))
