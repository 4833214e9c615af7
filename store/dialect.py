"""The few SQL expressions SQLite and PostgreSQL spell differently, for queries on both."""

from __future__ import annotations

from store.connection import Database


def last_day(db: Database, kinds: tuple[str, ...] | None = None) -> str:
    """A deadline `d`'s last day as ISO text: the day before an exclusive bound ("Trước
    01/7/2025"), as `knowledge.dates.deadlines.last_day`; `kinds`: only for these kinds."""
    before = "d.before <> 0" + (
        f" AND d.kind IN ({', '.join(repr(k) for k in kinds)})" if kinds else ""
    )
    if db.engine == "sqlite":
        return f"date(d.end, CASE WHEN {before} THEN '-1 day' ELSE '+0 day' END)"
    return f"to_char(CAST(d.end AS date) - CASE WHEN {before} THEN 1 ELSE 0 END, 'YYYY-MM-DD')"


def json_list_has(db: Database, column: str, count: int) -> str:
    """The JSON list in `column` holds one of `count` `?` values."""
    marks = ",".join("?" * count)
    if db.engine == "sqlite":
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({marks}))"
    return f"EXISTS (SELECT 1 FROM json_array_elements_text(CAST({column} AS json)) AS j(value) WHERE value IN ({marks}))"


def position(db: Database) -> str:
    """The function giving where a text occurs in another, 0 when it does not (haystack, needle)."""
    return "instr" if db.engine == "sqlite" else "strpos"
