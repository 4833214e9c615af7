"""The store's schema as numbered migrations: append only; each runs once, in order, recorded in
`_migrations` (as llm's `embeddings_migrations.py`). An existing database is brought up to date
when it is opened (`store.database.open_db`); other packages' tables live here too (`m004_reminders`,
`m005_feedback`, `m009_reminder_outbox`, `m010_answer_log`, `m011_chat_plan`, `m012_bot_state`,
`m013_outbox_claims`).

Numbered without gaps. Databases made before the renumbering recorded some migrations under
their old names (`RENAMED`): those count as applied under the new name, so nothing runs twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils

from knowledge.text import nfc
from store.connection import transaction


def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE plans (
            id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE, content_hash TEXT NOT NULL,
            parser_version TEXT NOT NULL, title TEXT, number TEXT, issuer TEXT, date TEXT,
            place TEXT, implements TEXT, summary TEXT, text TEXT, indexed_at TEXT)"""
    )
    db.execute(
        """CREATE TABLE sections (
            plan_id INTEGER NOT NULL REFERENCES plans(id), path TEXT, label TEXT, title TEXT,
            level INTEGER, parent TEXT)"""
    )
    db.execute(
        """CREATE TABLE deadlines (
            id INTEGER PRIMARY KEY, plan_id INTEGER NOT NULL REFERENCES plans(id), text TEXT NOT NULL,
            kind TEXT NOT NULL, start TEXT, end TEXT, recurrence TEXT, before INTEGER DEFAULT 0)"""
    )
    db.execute(
        """CREATE TABLE items (
            id INTEGER PRIMARY KEY, plan_id INTEGER NOT NULL REFERENCES plans(id),
            kind TEXT NOT NULL CHECK (kind IN ('task', 'clause')), ordinal INTEGER,
            section TEXT, citation TEXT, heading TEXT, text TEXT NOT NULL,
            lead_text TEXT, support_text TEXT, note TEXT, extra TEXT,
            deadline_id INTEGER REFERENCES deadlines(id), in_implementation INTEGER DEFAULT 0,
            search_text TEXT NOT NULL, content_hash TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE assignments (
            plan_id INTEGER NOT NULL REFERENCES plans(id), item_id INTEGER NOT NULL REFERENCES items(id),
            agency TEXT NOT NULL, agency_raw TEXT, agency_key TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('lead', 'support', 'recipient')), collective INTEGER DEFAULT 0)"""
    )
    db.execute(
        """CREATE TABLE reporting_rules (
            id INTEGER PRIMARY KEY, plan_id INTEGER NOT NULL REFERENCES plans(id),
            item_id INTEGER REFERENCES items(id), section TEXT, text TEXT, reporters TEXT,
            recipients TEXT, frequency TEXT, periods TEXT, due_day INTEGER,
            deadline_id INTEGER REFERENCES deadlines(id))"""
    )
    db.execute(
        """CREATE TABLE agencies (name TEXT PRIMARY KEY, collective INTEGER DEFAULT 0,
            source TEXT NOT NULL DEFAULT 'static')"""
    )
    db.execute(
        """CREATE TABLE agency_aliases (alias TEXT NOT NULL, alias_key TEXT NOT NULL,
            agency TEXT NOT NULL REFERENCES agencies(name), PRIMARY KEY (alias_key, agency))"""
    )
    db.execute(
        """CREATE TABLE embeddings (content_hash TEXT NOT NULL, model TEXT NOT NULL,
            vector BLOB NOT NULL, PRIMARY KEY (content_hash, model))"""
    )
    db.execute(
        """CREATE VIRTUAL TABLE items_fts USING fts5(body, tokenize="unicode61 tokenchars '_&'")"""
    )
    for sql in (
        "CREATE INDEX idx_items_plan ON items(plan_id)",
        "CREATE INDEX idx_assign_key ON assignments(agency_key)",
        "CREATE INDEX idx_assign_item ON assignments(item_id)",
        "CREATE INDEX idx_sections_plan ON sections(plan_id)",
        "CREATE INDEX idx_deadlines_plan ON deadlines(plan_id)",
        "CREATE INDEX idx_rules_plan ON reporting_rules(plan_id)",
    ):
        db.execute(sql)


def m002_plan_year(db: sqlite_utils.Database) -> None:
    """The year of a plan whose day and month were left blank ("ngày … tháng … năm 2024")."""
    if "year" not in db["plans"].columns_dict:
        db.execute("ALTER TABLE plans ADD COLUMN year INTEGER")


