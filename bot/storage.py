"""The bot's own tables in the index database: answer feedback (👍/👎), an upload log and the
plan each chat is talking about.

The schema is the numbered migrations `m005_feedback` and `m012_chat_plan` in
`indexer.migrations` (the store owns the schema).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from indexer.store import migrate

UP, DOWN = 1, -1


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Apply pending migrations (the bot's tables are `m005_feedback` in `indexer.migrations`)."""
    migrate(db)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_feedback(
    db: sqlite_utils.Database,
    *,
    chat_id: int,
    user_id: int | None,
    question: str,
    intent: str | None,
    answered: bool | None,
    vote: int,
) -> int:
    """Store one vote (+1/-1) with the question it judges; returns the row id."""
    if vote not in (UP, DOWN):
        raise ValueError(f"vote must be {UP} or {DOWN}")
    with db.conn:
        cur = db.execute(
            """INSERT INTO feedback (chat_id, user_id, question, answer_intent, answered, vote, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                chat_id,
                user_id,
                question,
                intent,
                None if answered is None else int(answered),
                vote,
                _now(),
            ],
        )
    return int(cur.lastrowid or 0)


def feedback_rows(db: sqlite_utils.Database) -> list[dict]:
    """All votes, oldest first (for evaluation)."""
    return list(db.query("SELECT * FROM feedback ORDER BY id"))


def log_upload(
    db: sqlite_utils.Database,
    *,
    chat_id: int,
    user_id: int | None,
    file: str,
    size: int | None,
    status: str,
    detail: str = "",
) -> None:
    """Who uploaded what, and what became of it (previewed / indexed / unchanged / cancelled / refused / failed)."""
    with db.conn:
        db.execute(
            "INSERT INTO upload_log (chat_id, user_id, file, size, status, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [chat_id, user_id, file, size, status, detail[:1000], _now()],
        )


# ------------------------------------------------------------------------------------------
# The plan a chat is talking about


def chat_plans(db: sqlite_utils.Database, chat_id: int, now: datetime, keep: timedelta) -> tuple[str | None, str | None]:
    """(the pinned plan's file, the file of the last answer's plan if given within `keep`)."""
    row = db.execute("SELECT pinned, last, last_at FROM chat_plan WHERE chat_id = ?", [chat_id]).fetchone()
    if row is None:
        return None, None
    pinned, last, last_at = row
    if last and (not last_at or now - datetime.fromisoformat(last_at) > keep):
        last = None
    return pinned, last


def pin_plan(db: sqlite_utils.Database, chat_id: int, file: str | None) -> None:
    """Pin this chat's plan; None unpins, and forgets the last answer's plan too (the chat asks
    about all plans again)."""
    with db.conn:
        if file is None:
            db.execute("DELETE FROM chat_plan WHERE chat_id = ?", [chat_id])
            return
        db.execute(
            "INSERT INTO chat_plan (chat_id, pinned, pinned_at) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET pinned = excluded.pinned, pinned_at = excluded.pinned_at",
            [chat_id, file, _now()],
        )


def note_last_plan(db: sqlite_utils.Database, chat_id: int, file: str, now: datetime) -> None:
    """The plan this chat's last answer was about, and when."""
    with db.conn:
        db.execute(
            "INSERT INTO chat_plan (chat_id, last, last_at) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET last = excluded.last, last_at = excluded.last_at",
            [chat_id, file, now.astimezone(UTC).isoformat(timespec="seconds")],
        )
