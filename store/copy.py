"""Copying a whole store between engines (`planbot db copy --from … --to …`): SQLite → PostgreSQL
and back, or between two of the same kind.

Both ends are brought to this version's schema first; a database whose schema is newer than
this code (a migration it does not know) is refused. The copy replaces the target's rows in one
transaction (every table emptied, then filled from the source), so running it twice gives the
same rows, never duplicates; the rows of each table are counted on both sides afterwards. Per
engine: the lexical index (`items_fts`: FTS5 / the PostgreSQL table of `store.lexical_pg`) gets
each body re-indexed, vectors go BLOB ↔ pgvector, identity counters are moved past the copied
ids, and the index generation is bumped so running readers of the target refresh. The source
is read in one snapshot (it may be in use meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.errors import PlanbotError
from store import lexical_pg, vectors_pg
from store.connection import Database, begin_read, connect, is_url, transaction
from store.database import open_db
from store.migrations import MIGRATIONS, RENAMED

# Parents before children (foreign keys); tables not named here follow, by name.
ORDER = [
    "plans",
    "sections",
    "deadlines",
    "items",
    "assignments",
    "reporting_rules",
    "agencies",
    "agency_aliases",
    "embeddings",
    "items_fts",
    "index_state",
]
SKIP = {"_migrations", "fts_stats", *lexical_pg.DERIVED}
_BATCH = 2000


@dataclass(frozen=True)
class Counted:
    table: str
    source: int
    target: int


def applied(location: Path | str) -> set[str]:
    """The migrations a database has had (empty for a new one), under their current names."""
    if not is_url(location) and not Path(location).exists():
        return set()
    db = connect(location)
    try:
        exists = (
            db.execute("SELECT 1 FROM sqlite_master WHERE name = '_migrations'").fetchone()
            if db.engine == "sqlite"
            else db.execute("SELECT to_regclass('_migrations')").fetchone()[0]
        )
        if not exists:
            return set()
        return {
            RENAMED.get(r[0], r[0]) for r in db.execute("SELECT name FROM _migrations").fetchall()
        }
    finally:
        db.conn.close()


def check_schema(location: Path | str, role: str) -> None:
    unknown = applied(location) - {m.__name__ for m in MIGRATIONS}
    if unknown:
        raise PlanbotError(
            f"Cơ sở dữ liệu {role} ({location}) có lược đồ mới hơn phiên bản này "
            f"({', '.join(sorted(unknown))}): hãy cập nhật planbot rồi chép lại."
        )


def tables(db: Database) -> list[str]:
    if db.engine == "sqlite":
        names = [
            r[0]
            for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        ]
        names = [n for n in names if not n.startswith(("sqlite_", "items_fts_"))]
    else:
        names = [
            r[0]
            for r in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
    names = [n for n in names if n not in SKIP]
    return [t for t in ORDER if t in names] + sorted(n for n in names if n not in ORDER)


def columns(db: Database, table: str) -> list[str]:
    """The columns copied: the shared schema's, with the rowid that orders `assignments`."""
    if table == "items_fts":
        return ["rowid", "body"]
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    names = [c[0] for c in cursor.description]
    if table == "assignments" and db.engine == "sqlite":
        names = ["rowid", *names]
    return names


def _vector_reader(db: Database) -> Callable[[object], bytes]:
    if db.engine == "sqlite":
        return lambda value: value  # type: ignore[return-value]
    return lambda value: vectors_pg.decode(value).astype("<f4").tobytes()  # type: ignore[arg-type]


def _rows(db: Database, table: str, names: list[str]):
    postgres_vector = (table, db.engine) == ("embeddings", "postgresql")
    select = ", ".join(
        "vector_send(vector)" if postgres_vector and n == "vector" else _quoted(n) for n in names
    )
    cursor = db.execute(f"SELECT {select} FROM {table} ORDER BY 1")
    while batch := cursor.fetchmany(_BATCH):
        yield batch


def _write(db: Database, table: str, names: list[str], batch: list) -> None:
    if table == "items_fts":
        if db.engine == "postgresql":
            lexical_pg.insert_bodies(db, [(r[0], r[1]) for r in batch])
        else:
            db.executemany("INSERT INTO items_fts (rowid, body) VALUES (?, ?)", batch)
        return
    marks = ", ".join("?" for _ in names)
    if table == "embeddings" and db.engine == "postgresql":
        at = names.index("vector")
        marks = ", ".join("CAST(? AS vector)" if n == "vector" else "?" for n in names)
        batch = [
            tuple(
                vectors_pg.literal(np.frombuffer(v, dtype="<f4")) if i == at else v
                for i, v in enumerate(r)
            )
            for r in batch
        ]
    db.executemany(
        f"INSERT INTO {table} ({', '.join(_quoted(n) for n in names)}) VALUES ({marks})", batch
    )


def _quoted(column: str) -> str:
    return column if column == "rowid" else f'"{column}"'  # "end" is a keyword on PostgreSQL


def _reset_identities(db: Database) -> None:
    """PostgreSQL's identity counters past the ids copied in (SQLite takes max(rowid) + 1 itself)."""
    rows = db.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND is_identity = 'YES'"
    ).fetchall()
    for table, column in rows:
        db.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), coalesce(max({column}), 0) + 1, false) FROM {table}"
        )


def copy(
    source: Path | str, target: Path | str, progress: Callable[[str], None] = lambda _: None
) -> list[Counted]:
    """Replace the target's rows by the source's; the row counts of every table, both sides."""
    if str(source) == str(target):
        raise PlanbotError("Nguồn và đích là cùng một cơ sở dữ liệu.")
    if not is_url(source) and not Path(source).exists():
        raise PlanbotError(f"Không có cơ sở dữ liệu nguồn {source}.")
    check_schema(source, "nguồn")
    check_schema(target, "đích")
    src, dst = open_db(source), open_db(target)
    try:
        begin_read(src)  # the source read in one snapshot, its counts included
        names = tables(src)
        missing = set(names) - set(tables(dst))
        if missing:
            raise PlanbotError(f"Đích thiếu bảng {', '.join(sorted(missing))}.")
        generation = max(
            int(db.execute("SELECT generation FROM index_state").fetchone()[0]) for db in (src, dst)
        )
        read_vector = _vector_reader(src)
        with transaction(dst):
            for table in reversed(names):
                dst.execute(f"DELETE FROM {table}")
            if dst.engine == "postgresql":
                vectors_pg.drop_indexes(dst)
            for table in names:
                cols = columns(
                    src, table
                )  # the same names on both ends ("rowid" is a column on PostgreSQL)
                for batch in _rows(src, table, cols):
                    if table == "embeddings":
                        at = cols.index("vector")
                        batch = [
                            tuple(read_vector(v) if i == at else v for i, v in enumerate(r))
                            for r in batch
                        ]
                    _write(dst, table, cols, batch)
                progress(table)
            dst.execute("UPDATE index_state SET generation = ?", [generation + 1])
            if dst.engine == "postgresql":
                vectors_pg.build_indexes(dst)
                _reset_identities(dst)
        if dst.engine == "postgresql":
            dst.execute("ANALYZE")  # the planner's statistics of the new rows, before the first query
        counted = [
            Counted(
                t,
                *(int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for db in (src, dst)),
            )
            for t in names
        ]
        src.conn.commit()
        return counted
    finally:
        src.conn.close()
        dst.conn.close()
