"""Which SQL engine a connection speaks, for the few statements that differ between them.

Everything else is written once, in the subset both engines accept (`?` placeholders,
`ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING`). The PostgreSQL connection wrapper says what it
is with a `dialect` attribute; sqlite-utils' `Database` has none.
"""

from __future__ import annotations

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def dialect(db: object) -> str:
    """ "postgresql" for the PostgreSQL wrapper, "sqlite" for sqlite-utils' Database."""
    return getattr(db, "dialect", SQLITE)


def blob_type(db: object) -> str:
    """The column type of raw bytes."""
    return "BYTEA" if dialect(db) == POSTGRESQL else "BLOB"


def skip_locked(db: object) -> str:
    """Appended to a claiming subquery: on PostgreSQL rows another transaction holds are skipped
    (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time (BEGIN IMMEDIATE), nothing to add."""
    return " FOR UPDATE SKIP LOCKED" if dialect(db) == POSTGRESQL else ""
