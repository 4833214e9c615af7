"""The SQLite store (through sqlite-utils): numbered migrations, atomic per-plan reindexing.

A plan is replaced in one transaction: parse and embed first (outside it), then delete the
old rows and insert the new ones. WAL mode lets readers keep answering from the old plan
until the commit. Unchanged files (same content hash and parser version) cost nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlite_utils

from indexer.lazy_model import resolve
from knowledge.agencies import AgencyRegistry
from knowledge.errors import PlanbotError
from knowledge.model import Deadline, Plan
from knowledge.parser import parse_plan
from knowledge.text import nfc, words

PARSER_VERSION = "7"
# A deadline's last day in SQL: the day before an exclusive bound ("Trước 01/7/2025"), as
# knowledge.deadlines.last_day.
_LAST_DAY = "date(d.end, CASE WHEN d.before AND d.kind IN ('date', 'month', 'quarter') THEN '-1 day' ELSE '+0 day' END)"
# Bumped when the loaders read a file differently: its stored plan is then rebuilt.
LOADER_VERSION = "2"


# ---------------------------------------------------------------------------------------------
# Migrations: append only; each runs once, in order, recorded in `_migrations`.


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


def m007_plan_valid_until(db: sqlite_utils.Database) -> None:
    """The last year a plan covers: reminders stop announcing its periodic reports after it."""
    if "valid_until" not in db["plans"].columns_dict:
        db.execute("ALTER TABLE plans ADD COLUMN valid_until INTEGER")


def m006_deadline_indexes(db: sqlite_utils.Database) -> None:
    """Period questions ("trước 01/7/2025") scan deadlines by kind and end date, not every item."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_deadlines_kind_end ON deadlines(kind, end)")
    db.execute("CREATE INDEX IF NOT EXISTS idx_items_deadline ON items(deadline_id)")


def m009_plan_source(db: sqlite_utils.Database) -> None:
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
            delete_plan_rows(db, plan_id)
            db.execute("DELETE FROM plans WHERE id = ?", [plan_id])
        else:
            db.execute("UPDATE plans SET file = ? WHERE id = ?", [nfc(file), plan_id])
            kept.add(nfc(file))


def m010_reminder_outbox(db: sqlite_utils.Database) -> None:
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


