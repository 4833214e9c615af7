"""BM25 on PostgreSQL, scored exactly as SQLite FTS5's `bm25()` (k1 1.2, b 0.75).

`items_fts` keeps, beside each item's lexical body (folded syllables and pairs, as on SQLite):
its tokens as FTS5's unicode61 tokenizer splits them (`tokens`, space-delimited), their count
(`length`) and each token's count (`tf`, jsonb, GIN-indexed: the inverted index). `fts_stats`
holds the row and token totals (kept by a trigger), so a query reads no table-wide aggregate.

FTS5's formula per query phrase: idf = ln((N − n + 0.5) / (n + 0.5)), at least 1e-6; score =
Σ idf · tf · (k1 + 1) / (tf + k1 · (1 − b + b · length / avgdl)). A query term the tokenizer
splits ("30/6/2025" → 30 6 2025) is a phrase, as FTS5 makes it: matched on consecutive tokens.
SQL here is psycopg's own (`%s`, jsonb `?|`), run through `db.raw`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter

K1, B = 1.2, 0.75
_TOKEN = re.compile(r"[\w&]+")  # unicode61 with tokenchars '_&': letters, digits, '_' and '&'


def create_lexical_tables(db) -> None:
    db.execute(
        """CREATE TABLE items_fts (rowid BIGINT PRIMARY KEY, body TEXT NOT NULL,
            tokens TEXT NOT NULL, length INTEGER NOT NULL, tf JSONB NOT NULL)"""
    )
    db.execute("CREATE INDEX idx_items_fts_tf ON items_fts USING gin (tf)")
    db.execute(
        "CREATE TABLE fts_stats (id INTEGER PRIMARY KEY CHECK (id = 1), rows BIGINT NOT NULL, tokens BIGINT NOT NULL)"
    )
    db.execute("INSERT INTO fts_stats VALUES (1, 0, 0)")
    db.execute(
        """CREATE FUNCTION fts_stats_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            UPDATE fts_stats SET rows = rows + 1, tokens = tokens + NEW.length WHERE id = 1;
          ELSE
            UPDATE fts_stats SET rows = rows - 1, tokens = tokens - OLD.length WHERE id = 1;
          END IF;
          RETURN NULL;
        END $$"""
    )
    db.execute(
        """CREATE TRIGGER items_fts_stats AFTER INSERT OR DELETE ON items_fts
           FOR EACH ROW EXECUTE FUNCTION fts_stats_keep()"""
    )


def tokens(text: str) -> list[str]:
    """The tokens FTS5 makes of a body or a query phrase."""
    return _TOKEN.findall(text.lower())


def fts_values(body: str) -> tuple[str, int, str]:
    """(tokens, length, tf as JSON) of a body: the columns stored beside it."""
    toks = tokens(body)
    return " " + " ".join(toks) + " ", len(toks), json.dumps(Counter(toks), ensure_ascii=False)


def insert_bodies(db, rows: list[tuple[int, str]]) -> None:
    """Store (item id, lexical body) rows."""
    if not rows:
        return
    with db.conn.raw.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO items_fts (rowid, body, tokens, length, tf) VALUES (%s, %s, %s, %s, %s::jsonb)",
            [(i, body, *fts_values(body)) for i, body in rows],
        )


def _condition(toks: list[str], params: list) -> str:
    """SQL matching the rows holding a phrase of these tokens (one token: a key of `tf`)."""
    if len(toks) == 1:
        params.append(toks[0])
        return "f.tf ? %s"
    phrase = " ".join(toks).replace("\\", "\\\\").replace("_", "\\_")
    params += [toks, f"% {phrase} %"]
    return "(f.tf ?& %s::text[] AND f.tokens LIKE %s)"


def _frequency(toks: list[str], params: list) -> str:
    """SQL of a phrase's count in a row."""
    if len(toks) == 1:
        params.append(toks[0])
        return "coalesce((f.tf ->> %s)::float8, 0)"
    phrase = f" {' '.join(toks)} "
    params += [phrase, phrase]
    return "((length(f.tokens) - length(replace(f.tokens, %s, ' '))) / (length(%s) - 1))::float8"


def document_frequencies(db, terms: list[str]) -> dict[str, int]:
    """How many items hold each term, as FTS5's vocabulary counts them: a term the tokenizer
    splits ("12/2025") is no entry of it, so 0."""
    single = [t for t in terms if tokens(t) == [t]]
    found = phrase_hits(db, [[t] for t in single])
    return {t: found.get(t, 0) for t in terms}


def phrase_hits(db, phrases: list[list[str]]) -> dict[str, int]:
    """How many items hold each phrase (keyed by its tokens joined by spaces)."""
    found = {}
    for toks in phrases:
        params: list = []
        sql = f"SELECT count(*) FROM items_fts f WHERE {_condition(toks, params)}"
        found[" ".join(toks)] = int(db.raw(sql, params).fetchone()[0])
    return found


def lexical(
    db, terms: list[str], limit: int, plans: frozenset[int] | None = None
) -> list[tuple[int, float]]:
    """(item id, BM25 score ≥ 0), best first, of the items holding any term; `plans`: of theirs only."""
    phrases = [toks for toks in (tokens(t) for t in terms) if toks]
    if not phrases:
        return []
    rows, total = db.raw("SELECT rows, tokens FROM fts_stats").fetchone()
    if not rows:
        return []
    avgdl = total / rows
    df = phrase_hits(db, phrases)
    parts, where, params_score, params_where = [], [], [], []
    for toks in phrases:
        hits = df[" ".join(toks)]
        if not hits:
            continue
        idf = max(math.log((rows - hits + 0.5) / (hits + 0.5)), 1e-6)
        tf, tf_again = _frequency(toks, params_score), _frequency(toks, params_score)
        parts.append(
            f"{idf!r} * {tf} * {K1 + 1!r} / ({tf_again} + {K1!r} * ({1 - B!r} + {B!r} * f.length / {avgdl!r}))"
        )
        where.append(_condition(toks, params_where))
    if not parts:
        return []
    sql = f"SELECT f.rowid, {' + '.join(parts)} AS score FROM items_fts f"
    params = [*params_score]
    if plans is not None:
        sql += " JOIN items i ON i.id = f.rowid AND i.plan_id = ANY(%s)"
        params.append(sorted(plans))
    sql += f" WHERE {' OR '.join(where)} ORDER BY score DESC, f.rowid LIMIT %s"
    return [
        (int(r[0]), float(r[1])) for r in db.raw(sql, [*params, *params_where, limit]).fetchall()
    ]


def plan_has_term(db, plan_id: int, term: str) -> bool:
    """Some item of the plan holds this term."""
    toks = tokens(term)
    if not toks:
        return False
    params: list = []
    sql = f"SELECT 1 FROM items_fts f JOIN items i ON i.id = f.rowid WHERE {_condition(toks, params)} AND i.plan_id = %s LIMIT 1"
    return db.raw(sql, [*params, plan_id]).fetchone() is not None
