"""The bot's own tables in the index database: answer feedback (👍/👎) and an upload log.

The schema is the numbered migration `m005_feedback` in `indexer.migrations` (the store owns the
schema).
"""

from __future__ import annotations

from datetime import UTC, datetime

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
