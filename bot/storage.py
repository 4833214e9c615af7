"""The bot's own tables in the index database: an upload log and the plan each chat is talking
about (answer feedback is `indexer.feedback`'s).

The schema is the numbered migrations in `store.migrations` (applied when the `Store` opens).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
