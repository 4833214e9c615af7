"""Reading the store: the queries search, answering, reminders and the bot run on the index.

`StoreQueries` is mixed into `store.database.Store`; every method reads through `self.db`, this
thread's connection, so calls made inside `Store.reading()` see one snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np

from knowledge.model import Deadline
from knowledge.text import words
from store import lexical_pg, vectors_pg
from store.connection import Database
from store.dialect import json_list_has, last_day

_VECTOR_CHUNK = 4096  # embedding rows read at a time
_DEADLINE_KEYS = ("text", "kind", "start", "end", "recurrence", "before")


class StoreQueries:
    """The read queries of `Store` (which supplies `db`)."""

    db: Database

    def plans(self) -> list[dict]:
        rows = []
        for row in self.db.query("SELECT id, file, title, number, issuer, date, year, valid_until, place, implements, summary, indexed_at FROM plans ORDER BY id"):
            row["implements"] = json.loads(row["implements"] or "[]")
            row["summary"] = json.loads(row["summary"] or "{}")
            rows.append(row)
        return rows

    def items(self, ids: Iterable[int]) -> dict[int, dict]:
        """Items by id, each with its `deadline` (or None) and its `assignments` (item_id, agency,
        agency_raw, role, collective), in the order written. Read as plain tuples (an agency's
        1,300 duties at 1,000 plans: sqlite-utils' dict per row cost more than the query)."""
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows: dict[int, dict] = {}
        cursor = self.db.execute(
            f"""SELECT i.*, d.text, d.kind, d.start, d.end, d.recurrence, d.before
                FROM items i LEFT JOIN deadlines d ON d.id = i.deadline_id WHERE i.id IN ({marks}) ORDER BY i.id""",
            ids,
        )
        columns = [c[0] for c in cursor.description][: -len(_DEADLINE_KEYS)]
        width = len(columns)
        for r in cursor.fetchall():
            item = dict(zip(columns, r[:width], strict=True))
            item["assignments"] = []
            item["deadline"] = Deadline.from_dict(dict(zip(_DEADLINE_KEYS, r[width:], strict=True))) if r[width] else None
            rows[r[0]] = item
        for item_id, agency, raw, role, collective in self.db.execute(
            f"SELECT item_id, agency, agency_raw, role, collective FROM assignments WHERE item_id IN ({marks}) ORDER BY rowid",
            ids,
        ).fetchall():
            item = rows.get(item_id)
            if item is not None:
                item["assignments"].append(
                    {"item_id": item_id, "agency": agency, "agency_raw": raw, "role": role, "collective": collective}
                )
        return rows

    def plan_refs(self) -> dict[int, dict]:
        return {
            r["id"]: r
            for r in self.db.query("SELECT id, title, number, issuer, date, year, file FROM plans ORDER BY id")
        }

    def assignment_item_ids(self, agency: str, role: str | None = None) -> list[tuple[int, str]]:
        key = " ".join(words(agency))
        sql = "SELECT item_id, role FROM assignments WHERE agency_key = ?"
        params: list = [key]
        if role:
            sql += " AND role = ?"
            params.append(role)
        return [(r[0], r[1]) for r in self.db.execute(sql + " ORDER BY rowid", params).fetchall()]

    def duty_rows(self, agency: str) -> list[tuple[int, int, str, str, int | None]]:
        """(item id, plan id, kind, text, rank of `agency`'s own role: 0 lead, 1 support,
        2 recipient, None when only a same-key spelling is assigned) of the items assigned to
        the agency's key: what an agency's duties are sorted and de-duplicated on."""
        return self.db.execute(
            """SELECT i.id, i.plan_id, i.kind, i.text,
                 (SELECT min(CASE a.role WHEN 'lead' THEN 0 WHEN 'support' THEN 1 ELSE 2 END)
                  FROM assignments a WHERE a.item_id = i.id AND a.agency = ?)
               FROM items i WHERE i.id IN (SELECT item_id FROM assignments WHERE agency_key = ?) ORDER BY i.id""",
            [agency, " ".join(words(agency))],
        ).fetchall()

    def dated_item_ids(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM items WHERE deadline_id IS NOT NULL ORDER BY id").fetchall()]

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
        `knowledge.dates.deadlines.last_day`) lies in [start, end] (ISO dates), ordered; and their count."""
        where = ["d.kind IN ('date', 'month', 'quarter', 'year', 'range')", "d.end IS NOT NULL"]
        params: list = []
        due_day = last_day(self.db, ("date", "month", "quarter"))
        if end:
            where.append(f"{due_day} <= ?")
            params.append(end)
        if start:
            where.append(f"{due_day} >= ?")
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
            f"{due_day} {'DESC' if descending else 'ASC'}, i.id"
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
            where.append(
                f"({json_list_has(self.db, 'r.reporters', len(agencies))} OR {json_list_has(self.db, 'r.recipients', len(agencies))})"
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
        if self.db.engine == "postgresql":
            return lexical_pg.document_frequencies(self.db, terms)
        self.db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.items_vocab USING fts5vocab(main, items_fts, 'row')")
        marks = ",".join("?" * len(terms))
        rows = self.db.execute(f"SELECT term, doc FROM temp.items_vocab WHERE term IN ({marks})", terms).fetchall()
        found = {t: 0 for t in terms}
        found.update({r[0]: r[1] for r in rows})
        return found

    def item_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM items").fetchone()[0])

    def lexical(
        self, query_terms: list[str], limit: int = 50, plans: frozenset[int] | None = None
    ) -> list[tuple[int, float]]:
        """BM25 over folded syllables + bigrams (FTS5; the same scores on PostgreSQL,
        `store.lexical_pg`). Returns (item id, score ≥ 0), best first; `plans`: their items only."""
        terms = [t for t in dict.fromkeys(query_terms) if t]
        if not terms or (plans is not None and not plans):
            return []
        if self.db.engine == "postgresql":
            return lexical_pg.lexical(self.db, terms, limit, plans)
        match = " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
        if plans is None:
            sql, params = "SELECT rowid, bm25(items_fts) FROM items_fts WHERE items_fts MATCH ?", [match]
        else:
            sql = (
                "SELECT f.rowid, bm25(items_fts) FROM items_fts f JOIN items i ON i.id = f.rowid WHERE items_fts MATCH ? "
                f"AND i.plan_id IN ({','.join('?' * len(plans))})"
            )
            params = [match, *sorted(plans)]
        rows = self.db.execute(sql + " ORDER BY bm25(items_fts) LIMIT ?", [*params, limit]).fetchall()
        return [(r[0], -r[1]) for r in rows]

    def plan_has_term(self, plan_id: int, term: str) -> bool:
        """Some item of the plan holds this lexical term (a folded syllable or pair)."""
        if self.db.engine == "postgresql":
            return lexical_pg.plan_has_term(self.db, plan_id, term)
        row = self.db.execute(
            "SELECT 1 FROM items_fts f JOIN items i ON i.id = f.rowid WHERE items_fts MATCH ? AND i.plan_id = ? LIMIT 1",
            ['"' + term.replace('"', "") + '"', plan_id],
        ).fetchone()
        return row is not None

    def nearest(self, model: str, query: np.ndarray, k: int) -> list[int] | None:
        """The k items nearest the query through the database's own vector index (pgvector
        HNSW); None on SQLite (the search keeps the vectors in memory: `answering.ann`)."""
        if self.db.engine != "postgresql":
            return None
        return vectors_pg.nearest(self.db, model, query, k)

    def lexical_bodies(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        return {r[0]: r[1] for r in self.db.execute(f"SELECT rowid, body FROM items_fts WHERE rowid IN ({marks})", ids).fetchall()}

    def vectors(self, model: str) -> tuple[np.ndarray, np.ndarray]:
        """(item ids, matrix) of every item's embedding for `model` (call inside `reading()`).

        The matrix is allocated once and filled a chunk of rows at a time, so the rows' bytes
        objects (150 MB at 1,000 plans) are never all held beside it."""
        join = "FROM items i JOIN embeddings e ON e.content_hash = i.content_hash AND e.model = ?"
        count = int(self.db.execute(f"SELECT count(*) {join}", [model]).fetchone()[0])
        postgres = self.db.engine == "postgresql"
        cursor = self.db.execute(f"SELECT i.id, {'vector_send(e.vector)' if postgres else 'e.vector'} {join} ORDER BY i.id", [model])
        ids = np.empty(count, dtype=np.int64)
        matrix: np.ndarray | None = None
        filled = 0
        while chunk := cursor.fetchmany(_VECTOR_CHUNK):
            if matrix is None:
                matrix = np.empty((count, (len(chunk[0][1]) - 4 * postgres) // 4), dtype=np.float32)
            end = filled + len(chunk)
            ids[filled:end] = [r[0] for r in chunk]
            if postgres:
                matrix[filled:end] = [vectors_pg.decode(r[1]) for r in chunk]
            else:
                matrix[filled:end] = np.frombuffer(b"".join(r[1] for r in chunk), dtype="<f4").reshape(len(chunk), -1)
            filled = end
        if matrix is None:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return ids, matrix

    def data_version(self) -> int:
        """Changes whenever a plan is added, replaced or deleted (by any connection)."""
        return int(self.db.execute("SELECT generation FROM index_state").fetchone()[0])
