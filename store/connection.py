"""SQLite connections and write transactions for the store (sqlite-utils over `sqlite3`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils


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


def connect(path: Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("PRAGMA synchronous=NORMAL")
    return db
