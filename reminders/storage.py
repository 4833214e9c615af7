"""Reminder state in the project's database (SQLite or PostgreSQL): subscriptions, sent keys, outbox, tasks done.

The tables are numbered migrations in `store.migrations` (`m004_reminders`, the outbox), applied
whenever a `Store` opens the database. Sent keys live in the same database as everything else:
after a crash or a restart nothing already sent is sent again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

import sqlite_utils

from knowledge.dates.recurrence import due_offset
from reminders.model import Knowledge, PlanInfo, Rule, Subscription, Task, rule_key, task_key
from store.connection import transaction

# ---------------------------------------------------------------------------------------------
# Subscriptions


def _days(value: str | None) -> tuple[int, ...] | None:
    if not value:
        return None
    days = sorted({int(p) for p in value.split(",") if p.strip().isdigit()}, reverse=True)
    return tuple(days) or None


def days_text(days: Iterable[int] | None) -> str | None:
    return ",".join(str(d) for d in days) if days is not None else None


def _sub(row: dict) -> Subscription:
    return Subscription(
        chat_id=row["chat_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        chat_type=row["chat_type"],
        title=row["title"] or "",
        agency=row["agency"],
        plan_file=row["plan_file"],
        report_days=_days(row["report_days"]),
        task_days=_days(row["task_days"]),
        remind_time=time.fromisoformat(row["remind_time"]) if row["remind_time"] else None,
        active=bool(row["active"]),
        created_by=row["created_by"],
    )


def get_subscription(db: sqlite_utils.Database, chat_id: int) -> Subscription | None:
    rows = list(db.query("SELECT * FROM subscriptions WHERE chat_id = ?", [chat_id]))
    return _sub(rows[0]) if rows else None


def active_subscriptions(db: sqlite_utils.Database) -> list[Subscription]:
    return [
        _sub(r) for r in db.query("SELECT * FROM subscriptions WHERE active = 1 ORDER BY chat_id")
    ]


def save_subscription(db: sqlite_utils.Database, sub: Subscription, now: datetime) -> None:
    """Insert or replace the chat's subscription (created_at is kept as given)."""
    with transaction(db):
        db.execute(
            """INSERT INTO subscriptions (chat_id, chat_type, title, agency, plan_file, report_days,
                   task_days, remind_time, active, inactive_reason, created_by, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)
               ON CONFLICT(chat_id) DO UPDATE SET chat_type = excluded.chat_type, title = excluded.title,
                   agency = excluded.agency, plan_file = excluded.plan_file,
                   report_days = excluded.report_days, task_days = excluded.task_days,
                   remind_time = excluded.remind_time, active = excluded.active,
                   inactive_reason = NULL, created_by = excluded.created_by,
                   created_at = excluded.created_at, updated_at = excluded.updated_at""",
            [
                sub.chat_id,
                sub.chat_type,
                sub.title,
                sub.agency,
                sub.plan_file,
                days_text(sub.report_days),
                days_text(sub.task_days),
                sub.remind_time.strftime("%H:%M") if sub.remind_time else None,
                int(sub.active),
                sub.created_by,
                sub.created_at.isoformat(),
                now.isoformat(),
            ],
        )


def deactivate(db: sqlite_utils.Database, chat_id: int, reason: str, now: datetime) -> None:
    with transaction(db):
        db.execute(
            "UPDATE subscriptions SET active = 0, inactive_reason = ?, updated_at = ? WHERE chat_id = ?",
            [reason, now.isoformat(), chat_id],
        )


def move_chat(db: sqlite_utils.Database, old_id: int, new_id: int, now: datetime) -> None:
    """A group became a supergroup (new chat id): keep its subscription and done tasks."""
    with transaction(db):
        db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [new_id])
        db.execute(
            "UPDATE subscriptions SET chat_id = ?, chat_type = 'supergroup', updated_at = ? WHERE chat_id = ?",
            [new_id, now.isoformat(), old_id],
        )
        # a task the new chat has marked already stays the new chat's own (UPDATE OR IGNORE, portably)
        db.execute(
            "UPDATE task_done SET chat_id = ? WHERE chat_id = ? AND item_key NOT IN (SELECT item_key FROM task_done WHERE chat_id = ?)",
            [new_id, old_id, new_id],
        )
        db.execute("UPDATE reminder_outbox SET chat_id = ? WHERE chat_id = ? AND state = 'pending'", [new_id, old_id])


# ---------------------------------------------------------------------------------------------
# Sent reminders


def sent_keys(db: sqlite_utils.Database, chat_id: int) -> set[str]:
    return {
        r[0]
        for r in db.execute(
            "SELECT key FROM sent_reminders WHERE chat_id = ?", [chat_id]
        ).fetchall()
    }


def is_settled(db: sqlite_utils.Database, key: str) -> bool:
    """Whether a reminder key is already recorded (sent or queued), in any chat."""
    return db.execute("SELECT 1 FROM sent_reminders WHERE key = ?", [key]).fetchone() is not None


