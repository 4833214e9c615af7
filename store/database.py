"""The SQLite store (through sqlite-utils): numbered migrations, atomic per-plan reindexing.

The store only stores: the pipeline (`indexer.indexing`) parses and embeds, then hands it a
finished plan. A plan is replaced in one transaction: delete the old rows and insert the new
ones. WAL mode lets readers keep answering from the old plan until the commit. Unchanged files
(same content hash and parser version) cost nothing.

The parts: connections and transactions (`store.connection`), the schema's migrations
(`store.migrations`), writing a plan (`store.writes`) and the read queries
(`store.reads`). `Store` ties them to one connection per thread.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from knowledge.errors import PlanbotError
from knowledge.model import Plan
from knowledge.orgs.agencies import AgencyRegistry
from knowledge.text import nfc, words
from store.connection import Database, begin_read, connect, is_url, transaction
from store.migrations import migrate
from store.reads import StoreQueries
from store.writes import (
    PARSER_VERSION,
    IndexReport,
    bulk_load,
    missing_vectors,
    plan_row,
    replace_plan,
    save_vectors,
)


def open_db(path: Path | str, create: bool = True) -> Database:
    if is_url(path):
        db = connect(path)
        migrate(db)
        return db
    path = Path(path)
    if not create and not path.exists():
        raise PlanbotError(f"Chưa có chỉ mục tại {path}. Hãy chạy: planbot index <thư mục kế hoạch>.")
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    migrate(db)
    return db


class Store(StoreQueries):
    """All reads and writes of the index. Safe to share between threads: each thread gets its
    own connection (SQLite: WAL lets them read while another writes). `path`: a SQLite file, or
    a `postgresql://` URL."""

    def __init__(self, path: Path | str, create: bool = True) -> None:
        self.path: Path | str = path if is_url(path) else Path(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._local.db = open_db(self.path, create=create)
        self._connections = [self._local.db]
        self._seed_agencies()

    @property
    def engine(self) -> str:
        """"sqlite" or "postgresql"."""
        return "postgresql" if is_url(self.path) else "sqlite"

    @property
    def db(self) -> Database:
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
        commit (SQLite WAL; PostgreSQL REPEATABLE READ), however many statements an answer
        takes. Nested calls join the outer one."""
        conn = self.db.conn
        depth = getattr(self._local, "reads", 0)
        begin = depth == 0 and not conn.in_transaction
        if begin:
            begin_read(self.db)
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
                    "INSERT INTO agencies (name, collective, source) VALUES (?, ?, 'static') ON CONFLICT (name) DO NOTHING",
                    [entry.name, int(entry.collective)],
                )
                for alias in (entry.name, *entry.aliases):
                    self.db.execute(
                        """INSERT INTO agency_aliases (alias, alias_key, agency) VALUES (?, ?, ?)
                           ON CONFLICT (alias_key, agency) DO NOTHING""",
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
        return plan_row(self.db, file)

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
        source: str | None = None,
        summary: dict | None = None,
    ) -> IndexReport:
        """Store a parsed plan under `file`, replacing the previous one atomically (its vectors
        are stored before, by the pipeline: `indexer.indexing.store_plan`)."""
        started = datetime.now(UTC)
        summary = summary if summary is not None else plan.summary()
        plan_id = replace_plan(self.db, nfc(file), text, plan, digest, source, summary)
        seconds = (datetime.now(UTC) - started).total_seconds()
        return IndexReport(nfc(file), "indexed", plan_id, summary, seconds=seconds)

    def missing_vectors(self, model: str, texts: dict[str, str]) -> list[tuple[str, str]]:
        """(content hash, text) of the `texts` with no vector for `model` yet."""
        return missing_vectors(self.db, model, texts)

    def save_vectors(self, model: str, vectors: list[tuple[str, object]]) -> None:
        """Store (content hash, vector) pairs of `model`."""
        save_vectors(self.db, model, vectors)

    @contextmanager
    def bulk_load(self) -> Iterator[object]:
        """Many plans saved in a row (a folder): on PostgreSQL, the vector index is built once at
        the end when the load is large (`store.vectors_pg.bulk`); a single upload stays incremental."""
        with bulk_load(self.db) as state:
            yield state
