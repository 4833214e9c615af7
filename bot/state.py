"""What a chat was shown, kept in the database for its buttons, so that any of several bot
processes answers any update (`bot_state`, migration `m012_bot_state`).

A row is one remembered value: a listing's pages, an agency or plan choice, an upload awaiting
"Nhập" (its bytes in `data`), under a short random key the inline buttons carry. Each kind keeps
at most `keep` rows per chat (the oldest go first) and every row expires (`TTL`); expired rows
are swept as new ones are written. Values are JSON, turned into objects and back by the codec
each kind registers (`register`): the module that owns the type owns its codec.

SQL in the subset both engines accept; every write is one short transaction.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from store.connection import transaction

TTL = {"uploads": timedelta(hours=24)}  # kinds not named: DEFAULT_TTL
DEFAULT_TTL = timedelta(days=30)


@dataclass(frozen=True)
class Codec:
    """A kind's value as (JSON-able payload, raw bytes or None), and back."""

    encode: Callable[[Any], tuple[Any, bytes | None]]
    decode: Callable[[Any, bytes | None], Any]


_CODECS: dict[str, Codec] = {}


def register(
    kind: str,
    encode: Callable[[Any], tuple[Any, bytes | None]],
    decode: Callable[[Any, bytes | None], Any],
) -> None:
    _CODECS[kind] = Codec(encode, decode)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def put(db, chat_id: int, kind: str, value: Any, keep: int, now: datetime | None = None) -> str:
    """Keep `value` for this chat under a new key (the oldest of its kind beyond `keep` dropped,
    expired rows of every chat swept); returns the key."""
    now = now or datetime.now(UTC)
    payload, data = _CODECS[kind].encode(value)
    key = secrets.token_hex(4)
    expires = now + TTL.get(kind, DEFAULT_TTL)
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


def get(
    db, chat_id: int, kind: str, key: str, pop: bool = False, now: datetime | None = None
) -> Any:
    """What `put` kept under `key` for this chat (None when expired, dropped or never there).
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


def sweep(db, now: datetime | None = None) -> int:
    """Delete expired rows; how many."""
    now = now or datetime.now(UTC)
    with transaction(db):
        rows = db.execute(
            "DELETE FROM bot_state WHERE expires_at < ? RETURNING key", [_stamp(now)]
        ).fetchall()
    return len(rows)