def m003_generation(db: sqlite_utils.Database) -> None:
    """A counter bumped by every committed change of the index: readers refresh caches on it."""
    db.execute("CREATE TABLE index_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)")
    db.execute("INSERT INTO index_state (id, generation) VALUES (1, 0)")


def m004_reminders(db: sqlite_utils.Database) -> None:
    """Reminders: chat subscriptions, sent reminder keys (idempotent delivery), tasks done per chat."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS subscriptions (
            chat_id INTEGER PRIMARY KEY,
            chat_type TEXT NOT NULL DEFAULT 'private',
            title TEXT NOT NULL DEFAULT '',
            agency TEXT,                -- canonical agency name; NULL: every agency
            plan_file TEXT,             -- plans.file; NULL: every plan
            report_days TEXT,           -- "3,1"; NULL: settings.reminder_days_before
            task_days TEXT,             -- "7,1"; NULL: settings.task_days_before
            remind_time TEXT,           -- "08:00"; NULL: settings.reminder_time
            active INTEGER NOT NULL DEFAULT 1,
            inactive_reason TEXT,
            created_by INTEGER,
            created_at TEXT NOT NULL,   -- ISO 8601 with offset
            updated_at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS sent_reminders (
            key TEXT PRIMARY KEY,       -- chat | target | due date | offset
            chat_id INTEGER NOT NULL,
            sent_at TEXT NOT NULL,
            message_id INTEGER)"""
    )
    db.execute(
        """CREATE TABLE IF NOT EXISTS task_done (
            chat_id INTEGER NOT NULL,
            item_key TEXT NOT NULL,     -- stable across reindexing (plan file + citation + text)
            item_id INTEGER,            -- items.id when it was marked
            done_at TEXT NOT NULL,
            by_user INTEGER,
            PRIMARY KEY (chat_id, item_key))"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_sent_chat ON sent_reminders(chat_id)")


def m005_feedback(db: sqlite_utils.Database) -> None:
    """Feedback on answers (votes stored with the question) and a log of plan uploads."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS feedback (
            id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, user_id INTEGER,
            question TEXT NOT NULL, answer_intent TEXT, answered INTEGER,
            vote INTEGER NOT NULL CHECK (vote IN (-1, 1)), created_at TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_feedback_created ON feedback(created_at)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS upload_log (
            id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, user_id INTEGER, file TEXT NOT NULL,
            size INTEGER, status TEXT NOT NULL, detail TEXT, created_at TEXT NOT NULL)"""
    )


def m006_deadline_indexes(db: sqlite_utils.Database) -> None:
    """Period questions ("trước 01/7/2025") scan deadlines by kind and end date, not every item."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_deadlines_kind_end ON deadlines(kind, end)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_items_deadline ON items(deadline_id)")


def m007_plan_valid_until(db: sqlite_utils.Database) -> None:
    """The last year a plan covers: reminders stop announcing its periodic reports after it."""
    if "valid_until" not in db["plans"].columns_dict:
        db.execute("ALTER TABLE plans ADD COLUMN valid_until INTEGER")


def m008_plan_source(db: sqlite_utils.Database) -> None:
    """Where a plan was read from (absolute path; NULL for uploads), so two files with the same
    name never replace each other; plan names in NFC, so NFC and NFD spellings are one plan."""
    if "source" not in db["plans"].columns_dict:
        db.execute("ALTER TABLE plans ADD COLUMN source TEXT")
    rows = db.execute("SELECT id, file FROM plans ORDER BY id").fetchall()
    kept = {file for _, file in rows}
    for plan_id, file in rows:
        if nfc(file) == file:
            continue
        if nfc(file) in kept:  # a second copy of the same plan: drop it
            _m008_delete_plan(db, plan_id)
        else:
            db.execute("UPDATE plans SET file = ? WHERE id = ?", [nfc(file), plan_id])
            kept.add(nfc(file))


def _m008_delete_plan(db: sqlite_utils.Database, plan_id: int) -> None:
    """A plan and every row of it, as the tables stood at m008 (frozen: a migration is history,
    it does not follow the write code)."""
    ids = [r[0] for r in db.execute("SELECT id FROM items WHERE plan_id = ?", [plan_id]).fetchall()]
    db.conn.executemany("DELETE FROM items_fts WHERE rowid = ?", [(i,) for i in ids])
    for table in ("assignments", "reporting_rules", "items", "deadlines", "sections"):
        db.execute(f"DELETE FROM {table} WHERE plan_id = ?", [plan_id])
    db.execute("DELETE FROM plans WHERE id = ?", [plan_id])


