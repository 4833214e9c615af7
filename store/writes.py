"""Writing a plan into the store: the texts each row is searched by, their vectors (computed
before the transaction), and the replacement of a plan's rows in one transaction.

Readers on other connections see the old plan or the new one, never half (WAL + one
`transaction`); `index_state.generation` is bumped in the same commit so they refresh caches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from knowledge.model import Deadline, Plan
from knowledge.text import nfc, words
from store import lexical_pg, vectors_pg
from store.connection import Database, pg_sql, transaction

PARSER_VERSION = "7"
# Bumped when the loaders read a file differently: its stored plan is then rebuilt.
LOADER_VERSION = "2"


@dataclass
class IndexReport:
    file: str
    status: str  # "indexed" | "unchanged" | "failed"
    plan_id: int | None = None
    summary: dict = field(default_factory=dict)
    error: str = ""
    embedded: int = 0
    seconds: float = 0.0


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


def plan_docs(plan: Plan) -> list[tuple[str, object, str]]:
    """(kind, task or clause, search text) of every row a plan stores, tasks first."""
    docs: list[tuple[str, object, str]] = []
    for task in plan.tasks:
        docs.append(("task", task, search_text_for_task(plan, task)))
    for clause in plan.clauses:
        docs.append(("clause", clause, search_text_for_clause(clause)))
    return docs


def plan_row(db: Database, file: str) -> dict | None:
    rows = list(db.query("SELECT * FROM plans WHERE file = ?", [nfc(file)]))
    return rows[0] if rows else None


def delete_plan_rows(db: Database, plan_id: int) -> None:
    """Every row of a plan but its `plans` row."""
    ids = [r[0] for r in db.execute("SELECT id FROM items WHERE plan_id = ?", [plan_id]).fetchall()]
    if ids:
        db.executemany("DELETE FROM items_fts WHERE rowid = ?", [(i,) for i in ids])
    for table in ("assignments", "reporting_rules", "items", "deadlines", "sections"):
        db.execute(f"DELETE FROM {table} WHERE plan_id = ?", [plan_id])


def missing_vectors(db: Database, model: str, texts: dict[str, str]) -> list[tuple[str, str]]:
    """(content hash, text) of the `texts` (by content hash) with no vector for `model` yet."""
    have = {
        row[0]
        for row in db.execute(
            f"SELECT content_hash FROM embeddings WHERE model = ? AND content_hash IN ({','.join('?' * len(texts))})",
            [model, *texts],
        ).fetchall()
    } if texts else set()
    return [(h, t) for h, t in texts.items() if h not in have]


def save_vectors(db: Database, model: str, vectors: list[tuple[str, object]]) -> None:
    """Store (content hash, vector) pairs of `model` as float32 BLOBs (pgvector on PostgreSQL)."""
    if db.engine == "postgresql":
        vectors_pg.save_vectors(db, model, vectors)
        return
    with db.conn:
        db.conn.executemany(
            """INSERT INTO embeddings (content_hash, model, vector) VALUES (?, ?, ?)
               ON CONFLICT (content_hash, model) DO UPDATE SET vector = excluded.vector""",
            [(h, model, np.asarray(v, dtype="<f4").tobytes()) for h, v in vectors],
        )


@contextmanager
def bulk_load(db: Database) -> Iterator[object]:
    """See `Store.bulk_load`: its state on PostgreSQL (`vectors_pg.Bulk`), None on SQLite."""
    if db.engine != "postgresql":
        yield None
        return
    with vectors_pg.bulk(db) as state:
        yield state


def replace_plan(
    db: Database, file: str, text: str, plan: Plan, digest: str, source: str | None, summary: dict
) -> int:
    """Replace the plan stored under `file` (or add it) in one transaction; its id (kept on replace)."""
    meta = plan.meta
    old = plan_row(db, file)
    with transaction(db):  # one transaction: readers see the old plan or the new one, never half
        db.execute("UPDATE index_state SET generation = generation + 1")
        if old:
            plan_id = old["id"]
            delete_plan_rows(db, plan_id)
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
                f"INSERT INTO plans ({', '.join(values)}) VALUES ({', '.join('?' * len(values))}) RETURNING id",
                list(values.values()),
            )
            plan_id = cur.fetchall()[0][0]
        else:
            db.execute(
                f"UPDATE plans SET {', '.join(k + ' = ?' for k in values)} WHERE id = ?",
                [*values.values(), plan_id],
            )
        db.executemany(
            "INSERT INTO sections (plan_id, path, label, title, level, parent) VALUES (?, ?, ?, ?, ?, ?)",
            [(plan_id, s.path, s.label, s.title, s.level, s.parent) for s in plan.sections],
        )
        docs = plan_docs(plan)
        deadlines = iter(insert_deadlines(db, plan_id, [obj.deadline for _, obj, _ in docs]))  # type: ignore[attr-defined]
        rows, assigned = [], []
        for kind, obj, search_text in docs:
            deadline_id = next(deadlines)
            if kind == "task":
                rows.append((
                    plan_id, "task", obj.ordinal, obj.table, obj.citation, obj.group or "", obj.text,  # type: ignore[attr-defined]
                    obj.lead_text, obj.support_text, obj.note, json.dumps(obj.extra, ensure_ascii=False),  # type: ignore[attr-defined]
                    deadline_id, 0, search_text, content_hash(search_text),
                ))
                assigned.append([(a, "lead") for a in obj.lead] + [(a, "support") for a in obj.support])  # type: ignore[attr-defined]
            else:
                rows.append((
                    plan_id, "clause", obj.ordinal, obj.section, obj.citation, obj.heading, obj.text,  # type: ignore[attr-defined]
                    "", "", "", "{}", deadline_id, int(obj.in_implementation),  # type: ignore[attr-defined]
                    search_text, content_hash(search_text),
                ))
                assigned.append([(a.agency, a.role) for a in obj.assignments])  # type: ignore[attr-defined]
        item_ids = insert_ids(
            db,
            """INSERT INTO items (plan_id, kind, ordinal, section, citation, heading, text, lead_text,
               support_text, note, extra, deadline_id, in_implementation, search_text, content_hash)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            rows,
        )
        clause_item: dict[int, int] = {}
        bodies: list[tuple[int, str]] = []
        assignment_rows, agency_rows = [], []
        for (kind, obj, search_text), item_id, assignments in zip(docs, item_ids, assigned, strict=True):
            if kind == "clause":
                clause_item[obj.ordinal] = item_id  # type: ignore[attr-defined]
            body = lexical_body_for_task(obj) if kind == "task" else search_text
            bodies.append((item_id, " ".join(lexical_terms(body))))
            seen = set()
            for ref, role in assignments:
                if (ref.name, role) in seen:
                    continue
                seen.add((ref.name, role))
                assignment_rows.append(
                    (plan_id, item_id, ref.name, ref.raw, " ".join(words(ref.name)), role, int(ref.collective))
                )
                agency_rows.append((ref.name, int(ref.collective)))
        if assignment_rows:
            db.executemany(
                """INSERT INTO assignments (plan_id, item_id, agency, agency_raw, agency_key, role, collective)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                assignment_rows,
            )
            db.executemany(
                "INSERT INTO agencies (name, collective, source) VALUES (?, ?, 'plan') ON CONFLICT (name) DO NOTHING",
                agency_rows,
            )
        insert_bodies(db, bodies)
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
                    insert_deadline(db, plan_id, rule.deadline),
                ],
            )
    return int(plan_id)


def insert_deadline(db: Database, plan_id: int, deadline: Deadline | None) -> int | None:
    return insert_deadlines(db, plan_id, [deadline])[0]


def insert_deadlines(db: Database, plan_id: int, deadlines: list[Deadline | None]) -> list[int | None]:
    """Store the deadlines given (None: none); their ids, None where none was given."""
    given = [d for d in deadlines if d is not None]
    ids = iter(
        insert_ids(
            db,
            """INSERT INTO deadlines (plan_id, text, kind, start, "end", recurrence, before)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id""",
            [
                (
                    plan_id,
                    d.text,
                    d.kind,
                    d.start.isoformat() if d.start else None,
                    d.end.isoformat() if d.end else None,
                    d.recurrence,
                    int(d.before),
                )
                for d in given
            ],
        )
    )
    return [None if d is None else next(ids) for d in deadlines]


def insert_ids(db: Database, sql: str, rows: list[tuple]) -> list[int]:
    """Run an `INSERT … RETURNING id` for each row, in order; their ids. On PostgreSQL the rows
    go in one pipeline (no round trip per row)."""
    if not rows:
        return []
    if db.engine != "postgresql":
        return [db.execute(sql, row).fetchall()[0][0] for row in rows]
    cursor = db.conn.raw.cursor()
    cursor.executemany(pg_sql(sql), rows, returning=True)
    ids = []
    while True:
        ids.append(int(cursor.fetchone()[0]))
        if not cursor.nextset():
            return ids


def insert_bodies(db: Database, rows: list[tuple[int, str]]) -> None:
    """The lexical index's rows: (item id, body of folded syllables and pairs)."""
    if db.engine == "postgresql":
        lexical_pg.insert_bodies(db, rows)
    elif rows:
        db.executemany("INSERT INTO items_fts (rowid, body) VALUES (?, ?)", rows)