def record_sent(
    db: sqlite_utils.Database,
    chat_id: int,
    keys: Iterable[str],
    now: datetime,
    message_id: int | None = None,
) -> None:
    with transaction(db):
        db.conn.executemany(
            "INSERT INTO sent_reminders (key, chat_id, sent_at, message_id) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            [(k, chat_id, now.isoformat(), message_id) for k in keys],
        )


# ---------------------------------------------------------------------------------------------
# Outbox: decided → pending → sent (migration m009_reminder_outbox)


@dataclass(frozen=True)
class Outgoing:
    """One reminder message recorded before it is sent."""

    id: int
    chat_id: int
    text: str
    buttons: tuple[tuple[str, str], ...]
    keys: tuple[str, ...]
    attempts: int  # sends started before this one: > 0 means it may already have arrived
    created_at: datetime


def _outgoing(row: sqlite3.Row | tuple) -> Outgoing:
    rid, chat_id, text, buttons, keys, attempts, created_at = row
    return Outgoing(
        rid,
        chat_id,
        text,
        tuple((label, data) for label, data in json.loads(buttons)),
        tuple(json.loads(keys)),
        attempts,
        datetime.fromisoformat(created_at),
    )


def enqueue(
    db: sqlite_utils.Database, chat_id: int, messages: Iterable, now: datetime
) -> list[Outgoing]:
    """Record `messages` (OutMessage) as pending and their keys as sent: call inside the
    `transaction` that read the sent keys, so deciding and recording are one commit."""
    out = []
    for message in messages:
        cur = db.conn.execute(
            """INSERT INTO reminder_outbox (chat_id, text, buttons, keys, created_at)
               VALUES (?, ?, ?, ?, ?) RETURNING id""",
            [chat_id, message.text, json.dumps(message.buttons, ensure_ascii=False),
             json.dumps(message.keys), now.isoformat()],
        )
        outgoing_id = int(cur.fetchall()[0][0])
        db.conn.executemany(
            "INSERT INTO sent_reminders (key, chat_id, sent_at, message_id) VALUES (?, ?, ?, NULL) ON CONFLICT (key) DO NOTHING",
            [(k, chat_id, now.isoformat()) for k in message.keys],
        )
        out.append(
            Outgoing(outgoing_id, chat_id, message.text,
                     tuple(tuple(b) for b in message.buttons), tuple(message.keys), 0, now)
        )
    return out


def pending_messages(db: sqlite_utils.Database, chat_id: int | None = None) -> list[Outgoing]:
    """Messages decided but not yet known to be delivered, oldest first."""
    sql = "SELECT id, chat_id, text, buttons, keys, attempts, created_at FROM reminder_outbox WHERE state = 'pending'"
    rows = db.conn.execute(
        sql + (" AND chat_id = ? ORDER BY id" if chat_id is not None else " ORDER BY id"),
        [chat_id] if chat_id is not None else [],
    ).fetchall()
    return [_outgoing(r) for r in rows]


def mark_attempt(db: sqlite_utils.Database, outgoing_id: int) -> None:
    """Committed right before the send: after a crash the row is known to be ambiguous."""
    with transaction(db):
        db.conn.execute("UPDATE reminder_outbox SET attempts = attempts + 1 WHERE id = ?", [outgoing_id])


def mark_sent(db: sqlite_utils.Database, outgoing: Outgoing, now: datetime, message_id: int) -> None:
    """Committed the moment Telegram answers: one row by its key, the smallest commit there is
    (every statement lets other threads take the GIL, which widens the window a crash can fall
    into). The keys' message id is filled in afterwards (`note_message_id`): that is only a note."""
    with transaction(db):
        db.conn.execute(
            "UPDATE reminder_outbox SET state = 'sent', sent_at = ?, message_id = ? WHERE id = ?",
            [now.isoformat(), message_id, outgoing.id],
        )


def note_message_id(db: sqlite_utils.Database, outgoing: Outgoing, message_id: int) -> None:
    """Which Telegram message carried each key (after `mark_sent`; lost in a crash, no matter)."""
    with transaction(db):
        db.conn.executemany(
            "UPDATE sent_reminders SET message_id = ? WHERE key = ?",
            [(message_id, k) for k in outgoing.keys],
        )


def mark_failed(
    db: sqlite_utils.Database, chat_id: int, reason: str, state: str = "failed", outgoing_id: int | None = None
) -> None:
    """Give up one pending message (or all of a chat's): refused by Telegram, chat gone, too old."""
    sql = "UPDATE reminder_outbox SET state = ?, detail = ? WHERE state = 'pending' AND chat_id = ?"
    params: list = [state, reason[:500], chat_id]
    if outgoing_id is not None:
        sql += " AND id = ?"
        params.append(outgoing_id)
    with transaction(db):
        db.conn.execute(sql, params)


