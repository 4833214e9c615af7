"""The bot's own tables in the index database: an upload log, the plan each chat is talking
about, and what a chat was shown, kept for its buttons (answer feedback is `indexer.feedback`'s).

What a chat was shown (`bot_state`, migration `m012_bot_state`) is in the database so that any of
several bot processes answers any update: a listing's pages, an agency or plan choice, an upload
awaiting "Nhập" (its bytes in `data`), each under a short random key the inline buttons carry.
Each kind keeps at most `keep` rows per chat (the oldest go first) and every row expires
(`STATE_TTL`); expired rows are swept as new ones are written. Values are JSON, turned into
objects and back by the codec each kind registers (`register_state`): the module that owns the
type owns its codec. SQL in the subset both engines accept; each write one short transaction.

The schema is the numbered migrations in `store.migrations` (applied when the `Store` opens).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from store.connection import transaction


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


def chat_plans(
    db: sqlite_utils.Database, chat_id: int, now: datetime, keep: timedelta
) -> tuple[str | None, str | None]:
    """(the pinned plan's file, the file of the last answer's plan if given within `keep`)."""
    row = db.execute(
        "SELECT pinned, last, last_at FROM chat_plan WHERE chat_id = ?", [chat_id]
    ).fetchone()
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


# ------------------------------------------------------------------------------------------
# What a chat was shown, kept for its buttons

STATE_TTL = {"uploads": timedelta(hours=24)}  # kinds not named: STATE_DEFAULT_TTL
STATE_DEFAULT_TTL = timedelta(days=30)


@dataclass(frozen=True)
class StateCodec:
    """A kind's value as (JSON-able payload, raw bytes or None), and back."""

    encode: Callable[[Any], tuple[Any, bytes | None]]
    decode: Callable[[Any, bytes | None], Any]


_CODECS: dict[str, StateCodec] = {}


def register_state(
    kind: str,
    encode: Callable[[Any], tuple[Any, bytes | None]],
    decode: Callable[[Any, bytes | None], Any],
) -> None:
    _CODECS[kind] = StateCodec(encode, decode)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def put_state(
    db, chat_id: int, kind: str, value: Any, keep: int, now: datetime | None = None
) -> str:
    """Keep `value` for this chat under a new key (the oldest of its kind beyond `keep` dropped,
    expired rows of every chat swept); returns the key."""
    now = now or datetime.now(UTC)
    payload, data = _CODECS[kind].encode(value)
    key = secrets.token_hex(4)
    expires = now + STATE_TTL.get(kind, STATE_DEFAULT_TTL)
    with transaction(db):
        db.execute("DELETE FROM bot_state WHERE expires_at < ?", [_stamp(now)])
        db.execute(
            "INSERT INTO bot_state (chat_id, kind, key, payload, data, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, kind, key) DO UPDATE SET "
            "payload = excluded.payload, data = excluded.data, created_at = excluded.created_at, "
            "expires_at = excluded.expires_at",
            [
                chat_id,
                kind,
                key,
                json.dumps(payload, ensure_ascii=False),
                data,
                _stamp(now),
                _stamp(expires),
            ],
        )
        db.execute(
            "DELETE FROM bot_state WHERE chat_id = ? AND kind = ? AND key NOT IN ("
            "SELECT key FROM bot_state WHERE chat_id = ? AND kind = ? "
            "ORDER BY created_at DESC, key DESC LIMIT ?)",
            [chat_id, kind, chat_id, kind, keep],
        )
    return key


def get_state(
    db, chat_id: int, kind: str, key: str, pop: bool = False, now: datetime | None = None
) -> Any:
    """What `put_state` kept under `key` for this chat (None when expired, dropped or never there).
    `pop`: taken away in the same transaction, so two processes never both get it."""
    now = now or datetime.now(UTC)
    where = "chat_id = ? AND kind = ? AND key = ? AND expires_at >= ?"
    params = [chat_id, kind, key, _stamp(now)]
    if pop:
        with transaction(db):
            rows = db.execute(
                f"DELETE FROM bot_state WHERE {where} RETURNING payload, data", params
            ).fetchall()
    else:
        rows = db.execute(f"SELECT payload, data FROM bot_state WHERE {where}", params).fetchall()
    if not rows:
        return None
    payload, data = rows[0]
    try:
        return _CODECS[kind].decode(json.loads(payload), bytes(data) if data is not None else None)
    except (KeyError, TypeError, ValueError):  # written by another version of the bot: forgotten
        return None


def sweep_state(db, now: datetime | None = None) -> int:
    """Delete expired rows; how many."""
    now = now or datetime.now(UTC)
    with transaction(db):
        rows = db.execute(
            "DELETE FROM bot_state WHERE expires_at < ? RETURNING key", [_stamp(now)]
        ).fetchall()
    return len(rows)