def m011_answer_log(db: sqlite_utils.Database) -> None:
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


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    m001_initial,
    m002_plan_year,
    m003_generation,
    m004_reminders,
    m005_feedback,
    m006_deadline_indexes,
    m007_plan_valid_until,
    m009_plan_source,
    m010_reminder_outbox,
    m011_answer_log,
]


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One explicit write transaction (BEGIN IMMEDIATE … COMMIT; ROLLBACK on error). Needed for
    atomicity: with no transaction open, sqlite-utils' `execute` commits each write statement by
    itself, so `with db.conn:` alone does not group them. Inside an open transaction: joins it."""
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


def migrate(db: sqlite_utils.Database) -> list[str]:
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    done = {row[0] for row in db.execute("SELECT name FROM _migrations").fetchall()}
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


# ---------------------------------------------------------------------------------------------


def lexical_terms(text: str) -> list[str]:
    """Folded syllables plus syllable bigrams ("so_noi", "noi_vu"): what BM25 indexes."""
    tokens = [t.replace("&", "_") for t in words(text)]
    bigrams = [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]
    return tokens + bigrams


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_hash(data: bytes) -> str:
    """Identity of a plan file's content: its raw bytes (hashed before anything is loaded, so an
    unchanged scanned PDF is not read by OCR again) and the loader version."""
    return hashlib.sha256(f"loader {LOADER_VERSION}\n".encode() + data).hexdigest()


def delete_plan_rows(db: sqlite_utils.Database, plan_id: int) -> None:
    """Every row of a plan but its `plans` row."""
    ids = [r[0] for r in db.execute("SELECT id FROM items WHERE plan_id = ?", [plan_id]).fetchall()]
    db.conn.executemany("DELETE FROM items_fts WHERE rowid = ?", [(i,) for i in ids])
    for table in ("assignments", "reporting_rules", "items", "deadlines", "sections"):
        db.execute(f"DELETE FROM {table} WHERE plan_id = ?", [plan_id])


@dataclass
class IndexReport:
    file: str
    status: str  # "indexed" | "unchanged" | "failed"
    plan_id: int | None = None
    summary: dict = field(default_factory=dict)
    error: str = ""
    embedded: int = 0
    seconds: float = 0.0


def connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def open_db(path: Path | str, create: bool = True) -> sqlite_utils.Database:
    path = Path(path)
    if not create and not path.exists():
        raise PlanbotError(f"Chưa có chỉ mục tại {path}. Hãy chạy: planbot index <thư mục kế hoạch>.")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    migrate(db)
    return db


def search_text_for_task(plan: Plan, task) -> str:
    parts = [
        f"{task.citation}. Nội dung nhiệm vụ: {task.text}",
        f"Cơ quan chủ trì: {task.lead_text}" if task.lead_text else "",
        f"Cơ quan phối hợp: {task.support_text}" if task.support_text else "",
        f"Thời gian hoàn thành: {task.deadline.text}" if task.deadline else "",
        f"Ghi chú: {task.note}" if task.note else "",
    ]
    parts += [f"{k}: {v}" for k, v in task.extra.items()]
    return ". ".join(p for p in parts if p)


def lexical_body_for_task(task) -> str:
    """What BM25 sees for a row: its words, without column labels (they match every row)."""
    parts = [task.text, task.lead_text, task.support_text, task.deadline.text if task.deadline else "", task.note]
    parts += list(task.extra.values())
    return " ".join(p for p in parts if p)


def search_text_for_clause(clause) -> str:
    return f"{clause.heading}: {clause.text}" if clause.heading else clause.text


class Store:
    """All reads and writes of the index. Safe to share between threads: each thread gets its
    own SQLite connection (WAL lets them read while another writes)."""

    def __init__(self, path: Path | str, create: bool = True) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._local.db = open_db(self.path, create=create)
        self._connections = [self._local.db]
        self._seed_agencies()

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection (sqlite-utils' savepoints must not interleave across threads)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One read transaction on this thread's connection: every SELECT inside sees the same
        commit (WAL), however many statements an answer takes. Nested calls join the outer one."""
        conn = self.db.conn
        depth = getattr(self._local, "reads", 0)
        begin = depth == 0 and not conn.in_transaction
        if begin:
            conn.execute("BEGIN")  # deferred: the snapshot is taken at the first SELECT
        self._local.reads = depth + 1
        try:
            yield
        finally:
            self._local.reads = depth
            if begin and conn.in_transaction:
                conn.commit()  # ends the read (and keeps a temp table made inside, if any)

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.conn.close()
            self._connections.clear()

    # -- agencies ---------------------------------------------------------------------------
    def _seed_agencies(self) -> None:
        if self.db.execute("SELECT count(*) FROM agencies WHERE source = 'static'").fetchone()[0]:
            return
        registry = AgencyRegistry()
        with transaction(self.db):
            for entry in registry.entries:
                self.db.execute(
                    "INSERT OR IGNORE INTO agencies (name, collective, source) VALUES (?, ?, 'static')",
                    [entry.name, int(entry.collective)],
                )
                for alias in (entry.name, *entry.aliases):
                    self.db.execute(
                        "INSERT OR IGNORE INTO agency_aliases (alias, alias_key, agency) VALUES (?, ?, ?)",
                        [alias, " ".join(words(alias)), entry.name],
                    )

    def registry(self) -> AgencyRegistry:
        """The static registry plus every agency name met in indexed plans."""
        registry = AgencyRegistry()
        for name, collective in self.db.execute(
            "SELECT name, collective FROM agencies WHERE source = 'plan'"
        ).fetchall():
            registry.add_name(name, bool(collective))
        return registry

    # -- indexing ---------------------------------------------------------------------------
    def plan_row(self, file: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM plans WHERE file = ?", [nfc(file)]))
        return rows[0] if rows else None

    def file_of_source(self, source: str) -> str | None:
        """The name a plan read from `source` (an absolute path) is stored under, if any."""
        row = self.db.execute("SELECT file FROM plans WHERE source = ?", [source]).fetchone()
        return row[0] if row else None

    def unchanged(self, file: str, digest: str) -> IndexReport | None:
        """The stored report when the plan under `file` was built from the same content by this
        parser version; else None."""
        stored = self.db.execute(
            "SELECT id, summary, content_hash, parser_version FROM plans WHERE file = ?", [file]
        ).fetchone()
        if stored and stored[2] == digest and stored[3] == PARSER_VERSION:
            return IndexReport(file, "unchanged", stored[0], json.loads(stored[1] or "{}"))
        return None

    def save_plan(
        self,
        file: str,
        plan: Plan,
        text: str,
        digest: str,
        embedder=None,
        source: str | None = None,
        summary: dict | None = None,
    ) -> IndexReport:
        """Store a parsed plan under `file`, replacing the previous one atomically (vectors of
        new texts computed first, outside the transaction)."""
        started = datetime.now(UTC)
        embedded = self._embed_missing(plan, embedder) if embedder is not None else 0
        summary = summary if summary is not None else plan.summary()
        plan_id = self._replace(nfc(file), text, plan, digest, source, summary)
        seconds = (datetime.now(UTC) - started).total_seconds()
        return IndexReport(nfc(file), "indexed", plan_id, summary, embedded=embedded, seconds=seconds)

    def index_text(self, file: str, text: str, embedder=None, force: bool = False) -> IndexReport:
        """Parse plain `text` and store it under `file` (files go through `indexer.indexing`)."""
        digest = file_hash(text.encode("utf-8"))
        if not force and (report := self.unchanged(nfc(file), digest)):
            return report
        return self.save_plan(file, parse_plan(text, self.registry()), text, digest, embedder)

    def _docs(self, plan: Plan) -> list[tuple[str, object, str]]:
        docs: list[tuple[str, object, str]] = []
        for task in plan.tasks:
            docs.append(("task", task, search_text_for_task(plan, task)))
        for clause in plan.clauses:
            docs.append(("clause", clause, search_text_for_clause(clause)))
        return docs

    def _embed_missing(self, plan: Plan, embedder) -> int:
        texts = {content_hash(t): t for _, _, t in self._docs(plan)}
        have = {
            row[0]
            for row in self.db.execute(
                f"SELECT content_hash FROM embeddings WHERE model = ? AND content_hash IN ({','.join('?' * len(texts))})",
                [embedder.name, *texts],
            ).fetchall()
        } if texts else set()
        missing = [(h, t) for h, t in texts.items() if h not in have]
        if not missing:
            return 0  # a lazy model stays unloaded when every text already has its vector
        model = resolve(embedder)
        if model is None:  # the model failed to load: lexical search only
            return 0
        vectors = model.encode_documents([t for _, t in missing])
        with self.db.conn:
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (content_hash, model, vector) VALUES (?, ?, ?)",
                [(h, embedder.name, np.asarray(v, dtype="<f4").tobytes()) for (h, _), v in zip(missing, vectors, strict=True)],
            )
        return len(missing)

    def _replace(
        self, file: str, text: str, plan: Plan, digest: str, source: str | None, summary: dict
    ) -> int:
        meta = plan.meta
        old = self.plan_row(file)
        db = self.db
        with transaction(db):  # one transaction: readers see the old plan or the new one, never half
            db.execute("UPDATE index_state SET generation = generation + 1")
            if old:
                plan_id = old["id"]
                self._delete_rows(plan_id)
            else:
                plan_id = None
            values = {
                "file": file,
                "content_hash": digest,
                "parser_version": PARSER_VERSION,
                "source": source,
                "title": meta.title,
                "number": meta.number,
                "issuer": meta.issuer,
                "date": meta.date.isoformat() if meta.date else None,
                "year": meta.year,
                "valid_until": meta.valid_until,
                "place": meta.place,
                "implements": json.dumps(meta.implements, ensure_ascii=False),
                "summary": json.dumps(summary, ensure_ascii=False),
                "text": text,
                "indexed_at": datetime.now(UTC).isoformat(),
            }
            if plan_id is None:
                cur = db.execute(
                    f"INSERT INTO plans ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                    list(values.values()),
                )
                plan_id = cur.lastrowid
            else:
                db.execute(
                    f"UPDATE plans SET {', '.join(k + ' = ?' for k in values)} WHERE id = ?",
                    [*values.values(), plan_id],
                )
            db.conn.executemany(
                "INSERT INTO sections (plan_id, path, label, title, level, parent) VALUES (?, ?, ?, ?, ?, ?)",
                [(plan_id, s.path, s.label, s.title, s.level, s.parent) for s in plan.sections],
            )
            clause_item: dict[int, int] = {}
            for kind, obj, search_text in self._docs(plan):
                deadline_id = self._insert_deadline(plan_id, obj.deadline)  # type: ignore[attr-defined]
                if kind == "task":
                    row = (
                        plan_id, "task", obj.ordinal, obj.table, obj.citation, obj.group or "", obj.text,  # type: ignore[attr-defined]
                        obj.lead_text, obj.support_text, obj.note, json.dumps(obj.extra, ensure_ascii=False),  # type: ignore[attr-defined]
                        deadline_id, 0, search_text, content_hash(search_text),
                    )
                    assignments = [(a, "lead") for a in obj.lead] + [(a, "support") for a in obj.support]  # type: ignore[attr-defined]
                else:
                    row = (
                        plan_id, "clause", obj.ordinal, obj.section, obj.citation, obj.heading, obj.text,  # type: ignore[attr-defined]
                        "", "", "", "{}", deadline_id, int(obj.in_implementation),  # type: ignore[attr-defined]
                        search_text, content_hash(search_text),
                    )
                    assignments = [(a.agency, a.role) for a in obj.assignments]  # type: ignore[attr-defined]
                cur = db.execute(
                    """INSERT INTO items (plan_id, kind, ordinal, section, citation, heading, text, lead_text,
                       support_text, note, extra, deadline_id, in_implementation, search_text, content_hash)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    row,
                )
                item_id = cur.lastrowid
                if kind == "clause":
                    clause_item[obj.ordinal] = item_id  # type: ignore[attr-defined]
                body = lexical_body_for_task(obj) if kind == "task" else search_text
                db.execute(
                    "INSERT INTO items_fts (rowid, body) VALUES (?, ?)",
                    [item_id, " ".join(lexical_terms(body))],
                )
                seen = set()
                for ref, role in assignments:
                    if (ref.name, role) in seen:
                        continue
                    seen.add((ref.name, role))
                    db.execute(
                        """INSERT INTO assignments (plan_id, item_id, agency, agency_raw, agency_key, role, collective)
                           VALUES (?, ?, ?, ?, ?, ?, ?)""",
                        [plan_id, item_id, ref.name, ref.raw, " ".join(words(ref.name)), role, int(ref.collective)],
                    )
                    db.execute(
                        "INSERT OR IGNORE INTO agencies (name, collective, source) VALUES (?, ?, 'plan')",
                        [ref.name, int(ref.collective)],
                    )
            for rule in plan.reporting_rules:
                db.execute(
                    """INSERT INTO reporting_rules (plan_id, item_id, section, text, reporters, recipients,
                       frequency, periods, due_day, deadline_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        plan_id,
                        clause_item.get(rule.clause_ordinal),
                        rule.section,
                        rule.text,
                        json.dumps([r.name for r in rule.reporters], ensure_ascii=False),
                        json.dumps([r.name for r in rule.recipients], ensure_ascii=False),
                        rule.frequency,
                        json.dumps(rule.periods),
                        rule.due_day,
                        self._insert_deadline(plan_id, rule.deadline),
                    ],
                )
        return int(plan_id)

    def _insert_deadline(self, plan_id: int, deadline: Deadline | None) -> int | None:
        if deadline is None:
            return None
        cur = self.db.execute(
            "INSERT INTO deadlines (plan_id, text, kind, start, end, recurrence, before) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                plan_id,
                deadline.text,
                deadline.kind,
                deadline.start.isoformat() if deadline.start else None,
                deadline.end.isoformat() if deadline.end else None,
                deadline.recurrence,
                int(deadline.before),
            ],
        )
        return cur.lastrowid

    def _delete_rows(self, plan_id: int) -> None:
        delete_plan_rows(self.db, plan_id)

    # -- reading ----------------------------------------------------------------------------
    def plans(self) -> list[dict]:
        rows = []
        for row in self.db.query("SELECT id, file, title, number, issuer, date, year, valid_until, place, implements, summary, indexed_at FROM plans ORDER BY id"):
            row["implements"] = json.loads(row["implements"] or "[]")
            row["summary"] = json.loads(row["summary"] or "{}")
            rows.append(row)
        return rows

    def items(self, ids: Iterable[int]) -> dict[int, dict]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = {
            r["id"]: r
            for r in self.db.query(
                f"""SELECT i.*, d.text AS d_text, d.kind AS d_kind, d.start AS d_start, d.end AS d_end,
                    d.recurrence AS d_recurrence, d.before AS d_before
                    FROM items i LEFT JOIN deadlines d ON d.id = i.deadline_id WHERE i.id IN ({marks})""",
                ids,
            )
        }
        for row in self.db.query(
            f"SELECT item_id, agency, role, collective FROM assignments WHERE item_id IN ({marks}) ORDER BY rowid", ids
        ):
            item = rows.get(row["item_id"])
            if item is not None:
                item.setdefault("assignments", []).append(row)
        for item in rows.values():
            item.setdefault("assignments", [])
            item["deadline"] = (
                Deadline.from_dict(
                    {
                        "text": item["d_text"],
                        "kind": item["d_kind"],
                        "start": item["d_start"],
                        "end": item["d_end"],
                        "recurrence": item["d_recurrence"],
                        "before": item["d_before"],
                    }
                )
                if item["d_text"]
                else None
            )
        return rows

    def plan_refs(self) -> dict[int, dict]:
        return {
            r["id"]: r
            for r in self.db.query("SELECT id, title, number, issuer, date, year, file FROM plans")
        }

    def assignment_item_ids(self, agency: str, role: str | None = None) -> list[tuple[int, str]]:
        key = " ".join(words(agency))
        sql = "SELECT item_id, role FROM assignments WHERE agency_key = ?"
        params: list = [key]
        if role:
            sql += " AND role = ?"
            params.append(role)
        return [(r[0], r[1]) for r in self.db.execute(sql, params).fetchall()]

    def dated_item_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM items WHERE deadline_id IS NOT NULL").fetchall()]

    def due_item_ids(
        self,
        start: str | None,
        end: str | None,
        contained: bool = False,
        agency: str | None = None,
        plan_first: int | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> tuple[list[int], int]:
        """Items whose dated deadline's LAST day ("Trước 01/7/2025" → 30/6/2025, as
        `knowledge.deadlines.last_day`) lies in [start, end] (ISO dates), ordered; and their count."""
        where = ["d.kind IN ('date', 'month', 'quarter', 'year', 'range')", "d.end IS NOT NULL"]
        params: list = []
        if end:
            where.append(f"{_LAST_DAY} <= ?")
            params.append(end)
        if start:
            where.append(f"{_LAST_DAY} >= ?")
            params.append(start)
            if contained:
                where.append("(d.start IS NULL OR d.start >= ?)")
                params.append(start)
        if agency:
            where.append(
                "i.id IN (SELECT item_id FROM assignments WHERE agency_key = ? AND role IN ('lead', 'support'))"
            )
            params.append(" ".join(words(agency)))
        sql_where = " AND ".join(where)
        base = f"FROM items i JOIN deadlines d ON d.id = i.deadline_id WHERE {sql_where}"
        total = int(self.db.execute(f"SELECT count(*) {base}", params).fetchone()[0])
        # The hinted plan first, then rows of task tables; deadlines lying wholly inside the period
        # ("Quý IV năm 2025") before those merely ending in it ("Năm 2025"); then by date.
        order = (
            "(i.plan_id = ?) DESC, (i.kind = 'task') DESC, (d.start IS NULL OR d.start >= ?) DESC, "
            f"{_LAST_DAY} {'DESC' if descending else 'ASC'}, i.id"
        )
        sql = f"SELECT i.id {base} ORDER BY {order}" + (" LIMIT ?" if limit else "")
        rows = self.db.execute(
            sql, [*params, plan_first or -1, start or "0000-00-00", *([limit] if limit else [])]
        ).fetchall()
        return [r[0] for r in rows], total

    def reporting_rules(
        self,
        agencies: list[str] | None = None,
        plan_id: int | None = None,
        plan_first: int | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Reporting rules (filtered by reporter/recipient, plan); with `limit`, the hinted plan's
        and the most specific rules (a due day, a recurrence) first."""
        where, params = [], []
        if agencies:
            marks = ",".join("?" * len(agencies))
            where.append(
                f"(EXISTS (SELECT 1 FROM json_each(r.reporters) WHERE value IN ({marks}))"
                f" OR EXISTS (SELECT 1 FROM json_each(r.recipients) WHERE value IN ({marks})))"
            )
            params += [*agencies, *agencies]
        if plan_id is not None:
            where.append("r.plan_id = ?")
            params.append(plan_id)
        rows = []
        for r in self.db.query(
            """SELECT r.*, d.text AS d_text, d.kind AS d_kind, d.recurrence AS d_recurrence
               FROM reporting_rules r LEFT JOIN deadlines d ON d.id = r.deadline_id"""
            + (" WHERE " + " AND ".join(where) if where else "")
            + (
                " ORDER BY (r.plan_id = ?) DESC, (r.due_day IS NULL), (d.recurrence IS NULL), r.plan_id, r.id LIMIT ?"
                if limit
                else " ORDER BY r.plan_id, r.id"
            ),
            [*params, plan_first or -1, limit] if limit else params,
        ):
            for key in ("reporters", "recipients", "periods"):
                r[key] = json.loads(r[key] or "[]")
            rows.append(r)
        return rows

    def document_frequencies(self, terms: list[str]) -> dict[str, int]:
        """How many items contain each term (FTS5 vocabulary)."""
        if not terms:
            return {}
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.items_vocab USING fts5vocab(main, items_fts, 'row')")
        marks = ",".join("?" * len(terms))
        rows = self.db.execute(f"SELECT term, doc FROM temp.items_vocab WHERE term IN ({marks})", terms).fetchall()
        found = {t: 0 for t in terms}
        found.update({r[0]: r[1] for r in rows})
        return found

    def item_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM items").fetchone()[0])

    def lexical(self, query_terms: list[str], limit: int = 50) -> list[tuple[int, float]]:
        """BM25 over folded syllables + bigrams (FTS5). Returns (item id, score ≥ 0)."""
        terms = [t for t in dict.fromkeys(query_terms) if t]
        if not terms:
            return []
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        rows = self.db.execute(
            "SELECT rowid, bm25(items_fts) FROM items_fts WHERE items_fts MATCH ? ORDER BY bm25(items_fts) LIMIT ?",
            [match, limit],
        ).fetchall()
        return [(r[0], -r[1]) for r in rows]

    def lexical_bodies(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r[0]: r[1] for r in self.db.execute(f"SELECT rowid, body FROM items_fts WHERE rowid IN ({marks})", ids).fetchall()}

    def vectors(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        """(item ids, matrix) of every item's embedding for `model`."""
        rows = self.db.execute(
            "SELECT i.id, e.vector FROM items i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ?",
            [model],
        ).fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        matrix = np.vstack([np.frombuffer(r[1], dtype="<f4") for r in rows])
        return ids, matrix

    def data_version(self) -> int:
        """Changes whenever a plan is added, replaced or deleted (by any connection)."""
        return int(self.db.execute("SELECT generation FROM index_state").fetchone()[0])

