"""Outbox rows claimed by one bot process at a time, so that several processes (webhook workers)
sharing one database send each reminder once (`m013_outbox_claims`).

A process ("worker", a name stable across its restarts: `worker_name`) claims a chat's pending
rows with a lease (`claimed_until`, epoch milliseconds of the real clock). Before each send it
renews the lease of that one row and counts the attempt in the same statement; the renewal fails
when another worker has taken the row over, and the row is then left to it. A claim that has
lapsed (its worker was killed, or hangs) is taken over by the next worker that runs the chat; a
row whose send had started (`attempts` > 0) then goes out marked as a possible repeat
(`reminders.jobs.RESENT_NOTE`), as after a crash of a single process. A worker restarted under
its own name takes its rows back at once.

Every claim is one statement: on SQLite inside BEGIN IMMEDIATE (one writer at a time); on
PostgreSQL the candidate rows are read `FOR UPDATE SKIP LOCKED`, so two transactions never
pick the same row (the only engine-specific SQL here, with `lock_chat`).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import timedelta

from reminders.storage import Outgoing, _outgoing
from store.connection import transaction

LEASE = timedelta(minutes=10)  # longer than any one send with its flood-control waits
CLAIM_LIMIT = 20  # rows one claim takes (a chat's digest is a few messages)
_COLUMNS = "id, chat_id, text, buttons, keys, attempts, created_at"


def _postgresql(db) -> bool:
    """The one engine-specific bit: PostgreSQL's connection says `engine = "postgresql"`."""
    return getattr(db, "engine", "sqlite") == "postgresql"


def worker_name(configured: str = "", port: int | None = None) -> str:
    """This process's name in claims: the configured one, else the host (and the webhook port
    when several workers share a host): stable across restarts, distinct between workers."""
    if configured:
        return configured
    host = socket.gethostname() or f"pid{os.getpid()}"
    return f"{host}:{port}" if port else host


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def claim(
    db, chat_id: int, worker: str, lease: timedelta = LEASE, limit: int = CLAIM_LIMIT
) -> list[Outgoing]:
    """Take this chat's pending rows that nobody else holds (free, lapsed, or already ours),
    oldest first, for `lease`."""
    now = time.time()
    with transaction(db):
        rows = db.execute(
            f"UPDATE reminder_outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
            f"SELECT id FROM reminder_outbox WHERE state = 'pending' AND chat_id = ? AND "
            f"(claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?) "
            f"ORDER BY id LIMIT ?{' FOR UPDATE SKIP LOCKED' if _postgresql(db) else ''}) "
            f"RETURNING {_COLUMNS}",
            [worker, _ms(now + lease.total_seconds()), chat_id, worker, _ms(now), limit],
        ).fetchall()
    return sorted((_outgoing(r) for r in rows), key=lambda o: o.id)


def lock_chat(db, chat_id: int) -> None:
    """Inside the transaction that decides what is due for a chat: on PostgreSQL, lock the chat's
    subscription row, so two workers deciding at once take turns (the second then reads the keys
    the first settled: READ COMMITTED). SQLite's BEGIN IMMEDIATE already lets one writer in."""
    if _postgresql(db):
        db.execute("SELECT chat_id FROM subscriptions WHERE chat_id = ? FOR UPDATE", [chat_id])


def hold(db, ids: list[int], worker: str, lease: timedelta = LEASE) -> None:
    """Claim rows this worker has just decided (call inside the transaction that enqueued them)."""
    until = _ms(time.time() + lease.total_seconds())
    for row_id in ids:
        db.execute(
            "UPDATE reminder_outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
            [worker, until, row_id],
        )


def start_send(db, row_id: int, worker: str, lease: timedelta = LEASE) -> bool:
    """Right before a send: renew this worker's claim and count the attempt, in one committed
    statement. False when the row is no longer ours to send (taken over, sent, given up)."""
    until = _ms(time.time() + lease.total_seconds())
    with transaction(db):
        rows = db.execute(
            "UPDATE reminder_outbox SET attempts = attempts + 1, claimed_until = ? "
            "WHERE id = ? AND claimed_by = ? AND state = 'pending' RETURNING id",
            [until, row_id, worker],
        ).fetchall()
    return bool(rows)


def held_elsewhere(db, chat_id: int, worker: str) -> float | None:
    """Seconds until the last lease another worker holds on this chat's pending rows lapses
    (None when it holds none): when to look again, in case that worker died."""
    row = db.execute(
        "SELECT max(claimed_until) FROM reminder_outbox WHERE state = 'pending' AND chat_id = ? "
        "AND claimed_by IS NOT NULL AND claimed_by <> ?",
        [chat_id, worker],
    ).fetchone()
    if not row or row[0] is None:
        return None
    return max(0.0, row[0] / 1000 - time.time())