def m009_reminder_outbox(db: sqlite_utils.Database) -> None:
    """Reminder outbox: each message is recorded (pending) in the transaction that decides it is
    due, then sent, then marked sent; a restart delivers what is still pending."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS reminder_outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            text TEXT NOT NULL,         -- Telegram HTML, as decided
            buttons TEXT NOT NULL,      -- JSON [[label, callback data], ...]
            keys TEXT NOT NULL,         -- JSON: the sent_reminders keys this message settles
            state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'expired')),
            attempts INTEGER NOT NULL DEFAULT 0,  -- sends started: > 0 and pending = may have arrived
            created_at TEXT NOT NULL,
            sent_at TEXT,
            message_id INTEGER,
            detail TEXT)"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_outbox_state_chat ON reminder_outbox(state, chat_id, id)")


def m010_answer_log(db: sqlite_utils.Database) -> None:
    """Answers sent with 👍/👎, kept durably (`indexer.feedback`): a vote cast after a restart is
    still recorded, with the question and the answer it judges."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS answer_log (
            chat_id INTEGER NOT NULL, key TEXT NOT NULL, question TEXT NOT NULL, intent TEXT,
            answered INTEGER, answer TEXT, plans TEXT, created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, key))"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_answer_log_created ON answer_log(created_at)")
    columns = db["feedback"].columns_dict
    for column in ("answer", "plans"):  # the answer shown and the plans it cited (JSON list)
        if column not in columns:
            db.execute(f"ALTER TABLE feedback ADD COLUMN {column} TEXT")


def m011_chat_plan(db: sqlite_utils.Database) -> None:
    """The plan each chat is talking about (`bot.storage`): the one pinned with /kehoach, and the
    plan of its last answer with the time it was given (forgotten after PLANBOT_CHAT_FOCUS_MINUTES).
    Plans are kept by file name (their name in the index), which survives a re-index."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS chat_plan (
            chat_id INTEGER PRIMARY KEY, pinned TEXT, pinned_at TEXT, last TEXT, last_at TEXT)"""
    )


def m012_bot_state(db: sqlite_utils.Database) -> None:
    """What a chat was shown and what waits for its buttons (`bot.state`): result pages, agency
    and plan choices, uploads awaiting "Nhập" (their bytes in `data`), so that any of several bot
    processes answers any button. Bounded per chat and kind; expired rows are swept."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS bot_state (
            chat_id BIGINT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
            payload TEXT NOT NULL,      -- JSON
            data BLOB,                  -- raw bytes (an upload awaiting "Nhập"), else NULL
            created_at TEXT NOT NULL,   -- ISO 8601 UTC with microseconds (orders a chat's rows)
            expires_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, kind, key))"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS idx_bot_state_expires ON bot_state(expires_at)")


def m013_outbox_claims(db: sqlite_utils.Database) -> None:
    """Reminder outbox rows claimed by one bot process at a time (`reminders.claims`): who holds
    the row and until when (epoch milliseconds); a dead process's claim lapses and is taken over."""
    db.execute("ALTER TABLE reminder_outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE reminder_outbox ADD COLUMN claimed_until BIGINT")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    m001_initial,
    m002_plan_year,
    m003_generation,
    m004_reminders,
    m005_feedback,
    m006_deadline_indexes,
    m007_plan_valid_until,
    m008_plan_source,
    m009_reminder_outbox,
    m010_answer_log,
    m011_chat_plan,
    m012_bot_state,
    m013_outbox_claims,
]


# Old name → current name (the numbering had a gap: m008 was never used).
RENAMED = {
    "m009_plan_source": "m008_plan_source",
    "m010_reminder_outbox": "m009_reminder_outbox",
    "m011_answer_log": "m010_answer_log",
    "m012_chat_plan": "m011_chat_plan",
}


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations this database has not had yet, each in its own transaction; their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {RENAMED.get(row[0], row[0]) for row in db.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for migration in MIGRATIONS:
        if migration.__name__ in done:
            continue
        with transaction(db):
            migration(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                [migration.__name__, datetime.now(UTC).isoformat()],
            )
        applied.append(migration.__name__)
    return applied