def expire_pending(db: sqlite_utils.Database, chat_id: int, before: datetime) -> None:
    """Drop pending messages decided before `before` (the bot was down for days)."""
    rows = db.conn.execute(
        "SELECT id, created_at FROM reminder_outbox WHERE state = 'pending' AND chat_id = ?", [chat_id]
    ).fetchall()
    old = [(r[0],) for r in rows if datetime.fromisoformat(r[1]) < before]
    if old:
        with transaction(db):
            db.conn.executemany(
                "UPDATE reminder_outbox SET state = 'expired', detail = 'too old' WHERE id = ?", old
            )


# ---------------------------------------------------------------------------------------------
# Tasks done (per chat)


def mark_done(
    db: sqlite_utils.Database,
    chat_id: int,
    item_key: str,
    item_id: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    with transaction(db):
        db.execute(
            """INSERT INTO task_done (chat_id, item_key, item_id, done_at, by_user) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (chat_id, item_key) DO UPDATE SET item_id = excluded.item_id,
                   done_at = excluded.done_at, by_user = excluded.by_user""",
            [chat_id, item_key, item_id, now.isoformat(), user_id],
        )


def unmark_done(db: sqlite_utils.Database, chat_id: int, item_key: str) -> None:
    with transaction(db):
        db.execute("DELETE FROM task_done WHERE chat_id = ? AND item_key = ?", [chat_id, item_key])


def done_keys(db: sqlite_utils.Database, chat_id: int) -> set[str]:
    return {
        r[0]
        for r in db.execute(
            "SELECT item_key FROM task_done WHERE chat_id = ?", [chat_id]
        ).fetchall()
    }


def item_key_for(db: sqlite_utils.Database, item_id: int) -> str | None:
    """The stable key of an indexed item (None when the id no longer exists)."""
    row = db.execute(
        "SELECT p.file, i.citation, i.text FROM items i JOIN plans p ON p.id = i.plan_id WHERE i.id = ?",
        [item_id],
    ).fetchone()
    return task_key(row[0], row[1] or "", row[2]) if row else None


def done_item_ids(db: sqlite_utils.Database, chat_id: int) -> set[int]:
    """Current ids of the items this chat marked done (for /nhiemvu to show them as done)."""
    keys = done_keys(db, chat_id)
    if not keys:
        return set()
    rows = db.execute(
        "SELECT i.id, p.file, i.citation, i.text FROM items i JOIN plans p ON p.id = i.plan_id"
    ).fetchall()
    return {r[0] for r in rows if task_key(r[1], r[2] or "", r[3]) in keys}


# ---------------------------------------------------------------------------------------------
# Knowledge: what the index says, as the plain values `reminders.model` defines


def load_knowledge(db: sqlite_utils.Database) -> Knowledge:
    plans = {
        r["id"]: PlanInfo.from_row(r)
        for r in db.query("SELECT id, file, title, number, issuer, date, valid_until FROM plans ORDER BY id")
    }
    rules = []
    for r in db.query(
        """SELECT r.*, d.recurrence AS d_recurrence FROM reporting_rules r
           LEFT JOIN deadlines d ON d.id = r.deadline_id ORDER BY r.plan_id, r.id"""
    ):
        plan = plans.get(r["plan_id"])
        if plan is None:
            continue
        rules.append(
            Rule(
                key=rule_key(plan.file, r["section"] or "", r["text"] or ""),
                plan=plan,
                section=r["section"] or "",
                text=r["text"] or "",
                frequency=r["frequency"] or "",
                reporters=tuple(json.loads(r["reporters"] or "[]")),
                recipients=tuple(json.loads(r["recipients"] or "[]")),
                periods=tuple(json.loads(r["periods"] or "[]")),
                due_day=r["due_day"],
                due_offset=due_offset(r["d_recurrence"]),
            )
        )
    roles: dict[int, dict[str, list[str]]] = {}
    for a in db.query("SELECT item_id, agency, role FROM assignments ORDER BY rowid"):
        names = roles.setdefault(a["item_id"], {}).setdefault(a["role"], [])
        if a["agency"] not in names:
            names.append(a["agency"])
    tasks = []
    for r in db.query(
        """SELECT i.id, i.plan_id, i.citation, i.text, d.text AS d_text, d.kind, d.end, d.before
           FROM items i JOIN deadlines d ON d.id = i.deadline_id
           WHERE d.end IS NOT NULL AND d.kind IN ('date', 'month', 'quarter', 'year')
           ORDER BY i.plan_id, i.id"""
    ):
        plan = plans.get(r["plan_id"])
        if plan is None:
            continue
        who = roles.get(r["id"], {})
        tasks.append(
            Task(
                key=task_key(plan.file, r["citation"] or "", r["text"]),
                item_id=r["id"],
                plan=plan,
                citation=r["citation"] or "",
                text=r["text"],
                deadline_text=r["d_text"],
                kind=r["kind"],
                end=date.fromisoformat(r["end"]),
                before=bool(r["before"]),
                lead=tuple(who.get("lead", [])),
                support=tuple(who.get("support", [])),
                others=tuple(who.get("recipient", [])),
            )
        )
    return Knowledge(rules=tuple(rules), tasks=tuple(tasks), plans=tuple(plans.values()))
